// @ts-check
// `npm run bench`: tincan's start latency next to node, runc, bubblewrap
// and unshare; where the init's time goes; tincan's seccomp programs next
// to libseccomp's; and what the filter costs per syscall. Prints the four
// sections with their targets (PASS/MISS) and writes the numbers to
// bench/results/<time>.json. See test/bench/README.md.
//
// Environment: BENCH_RUNS (start runs per command, default 20),
// BENCH_PHASE_RUNS (debug runs, default 10), BENCH_GETPID_CALLS (default
// 200000), BENCH_GETPID_PROCESSES (default 5), BENCH_SECTIONS (e.g. "1,3";
// default all).

'use strict';

const { mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT,
  presentSteps,
  hasStep,
  readText,
  table,
  verdict,
} = require('./lib');
const { workDir } = require('./fixtures');
const { measureStart, reportStart } = require('./start');
const { measurePhases, reportPhases } = require('./phases');
const { measureSeccomp, reportSeccomp } = require('./seccomp');
const { measureGetpid, reportGetpid } = require('./getpid');

/** @param {string} name @param {number} fallback */
function envNumber(name, fallback) {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function machine() {
  const cpus = os.cpus();
  return {
    kernel: os.release(),
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    steps: presentSteps(),
    root: process.getuid?.() === 0,
  };
}

function main() {
  if (!hasStep('cli')) {
    console.error('bench: build first (npm run build)');
    return 2;
  }
  const sections = new Set(
    (process.env.BENCH_SECTIONS ?? '1,2,3,4').split(',').map((s) => s.trim()),
  );
  const m = machine();
  console.log(
    `tincan bench: ${m.steps.join(' > ')} | node ${m.node} | linux ${m.kernel} | ${m.cpus} x ${m.cpu} | load ${m.load}`,
  );
  const load1 = os.loadavg()[0] ?? 0;
  if (load1 > m.cpus) {
    console.log(
      `  (the machine is busy: load ${load1.toFixed(1)} on ${m.cpus} CPUs; wall times are inflated and noisy, the cpu columns much less so)`,
    );
  }
  if (!m.root) {
    console.log(
      "  (not root: tincan runs rootless where the machine allows it; runc's row will fail)",
    );
  }
  const work = workDir();
  const time = new Date().toISOString();
  /** @type {Record<string, unknown>} */
  const result = { time, machine: m };
  /** @type {{ key: string, name: string, target: string, value: string, ok: boolean }[]} */
  const targets = [];
  try {
    if (sections.has('1')) {
      const start = measureStart(work.dir, envNumber('BENCH_RUNS', 20));
      result.start = start;
      targets.push(...reportStart(start));
    }
    if (sections.has('2')) {
      const phases = measurePhases(envNumber('BENCH_PHASE_RUNS', 10));
      result.phases = phases;
      targets.push(...reportPhases(phases));
    }
    if (sections.has('3')) {
      const seccomp = measureSeccomp(work.dir);
      result.seccomp = seccomp;
      targets.push(...reportSeccomp(seccomp));
    }
    if (sections.has('4')) {
      const getpid = measureGetpid(work.dir, {
        calls: envNumber('BENCH_GETPID_CALLS', 200_000),
        rounds: 20,
        processes: envNumber('BENCH_GETPID_PROCESSES', 5),
      });
      result.getpid = getpid;
      targets.push(...reportGetpid(getpid));
    }
  } finally {
    work.cleanup();
  }

  result.targets = targets;
  console.log('\nTargets\n');
  console.log(
    table(
      ['target', 'value', 'goal', 'verdict'],
      targets.map((t) => [t.name, t.value, t.target, verdict(t.ok)]),
    ),
  );
  const missed = new Set(targets.filter((t) => !t.ok).map((t) => t.key));
  const notes = (readText(path.join(__dirname, 'misses.txt')) ?? '')
    .split(/^== /m)
    .filter((part) => {
      const keys = part.slice(0, part.indexOf('\n')).split(' ');
      return keys.some((k) => missed.has(k));
    })
    .map((part) => part.slice(part.indexOf('\n') + 1).trimEnd());
  if (notes.length > 0) {
    console.log('\nWhy the misses, and what would fix them\n');
    console.log(notes.join('\n\n'));
  }

  const dir = path.join(ROOT, 'bench/results');
  const file = path.join(dir, `${time.replace(/[:.]/g, '-')}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        result,
        (_k, v) => (typeof v === 'bigint' ? String(v) : v),
        2,
      ),
    );
  } catch (err) {
    console.error(`bench: cannot write ${file}: ${String(err)}`);
    return 1;
  }
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  return 0;
}

process.exitCode = main();
