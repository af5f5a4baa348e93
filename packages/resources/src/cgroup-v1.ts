// cgroup v1: one directory per hierarchy, each with its own controller's
// files. Documented in the kernel's Documentation/admin-guide/cgroup-v1/
// (memory.rst, cgroups.rst, freezer-subsystem.rst, pids.rst, blkio) and
// Documentation/scheduler/sched-bwc.rst for the CFS quota.

import path from 'node:path';
import type { CgroupFs } from './cgroup-fs';
import { delay, parseKeyed, parseProcs, readOptional } from './cgroup-fs';
import { same, sameBytes, sameWeight, type LimitWrite } from './cgroup-limits';
import { CPU_PERIOD_US, cpuQuotaUs, type Limits } from './limits';
import type { CgroupStats } from './stats';

// #region v1-limits (lab)
/** The files to write on v1 for `limits`, in order. */
export function v1LimitWrites(limits: Limits): LimitWrite[] {
  const writes: LimitWrite[] = [];
  const memory = limits.memory === 'max' ? '-1' : String(limits.memory);
  // The memory+swap limit must stay at or above the memory limit, so it
  // is written second; equal to it, swap cannot absorb what memory
  // refuses.
  writes.push(
    {
      flag: '--memory',
      controller: 'memory',
      files: [{ file: 'memory.limit_in_bytes', value: memory }],
      matches: sameBytes,
      unlimited: limits.memory === 'max',
      unlimitable: true,
    },
    {
      flag: '--memory',
      controller: 'memory',
      files: [{ file: 'memory.memsw.limit_in_bytes', value: memory }],
      matches: sameBytes,
      unlimited: limits.memory === 'max',
      unlimitable: true,
      optional: true,
    },
  );
  writes.push(
    {
      flag: '--cpus',
      controller: 'cpu',
      files: [{ file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) }],
      matches: same,
      unlimited: limits.cpus === 'max',
      unlimitable: true,
    },
    {
      flag: '--cpus',
      controller: 'cpu',
      files: [
        {
          file: 'cpu.cfs_quota_us',
          value: limits.cpus === 'max' ? '-1' : String(cpuQuotaUs(limits.cpus)),
        },
      ],
      matches: same,
      unlimited: limits.cpus === 'max',
      unlimitable: true,
    },
  );
  if (limits.cpuShares !== undefined) {
    writes.push({
      flag: '--cpu-shares',
      controller: 'cpu',
      files: [{ file: 'cpu.shares', value: String(limits.cpuShares) }],
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
    // blkio.weight belonged to the CFQ scheduler (gone since 5.0);
    // blkio.bfq.weight exists when BFQ is built.
    const value = String(limits.ioWeight);
    writes.push({
      flag: '--io-weight',
      controller: 'blkio',
      files: [
        { file: 'blkio.weight', value },
        { file: 'blkio.bfq.weight', value },
      ],
      matches: sameWeight,
      unlimited: false,
      unlimitable: false,
    });
  }
  return writes;
}
// #endregion v1-limits

// #region v1-kill
/**
 * Kill every process in a v1 cgroup. Without a kill file, a process
 * could fork between reading cgroup.procs and the kill: freeze the cgroup
 * first (freezer-subsystem.rst), kill what is listed, then thaw so the
 * SIGKILLs are delivered.
 */
export async function v1Kill(
  fs: CgroupFs,
  freezerDir: string | undefined,
  procsDir: string,
  debug: (text: string) => void,
): Promise<void> {
  if (freezerDir) {
    fs.write(path.join(freezerDir, 'freezer.state'), 'FROZEN');
    debug(`wrote FROZEN to ${freezerDir}/freezer.state`);
    for (let i = 0; i < 100; i++) {
      const state = readOptional(fs, path.join(freezerDir, 'freezer.state'));
      if (state === 'FROZEN') break;
      await delay(10);
    }
  }
  const pids = parseProcs(fs.read(path.join(procsDir, 'cgroup.procs')));
  for (const pid of pids) fs.killPid(pid);
  if (pids.length > 0) debug(`SIGKILL ${pids.join(' ')}`);
  if (freezerDir) {
    fs.write(path.join(freezerDir, 'freezer.state'), 'THAWED');
    debug(`wrote THAWED to ${freezerDir}/freezer.state`);
  }
}
// #endregion v1-kill

/** Usage figures of the container's v1 cgroups (dirs by controller). */
export function v1Stats(
  fs: CgroupFs,
  dirFor: (controller: string) => string | undefined,
): CgroupStats {
  const stats: CgroupStats = {};
  const read = (controller: string, file: string): string | undefined => {
    const dir = dirFor(controller);
    return dir ? readOptional(fs, path.join(dir, file)) : undefined;
  };
  const peak = read('memory', 'memory.max_usage_in_bytes');
  if (peak !== undefined) stats.memoryPeak = Number(peak);
  const oom = read('memory', 'memory.oom_control');
  // oom_kill appeared in memory.oom_control in 4.13.
  const kills = oom !== undefined ? parseKeyed(oom).get('oom_kill') : undefined;
  if (kills !== undefined) stats.oomKills = kills;
  const user = read('cpuacct', 'cpuacct.usage_user');
  const system = read('cpuacct', 'cpuacct.usage_sys');
  if (user !== undefined && system !== undefined) {
    stats.cpuUserUs = Math.round(Number(user) / 1000);
    stats.cpuSystemUs = Math.round(Number(system) / 1000);
  } else {
    // cpuacct.stat counts USER_HZ ticks, 100 a second on every Linux
    // architecture tincan runs on.
    const ticks = parseKeyed(read('cpuacct', 'cpuacct.stat') ?? '');
    const u = ticks.get('user');
    const s = ticks.get('system');
    if (u !== undefined && s !== undefined) {
      stats.cpuUserUs = u * 10_000;
      stats.cpuSystemUs = s * 10_000;
    }
  }
  const throttled = parseKeyed(read('cpu', 'cpu.stat') ?? '').get(
    'nr_throttled',
  );
  if (throttled !== undefined) stats.cpuThrottled = throttled;
  const pidsPeak = read('pids', 'pids.peak');
  if (pidsPeak !== undefined) stats.pidsPeak = Number(pidsPeak);
  return stats;
}
