import { CommanderError } from 'commander';
import { preScanStep, usageFromCommander } from './main';
import { cgroupLayout } from './check';

describe('the command line', () => {
  test('--step is found before the subcommand only', () => {
    expect(preScanStep(['--step', 'cli', 'run', 'x'])).toBe('cli');
    expect(preScanStep(['--step=2', 'run'])).toBe('2');
    expect(preScanStep(['run', '--step', 'cli'])).toBeUndefined();
    expect(preScanStep(['--debug', 'run'])).toBeUndefined();
  });

  test('commander errors become <what>: <why>', () => {
    const err = new CommanderError(
      1,
      'commander.unknownOption',
      "error: unknown option '--bogus'",
    );
    expect(usageFromCommander(err).message).toBe('--bogus: unknown option');
  });
});

describe('cgroup layout', () => {
  test('hybrid: v1 controllers and a v2 mount', () => {
    const mounts = [
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
    ].join('\n');
    const layout = cgroupLayout(mounts);
    expect(layout.mode).toBe('hybrid');
    expect(layout.v1).toEqual(['memory', 'pids']);
    expect(layout.v2Mount).toBe('/sys/fs/cgroup/unified');
  });

  test('pure v2', () => {
    expect(cgroupLayout('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0').mode).toBe(
      'v2',
    );
  });
});
