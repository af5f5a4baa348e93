// cgroup v2: one directory per container in the unified hierarchy, with
// every controller's files side by side. Written to the kernel's
// Documentation/admin-guide/cgroup-v2.rst: cgroup.subtree_control,
// cgroup.kill (5.14), cgroup.freeze (5.2), memory.max, memory.swap.max,
// memory.peak (5.19), memory.events, cpu.max, cpu.weight, cpu.stat,
// pids.max, pids.peak, io.weight, io.bfq.weight.

import path from 'node:path';
import type { CgroupFs } from './cgroup-fs';
import { delay, parseKeyed, parseProcs, readOptional } from './cgroup-fs';
import { same, sameBytes, sameWeight, type LimitWrite } from './cgroup-limits';
import {
  CPU_PERIOD_US,
  cpuQuotaUs,
  sharesToWeight,
  type Limits,
} from './limits';
import type { CgroupStats } from './stats';

// #region v2-limits
/** The files to write on v2 for `limits`, in order. */
export function v2LimitWrites(limits: Limits): LimitWrite[] {
  const writes: LimitWrite[] = [];
  const memory = limits.memory === 'max' ? 'max' : String(limits.memory);
  writes.push(
    {
      flag: '--memory',
      controller: 'memory',
      files: [{ file: 'memory.max', value: memory }],
      matches: sameBytes,
      unlimited: limits.memory === 'max',
      unlimitable: true,
    },
    {
      // Without this, a host with swap lets the container page out what
      // memory.max refuses and the limit only slows it down.
      flag: '--memory',
      controller: 'memory',
      files: [
        {
          file: 'memory.swap.max',
          value: limits.memory === 'max' ? 'max' : '0',
        },
      ],
      matches: sameBytes,
      unlimited: limits.memory === 'max',
      unlimitable: true,
      optional: true,
    },
  );
  const quota = limits.cpus === 'max' ? 'max' : String(cpuQuotaUs(limits.cpus));
  writes.push({
    flag: '--cpus',
    controller: 'cpu',
    files: [{ file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}` }],
    matches: same,
    unlimited: limits.cpus === 'max',
    unlimitable: true,
  });
  if (limits.cpuShares !== undefined) {
    writes.push({
      flag: '--cpu-shares',
      controller: 'cpu',
      files: [
        { file: 'cpu.weight', value: String(sharesToWeight(limits.cpuShares)) },
      ],
      matches: same,
      unlimited: false,
      unlimitable: false,
    });
  }
  writes.push({
    flag: '--pids',
    controller: 'pids',
    files: [{ file: 'pids.max', value: String(limits.pids) }],
    matches: same,
    unlimited: limits.pids === 'max',
    unlimitable: true,
  });
  if (limits.ioWeight !== undefined) {
    // io.weight comes with the iocost controller, io.bfq.weight with the
    // BFQ scheduler; both take `default N` for every device.
    const value = `default ${limits.ioWeight}`;
    writes.push({
      flag: '--io-weight',
      controller: 'io',
      files: [
        { file: 'io.weight', value },
        { file: 'io.bfq.weight', value },
      ],
      matches: sameWeight,
      unlimited: false,
      unlimitable: false,
    });
  }
  return writes;
}
// #endregion v2-limits

/** The controllers a cgroup.subtree_control (or .controllers) lists. */
export function parseControllers(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}

// #region v2-delegation
/**
 * Whether `dir` lets tincan create a child cgroup with `wanted`: each
 * must be enabled in its cgroup.subtree_control. A non-root cgroup that
 * still holds processes (tincan itself) cannot enable any (the "no
 * internal processes" rule), so outside the root this holds only when
 * someone delegated a subtree to tincan.
 */
export function canDelegate(
  fs: CgroupFs,
  dir: string,
  wanted: readonly string[],
): { ok: boolean; missing: string[] } {
  const enabled = parseControllers(
    readOptional(fs, path.join(dir, 'cgroup.subtree_control')),
  );
  const missing = wanted.filter((c) => !enabled.includes(c));
  return { ok: missing.length === 0, missing };
}

/**
 * Enable `wanted` for the children of `dir` (a cgroup tincan created, or
 * the root, which the no-internal-processes rule exempts).
 */
export function enableControllers(
  fs: CgroupFs,
  dir: string,
  wanted: readonly string[],
  debug: (text: string) => void,
): void {
  const { missing } = canDelegate(fs, dir, wanted);
  if (missing.length === 0) return;
  const text = missing.map((c) => `+${c}`).join(' ');
  fs.write(path.join(dir, 'cgroup.subtree_control'), text);
  debug(`wrote ${JSON.stringify(text)} to ${dir}/cgroup.subtree_control`);
}
// #endregion v2-delegation

// #region v2-kill
/**
 * Kill every process in a v2 cgroup: one write to cgroup.kill (5.14)
 * kills them all, new forks included. Older kernels freeze with
 * cgroup.freeze, kill what cgroup.procs lists, and thaw.
 */
export async function v2Kill(
  fs: CgroupFs,
  dir: string,
  debug: (text: string) => void,
): Promise<void> {
  const killFile = path.join(dir, 'cgroup.kill');
  if (fs.exists(killFile)) {
    fs.write(killFile, '1');
    debug(`wrote 1 to ${killFile}`);
    return;
  }
  const freeze = path.join(dir, 'cgroup.freeze');
  const canFreeze = fs.exists(freeze);
  if (canFreeze) {
    fs.write(freeze, '1');
    debug(`wrote 1 to ${freeze}`);
    for (let i = 0; i < 100; i++) {
      const events = parseKeyed(
        readOptional(fs, path.join(dir, 'cgroup.events')) ?? '',
      );
      if (events.get('frozen') === 1) break;
      await delay(10);
    }
  }
  const pids = parseProcs(fs.read(path.join(dir, 'cgroup.procs')));
  for (const pid of pids) fs.killPid(pid);
  if (pids.length > 0) debug(`SIGKILL ${pids.join(' ')}`);
  if (canFreeze) fs.write(freeze, '0');
}
// #endregion v2-kill

/** Usage figures of the container's v2 cgroup. */
export function v2Stats(fs: CgroupFs, dir: string): CgroupStats {
  const stats: CgroupStats = {};
  const read = (file: string): string | undefined =>
    readOptional(fs, path.join(dir, file));
  const peak = read('memory.peak');
  if (peak !== undefined) stats.memoryPeak = Number(peak);
  const kills = parseKeyed(read('memory.events') ?? '').get('oom_kill');
  if (kills !== undefined) stats.oomKills = kills;
  // cpu.stat's usage figures are core: present without the cpu controller.
  const cpu = parseKeyed(read('cpu.stat') ?? '');
  const user = cpu.get('user_usec');
  const system = cpu.get('system_usec');
  if (user !== undefined) stats.cpuUserUs = user;
  if (system !== undefined) stats.cpuSystemUs = system;
  const throttled = cpu.get('nr_throttled');
  if (throttled !== undefined) stats.cpuThrottled = throttled;
  const pidsPeak = read('pids.peak');
  if (pidsPeak !== undefined) stats.pidsPeak = Number(pidsPeak);
  return stats;
}
