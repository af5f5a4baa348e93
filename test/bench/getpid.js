// @ts-check
// Section 4: what a syscall costs inside a tincan container, with the
// seccomp filter and without, and bare on the host. The loop is a static
// C program compiled here; in a container with its own root it is copied
// into a busybox root, before the mounts step it runs from the temp dir.

'use strict';

const { copyFileSync, chmodSync } = require('node:fs');
const path = require('node:path');
const {
  TINCAN_BIN,
  hasStep,
  timeRun,
  summarize,
  table,
  fix,
  verdict,
} = require('./lib');
const { busyboxRoot, compileGetpid, staticBusybox } = require('./fixtures');

/**
 * @param {string} dir the benchmark's temp dir
 * @param {{ calls: number, rounds: number, processes: number }} opts
 */
function measureGetpid(dir, opts) {
  const built = compileGetpid(path.join(dir, 'getpid-loop'));
  if (!built.file) return { error: built.error };
  const node = process.execPath;
  const loopArgs = [String(opts.calls), String(opts.rounds)];

  // With the mounts step the container has its own root: put the probe in
  // a busybox root of its own (the binary is static, busybox is only there
  // so the root looks like one).
  let inContainer = built.file;
  /** @type {string[]} */
  let rootArgs = [];
  if (hasStep('mounts')) {
    const busybox = staticBusybox();
    const root = path.join(dir, 'getpid-root');
    if (busybox) busyboxRoot(root, busybox);
    else
      require('node:fs').mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(built.file, path.join(root, 'bin/getpid-loop'));
    chmodSync(path.join(root, 'bin/getpid-loop'), 0o755);
    inContainer = '/bin/getpid-loop';
    rootArgs = ['--rootfs', root];
  }

  const seccomp = hasStep('seccomp');
  /** @type {{ name: string, argv: string[] }[]} */
  const variants = [
    { name: 'host, bare', argv: [built.file, ...loopArgs] },
    {
      name: 'host, 1-instruction allow filter',
      argv: [built.file, ...loopArgs, 'allow-filter'],
    },
  ];
  if (seccomp) {
    variants.push({
      name: 'tincan, --seccomp unconfined',
      argv: [
        node,
        TINCAN_BIN,
        'run',
        ...rootArgs,
        '--seccomp',
        'unconfined',
        inContainer,
        ...loopArgs,
      ],
    });
    variants.push({
      name: 'tincan, default filter',
      argv: [node, TINCAN_BIN, 'run', ...rootArgs, inContainer, ...loopArgs],
    });
  } else {
    variants.push({
      name: 'tincan, no filter (no seccomp step)',
      argv: [node, TINCAN_BIN, 'run', ...rootArgs, inContainer, ...loopArgs],
    });
  }

  /** @type {Map<string, number[]>} */
  const best = new Map(variants.map((v) => [v.name, []]));
  /** @type {string[]} */
  const failed = [];
  for (let p = 0; p < opts.processes; p++) {
    for (const v of variants) {
      if (failed.some((f) => f.startsWith(v.name))) continue;
      try {
        const { stdout } = timeRun(v.argv, { capture: true });
        const rounds = stdout
          .trim()
          .split('\n')
          .map(Number)
          .filter(Number.isFinite);
        best.get(v.name)?.push(...rounds);
      } catch (err) {
        failed.push(
          `${v.name}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
  const results = variants
    .filter((v) => (best.get(v.name) ?? []).length > 0)
    .map((v) => ({ name: v.name, ...summarize(best.get(v.name) ?? []) }));
  return {
    calls: opts.calls,
    rounds: opts.rounds,
    processes: opts.processes,
    seccomp,
    results,
    failed,
  };
}

/**
 * Print section 4 and return its targets.
 * @param {ReturnType<typeof measureGetpid>} g
 */
function reportGetpid(g) {
  console.log(
    '\n4. Syscall overhead: ns per getpid (raw syscall, static C loop)\n',
  );
  /** @type {{ key: string, name: string, target: string, value: string, ok: boolean }[]} */
  const targets = [];
  if (!g.results) {
    console.log(`  skipped: ${g.error}`);
    return targets;
  }
  const host = g.results.find((r) => r.name === 'host, bare');
  console.log(
    table(
      ['where', 'best', 'median', 'p90', 'best - host'],
      g.results.map((r) => [
        r.name,
        fix(r.min, 2),
        fix(r.median, 2),
        fix(r.p90, 2),
        host ? fix(r.min - host.min, 2) : '-',
      ]),
    ),
  );
  console.log(
    `  (${g.processes} processes per row, ${g.rounds} rounds of ${g.calls} calls each; rows interleaved; statistics over rounds)`,
  );
  for (const f of g.failed ?? []) console.log(`  failed: ${f}`);
  const open = g.results.find((r) => r.name === 'tincan, --seccomp unconfined');
  const filtered = g.results.find((r) => r.name === 'tincan, default filter');
  console.log(
    '  Linux >= 5.11 caches per syscall number the verdicts a filter gives whatever the arguments (the seccomp action cache), so an always-allowed getpid may skip the filter entirely.',
  );
  const floor = g.results.find(
    (r) => r.name === 'host, 1-instruction allow filter',
  );
  if (host && floor) {
    console.log(
      `  any filter at all costs ${fix(floor.median - host.median, 2)} ns per getpid on this kernel (the 1-instruction filter's median - bare)`,
    );
  }
  if (!g.seccomp) {
    console.log('  seccomp: package not present (no filtered row yet)');
  } else if (open && filtered) {
    const overhead = filtered.median - open.median;
    const best = filtered.min - open.min;
    targets.push({
      key: 'getpid',
      name: 'getpid overhead of the default filter',
      target: '<= 12 ns',
      value: fix(overhead, 2),
      ok: overhead <= 12,
    });
    if (host && floor) {
      console.log(
        `  tincan's filter over the 1-instruction filter: ${fix(overhead - (floor.median - host.median), 2)} ns`,
      );
    }
    console.log(
      `\n  target: getpid overhead of the default filter <= 12 ns (median rounds; best rounds: ${fix(best, 2)} ns): ${fix(overhead, 2)} ns  ${verdict(overhead <= 12)}`,
    );
  }
  return targets;
}

module.exports = { measureGetpid, reportGetpid };
