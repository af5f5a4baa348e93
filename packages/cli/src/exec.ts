// The last thing the init does: find the command, hand it exactly fds 0-2,
// default signal dispositions and the documented environment, and execve.

import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, RuntimeError } from './errors';
import type { InitContext } from './layer';
import {
  closeRange,
  CLOSE_RANGE_CLOEXEC,
  execve,
  resetSignals,
  setsid,
  setCloexec,
  SyscallError,
} from './libc';

/** PATH when the user sets none: the one docker and runc use. */
export const DEFAULT_PATH =
  '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Find `name` the way execvp does: as given when it has a slash, else in
 * each PATH entry. Throws with exit code 127 when it is nowhere, 126 when
 * it exists but cannot be run.
 */
export function lookPath(name: string, searchPath: string): string {
  if (name.includes('/')) {
    checkExecutable(name, name);
    return name;
  }
  let denied: string | undefined;
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir === '' ? '.' : dir, name);
    try {
      checkExecutable(name, candidate);
      return candidate;
    } catch (err) {
      if (err instanceof RuntimeError && err.exitCode === EXIT.CANNOT_INVOKE) {
        denied ??= candidate;
      }
    }
  }
  if (denied) {
    throw new RuntimeError(`${denied}: permission denied`, EXIT.CANNOT_INVOKE);
  }
  throw new RuntimeError(
    `${name}: command not found in PATH (${searchPath})`,
    EXIT.NOT_FOUND,
  );
}

function checkExecutable(name: string, file: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    throw new RuntimeError(
      `${name}: no such file or directory`,
      EXIT.NOT_FOUND,
    );
  }
  if (isDir) {
    throw new RuntimeError(`${file}: is a directory`, EXIT.CANNOT_INVOKE);
  }
  try {
    accessSync(file, fsConstants.X_OK);
  } catch {
    throw new RuntimeError(`${file}: permission denied`, EXIT.CANNOT_INVOKE);
  }
}

/** The exit code for an execve errno: 127 for a missing file, else 126. */
export function execFailureCode(code: string): number {
  return code === 'ENOENT' || code === 'ENOTDIR'
    ? EXIT.NOT_FOUND
    : EXIT.CANNOT_INVOKE;
}

// #region exec-command (lab)
/**
 * Start the user's command in place of the init. `announce` tells the
 * parent the exec is about to happen. Returns only by throwing.
 *
 * @see [Lesson 1: starting the command](../../../steps/01-cli/README.md#starting-the-command)
 */
export function execCommand(ctx: InitContext, announce: () => void): never {
  const { config, env, log } = ctx;
  const [name = ''] = config.command;
  const file = lookPath(name, env.get('PATH') ?? DEFAULT_PATH);

  try {
    process.chdir(config.workdir);
  } catch (err) {
    throw new RuntimeError(
      `chdir(${JSON.stringify(config.workdir)}): ${(err as NodeJS.ErrnoException).code ?? 'failed'} (--workdir)`,
    );
  }

  const envList = [...env].map(([key, value]) => `${key}=${value}`);
  log.debug(
    `execve(${JSON.stringify(file)}, ${JSON.stringify(config.command)}, ${envList.length} variables)`,
  );
  announce();

  // Only fds 0-2 reach the command: everything above is marked
  // close-on-exec (the socket to the parent must stay open until execve
  // succeeds, so that the parent reads end of file only then).
  for (const fd of [0, 1, 2]) {
    try {
      setCloexec(fd, false);
    } catch {
      // a closed stdio fd stays closed
    }
  }
  closeRange(3, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  resetSignals();

  // A session of its own: the command has no controlling terminal, so it
  // cannot push input into the host's terminal with TIOCSTI, and a shell
  // does not fight tincan for the terminal's foreground process group
  // (whose pid it cannot even see from a new pid namespace). tincan, still
  // in the foreground, forwards ^C as SIGINT.
  setsid();

  try {
    execve(file, config.command, envList);
  } catch (err) {
    if (err instanceof SyscallError) {
      throw new RuntimeError(
        `${name}: ${err.message}`,
        execFailureCode(err.code),
      );
    }
    throw err;
  }
}
// #endregion exec-command
