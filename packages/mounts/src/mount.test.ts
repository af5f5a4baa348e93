import { formatMount, msNames } from './mount';

describe('mount flag names', () => {
  test('flags are named as in <sys/mount.h>', () => {
    expect(msNames(0x1000 | 0x4000)).toBe('MS_BIND|MS_REC');
    expect(msNames(0)).toBe('0');
    expect(msNames(0x40000 | 0x4000)).toBe('MS_REC|MS_PRIVATE');
  });

  test('a mount call reads like strace', () => {
    expect(
      formatMount('proc', '/r/proc', 'proc', 0x2 | 0x4 | 0x8, null).join(', '),
    ).toBe('"proc", "/r/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC');
    expect(formatMount(null, '/', null, 0x44000, 'x')).toEqual([
      'NULL',
      '"/"',
      'NULL',
      'MS_REC|MS_PRIVATE',
      '"x"',
    ]);
  });
});
