import type { Stats } from 'node:fs';
import { reachProblem } from './layer';

function fakeStat(modes: Record<string, [number, number, number]>) {
  return (p: string): Stats => {
    const [mode, uid, gid] = modes[p] ?? [0o755, 0, 0];
    return { mode, uid, gid } as Stats;
  };
}

describe('reachProblem', () => {
  test('every directory on the way must be searchable', () => {
    const stat = fakeStat({ '/root': [0o700, 0, 0] });
    expect(reachProblem('/root/box/rootfs', 100000, 100000, stat)).toMatch(
      /\/root is not searchable by the container's root \(host uid 100000\)/,
    );
    expect(reachProblem('/srv/rootfs', 100000, 100000, stat)).toBeUndefined();
  });

  test('owner and group bits count for the mapped root', () => {
    const stat = fakeStat({
      '/home': [0o750, 0, 100000],
      '/home/u': [0o700, 100000, 0],
    });
    expect(reachProblem('/home/u/r', 100000, 100000, stat)).toBeUndefined();
  });
});
