// Step 6 behaviours, on this host's real cgroups: limits that hold, are
// read back, and are cleaned up on every path; rlimits; --stats; gc.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  hostTraces,
  requireRoot,
  runIn,
  runTincan,
  shIn,
  stepsFrom,
  type RunOutput,
} from '../helpers/tincan';

beforeAll(requireRoot);

const PYTHON = '/usr/bin/python3';

/** Whether this host is pure cgroup v2 (the VM lane) rather than v1. */
const PURE_V2 = / \/sys\/fs\/cgroup cgroup2 /.test(
  readFileSync('/proc/self/mounts', 'utf8'),
);

function tincanCgroups(): string[] {
  return hostTraces().cgroups;
}

/** A `--stats` line's value, e.g. stat(out, 'oom kills'). */
function stat(out: RunOutput, name: string): string | undefined {
  return new RegExp(`tincan: stats: ${name}: (.*)`).exec(out.stderr)?.[1];
}

/** Pids whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/**
 * Remove what other suites' SIGKILLed tincans left (the remedy for that
 * case is `tincan gc`), failing on anything still in use.
 */
async function collectLeftovers(): Promise<void> {
  const gc = await runTincan(['gc', '--min-age', '0']);
  expect(gc.code).toBe(0);
  expect(tincanCgroups()).toEqual([]);
}

beforeAll(collectLeftovers);
afterAll(collectLeftovers);

afterEach(() => {
  expect(tincanCgroups()).toEqual([]);
});

describe.each(stepsFrom('resources'))('step %s runtime', (step) => {
  test('--memory 64M: a 200 MiB allocation is OOM-killed, --stats says so', async () => {
    const out = await runIn(step, [
      '--memory',
      '64M',
      '--stats',
      '--',
      PYTHON,
      '-c',
      'b = bytearray(200 << 20)',
    ]);
    expect(out.code).toBe(137);
    expect(Number(stat(out, 'oom kills'))).toBeGreaterThanOrEqual(1);
    expect(stat(out, 'memory peak')).toMatch(/^(6[0-4]\.\d) MiB$/);
  });

  test('--pids 20: a fork bomb of sleeps stops near 19 and the run ends', async () => {
    const marker = '1234.5';
    const out = await shIn(
      step,
      `for i in $(seq 50); do sleep ${marker} & echo started; done`,
      ['--pids', '20', '--stats'],
      { timeoutMs: 20_000 },
    );
    const started = out.stdout.split('\n').filter((l) => l === 'started');
    expect(started.length).toBeGreaterThanOrEqual(15);
    expect(started.length).toBeLessThanOrEqual(19);
    expect(out.stderr).toMatch(/fork/i);
    expect(out.signal).toBeNull();
    // pids.peak is recent (n/a on older kernels).
    expect(stat(out, 'pids peak')).toMatch(/^(1\d|20|n\/a)$/);
    // The sleeps the shell left behind died with the cgroup.
    expect(processesWith(`sleep\0${marker}`)).toEqual([]);
    // The host is unaffected: more than 20 processes start fine here.
    const host = await shIn(step, 'for i in $(seq 30); do true & done; wait', [
      '--pids',
      'max',
    ]);
    expect(host.code).toBe(0);
  });

  test('NOFILE 64 by default: opening 100 files stops with EMFILE', async () => {
    const script = [
      'import os',
      'fds = []',
      'try:',
      '    for i in range(100): fds.append(os.open("/dev/null", os.O_RDONLY))',
      'except OSError as e:',
      '    print(len(fds), e.errno)',
    ].join('\n');
    const out = await runIn(step, ['--', PYTHON, '-c', script]);
    expect(out.code).toBe(0);
    const [opened = '', errno = ''] = out.stdout.trim().split(' ');
    expect(errno).toBe('24'); // EMFILE
    expect(Number(opened)).toBeGreaterThanOrEqual(58);
    expect(Number(opened)).toBeLessThanOrEqual(61);
    const raise = await shIn(step, 'ulimit -n 4096');
    expect(raise.code).not.toBe(0);
    const limits = await shIn(step, 'ulimit -Sn; ulimit -Hn', [
      '--rlimit',
      'NOFILE=100:200',
    ]);
    expect(limits.stdout).toBe('100\n200\n');
  });

  test('--cpus 0.5: a 2-second busy loop gets about half a CPU', async () => {
    const loop = [
      'import time',
      't = time.time()',
      'while time.time() - t < 2: pass',
    ].join('\n');
    const cpuOf = (out: RunOutput): number => {
      const cpu = /user ([\d.]+)s system ([\d.]+)s/.exec(
        stat(out, 'cpu') ?? '',
      );
      return Number(cpu?.[1]) + Number(cpu?.[2]);
    };
    // The same loop without a quota, at the same time, shows what the
    // machine could give: other work on a busy host takes its share too.
    const timed = async (cpus: string): Promise<[RunOutput, number]> => {
      const start = Date.now();
      const out = await runIn(step, [
        '--cpus',
        cpus,
        '--stats',
        '--',
        PYTHON,
        '-c',
        loop,
      ]);
      return [out, (Date.now() - start) / 1000];
    };
    const [[limited, wall], [control]] = await Promise.all([
      timed('0.5'),
      timed('max'),
    ]);
    expect(limited.code).toBe(0);
    expect(control.code).toBe(0);
    const used = cpuOf(limited);
    // The quota allows half a CPU for every second the container lives:
    // about 1 s for the loop, plus half of however long the interpreter
    // took to start (long under emulation, as in the VM lane).
    expect(used).toBeGreaterThan(0.05);
    expect(used).toBeLessThan(0.5 * wall + 0.3);
    if (cpuOf(control) >= 1.2) {
      // The machine had room: the quota, not the load, held it back.
      expect(used).toBeGreaterThan(0.6);
      expect(stat(limited, 'cpu')).toMatch(/throttled in [1-9]\d* periods/);
    }
  });

  test('the limits read back from the cgroup files equal the request', async () => {
    let dirs: string[] = [];
    const seen: Record<string, string> = {};
    const out = await runIn(
      step,
      [
        '--debug',
        '--memory',
        '96M',
        '--cpus',
        '0.25',
        '--cpu-shares',
        '512',
        '--pids',
        '33',
        '--',
        '/bin/sh',
        '-c',
        // As PID 1 the shell needs a handler, or SIGTERM is ignored.
        'trap "exit 143" TERM; echo up; sleep 30 & wait',
      ],
      {
        timeoutMs: 20_000,
        onSpawn: (child) => {
          let err = '';
          child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
          child.stdout?.once('data', () => {
            dirs = [...err.matchAll(/mkdir (\/sys\/fs\/cgroup\S+)/g)].map(
              (m) => m[1] ?? '',
            );
            const read = (name: string, file: string): void => {
              const dir = PURE_V2
                ? dirs[dirs.length - 1]
                : dirs.find((d) => d.includes(`/${name}/`));
              seen[file] = readFileSync(path.join(dir ?? '', file), 'utf8');
            };
            if (PURE_V2) {
              read('memory', 'memory.max');
              read('memory', 'memory.swap.max');
              read('cpu', 'cpu.max');
              read('cpu', 'cpu.weight');
            } else {
              read('memory', 'memory.limit_in_bytes');
              read('memory', 'memory.memsw.limit_in_bytes');
              read('cpu', 'cpu.cfs_quota_us');
              read('cpu', 'cpu.cfs_period_us');
              read('cpu', 'cpu.shares');
            }
            read('pids', 'pids.max');
            // Stopping it mid-run must clean up as well.
            child.kill('SIGTERM');
          });
        },
      },
    );
    expect(dirs.length).toBeGreaterThanOrEqual(PURE_V2 ? 1 : 5);
    const want = PURE_V2
      ? {
          'memory.max': `${96 << 20}\n`,
          'memory.swap.max': '0\n',
          'cpu.max': '25000 100000\n',
          // 1 + ((512 - 2) * 9999) / 262142, rounded down
          'cpu.weight': '20\n',
          'pids.max': '33\n',
        }
      : {
          'memory.limit_in_bytes': `${96 << 20}\n`,
          'memory.memsw.limit_in_bytes': `${96 << 20}\n`,
          'cpu.cfs_quota_us': '25000\n',
          'cpu.cfs_period_us': '100000\n',
          'cpu.shares': '512\n',
          'pids.max': '33\n',
        };
    expect(seen).toEqual(want);
    expect(
      out.stderr.split('\n').filter((l) => !l.includes('tincan[')),
    ).toEqual(['']);
    expect(out.code).toBe(143);
  });

  test('no tincan cgroup survives 20 runs, failed ones and signals included', async () => {
    const runs: Promise<RunOutput>[] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(shIn(step, 'exit 3'));
      runs.push(runIn(step, ['--', '/nonexistent']));
      // The kernel refuses this pids.max (above PID_MAX_LIMIT).
      runs.push(runIn(step, ['--pids', '99999999', '--', 'true']));
      runs.push(shIn(step, 'sleep 7 & sleep 7 & exit 3'));
      runs.push(
        shIn(step, 'trap "exit 143" TERM; sleep 4321.5 & echo up; wait', [], {
          onSpawn: (child) => {
            // Stop it once the command runs.
            child.stdout?.once('data', () => child.kill('SIGTERM'));
          },
        }),
      );
    }
    const results = await Promise.all(runs);
    const codes = results.map((r) => r.code);
    expect(codes.filter((c) => c === 3)).toHaveLength(8);
    expect(codes.filter((c) => c === 127)).toHaveLength(4);
    expect(codes.filter((c) => c === 125)).toHaveLength(4);
    expect(codes.filter((c) => c === 143)).toHaveLength(4);
    expect(
      results.some((r) => /pids\.max.*EINVAL/.test(r.stderr)),
    ).toBeTruthy();
    // The background sleeps of the SIGTERMed runs died with their cgroups.
    expect(processesWith('sleep\u00004321.5')).toEqual([]);
    // And the next run still works.
    expect((await shIn(step, 'exit 0')).code).toBe(0);
  }, 120_000);

  test('after a SIGKILLed tincan, tincan gc removes what was left', async () => {
    let leftover: string[] = [];
    const out = await runIn(
      step,
      ['--', 'sh', '-c', 'echo up; exec sleep 1000'],
      {
        onSpawn: (child) => {
          // Once the command runs, its cgroups are all there.
          child.stdout?.once('data', () => {
            leftover = tincanCgroups();
            child.kill('SIGKILL');
          });
        },
      },
    );
    expect(out.signal).toBe('SIGKILL');
    expect(leftover.length).toBeGreaterThan(0);
    expect(tincanCgroups()).toEqual(leftover);
    // The parent-death signal ends the container; gc leaves cgroups younger
    // than 5 s alone, as they may belong to a tincan still setting up.
    await sleep(5500);
    // On a shared machine another session's gc may have been first; what
    // is still there is this gc's to remove (on CI, all of it).
    const stillThere = leftover.filter((dir) => existsSync(dir));
    const gc = await runTincan(['gc']);
    expect(gc.code).toBe(0);
    for (const dir of stillThere) {
      expect(gc.stdout).toContain(`removed: ${dir}`);
    }
    expect(gc.stdout).toMatch(
      /gc: removed \d+ stale cgroups? and \d+ staging director(y|ies)\n/,
    );
    expect(tincanCgroups()).toEqual([]);
  }, 30_000);

  test.each([
    [['--memory', '12XB'], /--memory 12XB/],
    [['--pids', '0'], /--pids 0/],
    [['--cpus', '-1'], /--cpus -1/],
    [['--rlimit', 'NOPE=1'], /unknown resource "NOPE"/],
    [['--rlimit', 'NOFILE=9999999'], /above tincan's own/],
  ])('bad input %p exits 125 and creates no cgroup', async (flags, why) => {
    const out = await runIn(step, [...flags, '--', 'true']);
    expect(out.code).toBe(125);
    expect(out.stderr).toMatch(why);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a limit no controller can enforce fails unless told to go on', async () => {
    const check = await runTincan(['--step', step, 'check']);
    if (/ok\s+cgroup io weight/.test(check.stdout)) {
      // This host can weigh I/O: the flag simply works.
      expect(
        (await runIn(step, ['--io-weight', '100', '--', 'true'])).code,
      ).toBe(0);
      return;
    }
    // No I/O scheduler here offers weights (blkio.weight, blkio.bfq.weight).
    const strict = await runIn(step, ['--io-weight', '100', '--', 'true']);
    expect(strict.code).toBe(125);
    expect(strict.stderr).toMatch(/--io-weight: the (blkio|io) controller/);
    const lax = await runIn(step, [
      '--io-weight',
      '100',
      '--ignore-missing-controllers',
      '--',
      'true',
    ]);
    expect(lax.code).toBe(0);
    expect(lax.stderr).toMatch(/warning: --io-weight.*WITHOUT/);
  });

  test('tincan check names the placement and the usable controllers', async () => {
    const out = await runTincan(['--step', step, 'check']);
    expect(out.stdout).toMatch(
      /ok\s+cgroup placement\s+(v1|v2|hybrid): .*(tincan-<id>|tincan\/<id>)/,
    );
    const version = PURE_V2 ? 'v2' : 'v1';
    expect(out.stdout).toMatch(
      new RegExp(`ok\\s+cgroup memory\\s+${version} at `),
    );
    expect(out.stdout).toMatch(
      new RegExp(`ok\\s+cgroup pids\\s+${version} at `),
    );
  });
});
