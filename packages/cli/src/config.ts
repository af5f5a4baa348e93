// Step 1's part of the config: the command, its environment and working
// directory. Everything here is validated before anything is created.

import { UsageError } from './errors';
import { DEFAULT_PATH } from './exec';
import type { ContainerConfig, RawOptions } from './layer';

/**
 * Split a command line the way a shell would, quotes respected. Shell
 * syntax beyond words (pipes, redirections, `$VAR`) is bad input: the
 * line is not run by a shell; use `sh -c` for that.
 */
export function splitCommandLine(line: string): string[] {
  if (line.trim() === '') {
    throw new UsageError('--command', 'the command line is empty');
  }
  const quote = unclosedQuote(line);
  if (quote !== undefined) {
    throw new UsageError('--command', `the ${quote} quote is never closed`);
  }
  const words: string[] = [];
  const { parse } = require('shell-quote') as typeof import('shell-quote');
  const parsed = parse(line, (name) => `$${name}`);
  for (const entry of parsed) {
    if (typeof entry !== 'string') {
      const what = 'op' in entry ? entry.op : 'comment' in entry ? '#' : '?';
      throw new UsageError(
        '--command',
        `shell syntax ${JSON.stringify(what)} is not supported; run it through sh -c`,
      );
    }
    words.push(entry);
  }
  return words;
}

/**
 * The quote character a shell would still be waiting to see closed at the
 * end of `line`, if any. shell-quote reads an unclosed quote as if it ran
 * to the end of the line; a shell refuses the line, and so does tincan.
 */
export function unclosedQuote(line: string): string | undefined {
  let open: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (open === "'") {
      if (c === "'") open = undefined;
    } else if (c === '\\') {
      i++; // the next character is literal, outside quotes and inside ""
    } else if (open === '"') {
      if (c === '"') open = undefined;
    } else if (c === "'" || c === '"') {
      open = c;
    }
  }
  return open;
}

/** The command to run, from `-c LINE` or the arguments after the options. */
export function commandFrom(options: RawOptions, args: string[]): string[] {
  const line = options.command as string | undefined;
  if (line !== undefined && args.length > 0) {
    throw new UsageError(
      '--command',
      'give the command either with -c or after the options, not both',
    );
  }
  const command = line !== undefined ? splitCommandLine(line) : args;
  if (command.length === 0) {
    throw new UsageError(
      'command',
      'missing: tincan run [options] -- COMMAND [ARGS...]',
    );
  }
  if (command[0] === '')
    throw new UsageError('command', 'the command name is empty');
  return command;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The command's environment: PATH, HOME and TERM (when set here), then
 * each `--env KEY=VALUE` in order, later ones winning.
 */
export function environmentFrom(
  entries: readonly string[],
  hostTerm: string | undefined,
): string[] {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOME', '/root'],
  ]);
  if (hostTerm) env.set('TERM', hostTerm);
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0) {
      throw new UsageError(`--env ${entry}`, 'expected KEY=VALUE');
    }
    if (!ENV_KEY.test(key)) {
      throw new UsageError(
        `--env ${entry}`,
        `${JSON.stringify(key)} is not a valid variable name`,
      );
    }
    if (entry.includes('\0')) {
      throw new UsageError(`--env ${key}`, 'the value contains a NUL byte');
    }
    env.set(key, entry.slice(eq + 1));
  }
  return [...env].map(([key, value]) => `${key}=${value}`);
}

/** Parse a whole number of seconds for `flag`. */
export function parseSeconds(flag: string, value: unknown): number {
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new UsageError(
      flag,
      `${JSON.stringify(text)} is not a number of seconds`,
    );
  }
  return Number(text);
}

/** Fill step 1's fields of `config` from the parsed options. */
export function configureBase(
  options: RawOptions,
  args: string[],
  config: ContainerConfig,
): void {
  config.command = commandFrom(options, args);
  config.env = environmentFrom(
    (options.env as string[] | undefined) ?? [],
    process.env.TERM,
  );
  const workdir = (options.workdir as string | undefined) ?? '/';
  if (!workdir.startsWith('/')) {
    throw new UsageError(`--workdir ${workdir}`, 'must be an absolute path');
  }
  config.workdir = workdir;
  config.debug = Boolean(options.debug);
  config.stopTimeout = parseSeconds(
    '--stop-timeout',
    options.stopTimeout ?? 10,
  );
}
