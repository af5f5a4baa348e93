// The init: a fresh Node process, born inside the container's namespaces,
// that reads the config from the parent, runs every layer's phases in
// order and finally execs the user's command.

import { readSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BundledModules } from './bundle';
import { EXIT, RuntimeError, messageOf } from './errors';
import {
  INIT_PHASES,
  type ContainerConfig,
  type InitContext,
  type InitLayer,
} from './layer';
import { PR, prctl } from './libc';
import { createLogger, type LogRecord } from './log';
import {
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE,
  type InitMessage,
} from './protocol';
import { execCommand } from './exec';

const SIGKILL = 9;

/** Send one message to the parent; the parent may be gone, so never throw. */
function send(fd: number, message: InitMessage): void {
  try {
    writeSync(fd, encodeMessage(message));
  } catch {
    // The parent is gone; the parent-death signal will end us.
  }
}

/** Log lines not yet sent to the parent. */
const pending: { record: LogRecord; level: 'debug' | 'warn' }[] = [];

/**
 * Bytes of log lines per message at most, well inside MAX_MESSAGE (a phase
 * rarely writes more than 70 lines of ~150 bytes).
 */
const LOG_BATCH_BYTES = 32 << 10;
let pendingBytes = 0;

/**
 * Send the pending log lines as one message. A message per line would cost
 * a wake-up of the parent each (a phase of 70 mounts logged 70 times), and
 * on a busy machine the init would wait for the parent to print.
 */
function flushLog(fd: number): void {
  if (pending.length === 0) return;
  pendingBytes = 0;
  send(fd, { type: 'log', lines: pending.splice(0) });
}

// #region run-init (lab)
/**
 * Run the init on the socket `fd`: config in, errors and logs out, and
 * execve of the command at the end. Never returns.
 *
 * @see [Lesson 1: the init](../../../steps/01-cli/README.md#the-init)
 */
export function runInit(fd: number, startup?: InitStartup): never {
  let stage = 'init/start';
  try {
    // The chain armed the parent-death signal; arm it again in case a
    // credential change in the chain cleared it.
    prctl('PR_SET_PDEATHSIG', PR.SET_PDEATHSIG, SIGKILL);

    // While the init holds the socket to the parent and host-side state,
    // nothing in the container may ptrace it or read its /proc files.
    // execve of the command makes it dumpable again.
    prctl('PR_SET_DUMPABLE', PR.SET_DUMPABLE, 0);

    send(fd, { type: 'ready' });
    const config = receiveConfig(fd);
    const writer = (record: LogRecord, level: 'debug' | 'warn'): void => {
      pending.push({ record, level });
      pendingBytes += record.text.length + record.tag.length + 64;
      if (pendingBytes >= LOG_BATCH_BYTES) flushLog(fd);
    };
    const log = createLogger('init', config.debug, writer);
    if (startup && config.debug) {
      for (const record of startupRecords(startup)) writer(record, 'debug');
    }
    log.debug(`pid ${process.pid} read the config`);

    // Load every layer before any of them runs: after pivot_root the host
    // files these modules live in are out of reach.
    const layers = config.initModules.map(loadInitLayer);

    const ctx: InitContext = {
      config,
      log,
      env: new Map(config.env.map(splitEnv)),
      facts: new Map(),
    };
    for (const phase of INIT_PHASES) {
      for (const layer of layers) {
        const step = layer.phases[phase];
        if (!step) continue;
        stage = `${phase}/${layer.name}`;
        step({ ...ctx, log: log.child(`init:${layer.name}`) });
        flushLog(fd);
      }
    }

    stage = 'exec';
    execCommand(ctx, () => {
      flushLog(fd);
      send(fd, { type: 'exec', time: Date.now() });
    });
  } catch (err) {
    const exitCode = err instanceof RuntimeError ? err.exitCode : EXIT.RUNTIME;
    flushLog(fd);
    send(fd, { type: 'error', stage, message: messageOf(err), exitCode });
    process.exit(exitCode);
  }
}
// #endregion run-init

/** What the init entry saw of its own start, for --debug. */
export interface InitStartup {
  /** epoch ms when the entry script began */
  entered: number;
  /** the process's CPU time then, in ms: Node's own start */
  cpuEntered: number;
  /** epoch ms when the init's code was loaded */
  loaded: number;
  /** the process's CPU time then, in ms */
  cpuLoaded: number;
  /** where the code came from */
  from: string;
}

/**
 * The init's start as debug lines, stamped with the times they happened:
 * they show what a container start spends before the init has the config,
 * which is mostly Node's own start.
 */
function startupRecords(s: InitStartup): LogRecord[] {
  const ms = (n: number): string => n.toFixed(1);
  return [
    { time: performance.timeOrigin, text: 'node started' },
    {
      time: s.entered,
      text: `entry script runs (cpu ${ms(s.cpuEntered)} ms)`,
    },
    {
      time: s.loaded,
      text:
        `init code loaded from ${s.from} (${ms(s.loaded - s.entered)} ms, ` +
        `cpu ${ms(s.cpuLoaded - s.cpuEntered)} ms)`,
    },
  ].map((r) => ({ tag: 'init', ...r }));
}

/** The init modules the init bundle holds, by their file in dist/. */
export const bundledInitModules = new BundledModules();

/** The init layer in `file`, from the bundle when it holds that module. */
export function loadInitLayer(file: string): InitLayer {
  return (bundledInitModules.load(file) as { initLayer: InitLayer }).initLayer;
}

function receiveConfig(fd: number): ContainerConfig {
  const buf = Buffer.alloc(MAX_MESSAGE);
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) {
    throw new RuntimeError('the parent closed the socket before the config');
  }
  return decodeMessage<ContainerConfig>(buf.subarray(0, n));
}

function splitEnv(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}
