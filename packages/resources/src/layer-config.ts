// Step 6's section of the container config: plain data, sent to the init.

import type { Limits } from './limits';
import type { RlimitSetting } from './rlimit';

/** What `tincan run`'s resource flags asked for. */
export interface ResourcesConfig {
  limits: Limits;
  /** flags left at their default (a missing file there is only logged) */
  defaulted: string[];
  /** `--ignore-missing-controllers` */
  ignoreMissing: boolean;
  /** `--stats` */
  stats: boolean;
  /** `--strict-limits`: fail rather than run unlimited when rootless */
  strictLimits: boolean;
  /** `--cgroup-parent` */
  cgroupParent?: string;
  /** every rlimit the init sets */
  rlimits: RlimitSetting[];
}
