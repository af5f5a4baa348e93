// @ts-check
// Shared pieces of the benchmark: where things are, timing a command,
// statistics and plain-text tables.

'use strict';

const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

/** The repository's root. */
const ROOT = path.resolve(__dirname, '../..');

/** The `tincan` command, as npx runs it. */
const TINCAN_BIN = path.join(ROOT, 'packages/cli/bin/tincan.js');

/** Every step, first to last. */
const ALL_STEPS = [
  'cli',
  'namespaces',
  'mounts',
  'capabilities',
  'seccomp',
  'resources',
];

/** @param {string} step whether the step's package is built */
function hasStep(step) {
  return existsSync(path.join(ROOT, 'packages', step, 'dist', 'index.js'));
}

/** The steps present in this checkout, first to last. */
function presentSteps() {
  return ALL_STEPS.filter(hasStep);
}

/** Epoch milliseconds with sub-millisecond precision, like tincan's now(). */
function now() {
  return performance.timeOrigin + performance.now();
}

/** @param {string} name the absolute path of `name` on PATH, if any */
function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir || '.', name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** A run that did not end in time (and was stopped). */
class HangError extends Error {}

/** @type {((who: number, buf: Buffer) => number) | undefined} */
let getrusage;

/**
 * CPU time (user + system, ms) of every child reaped so far, from
 * getrusage(RUSAGE_CHILDREN): a child's CPU time does not grow when a busy
 * machine makes it wait, so it is steadier than the wall time.
 */
function childrenCpu() {
  if (!getrusage) {
    const dist = path.join(ROOT, 'packages/cli/dist');
    const koffi = require(require.resolve('koffi', { paths: [dist] }));
    getrusage = koffi
      .load('libc.so.6')
      .func('int getrusage(int who, _Out_ uint8_t *usage)');
  }
  const buf = Buffer.alloc(256);
  // RUSAGE_CHILDREN; struct rusage starts with ru_utime and ru_stime.
  if (!getrusage || getrusage(-1, buf) !== 0) return NaN;
  const tv = (/** @type {number} */ off) =>
    Number(buf.readBigInt64LE(off)) * 1e3 +
    Number(buf.readBigInt64LE(off + 8)) / 1e3;
  return tv(0) + tv(16);
}

/**
 * Run `argv` once with stdio discarded (or captured) and return the wall
 * time in milliseconds. Throws when it fails: a failed run is not a time.
 * @param {string[]} argv
 * @param {{ capture?: boolean, env?: NodeJS.ProcessEnv, timeoutMs?: number }} [options]
 */
function timeRun(argv, options = {}) {
  const cpu0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const result = spawnSync(argv[0] ?? '', argv.slice(1), {
    stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'ignore',
    env: options.env ?? process.env,
    maxBuffer: 16 << 20,
    // A hung run must not hang the benchmark. SIGTERM, not SIGKILL: tincan
    // forwards it, escalates to SIGKILL after its stop timeout, and still
    // cleans up its cgroups and temp dirs.
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGTERM',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = childrenCpu() - cpu0;
  if (result.error) {
    const code = /** @type {NodeJS.ErrnoException} */ (result.error).code;
    if (code === 'ETIMEDOUT') {
      throw new HangError(
        `${argv.join(' ')}: no exit after ${options.timeoutMs ?? 60_000} ms`,
      );
    }
    throw result.error;
  }
  if (result.status !== 0) {
    const err = result.stderr ? result.stderr.toString().trim() : '';
    throw new Error(
      `${argv.join(' ')}: exit ${result.status ?? result.signal}${err ? `: ${err}` : ''}`,
    );
  }
  return {
    ms,
    cpu,
    stdout: result.stdout ? result.stdout.toString() : '',
    stderr: result.stderr ? result.stderr.toString() : '',
  };
}

/**
 * The q-quantile of sorted numbers, interpolated (q in 0..1).
 * @param {number[]} sorted
 * @param {number} q
 */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

/**
 * Median, p10, p90, min, max and mean of `values`.
 * @param {number[]} values
 */
function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    p10: quantile(sorted, 0.1),
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1),
  };
}

/**
 * Format rows as an aligned table; numbers are right-aligned.
 * @param {string[]} head
 * @param {(string|number)[][]} rows
 */
function table(head, rows) {
  const cells = [head, ...rows].map((r) => r.map((c) => String(c)));
  const widths = head.map((_, i) =>
    Math.max(...cells.map((r) => (r[i] ?? '').length)),
  );
  const right = head.map((_, i) =>
    rows.every(
      (r) => typeof r[i] === 'number' || /^[\d.x×+-]+$/.test(String(r[i])),
    ),
  );
  const line = (/** @type {string[]} */ r) =>
    '  ' +
    r
      .map((c, i) =>
        right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    line(cells[0] ?? []),
    '  ' + widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** @param {number} v a number with `d` decimals */
function fix(v, d = 1) {
  return Number.isFinite(v) ? v.toFixed(d) : '-';
}

/** @param {boolean} ok PASS or MISS */
function verdict(ok) {
  return ok ? 'PASS' : 'MISS';
}

/** @param {string} file the text of a file, or undefined */
function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

module.exports = {
  ROOT,
  TINCAN_BIN,
  ALL_STEPS,
  hasStep,
  presentSteps,
  now,
  which,
  timeRun,
  HangError,
  quantile,
  summarize,
  table,
  fix,
  verdict,
  readText,
};
