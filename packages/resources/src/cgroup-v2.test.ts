// The v2 code against a fake unified hierarchy: this host is hybrid, so
// the real v2 paths only run in the VM lane.

import { createLogger } from '@tincan/cli';
import { detectTopology } from './cgroup-mode';
import { ContainerCgroups, planCgroups } from './cgroups';
import { fakeTree, type FakeTree } from './fake-tree';
import { gcCgroups } from './gc';
import { limitsFrom } from './limits';

const warnings: string[] = [];
const log = createLogger('test', false, (record, level) => {
  if (level === 'warn') warnings.push(record.text);
});
const ALL = ['cpuset', 'cpu', 'io', 'memory', 'pids'];
const ID = '0123456789ab';

let tree: FakeTree;
afterEach(() => {
  tree.remove();
  warnings.length = 0;
});

function v2Host(current = '/', subtreeControl: string[] = []): FakeTree {
  return fakeTree([
    {
      version: 2,
      controllers: ALL,
      mount: '/sys/fs/cgroup',
      current,
      subtreeControl,
    },
  ]);
}

function cgroupsFor(t: FakeTree, uid = 0, cgroupParent?: string) {
  const plan = planCgroups(t.fs, detectTopology(t.fs), {
    id: ID,
    uid,
    ...(cgroupParent ? { cgroupParent } : {}),
  });
  return new ContainerCgroups(t.fs, plan, log);
}

const defaults = { ignoreMissing: false, defaulted: new Set<string>() };

test('no delegation at the root: <root>/tincan/<id>, controllers enabled', () => {
  tree = v2Host();
  const cg = cgroupsFor(tree);
  expect(cg.plan.dirs.map((d) => d.path)).toEqual([
    `/sys/fs/cgroup/tincan/${ID}`,
  ]);
  cg.create();
  expect(tree.get('/sys/fs/cgroup/cgroup.subtree_control')).toBe(
    'memory cpu pids io',
  );
  expect(tree.get('/sys/fs/cgroup/tincan/cgroup.subtree_control')).toBe(
    'memory cpu pids io',
  );
  expect(tree.get(`/sys/fs/cgroup/tincan/${ID}/cgroup.controllers`)).toBe(
    'memory cpu pids io',
  );
});

test('a delegated current cgroup gets the container beneath it', () => {
  tree = v2Host('/user.slice/me', ['memory', 'cpu', 'pids', 'io']);
  const cg = cgroupsFor(tree, 1000);
  expect(cg.plan.dirs.map((d) => d.path)).toEqual([
    `/sys/fs/cgroup/user.slice/me/tincan-${ID}`,
  ]);
  expect(cg.plan.v2Shared).toBeUndefined();
});

test('no delegation and not root: an error that says what to do', () => {
  tree = v2Host('/user.slice/me', []);
  expect(() => cgroupsFor(tree, 1000)).toThrow(
    /does not delegate memory cpu pids io .* --cgroup-parent/,
  );
});

test('--cgroup-parent overrides the placement', () => {
  tree = v2Host('/user.slice/me', []);
  const cg = cgroupsFor(tree, 0, '/mine');
  expect(cg.plan.dirs[0]?.path).toBe(`/sys/fs/cgroup/mine/tincan-${ID}`);
});

test('limits: memory.max with memory.swap.max 0, cpu.max, cpu.weight, pids.max, io.weight', () => {
  tree = v2Host();
  const cg = cgroupsFor(tree);
  cg.create();
  cg.applyLimits(
    limitsFrom({ memory: '64M', cpus: '0.5', pids: '20' }),
    defaults,
  );
  const dir = `/sys/fs/cgroup/tincan/${ID}`;
  const written = tree.writes
    .filter(([f]) => f.startsWith(`${dir}/`))
    .map(([f, v]) => [f.slice(dir.length + 1), v]);
  expect(written).toEqual([
    ['memory.max', String(64 << 20)],
    ['memory.swap.max', '0'],
    ['cpu.max', '50000 100000'],
    ['cpu.weight', '10'],
    ['pids.max', '20'],
    ['io.weight', 'default 50'],
  ]);
});

test('a value the kernel does not keep is an error naming it', () => {
  tree = v2Host();
  const cg = cgroupsFor(tree);
  cg.create();
  const dir = `/sys/fs/cgroup/tincan/${ID}`;
  // A kernel that clamps: the file reads back something else.
  const write = tree.fs.write.bind(tree.fs);
  tree.fs.write = (file, text) =>
    write(file, file.endsWith('pids.max') ? 'max' : text);
  expect(() => cg.applyLimits(limitsFrom({ pids: '20' }), defaults)).toThrow(
    `--pids: wrote "20" to ${dir}/pids.max but it reads "max"`,
  );
});

test('a missing controller is an error, or a loud warning when ignored', () => {
  tree = fakeTree([
    {
      version: 2,
      controllers: ['cpu', 'memory'],
      mount: '/sys/fs/cgroup',
      current: '/',
    },
  ]);
  const cg = cgroupsFor(tree);
  cg.create();
  expect(() => cg.applyLimits(limitsFrom({}), defaults)).toThrow(
    /--pids: the pids controller is not usable/,
  );
  cg.applyLimits(limitsFrom({}), {
    ignoreMissing: true,
    defaulted: new Set(['--io-weight', '--cpu-shares']),
  });
  expect(warnings).toEqual([
    expect.stringMatching(/--pids: .*running WITHOUT this limit/),
  ]);
  // --pids max needs no controller at all.
  warnings.length = 0;
  cg.applyLimits(limitsFrom({ pids: 'max', ioWeight: undefined }), {
    ignoreMissing: false,
    defaulted: new Set(['--io-weight']),
  });
  expect(warnings).toEqual([]);
});

test('attach, stats, and destroy with cgroup.kill', async () => {
  tree = v2Host();
  const cg = cgroupsFor(tree);
  cg.create();
  cg.attach(4242);
  const dir = `/sys/fs/cgroup/tincan/${ID}`;
  tree.put(`${dir}/cgroup.procs`, '4242\n4243');
  tree.put(`${dir}/memory.peak`, String(50 << 20));
  tree.put(`${dir}/memory.events`, 'oom 1\noom_kill 1');
  tree.put(`${dir}/cpu.stat`, 'usage_usec 300\nuser_usec 200\nsystem_usec 100');
  expect(cg.stats()).toEqual({
    memoryPeak: 50 << 20,
    oomKills: 1,
    cpuUserUs: 200,
    cpuSystemUs: 100,
    pidsPeak: 0,
  });
  await cg.destroy();
  expect(tree.writes).toContainEqual([`${dir}/cgroup.kill`, '1']);
  expect(tree.killed.sort()).toEqual([4242, 4243]);
  expect(tree.fs.exists(dir)).toBe(false);
  // The shared parent goes when its last container does.
  expect(tree.fs.exists('/sys/fs/cgroup/tincan')).toBe(false);
});

test('gc removes empty leftovers and keeps busy or new ones', async () => {
  tree = v2Host();
  for (const id of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']) {
    const plan = planCgroups(tree.fs, detectTopology(tree.fs), { id, uid: 0 });
    new ContainerCgroups(tree.fs, plan, log).create();
  }
  tree.put('/sys/fs/cgroup/tincan/bbbbbbbbbbbb/cgroup.procs', '77');
  // Ids that name no live tincan: the age decides.
  const unknown = (): undefined => undefined;
  const kept = await gcCgroups(tree.fs, detectTopology(tree.fs), 5, unknown);
  expect(kept.map((e) => e.action).sort()).toEqual(['in use', 'too new']);
  // A tincan still setting the container up keeps it, whatever its age.
  const alive = await gcCgroups(
    tree.fs,
    detectTopology(tree.fs),
    0,
    () => true,
  );
  expect(alive.map((e) => e.action).sort()).toEqual(['in use', 'too new']);
  const entries = await gcCgroups(tree.fs, detectTopology(tree.fs), 0, unknown);
  expect(entries).toEqual([
    { path: '/sys/fs/cgroup/tincan/aaaaaaaaaaaa', action: 'removed' },
    {
      path: '/sys/fs/cgroup/tincan/bbbbbbbbbbbb',
      action: 'in use',
      detail: '1 processes',
    },
  ]);
});

test('gc removes a container whose tincan is gone, however young', async () => {
  tree = v2Host();
  const id = 'abcdef000001';
  const plan = planCgroups(tree.fs, detectTopology(tree.fs), { id, uid: 0 });
  new ContainerCgroups(tree.fs, plan, log).create();
  const entries = await gcCgroups(
    tree.fs,
    detectTopology(tree.fs),
    60,
    () => false,
  );
  expect(entries[0]).toEqual({
    path: `/sys/fs/cgroup/tincan/${id}`,
    action: 'removed',
  });
});
