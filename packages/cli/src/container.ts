// The parent's side of one container's life: prepare, clone through the
// native stage, attach, go, join, send the config, relay the init's messages, forward
// signals, wait, and clean up on every path.

import { closeSync, writeSync } from 'node:fs';
import path from 'node:path';
import { whyParentUnbundled } from './bundle';
import { EXIT, RuntimeError, exitCodeOf, messageOf } from './errors';
import { hintFor } from './hints';
import { INIT_ENTRY, initBundleFile, initLaunch } from './init-files';
import type { ContainerConfig, ParentContext, Runtime } from './layer';
import {
  CLONE_FLAGS,
  flagNames,
  getrandom,
  kill,
  readAsync,
  setCloexec,
  SyscallError,
  socketpair,
  SOCK_CLOEXEC,
  SOCK_SEQPACKET,
  waitpidAsync,
  type WaitStatus,
} from './libc';
import { createLogger, now, printable, stderrWriter, type Logger } from './log';
import { formatChain, spawnNative, type ChainPlan } from './native-stage';
import {
  decodeMessage,
  encodeMessage,
  GO_BYTE,
  MAX_MESSAGE,
  type InitMessage,
} from './protocol';

/** The signals tincan passes on to the container. *
 * @see [Lesson 1: signals and PID 1](../../../steps/01-cli/README.md#signals-and-pid-1)
 */
export const FORWARDED_SIGNALS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
] as const;

/**
 * A fresh container id: 12 hex digits, like docker's short ids - 6 random
 * ones, then this tincan's pid, so that `tincan gc` can tell a container
 * whose tincan is gone from one whose tincan is still setting it up.
 */
export function newContainerId(pid = process.pid): string {
  const owner = (pid & 0xffffff).toString(16).padStart(6, '0');
  return getrandom(3).toString('hex') + owner;
}

/** The pid of the tincan that made container `id` (see newContainerId). */
export function containerOwnerPid(id: string): number {
  return parseInt(id.slice(6, 12), 16);
}

/** The init entry script the native stage execs. */

/** How a container run ended. */
export interface RunResult {
  /** the exit code tincan should leave with */
  exitCode: number;
  /** the init's wait status, when it was started */
  status?: WaitStatus;
}

class Teardown {
  private readonly steps: { what: string; fn: () => void | Promise<void> }[] =
    [];

  constructor(private readonly log: Logger) {}

  add(what: string, fn: () => void | Promise<void>): void {
    this.steps.push({ what, fn });
  }

  /** Run every cleanup, last first; report failures, never stop early. */
  async run(): Promise<boolean> {
    let ok = true;
    for (const { what, fn } of this.steps.reverse()) {
      try {
        this.log.debug(`cleanup: ${what}`);
        await fn();
      } catch (err) {
        ok = false;
        this.log.warn(`cleanup: ${what}: ${messageOf(err)}`);
      }
    }
    this.steps.length = 0;
    return ok;
  }
}

// #region run-container
/**
 * Run one container with `runtime` and wait for it. Never throws for a
 * failure of the container: the result carries the exit code.
 *
 * @see [Lesson 1: the parent's side](../../../steps/01-cli/README.md#the-parents-side)
 */
export async function runContainer(
  runtime: Runtime,
  config: ContainerConfig,
  start = now(),
): Promise<RunResult> {
  const writer = stderrWriter(start);
  const log = createLogger('parent:cli', config.debug, writer);
  const teardown = new Teardown(log);
  const ctx: ParentContext = {
    config,
    log,
    defer: (what, fn) => teardown.add(what, fn),
    facts: new Map(),
  };
  const signals = new SignalForwarder(log, config.stopTimeout);
  let result: RunResult;
  try {
    result = await startAndWait(runtime, ctx, signals, writer);
  } catch (err) {
    process.stderr.write(`tincan: ${printable(messageOf(err))}\n`);
    const hint = hintFor(rootCause(err));
    if (hint) process.stderr.write(`tincan: hint: ${printable(hint)}\n`);
    const exitCode = err instanceof RuntimeError ? err.exitCode : EXIT.RUNTIME;
    result = { exitCode };
  } finally {
    signals.stop();
  }
  if (!(await teardown.run()) && result.exitCode === 0) {
    result = { ...result, exitCode: EXIT.RUNTIME };
  }
  return result;
}

async function startAndWait(
  runtime: Runtime,
  ctx: ParentContext,
  signals: SignalForwarder,
  writer: ReturnType<typeof stderrWriter>,
): Promise<RunResult> {
  const { config } = ctx;

  for (const layer of runtime.layers) {
    await layer.prepare?.({
      ...ctx,
      log: ctx.log.child(`parent:${layer.name}`),
    });
  }

  const [parentFd, childFd] = socketpair(SOCK_SEQPACKET | SOCK_CLOEXEC);
  ctx.defer('close the parent end of the socket', () => closeSync(parentFd));
  const pid = cloneInit(runtime, ctx, childFd);
  closeSync(childFd);
  ctx.pid = pid;
  signals.start(pid);
  const exited = waitpidAsync(pid);
  ctx.defer(`reap the init ${pid}`, async () => {
    signals.killAndForget(pid);
    await exited;
  });

  for (const layer of runtime.layers) {
    await layer.attach?.({
      ...ctx,
      log: ctx.log.child(`parent:${layer.name}`),
    });
  }

  // Logged before the write: once woken, the child may run (and stamp its
  // own lines) before this process does again.
  ctx.log.debug('sending the go byte');
  writeSync(parentFd, Buffer.from([GO_BYTE]));
  try {
    for (const layer of runtime.layers) {
      await layer.join?.({
        ...ctx,
        log: ctx.log.child(`parent:${layer.name}`),
      });
    }
  } catch (err) {
    // An init that died meanwhile makes the join fail (ESRCH): say so.
    throw (await endedEarly(pid, exited)) ?? err;
  }

  // The config goes only to an init that says it is ready (its parent-death
  // signal armed); one that ended first is reported by its status below.
  const start = await readInit(parentFd, writer, true);
  let failure = start.failure;
  if (start.ready) {
    try {
      writeSync(parentFd, encodeMessage(config));
      ctx.log.debug(`sent the config (${config.initModules.length} layers)`);
    } catch (err) {
      throw (await endedEarly(pid, exited)) ?? err;
    }
    failure = (await readInit(parentFd, writer, false)).failure;
  }
  const status = await exited;
  signals.reaped();
  ctx.log.debug(`init ${pid} ended: ${JSON.stringify(status)}`);
  if (!start.ready && !failure && !signals.forwarded) {
    // It died before it could say anything (a crash in Node's start, a
    // kill from outside): the command never ran, so this is tincan's
    // failure, not the command's status.
    failure = {
      message: `the init ${pid} ended before it was ready (${describeStatus(status)})`,
      exitCode: EXIT.RUNTIME,
    };
  }

  for (const layer of runtime.layers) {
    await layer.finish?.(
      { ...ctx, log: ctx.log.child(`parent:${layer.name}`) },
      status,
    );
  }

  if (failure) {
    process.stderr.write(`tincan: ${printable(failure.message)}\n`);
    return { exitCode: failure.exitCode, status };
  }
  return { exitCode: exitCodeOf(status), status };
}

/** Clone the init with every layer's flags and chain links. */
function cloneInit(runtime: Runtime, ctx: ParentContext, childFd: number) {
  const { config } = ctx;
  let flags = 0;
  const links = [];
  for (const layer of runtime.layers) {
    flags |= layer.cloneFlags?.(config) ?? 0;
    links.push(...(layer.chain?.(config) ?? []));
  }
  const launch = initLaunch();
  // __filename is the bundle's when this module runs from the bundle.
  const parentWhy = whyParentUnbundled();
  ctx.log.debug(
    `the parent runs from ${path.basename(__filename)}` +
      (parentWhy ? ` (${parentWhy})` : '') +
      '; ' +
      (launch.unbundled
        ? `the init loads its modules one by one: ${launch.unbundled}`
        : `the init runs from ${path.basename(initBundleFile())}`),
  );
  const plan: ChainPlan = {
    syncFd: childFd,
    links,
    path: process.execPath,
    argv: [process.execPath, INIT_ENTRY, String(childFd), ...launch.args],
    env: [],
  };

  // The init keeps the child end of the socket and stdio; everything else
  // Node has open is close-on-exec already.
  setCloexec(childFd, false);
  for (const fd of [0, 1, 2]) setCloexec(fd, false);

  const pid = spawnNative(plan, flags);
  ctx.log.debug(
    `clone(${flagNames(flags | CLONE_FLAGS.SIGCHLD, CLONE_FLAGS)}) = ${pid}: ${formatChain(plan)}`,
  );
  return pid;
}
// #endregion run-container

/** How long to wait for an init that may have just died to be reaped. */
const REAP_GRACE_MS = 200;

/**
 * When a setup step failed because the init had ended, the error to report
 * instead: the init's own end. Undefined when the init still runs.
 */
async function endedEarly(
  pid: number,
  exited: Promise<WaitStatus>,
): Promise<RuntimeError | undefined> {
  const status = await Promise.race([
    exited,
    new Promise<undefined>((r) =>
      setTimeout(() => r(undefined), REAP_GRACE_MS),
    ),
  ]);
  if (!status) return undefined;
  return new RuntimeError(
    `the init ${pid} ended during setup (${describeStatus(status)})`,
  );
}

/** `exit status N` or `signal N`. */
function describeStatus(status: WaitStatus): string {
  return status.kind === 'exited'
    ? `exit status ${status.code}`
    : `signal ${status.signal}`;
}

/** The init's error, as it reported it. */
interface InitFailure {
  message: string;
  exitCode: number;
}

/**
 * Read the init's messages, printing its log lines, until it says `ready`
 * (when `untilReady`) or until end of file: the init exec'd the command, or
 * ended (a reset means it died with data unread; its wait status tells
 * the rest). Returns whether it said ready, and its error if it sent one.
 */
async function readInit(
  fd: number,
  writer: ReturnType<typeof stderrWriter>,
  untilReady: boolean,
): Promise<{ ready: boolean; failure?: InitFailure }> {
  let failure: InitFailure | undefined;
  for (;;) {
    let data: Buffer;
    try {
      data = await readAsync(fd, MAX_MESSAGE);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ECONNRESET') break;
      throw err;
    }
    if (data.length === 0) break;
    const message = decodeMessage<InitMessage>(data);
    if (message.type === 'ready' && untilReady) return { ready: true };
    if (message.type === 'log') {
      for (const line of message.lines) writer(line.record, line.level);
    } else if (message.type === 'error') {
      failure = {
        message: `${message.stage}: ${message.message}`,
        exitCode: message.exitCode,
      };
    }
  }
  return failure ? { ready: false, failure } : { ready: false };
}

/**
 * Passes tincan's signals on to the container. A second SIGTERM or SIGINT
 * or the stop timeout escalates to SIGKILL: a PID 1 without a handler
 * ignores SIGTERM, as it would under docker.
 */
class SignalForwarder {
  private pid = 0;
  private alive = false;
  /** whether a signal was passed on to the container */
  forwarded = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly handlers = new Map<string, () => void>();

  constructor(
    private readonly log: Logger,
    private readonly stopTimeout: number,
  ) {
    // Catch the signals from the start, so that a signal during setup
    // still runs the cleanup instead of killing tincan on the spot.
    for (const name of FORWARDED_SIGNALS) {
      const handler = (): void => this.forward(name);
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  start(pid: number): void {
    this.pid = pid;
    this.alive = true;
  }

  private forward(name: (typeof FORWARDED_SIGNALS)[number]): void {
    if (!this.alive) {
      this.log.debug(`${name} before the container started: ignored`);
      return;
    }
    this.log.debug(`forward ${name} to ${this.pid}`);
    this.forwarded = true;
    try {
      process.kill(this.pid, name);
    } catch {
      return;
    }
    if ((name === 'SIGTERM' || name === 'SIGINT') && !this.timer) {
      this.timer = setTimeout(() => {
        this.log.warn(
          `the container did not stop within ${this.stopTimeout}s: killing it`,
        );
        this.killAndForget(this.pid);
      }, this.stopTimeout * 1000);
      this.timer.unref();
    }
  }

  reaped(): void {
    this.alive = false;
  }

  killAndForget(pid: number): void {
    if (!this.alive) return;
    try {
      kill(pid, 9);
    } catch {
      // already gone
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const [name, handler] of this.handlers) process.off(name, handler);
  }
}

/** The innermost cause of an error chained with withContext. */
function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof Error && current.cause !== undefined) {
    current = current.cause;
  }
  return current;
}
