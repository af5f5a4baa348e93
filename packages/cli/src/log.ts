// Debug logging. With --debug every kernel-visible action is printed with
// the values actually used and the time since tincan started, tagged with
// the step that did it; the init's lines are relayed through the parent and
// tagged with the stage they came from.

import { performance } from 'node:perf_hooks';

/** Milliseconds since the Unix epoch, with sub-millisecond precision. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** One debug line, as it travels from the init to the parent. */
export interface LogRecord {
  /** where it happened, e.g. `init:mounts` or `parent:resources` */
  tag: string;
  /** epoch milliseconds, see now() */
  time: number;
  /** the line itself */
  text: string;
}

/** A sink for debug lines; cheap when debugging is off. */
export interface Logger {
  /** whether debug lines are printed (--debug) */
  readonly enabled: boolean;
  /** a debug line from this logger's tag */
  debug(text: string): void;
  /** a warning: something degraded and the run goes on */
  warn(text: string): void;
  /** the same sink under another tag */
  child(tag: string): Logger;
}

/** Where a logger writes its lines. */
export type LogWriter = (record: LogRecord, level: 'debug' | 'warn') => void;

/**
 * `text` with control characters written as escapes (`\x1b`, `\x0a`).
 * Messages quote paths and names from a container's image, and an image
 * could hold escape sequences that drive the user's terminal, or a newline
 * and a line that looks like tincan's own.
 */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** A writer that prints to stderr, times relative to `start`. */
export function stderrWriter(start: number): LogWriter {
  return (record, level) => {
    const ms = (record.time - start).toFixed(1).padStart(7);
    const head =
      level === 'warn' ? 'tincan: warning:' : `tincan[${record.tag}] +${ms}ms`;
    process.stderr.write(`${head} ${printable(record.text)}\n`);
  };
}

/** A logger under `tag` that writes through `writer`. */
export function createLogger(
  tag: string,
  enabled: boolean,
  writer: LogWriter,
): Logger {
  return {
    enabled,
    debug(text) {
      if (enabled) writer({ tag, time: now(), text }, 'debug');
    },
    warn(text) {
      writer({ tag, time: now(), text }, 'warn');
    },
    child(childTag) {
      return createLogger(childTag, enabled, writer);
    },
  };
}
