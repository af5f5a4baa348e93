import { generateHostname, validateHostname } from './hostname';

describe('hostnames', () => {
  test('generated names are valid and varied', () => {
    const names = new Set(Array.from({ length: 50 }, generateHostname));
    for (const name of names) {
      expect(name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
      expect(validateHostname(name)).toBe(name);
    }
    expect(names.size).toBeGreaterThan(10);
  });

  test.each([
    ['', /empty/],
    ['a'.repeat(65), /64/],
    ['a/b', /only letters/],
    ['a b', /only letters/],
    ['a\nb', /only letters/],
    ['-a', /must not start/],
  ])('%j is refused', (name, why) => {
    expect(() => validateHostname(name)).toThrow(why);
  });

  test('64 characters and dots are fine', () => {
    expect(validateHostname('a'.repeat(64))).toHaveLength(64);
    expect(validateHostname('web-1.example')).toBe('web-1.example');
  });
});
