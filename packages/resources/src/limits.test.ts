import { UsageError } from '@tincan/cli';
import {
  formatBytes,
  limitsFrom,
  limitsRequested,
  parseCpus,
  parseMemory,
  parsePids,
  sharesToWeight,
} from './limits';

describe('parseMemory', () => {
  test.each([
    ['64M', 64 << 20],
    ['64m', 64 << 20],
    ['64MiB', 64 << 20],
    ['1G', 1 << 30],
    ['512k', 512 << 10],
    ['1.5G', 1.5 * (1 << 30)],
    ['1073741824', 1 << 30],
    ['max', 'max'],
  ])('%s is %p', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  test.each(['12XB', '', '-1', 'G', '1 0M', '100'])('%p is bad input', (t) => {
    expect(() => parseMemory(t)).toThrow(UsageError);
  });
});

test('--cpus takes positive fractions and max', () => {
  expect(parseCpus('0.5')).toBe(0.5);
  expect(parseCpus('max')).toBe('max');
  for (const bad of ['-1', '0', 'x', '0.001']) {
    expect(() => parseCpus(bad)).toThrow(UsageError);
  }
});

test('--pids 0 is bad input, max is none', () => {
  expect(() => parsePids('0')).toThrow(/--pids 0: expected/);
  expect(parsePids('max')).toBe('max');
  expect(parsePids('20')).toBe(20);
});

test('cpu.weight follows the standard conversion', () => {
  expect(sharesToWeight(2)).toBe(1);
  expect(sharesToWeight(256)).toBe(10);
  expect(sharesToWeight(1024)).toBe(39);
  expect(sharesToWeight(262144)).toBe(10000);
});

test("defaults are crabcan's, --no-limits and max remove them", () => {
  expect(limitsFrom({})).toEqual({
    memory: 1 << 30,
    cpus: 'max',
    cpuShares: 256,
    pids: 64,
    ioWeight: 50,
  });
  expect(limitsFrom({ limits: false })).toEqual({
    memory: 'max',
    cpus: 'max',
    pids: 'max',
  });
  expect(limitsFrom({ limits: false, pids: '5' }).pids).toBe(5);
  expect(limitsFrom({ memory: 'max' }).memory).toBe('max');
});

test('--no-limits asks for nothing; any one limit asks for something', () => {
  expect(limitsRequested(limitsFrom({}))).toBe(true);
  expect(limitsRequested(limitsFrom({ limits: false }))).toBe(false);
  expect(limitsRequested(limitsFrom({ limits: false, pids: '5' }))).toBe(true);
  expect(limitsRequested(limitsFrom({ limits: false, cpuShares: '512' }))).toBe(
    true,
  );
});

test('formatBytes', () => {
  expect(formatBytes(64 << 20)).toBe('64.0 MiB');
  expect(formatBytes(100)).toBe('100 B');
});
