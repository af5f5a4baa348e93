// The errors tincan reports, and the exit codes they map to. The codes
// follow docker and runc so that scripts written for them keep working.

/** Exit codes with a meaning of their own (docker run, runc). *
 * @see [Lesson 1: exit codes](../../../steps/01-cli/README.md#exit-codes)
 */
export const EXIT = {
  /** tincan itself failed, bad input included */
  RUNTIME: 125,
  /** the command was found but could not be invoked */
  CANNOT_INVOKE: 126,
  /** the command was not found */
  NOT_FOUND: 127,
  /** added to a signal number when the command died of that signal */
  SIGNAL_BASE: 128,
} as const;

/**
 * Bad input: a flag, value or file the user gave. Printed as one line
 * `tincan: <what>: <why>` before anything is created, exit 125.
 */
export class UsageError extends Error {
  constructor(
    /** the flag or value at fault, e.g. `--uid` */
    readonly what: string,
    /** why it is wrong, lower case, no trailing period */
    readonly why: string,
  ) {
    super(`${what}: ${why}`);
    this.name = 'UsageError';
  }
}

/**
 * A failure of the runtime while setting up or running a container, with
 * the exit code to leave with (125 unless the command itself is at fault).
 */
export class RuntimeError extends Error {
  constructor(
    message: string,
    /** the exit code tincan leaves with, 125 unless the command is at fault */
    readonly exitCode: number = EXIT.RUNTIME,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** The message of anything thrown, without a stack. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Run `fn`, prefixing any error with one phrase of context, e.g.
 * `mounts: pivot_root(...): EINVAL (Invalid argument)`. The original error
 * stays reachable as `cause`.
 */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw addContext(context, err);
  }
}

/** The async form of withContext. */
export async function withContextAsync<T>(
  context: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw addContext(context, err);
  }
}

function addContext(context: string, err: unknown): Error {
  if (err instanceof UsageError) return err;
  const exitCode = err instanceof RuntimeError ? err.exitCode : EXIT.RUNTIME;
  return new RuntimeError(`${context}: ${messageOf(err)}`, exitCode, {
    cause: err,
  });
}

/**
 * The exit code tincan leaves with for a finished command: its own status,
 * or 128+N when it died of signal N.
 */
export function exitCodeOf(
  status:
    { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number },
): number {
  return status.kind === 'exited'
    ? status.code
    : EXIT.SIGNAL_BASE + status.signal;
}
