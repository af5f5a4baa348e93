import { UsageError } from '@tincan/cli';
import {
  getrlimit,
  parseRlimit,
  RLIM_INFINITY,
  rlimitOf,
  rlimitsFrom,
  type Rlimit,
} from './rlimit';

const ceiling = (): Rlimit => ({ soft: 1024n, hard: 4096n });

test('one value sets soft and hard, as prlimit(1)', () => {
  expect(parseRlimit('NOFILE=64', ceiling)).toEqual({
    name: 'NOFILE',
    soft: '64',
    hard: '64',
  });
  expect(parseRlimit('nofile=10:20', ceiling)).toEqual({
    name: 'NOFILE',
    soft: '10',
    hard: '20',
  });
});

test('unknown names, bad values and soft above hard are bad input', () => {
  for (const bad of ['FOO=1', 'NOFILE', 'NOFILE=x', 'NOFILE=5:4', '=1']) {
    expect(() => parseRlimit(bad, ceiling)).toThrow(UsageError);
  }
});

test("a hard limit above tincan's own is refused, naming it", () => {
  expect(() => parseRlimit('NOFILE=5000', ceiling)).toThrow(
    /NOFILE hard limit 5000 is above tincan's own \(4096\)/,
  );
  expect(() => parseRlimit('NOFILE=1:unlimited', ceiling)).toThrow(/unlimited/);
});

test('the default NOFILE=64 is replaced by a later setting', () => {
  expect(rlimitsFrom([], ceiling)).toEqual([
    { name: 'NOFILE', soft: '64', hard: '64' },
  ]);
  expect(rlimitsFrom(['NOFILE=100', 'CORE=0'], ceiling)).toEqual([
    { name: 'NOFILE', soft: '100', hard: '100' },
    { name: 'CORE', soft: '0', hard: '0' },
  ]);
});

test('unlimited is RLIM_INFINITY', () => {
  expect(
    rlimitOf({ name: 'CORE', soft: 'unlimited', hard: 'unlimited' }),
  ).toEqual({
    soft: RLIM_INFINITY,
    hard: RLIM_INFINITY,
  });
});

test('getrlimit reads this process', () => {
  const own = getrlimit('NOFILE');
  expect(own.soft).toBeLessThanOrEqual(own.hard);
});
