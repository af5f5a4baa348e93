import { getrandom, randomBelow } from './libc';
import { koffi } from './koffi';

describe('koffi', () => {
  it('is the native module itself, not the package wrapper', () => {
    const loaded = Object.keys(require.cache);
    expect(loaded.some((f) => f.endsWith('/koffi.node'))).toBe(true);
    expect(
      loaded.some((f) => /\/koffi\/(index|src\/koffi\/index)\.c?js$/.test(f)),
    ).toBe(false);
    expect(typeof koffi.load).toBe('function');
    expect(koffi.version).toBe(
      (require('../package.json') as { dependencies: { koffi: string } })
        .dependencies.koffi,
    );
  });
});

describe('getrandom', () => {
  it('returns as many bytes as asked, and not the same twice', () => {
    const a = getrandom(32);
    const b = getrandom(32);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
  });

  it('returns an empty buffer for zero bytes', () => {
    expect(getrandom(0)).toHaveLength(0);
  });
});

describe('randomBelow', () => {
  it('stays in [0, bound) and reaches both ends', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const n = randomBelow(3);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(3);
      seen.add(n);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});
