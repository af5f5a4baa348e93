// @ts-check
// Section 1: start latency. Every command runs /bin/true; the commands
// take turns (A B C A B C ...) so that drift on the machine hits all of
// them alike.

'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const {
  TINCAN_BIN,
  hasStep,
  which,
  timeRun,
  HangError,
  summarize,
  table,
  fix,
  verdict,
} = require('./lib');
const { busyboxRoot, runcBundle, staticBusybox } = require('./fixtures');

/**
 * @typedef {{ name: string, argv: () => string[], note?: string }} Candidate
 */

/** Whether the final runtime takes --rootfs and has `rootfs create`. */
function tincanRootfs() {
  if (!hasStep('mounts')) return false;
  const help = spawnSync(process.execPath, [TINCAN_BIN, 'rootfs', '--help'], {
    encoding: 'utf8',
  });
  return help.status === 0 && /create/.test(help.stdout);
}

/**
 * Build the list of commands to time, and what was skipped and why.
 * @param {string} dir the benchmark's temp dir
 */
function candidates(dir) {
  /** @type {Candidate[]} */
  const list = [];
  /** @type {string[]} */
  const skipped = [];
  const node = process.execPath;

  list.push({
    name: 'tincan run',
    argv: () => [node, TINCAN_BIN, 'run', '/bin/true'],
    note: 'final runtime, default root',
  });

  if (tincanRootfs()) {
    const root = path.join(dir, 'tincan-busybox');
    const made = spawnSync(
      node,
      [TINCAN_BIN, 'rootfs', 'create', root, '--busybox'],
      { encoding: 'utf8' },
    );
    if (made.status === 0) {
      list.push({
        name: 'tincan run --rootfs',
        argv: () => [node, TINCAN_BIN, 'run', '--rootfs', root, '/bin/true'],
        note: 'final runtime, `tincan rootfs create --busybox` root',
      });
    } else {
      skipped.push(
        `tincan run --rootfs: rootfs create --busybox failed: ${made.stderr.trim()}`,
      );
    }
  } else {
    skipped.push(
      'tincan run --rootfs: the mounts step (rootfs create) is not present',
    );
  }

  list.push({
    name: 'tincan --step cli run',
    argv: () => [node, TINCAN_BIN, '--step', 'cli', 'run', '/bin/true'],
    note: 'step 1: no namespaces',
  });
  list.push({ name: 'node -e 0', argv: () => [node, '-e', '0'] });

  const busybox = staticBusybox();
  const peerRoot = busybox
    ? busyboxRoot(path.join(dir, 'busybox-root'), busybox)
    : undefined;
  if (!peerRoot) {
    skipped.push(
      'runc, bwrap, unshare: no static busybox for their root (apt-get install busybox-static)',
    );
  }

  const runc = which('runc');
  if (runc && peerRoot) {
    const bundle = runcBundle(runc, path.join(dir, 'bundle'), peerRoot);
    const state = path.join(dir, 'runc-state');
    let n = 0;
    list.push({
      name: 'runc run',
      argv: () => [
        runc,
        '--root',
        state,
        'run',
        '--bundle',
        bundle,
        `tincan-bench-${process.pid}-${n++}`,
      ],
      note: 'runc spec defaults, busybox root',
    });
  } else if (!runc) {
    skipped.push('runc: not installed (apt-get install runc)');
  }

  const bwrap = which('bwrap');
  if (bwrap && peerRoot) {
    list.push({
      name: 'bwrap --unshare-all',
      argv: () => [
        bwrap,
        '--unshare-all',
        '--ro-bind',
        peerRoot,
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '/bin/true',
      ],
      note: 'busybox root, /proc and /dev',
    });
  } else if (!bwrap) {
    skipped.push('bwrap: not installed (apt-get install bubblewrap)');
  }

  const unshare = which('unshare');
  if (unshare && peerRoot) {
    list.push({
      name: 'unshare(1)',
      argv: () => [
        unshare,
        '--user',
        '--map-root-user',
        '--mount',
        '--uts',
        '--ipc',
        '--net',
        '--pid',
        '--fork',
        `--root=${peerRoot}`,
        '/bin/true',
      ],
      note: '-Urmuinp --fork, busybox root',
    });
  } else if (!unshare) {
    skipped.push('unshare: not installed (util-linux)');
  }
  return { list, skipped };
}

/**
 * Time every candidate `runs` times, interleaved, after one warm-up each.
 * @param {string} dir
 * @param {number} runs
 */
function measureStart(dir, runs) {
  const { list, skipped } = candidates(dir);
  /** @type {Map<string, number[]>} */
  const times = new Map(list.map((c) => [c.name, []]));
  /** @type {Map<string, number[]>} */
  const cpus = new Map(list.map((c) => [c.name, []]));
  /** @type {Map<string, string>} */
  const failed = new Map();
  /** @type {string[]} */
  const hangs = [];
  for (let round = -1; round < runs; round++) {
    for (const c of list) {
      if (failed.has(c.name)) continue;
      try {
        const { ms, cpu } = timeRun(c.argv());
        if (round >= 0) {
          times.get(c.name)?.push(ms);
          cpus.get(c.name)?.push(cpu);
        }
      } catch (err) {
        // A hang is a finding, not a reason to drop the command.
        if (err instanceof HangError) hangs.push(err.message);
        else
          failed.set(c.name, err instanceof Error ? err.message : String(err));
      }
    }
  }
  const results = list
    .filter((c) => !failed.has(c.name))
    .map((c) => ({
      name: c.name,
      note: c.note ?? '',
      ...summarize(times.get(c.name) ?? []),
      cpu: summarize(cpus.get(c.name) ?? []),
    }));
  for (const [name, why] of failed) skipped.push(`${name}: failed: ${why}`);
  return { runs, results, skipped, hangs };
}

/**
 * Print section 1 and return its targets.
 * @param {ReturnType<typeof measureStart>} start
 */
function reportStart(start) {
  const node = start.results.find((r) => r.name === 'node -e 0');
  const runc = start.results.find((r) => r.name === 'runc run');
  const rows = start.results.map((r) => [
    r.name,
    fix(r.median),
    fix(r.p10),
    fix(r.p90),
    node ? `${fix(r.median / node.median, 2)}x` : '-',
    runc ? `${fix(r.median / runc.median, 2)}x` : '-',
    fix(r.cpu.median),
    node ? `${fix(r.cpu.median / node.cpu.median, 2)}x` : '-',
    r.note,
  ]);
  console.log(
    `\n1. Start latency of /bin/true (ms, ${start.runs} interleaved runs each, wall time from a Node parent's spawnSync)\n`,
  );
  console.log(
    table(
      [
        'command',
        'median',
        'p10',
        'p90',
        '/node',
        '/runc',
        'cpu',
        'cpu/node',
        'what',
      ],
      rows,
    ),
  );
  console.log(
    '  cpu: user+system time of the command and every process it waited for (getrusage RUSAGE_CHILDREN), median',
  );
  for (const s of start.skipped) console.log(`  skipped: ${s}`);
  for (const h of start.hangs) console.log(`  HUNG (stopped, left out): ${h}`);

  const tincan = start.results.find((r) => r.name === 'tincan run');
  /** @type {{ key: string, name: string, target: string, value: string, ok: boolean }[]} */
  const targets = [];
  if (tincan && node) {
    const ratio = tincan.median / node.median;
    targets.push({
      key: 'start',
      name: 'tincan run / node -e 0',
      target: '<= 2.1',
      value: fix(ratio, 2),
      ok: ratio <= 2.1,
    });
    console.log(
      `\n  target: tincan run <= 2.1 x node -e 0: ${fix(ratio, 2)} x  ${verdict(ratio <= 2.1)} (in CPU time: ${fix(tincan.cpu.median / node.cpu.median, 2)} x)`,
    );
  }
  return targets;
}

module.exports = { measureStart, reportStart };
