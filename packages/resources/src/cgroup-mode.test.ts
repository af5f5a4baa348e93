import { controllerMap, detectTopology, hostPath } from './cgroup-mode';
import { fakeTree, type FakeTree } from './fake-tree';

let tree: FakeTree | undefined;
afterEach(() => tree?.remove());

test('this project machine: v1 controllers plus a v2 mount, hybrid', () => {
  tree = fakeTree([
    {
      version: 1,
      controllers: ['cpu'],
      mount: '/sys/fs/cgroup/cpu',
      current: '/',
    },
    {
      version: 1,
      controllers: ['memory'],
      mount: '/sys/fs/cgroup/memory',
      current: '/process_api/abc',
    },
    {
      version: 1,
      controllers: ['pids'],
      mount: '/sys/fs/cgroup/pids',
      current: '/',
    },
    {
      version: 2,
      controllers: ['hugetlb'],
      mount: '/sys/fs/cgroup/unified',
      current: '/',
    },
  ]);
  const topology = detectTopology(tree.fs);
  expect(topology.mode).toBe('hybrid');
  const served = controllerMap(topology);
  expect(served.get('memory')?.version).toBe(1);
  expect(served.get('io')).toBeUndefined();
  const memory = served.get('memory');
  expect(memory && hostPath(memory, memory.current)).toBe(
    '/sys/fs/cgroup/memory/process_api/abc',
  );
});

test('co-mounted v1 controllers are one hierarchy', () => {
  tree = fakeTree([
    {
      version: 1,
      controllers: ['cpu', 'cpuacct'],
      mount: '/sys/fs/cgroup/cpu,cpuacct',
      current: '/user.slice',
    },
  ]);
  // The kernel lists them in its own order in /proc/self/cgroup.
  tree.put('/proc/self/cgroup', '3:cpuacct,cpu:/user.slice\n');
  const topology = detectTopology(tree.fs);
  expect(topology.mode).toBe('v1');
  expect(topology.hierarchies).toHaveLength(1);
  const served = controllerMap(topology);
  expect(served.get('cpu')).toBe(served.get('cpuacct'));
});

test('pure v2', () => {
  tree = fakeTree([
    {
      version: 2,
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
      mount: '/sys/fs/cgroup',
      current: '/',
    },
  ]);
  const topology = detectTopology(tree.fs);
  expect(topology.mode).toBe('v2');
  expect([...controllerMap(topology).keys()].sort()).toEqual([
    'cpu',
    'io',
    'memory',
    'pids',
  ]);
});

test('a mount of a subtree maps /proc/self/cgroup paths beneath it', () => {
  const h = {
    version: 2 as const,
    mount: '/sys/fs/cgroup',
    mountRoot: '/ns',
    controllers: [],
    current: '/ns/a',
  };
  expect(hostPath(h, '/ns/a')).toBe('/sys/fs/cgroup/a');
  expect(hostPath(h, '/other')).toBeUndefined();
});
