// How a step contributes to a runtime. Each step package exports one Layer
// (its parent-side work and flags) and one InitLayer (its work inside the
// container, in a module the init loads). A step's runtime is the previous
// step's runtime plus its layer.

import type { Command } from 'commander';
import type { WaitStatus } from './libc';
import type { Logger } from './log';
import type { ChainLink } from './native-stage';

/**
 * The phases of the init, in the order they run. The order is forced by
 * the kernel: mounts need CAP_SYS_ADMIN and dropping from the bounding set
 * needs CAP_SETPCAP, so both come before switching to a non-root uid;
 * seccomp comes last, just before execve.
 */
export const INIT_PHASES = [
  'namespaces',
  'filesystem',
  'bounding',
  'credentials',
  'capabilities',
  'rlimits',
  'no_new_privs',
  'seccomp',
] as const;

/** One phase of the init. */
export type InitPhase = (typeof INIT_PHASES)[number];

/**
 * Everything the init needs to set up one container: sent from the parent
 * to the init as JSON over the socket, so it must stay plain data.
 */
export interface ContainerConfig {
  /** the step whose runtime runs this container */
  step: string;
  /** a random id naming the container's cgroups and temp files */
  id: string;
  /** the command and its arguments */
  command: string[];
  /** the command's environment, `KEY=VALUE` */
  env: string[];
  /** the directory the command starts in */
  workdir: string;
  /** print every kernel-visible action */
  debug: boolean;
  /** seconds between a forwarded SIGTERM and SIGKILL */
  stopTimeout: number;
  /** the init modules of every layer, in order */
  initModules: string[];
  /** each layer's own settings, under its name */
  layers: Record<string, unknown>;
}

/** The part of the config that belongs to one layer, typed. */
export interface ConfigSection<T> {
  /** the layer's settings; throws if the layer did not configure itself */
  get(config: ContainerConfig): T;
  /** store the layer's settings */
  set(config: ContainerConfig, value: T): void;
  /** whether the runtime that made `config` includes the layer */
  has(config: ContainerConfig): boolean;
}

/** A typed accessor for the layer `name`'s section of the config. */
export function configSection<T>(name: string): ConfigSection<T> {
  return {
    get(config) {
      const value = config.layers[name];
      if (value === undefined) {
        throw new Error(`the ${name} layer is not configured`);
      }
      return value as T;
    },
    set(config, value) {
      config.layers[name] = value;
    },
    has(config) {
      return config.layers[name] !== undefined;
    },
  };
}

/** What the parent knows about one container while it sets it up. */
export interface ParentContext {
  /** the container's config, as the layers configured it */
  readonly config: ContainerConfig;
  /** the logger, tagged with the layer being run */
  readonly log: Logger;
  /** the init's pid in tincan's pid namespace, once cloned */
  pid?: number;
  /** run `fn` when the container is torn down (last registered, first run) */
  defer(what: string, fn: () => void | Promise<void>): void;
  /** facts one layer leaves for another on the parent side */
  readonly facts: Map<string, unknown>;
}

/** One line of `tincan check`. */
export interface CheckLine {
  /** what was checked, e.g. `user namespaces` */
  what: string;
  /** ok: works; warn: works with a caveat; fail: this runtime cannot run */
  verdict: 'ok' | 'warn' | 'fail' | 'info';
  /** what was found */
  detail: string;
}

/** Raw option values from the command line, as commander parsed them. */
export type RawOptions = Record<string, unknown>;

/** A step's contribution to the runtime, on the parent's side. */
export interface Layer {
  /** the step's name, e.g. `namespaces` */
  readonly name: string;
  /** absolute path of the module exporting this layer's `initLayer` */
  readonly initModule?: string;
  /** add this layer's flags to `tincan run` */
  options?(run: Command): void;
  /** add subcommands of this layer, e.g. `tincan seccomp dump` */
  commands?(program: Command): void;
  /**
   * Turn the parsed flags into this layer's section of `config`. Throws
   * UsageError on bad input; must not create anything.
   */
  configure?(options: RawOptions, config: ContainerConfig): void;
  /** the clone flags this layer needs */
  cloneFlags?(config: ContainerConfig): number;
  /** links the native stage runs after the go byte and before execve */
  chain?(config: ContainerConfig): ChainLink[];
  /** parent work before clone; register cleanups with ctx.defer */
  prepare?(ctx: ParentContext): void | Promise<void>;
  /** parent work after clone and before the init is told to go */
  attach?(ctx: ParentContext): void | Promise<void>;
  /**
   * parent work after the go byte and before the config. The init's Node
   * is starting meanwhile, and nothing of the container's runs before the
   * init has the config, so work that must precede the command but not the
   * init's start goes here, off the start's critical path.
   */
  join?(ctx: ParentContext): void | Promise<void>;
  /** parent work after the container's init has exited, before cleanup */
  finish?(ctx: ParentContext, status: WaitStatus): void | Promise<void>;
  /** lines this layer adds to `tincan check` */
  check?(): CheckLine[] | Promise<CheckLine[]>;
}

/** What the init knows while it sets up the container. */
export interface InitContext {
  /** the config the parent sent */
  readonly config: ContainerConfig;
  /** the logger; its lines travel to the parent over the socket */
  readonly log: Logger;
  /** the command's environment, which layers may extend (HOSTNAME) */
  readonly env: Map<string, string>;
  /** facts one layer leaves for another inside the init */
  readonly facts: Map<string, unknown>;
}

/** A step's contribution to the init: work in some of its phases. */
export interface InitLayer {
  /** the step's name */
  readonly name: string;
  /** what to do in each phase this layer takes part in */
  readonly phases: Partial<Record<InitPhase, (ctx: InitContext) => void>>;
}

/** A runnable runtime: the layers of every step up to one. */
export interface Runtime {
  /** the last step's name */
  readonly name: string;
  /** its number in the tutorial, from 1 */
  readonly step: number;
  /** its layers, first step first */
  readonly layers: readonly Layer[];
}

/** The runtime of step `step`: `base` plus `layer`. */
export function extendRuntime(
  base: Runtime | undefined,
  layer: Layer,
  step: number,
): Runtime {
  return {
    name: layer.name,
    step,
    layers: [...(base?.layers ?? []), layer],
  };
}
