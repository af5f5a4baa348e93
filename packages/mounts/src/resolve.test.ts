import { covers, resolveInRoot, UnsafePathError, type FsView } from './resolve';

/** A fake filesystem under /r: dirs, files and symlinks by path. */
function fakeFs(entries: Record<string, string>): FsView {
  return {
    lstat(file) {
      const e = entries[file];
      if (e === undefined) return undefined;
      if (e === 'dir' || e === 'file') return e;
      return 'symlink';
    },
    readlink(file) {
      const e = entries[file] ?? '';
      return e.replace(/^-> /, '');
    },
  };
}

const fs = fakeFs({
  '/r/proc': 'dir',
  '/r/usr': 'dir',
  '/r/usr/bin': 'dir',
  '/r/usr/bin/sh': 'file',
  '/r/bin': '-> usr/bin',
  '/r/abs': '-> /usr',
  '/r/var': 'dir',
  '/r/var/run': '-> /run',
  '/r/run': 'dir',
  '/r/up': '-> ../../..',
  '/r/evil': '-> /',
  '/r/loop': '-> loop',
});

describe('resolveInRoot', () => {
  test('plain paths resolve to themselves', () => {
    expect(resolveInRoot('/r', '/proc', fs)).toEqual({
      path: '/proc',
      kind: 'dir',
    });
    expect(resolveInRoot('/r', '/usr/bin/sh', fs)).toEqual({
      path: '/usr/bin/sh',
      kind: 'file',
    });
  });

  test('symlinks on the way are followed inside the root', () => {
    expect(resolveInRoot('/r', '/bin/sh', fs).path).toBe('/usr/bin/sh');
    expect(resolveInRoot('/r', '/abs/bin', fs).path).toBe('/usr/bin');
    expect(resolveInRoot('/r', '/var/run/x', fs)).toEqual({
      path: '/run/x',
      kind: undefined,
    });
  });

  test('a missing path is reported with its parent resolved', () => {
    expect(resolveInRoot('/r', '/bin/new/deeper', fs)).toEqual({
      path: '/usr/bin/new/deeper',
      kind: undefined,
    });
  });

  test('a symlink as the last component is refused', () => {
    expect(() => resolveInRoot('/r', '/evil', fs)).toThrow(
      /\/evil is a symlink to \/: a mount target must not be a symlink/,
    );
    expect(() => resolveInRoot('/r', '/bin', fs)).toThrow(UnsafePathError);
  });

  test('followLast resolves a final symlink (for parents of new files)', () => {
    expect(resolveInRoot('/r', '/bin', fs, true).path).toBe('/usr/bin');
  });

  test('.. above the root is refused, directly or through a symlink', () => {
    expect(() => resolveInRoot('/r', '/../etc', fs)).toThrow(
      /leads outside the root/,
    );
    expect(() => resolveInRoot('/r', '/up/etc', fs)).toThrow(
      /leads outside the root/,
    );
  });

  test('symlink loops end with an error', () => {
    expect(() => resolveInRoot('/r', '/loop/x', fs)).toThrow(
      /too many levels of symlinks/,
    );
  });

  test('a file in the middle of a path is not a directory', () => {
    expect(() => resolveInRoot('/r', '/usr/bin/sh/x', fs)).toThrow(
      /is not a directory/,
    );
  });

  test('relative targets are refused', () => {
    expect(() => resolveInRoot('/r', 'proc', fs)).toThrow(/not an absolute/);
  });
});

describe('covers', () => {
  test('a mount covers its own path and everything below it', () => {
    expect(covers('/dev', '/dev')).toBe(true);
    expect(covers('/dev', '/dev/pts')).toBe(true);
    expect(covers('/', '/etc')).toBe(true);
  });

  test('siblings, parents and look-alike names are not covered', () => {
    expect(covers('/dev/null', '/dev')).toBe(false);
    expect(covers('/dev', '/devices')).toBe(false);
    expect(covers('/dev/pts', '/dev/shm')).toBe(false);
  });
});
