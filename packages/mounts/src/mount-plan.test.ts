import { UsageError } from '@tincan/cli';
import {
  DEV_NODES,
  describeStep,
  mountPlan,
  MASKED_PATHS,
  parseAdd,
  READ_ONLY_PATHS,
  type MountsSettings,
} from './mount-plan';
import { MS_BIND, MS_NODEV, MS_NOSUID, MS_RDONLY } from './mount';

const base: MountsSettings = {
  staging: '/tmp/tincan-x',
  adds: [],
  readOnly: false,
  hostEntries: [
    { name: 'usr', kind: 'dir' },
    { name: 'bin', kind: 'symlink', link: 'usr/bin' },
  ],
  etc: { passwd: 'root:x:0:0::/root:/bin/sh\n' },
  ptyGid: 5,
};

describe('parseAdd', () => {
  test('HOST:CONTAINER and HOST:CONTAINER:ro', () => {
    expect(parseAdd('/a:/b')).toEqual({
      source: '/a',
      target: '/b',
      readOnly: false,
    });
    expect(parseAdd('/a/./x:/b/../c:ro')).toEqual({
      source: '/a/x',
      target: '/c',
      readOnly: true,
    });
  });

  test.each([
    ['/a', /expected HOST:CONTAINER/],
    ['/a:/b:rx', /expected HOST:CONTAINER/],
    ['a:/b', /host path must be absolute/],
    ['/a:b', /container path must be absolute/],
    ['/a:/', /cannot bind over the container root/],
  ])('%s is bad input', (spec, why) => {
    expect(() => parseAdd(spec)).toThrow(UsageError);
    expect(() => parseAdd(spec)).toThrow(why);
  });
});

describe('mountPlan', () => {
  test('the default root binds host dirs read-only and links merged /usr', () => {
    const plan = mountPlan(base);
    expect(plan[0]).toEqual({
      op: 'bind',
      source: '/usr',
      target: '/usr',
      create: 'dir',
      recursive: true,
      flags: MS_NOSUID | MS_NODEV | MS_RDONLY,
    });
    expect(plan[1]).toEqual({ op: 'symlink', path: '/bin', link: 'usr/bin' });
    expect(plan).toContainEqual({
      op: 'write',
      path: '/etc/passwd',
      content: 'root:x:0:0::/root:/bin/sh\n',
      mode: 0o644,
    });
    expect(plan).toContainEqual({ op: 'mkdir', path: '/tmp', mode: 0o1777 });
  });

  test('a given root gets no skeleton, only the special filesystems', () => {
    const plan = mountPlan({ ...base, rootfs: '/srv/root' });
    expect(plan[0]).toMatchObject({ op: 'mount', fstype: 'proc' });
    expect(plan.some((s) => s.op === 'write')).toBe(false);
  });

  test('proc, sysfs and /dev come first, masks and read-only paths last', () => {
    const plan = mountPlan({ ...base, rootfs: '/srv/root' });
    const names = plan.map(describeStep);
    const proc = names.indexOf(
      'mount proc on /proc MS_NOSUID|MS_NODEV|MS_NOEXEC',
    );
    const sys = names.findIndex((n) => n.startsWith('mount sysfs on /sys'));
    const firstMask = names.findIndex((n) => n.startsWith('mask '));
    expect(proc).toBe(0);
    expect(sys).toBe(1);
    expect(names[sys]).toContain('MS_RDONLY');
    expect(firstMask).toBeGreaterThan(sys);
    expect(plan.slice(-READ_ONLY_PATHS.length)).toEqual(
      READ_ONLY_PATHS.map((target) => ({ op: 'read-only', target })),
    );
    for (const target of MASKED_PATHS) {
      expect(plan).toContainEqual({ op: 'mask', target });
    }
  });

  test('/dev: the listed nodes, devpts newinstance, shm and links', () => {
    const plan = mountPlan({ ...base, rootfs: '/r' });
    for (const node of DEV_NODES) {
      expect(plan).toContainEqual(
        expect.objectContaining({
          op: 'bind',
          source: `/dev/${node}`,
          target: `/dev/${node}`,
          create: 'file',
        }),
      );
    }
    expect(plan).toContainEqual(
      expect.objectContaining({
        fstype: 'devpts',
        data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
      }),
    );
    expect(plan).toContainEqual({
      op: 'symlink',
      path: '/dev/ptmx',
      link: 'pts/ptmx',
    });
  });

  test('without a mapped tty group, devpts gets no gid option', () => {
    const plan = mountPlan({ ...base, rootfs: '/r', ptyGid: undefined });
    expect(plan).toContainEqual(
      expect.objectContaining({
        fstype: 'devpts',
        data: 'newinstance,ptmxmode=0666,mode=0620',
      }),
    );
  });

  test('--add binds are nosuid, nodev, and read-only with :ro', () => {
    const plan = mountPlan({
      ...base,
      rootfs: '/r',
      adds: [
        { source: '/a', target: '/x', readOnly: false, kind: 'dir' },
        { source: '/f', target: '/y', readOnly: true, kind: 'file' },
      ],
    });
    const binds = plan.filter(
      (s) => s.op === 'bind' && !s.source.startsWith('/dev/'),
    );
    expect(binds.map(describeStep)).toEqual([
      'bind /a on /x MS_NOSUID|MS_NODEV|MS_BIND',
      'bind /f on /y MS_RDONLY|MS_NOSUID|MS_NODEV|MS_BIND',
    ]);
    expect(MS_BIND).toBe(0x1000);
  });

  test('--read-only adds a tmpfs on /tmp', () => {
    const plan = mountPlan({ ...base, rootfs: '/r', readOnly: true });
    expect(plan).toContainEqual(
      expect.objectContaining({ op: 'mount', target: '/tmp', fstype: 'tmpfs' }),
    );
    expect(
      mountPlan({ ...base, rootfs: '/r' }).some(
        (s) => s.op === 'mount' && s.target === '/tmp',
      ),
    ).toBe(false);
  });
});
