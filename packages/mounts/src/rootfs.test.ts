import { parseLdd, placeInRoot } from './rootfs';

describe('parseLdd', () => {
  test('libraries, the loader, and no vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd2c1e1000)',
      '\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f3)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f2)',
      '',
    ].join('\n');
    expect(parseLdd(out)).toEqual([
      '/lib/x86_64-linux-gnu/libselinux.so.1',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  test('a static program needs nothing', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseLdd('\tstatically linked\n')).toEqual([]);
  });

  test('a missing library is an error', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n')).toThrow(
      /libfoo.so.1: not found/,
    );
  });
});

describe('placeInRoot', () => {
  const links = new Map([
    ['lib', 'usr/lib'],
    ['bin', 'usr/bin'],
    ['lib64', '/usr/lib64'],
  ]);
  test('paths through merged-/usr links land under usr', () => {
    expect(placeInRoot('/lib/x86_64-linux-gnu/libc.so.6', links)).toBe(
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
    );
    expect(placeInRoot('/lib64/ld-linux-x86-64.so.2', links)).toBe(
      '/usr/lib64/ld-linux-x86-64.so.2',
    );
    expect(placeInRoot('/usr/bin/ls', links)).toBe('/usr/bin/ls');
  });
});
