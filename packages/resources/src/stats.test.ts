import { formatStats } from './stats';

test('every figure, n/a where the kernel has none', () => {
  expect(
    formatStats({
      memoryPeak: 64 << 20,
      cpuUserUs: 1_500_000,
      cpuSystemUs: 20_000,
      cpuThrottled: 9,
      oomKills: 1,
    }),
  ).toEqual([
    'tincan: stats: memory peak: 64.0 MiB',
    'tincan: stats: cpu: user 1.50s system 0.02s (throttled in 9 periods)',
    'tincan: stats: pids peak: n/a',
    'tincan: stats: oom kills: 1',
  ]);
});
