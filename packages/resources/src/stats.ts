// `--stats`: what the container used, read from its cgroups after the
// init exited and before they are removed.

import { formatBytes } from './limits';

/** Usage figures; a field is missing when the kernel does not offer it. */
export interface CgroupStats {
  /** bytes: v1 memory.max_usage_in_bytes, v2 memory.peak */
  memoryPeak?: number;
  /** microseconds of CPU time in user mode */
  cpuUserUs?: number;
  /** microseconds of CPU time in the kernel */
  cpuSystemUs?: number;
  /** CFS periods in which the quota ran out */
  cpuThrottled?: number;
  /** the most tasks at once: pids.peak (6.1 on v2; newer kernels on v1) */
  pidsPeak?: number;
  /** processes the OOM killer killed in the container */
  oomKills?: number;
}

// #region format-stats
/** The stats as the lines tincan prints, `n/a` where unknown. */
export function formatStats(stats: CgroupStats): string[] {
  const na = 'n/a';
  const seconds = (us: number | undefined): string =>
    us === undefined ? na : `${(us / 1e6).toFixed(2)}s`;
  return [
    `memory peak: ${stats.memoryPeak === undefined ? na : formatBytes(stats.memoryPeak)}`,
    `cpu: user ${seconds(stats.cpuUserUs)} system ${seconds(stats.cpuSystemUs)}` +
      (stats.cpuThrottled === undefined
        ? ''
        : ` (throttled in ${stats.cpuThrottled} periods)`),
    `pids peak: ${stats.pidsPeak ?? na}`,
    `oom kills: ${stats.oomKills ?? na}`,
  ].map((line) => `tincan: stats: ${line}`);
}
// #endregion format-stats
