import { UsageError } from '@tincan/cli';
import { parseNoNewPrivileges } from './config';

describe('--no-new-privileges', () => {
  test.each([
    [undefined, true],
    [true, true],
    [false, true],
    ['true', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
  ])('%j turns no_new_privs on: %j', (value, on) => {
    expect(parseNoNewPrivileges(value)).toBe(on);
  });

  test.each(['', 'no', '0', 'sh'])('%j is bad input', (value) => {
    expect(() => parseNoNewPrivileges(value)).toThrow(UsageError);
    expect(() => parseNoNewPrivileges(value)).toThrow(
      /--no-new-privileges=false/,
    );
  });
});
