import { firstUnreachable, permits, type StatLike } from './reachable';

describe('can the container root reach the init files', () => {
  const who = { uid: 100000, gid: 100000 };
  const tree: Record<string, StatLike> = {
    '/': { uid: 0, gid: 0, mode: 0o40755 },
    '/root': { uid: 0, gid: 0, mode: 0o40700 },
    '/root/t': { uid: 0, gid: 0, mode: 0o40755 },
    '/root/t/init.js': { uid: 0, gid: 0, mode: 0o100644 },
    '/opt': { uid: 0, gid: 0, mode: 0o40755 },
    '/opt/t.js': { uid: 0, gid: 0, mode: 0o100600 },
    '/opt/own.js': { uid: 100000, gid: 0, mode: 0o100600 },
  };
  const stat = (p: string): StatLike => {
    const st = tree[p];
    if (!st) throw new Error(`no ${p}`);
    return st;
  };

  test('a private directory above is named', () => {
    expect(firstUnreachable('/root/t/init.js', who, stat)).toEqual({
      path: '/root',
      mode: 0o40700,
    });
  });

  test('an unreadable file is named; an owned one is fine', () => {
    expect(firstUnreachable('/opt/t.js', who, stat)?.path).toBe('/opt/t.js');
    expect(firstUnreachable('/opt/own.js', who, stat)).toBeUndefined();
  });

  test('owner, group and other bits', () => {
    expect(
      permits({ uid: 5, gid: 6, mode: 0o700 }, { uid: 5, gid: 0 }, 1),
    ).toBe(true);
    expect(
      permits({ uid: 5, gid: 6, mode: 0o070 }, { uid: 1, gid: 6 }, 4),
    ).toBe(true);
    expect(
      permits({ uid: 5, gid: 6, mode: 0o770 }, { uid: 1, gid: 2 }, 1),
    ).toBe(false);
  });
});
