// Resources R1-R4 of design/security-cases.md, against the final runtime,
// on its default root and on a `tincan rootfs create` root.

import {
  probeIn,
  refused,
  ROOT_KINDS,
  hostCgroupLimits,
  Tracker,
  whileRunning,
  run,
  shOn,
  type Attempt,
  type Report,
  useProbe,
  useRoot,
} from './helpers';

const probe = useProbe();

const tracker = new Tracker();

afterEach(() => tracker.killAll());

/** The first of `files` that the container's cgroups have. */
function limit(
  limits: Record<string, string>,
  ...files: string[]
): string | undefined {
  for (const f of files) if (limits[f] !== undefined) return limits[f];
  return undefined;
}

describe.each(ROOT_KINDS)('%s root', (kind) => {
  const root = useRoot(kind);

  test('R1 with --pids 64 a fork bomb stops near 63 and the run ends', async () => {
    const started = Date.now();
    const { out, json } = await probeIn<{ forked: number; errno: string }>(
      root,
      probe,
      ['forkmany', '200'],
      ['--pids', '64'],
      { timeoutMs: 60_000 },
    );
    expect(out.code).toBe(0);
    expect(json.errno).toBe('EAGAIN');
    expect(json.forked).toBeGreaterThanOrEqual(50);
    expect(json.forked).toBeLessThan(64);
    expect(Date.now() - started).toBeLessThan(30_000);
    // 200 background sleeps from a shell: the shell reports the failures.
    const sh = await shOn(
      root,
      'n=0; i=0; while [ $i -lt 200 ]; do i=$((i+1)); ' +
        'sleep 30 2>/dev/null & [ $? -eq 0 ] && n=$((n+1)); done; ' +
        'kill $(jobs -p) 2>/dev/null; echo done',
      ['--pids', '64'],
      { timeoutMs: 60_000 },
    );
    // dash gives up at the first failed fork ("Cannot fork"); either way
    // the forks fail and the run ends.
    expect(sh.signal).toBeNull();
    expect(sh.stderr).toMatch(/fork|Resource temporarily unavailable/i);
  });

  test('R2 with --memory 64M allocating 200 MiB ends with 137 and an OOM kill; no swap', async () => {
    const out = await run(
      [
        ...root.flags,
        ...probe.flags,
        '--memory',
        '64M',
        '--stats',
        '--',
        probe.path,
        'alloc',
        '200',
      ],
      { timeoutMs: 60_000 },
    );
    expect(out.code).toBe(137);
    expect(out.stderr).toMatch(/oom/i);
    const limits = await whileRunning(
      tracker,
      [...root.flags, '--memory', '64M'],
      hostCgroupLimits,
    );
    const swapV2 = limit(limits, 'memory.swap.max');
    const memsw = limit(limits, 'memory.memsw.limit_in_bytes');
    if (swapV2 !== undefined) expect(swapV2).toBe('0');
    else if (memsw !== undefined) expect(memsw).toBe(String(64 * 1024 * 1024));
    else
      throw new Error(
        'the container cgroup has neither memory.swap.max nor memsw',
      );
  });

  test('R3 the configured limits are in force in the container cgroup', async () => {
    const json = await whileRunning(
      tracker,
      [...root.flags, '--memory', '64M', '--pids', '64', '--cpus', '0.5'],
      hostCgroupLimits,
    );
    expect(limit(json, 'pids.max')).toBe('64');
    expect(limit(json, 'memory.max', 'memory.limit_in_bytes')).toBe(
      String(64 * 1024 * 1024),
    );
    const cpuMax = limit(json, 'cpu.max');
    const quota = limit(json, 'cpu.cfs_quota_us');
    const period = limit(json, 'cpu.cfs_period_us');
    if (cpuMax !== undefined) {
      const [q, p] = cpuMax.split(' ').map(Number);
      expect((q ?? 0) / (p ?? 1)).toBeCloseTo(0.5);
    } else {
      expect(Number(quota) / Number(period)).toBeCloseTo(0.5);
    }
  });

  test('R3 a limit whose controller is missing fails loudly, never runs unlimited', async () => {
    // blkio.weight is missing on many hosts (no BFQ/CFQ): an explicit
    // --io-weight must then fail; where it exists it must be in force.
    const out = await run([...root.flags, '--io-weight', '100', '--', 'true']);
    if (out.code === 125) {
      expect(out.stderr).toMatch(/--io-weight: .*not usable/);
    } else {
      expect(out.code).toBe(0);
      expect(out.stderr).toBe('');
    }
  });

  test('R4 NOFILE defaults to 64: opening 100 files stops with EMFILE; ulimit -n 4096 fails', async () => {
    const { json: report } = await probeIn<Report>(root, probe, ['report']);
    expect(report.rlimits.NOFILE).toEqual([64, 64]);
    const { json } = await probeIn<{ opened: number; errno: string }>(
      root,
      probe,
      ['openmany', '100'],
    );
    expect(json.errno).toBe('EMFILE');
    expect(json.opened).toBeGreaterThanOrEqual(58);
    expect(json.opened).toBeLessThanOrEqual(61);
    const raise = await probeIn<Record<string, Attempt>>(root, probe, [
      'setrlimit',
      'NOFILE',
      '4096:4096',
    ]);
    expect(refused(raise.json.NOFILE)).toBe(true);
    const sh = await shOn(root, 'ulimit -n 4096');
    expect(sh.code).not.toBe(0);
  });
});
