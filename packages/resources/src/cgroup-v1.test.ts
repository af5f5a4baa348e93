// The v1 code against a fake tree laid out like this project's machines.

import { createLogger } from '@tincan/cli';
import { detectTopology } from './cgroup-mode';
import { ContainerCgroups, planCgroups } from './cgroups';
import { fakeTree, type FakeTree } from './fake-tree';
import { limitsFrom } from './limits';

const log = createLogger('test', false, () => undefined);
const ID = '0123456789ab';
const MEM = '/sys/fs/cgroup/memory/process_api/abc';

let tree: FakeTree;
beforeEach(() => {
  tree = fakeTree([
    ...['cpu', 'cpuacct', 'pids', 'blkio', 'freezer'].map((c) => ({
      version: 1 as const,
      controllers: [c],
      mount: `/sys/fs/cgroup/${c}`,
      current: '/',
    })),
    {
      version: 1,
      controllers: ['memory'],
      mount: '/sys/fs/cgroup/memory',
      current: '/process_api/abc',
    },
    {
      version: 2,
      controllers: ['hugetlb'],
      mount: '/sys/fs/cgroup/unified',
      current: '/',
    },
  ]);
});
afterEach(() => tree.remove());

function cgroups(): ContainerCgroups {
  const plan = planCgroups(tree.fs, detectTopology(tree.fs), {
    id: ID,
    uid: 0,
  });
  return new ContainerCgroups(tree.fs, plan, log);
}

test('one cgroup per hierarchy beneath the current one; none in unified', () => {
  expect(cgroups().plan.dirs.map((d) => d.path)).toEqual([
    `/sys/fs/cgroup/cpu/tincan-${ID}`,
    `/sys/fs/cgroup/cpuacct/tincan-${ID}`,
    `/sys/fs/cgroup/pids/tincan-${ID}`,
    `/sys/fs/cgroup/blkio/tincan-${ID}`,
    `/sys/fs/cgroup/freezer/tincan-${ID}`,
    `${MEM}/tincan-${ID}`,
  ]);
});

test('limits: memory then memsw, cfs period and quota, shares, pids', () => {
  const cg = cgroups();
  cg.create();
  // blkio here has no weight file: a default weight is only logged.
  cg.applyLimits(limitsFrom({ memory: '64M', cpus: '0.5', pids: '20' }), {
    ignoreMissing: false,
    defaulted: new Set(['--io-weight']),
  });
  expect(tree.writes.map(([f, v]) => `${f.split('/').pop()}=${v}`)).toEqual([
    `memory.limit_in_bytes=${64 << 20}`,
    `memory.memsw.limit_in_bytes=${64 << 20}`,
    'cpu.cfs_period_us=100000',
    'cpu.cfs_quota_us=50000',
    'cpu.shares=256',
    'pids.max=20',
  ]);
  expect(() =>
    cg.applyLimits(limitsFrom({ ioWeight: '100' }), {
      ignoreMissing: false,
      defaulted: new Set(),
    }),
  ).toThrow(
    /--io-weight: the blkio controller is not usable .*blkio\.weight or blkio\.bfq\.weight/,
  );
  tree.put(`/sys/fs/cgroup/blkio/tincan-${ID}/blkio.bfq.weight`, '100');
  cg.applyLimits(limitsFrom({ ioWeight: '100' }), {
    ignoreMissing: false,
    defaulted: new Set(),
  });
  expect(tree.writes.at(-1)).toEqual([
    `/sys/fs/cgroup/blkio/tincan-${ID}/blkio.bfq.weight`,
    '100',
  ]);
});

test('destroy freezes, kills every pid, thaws, then removes', async () => {
  const cg = cgroups();
  cg.create();
  cg.attach(4242);
  const freezer = `/sys/fs/cgroup/freezer/tincan-${ID}`;
  // The fake freezer freezes at once.
  const write = tree.fs.write.bind(tree.fs);
  tree.fs.write = (file, text) => write(file, text);
  await cg.destroy();
  const order = tree.writes
    .filter(([f]) => f.startsWith(freezer))
    .map(([f, v]) => `${f.split('/').pop()}=${v}`);
  expect(order).toEqual([
    'cgroup.procs=4242',
    'freezer.state=FROZEN',
    'freezer.state=THAWED',
  ]);
  expect(tree.killed).toEqual([4242]);
  for (const d of cg.plan.dirs) expect(tree.fs.exists(d.path)).toBe(false);
});

test('stats from memory, cpuacct, cpu and pids', () => {
  const cg = cgroups();
  cg.create();
  tree.put(`${MEM}/tincan-${ID}/memory.max_usage_in_bytes`, String(64 << 20));
  tree.put(
    `${MEM}/tincan-${ID}/memory.oom_control`,
    'oom_kill_disable 0\nunder_oom 0\noom_kill 2',
  );
  tree.put(
    `/sys/fs/cgroup/cpuacct/tincan-${ID}/cpuacct.stat`,
    'user 50\nsystem 3',
  );
  expect(cg.stats()).toEqual({
    memoryPeak: 64 << 20,
    oomKills: 2,
    cpuUserUs: 500_000,
    cpuSystemUs: 30_000,
    cpuThrottled: 0,
  });
});

test('--cgroup-parent is used in every hierarchy', () => {
  const plan = planCgroups(tree.fs, detectTopology(tree.fs), {
    id: ID,
    uid: 0,
    cgroupParent: '/jobs',
  });
  expect(plan.dirs.map((d) => d.path)).toContain(
    `/sys/fs/cgroup/memory/jobs/tincan-${ID}`,
  );
  expect(plan.dirs.map((d) => d.path)).toContain(
    `/sys/fs/cgroup/pids/jobs/tincan-${ID}`,
  );
});

test('a failed mkdir leaves nothing behind after destroy', async () => {
  const cg = cgroups();
  const mkdir = tree.fs.mkdir.bind(tree.fs);
  tree.fs.mkdir = (dir) => {
    if (dir.includes('/blkio/')) throw new Error('mkdir: EACCES');
    mkdir(dir);
  };
  expect(() => cg.create()).toThrow(/EACCES/);
  await cg.destroy();
  for (const d of cg.plan.dirs) expect(tree.fs.exists(d.path)).toBe(false);
});
