// rlimits: per-process limits (getrlimit(2)) that the kernel checks for
// the process itself, unlike a cgroup's limits, which bind a group. Set by
// the init with prlimit(2) just before no_new_privs and seccomp, so the
// command starts with them and every child inherits them.

import { check, koffi, libc, UsageError } from '@tincan/cli';

// #region rlimit-names
/** The resources, by their prlimit(1) names, and their numbers. */
export const RLIMITS: Readonly<Record<string, number>> = {
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
  LOCKS: 10,
  SIGPENDING: 11,
  MSGQUEUE: 12,
  NICE: 13,
  RTPRIO: 14,
  RTTIME: 15,
};
// #endregion rlimit-names

/** RLIM_INFINITY: no limit. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** One resource's soft and hard limit. */
export interface Rlimit {
  soft: bigint;
  hard: bigint;
}

/** One `--rlimit`, as plain data (it travels to the init as JSON). */
export interface RlimitSetting {
  name: string;
  /** decimal, or `unlimited` */
  soft: string;
  hard: string;
}

/** crabcan's default: 64 open files, soft and hard. */
export const DEFAULT_RLIMITS: readonly string[] = ['NOFILE=64'];

const rlimit64 = koffi.struct('tincan_rlimit64', {
  rlim_cur: 'uint64_t',
  rlim_max: 'uint64_t',
});
const prlimitC = libc.func(
  'int prlimit64(int pid, int resource, const tincan_rlimit64 *new_limit, _Out_ tincan_rlimit64 *old_limit)',
);
void rlimit64;

function limitText(value: bigint): string {
  return value === RLIM_INFINITY ? 'unlimited' : String(value);
}

/** prlimit(2) on this process: read `name`'s limit. */
export function getrlimit(name: string): Rlimit {
  const resource = RLIMITS[name] ?? -1;
  const old: { rlim_cur?: number | bigint; rlim_max?: number | bigint } = {};
  check('prlimit', ['0', `RLIMIT_${name}`, 'NULL'], () =>
    Number(prlimitC(0, resource, null, old)),
  );
  return { soft: BigInt(old.rlim_cur ?? 0), hard: BigInt(old.rlim_max ?? 0) };
}

// #region setrlimit
/** prlimit(2) on this process: set `name`'s soft and hard limit. */
export function setrlimit(name: string, limit: Rlimit): void {
  const resource = RLIMITS[name] ?? -1;
  check(
    'prlimit',
    [
      '0',
      `RLIMIT_${name}`,
      `{${limitText(limit.soft)}, ${limitText(limit.hard)}}`,
    ],
    () =>
      Number(
        prlimitC(
          0,
          resource,
          { rlim_cur: limit.soft, rlim_max: limit.hard },
          null,
        ),
      ),
  );
}
// #endregion setrlimit

function parseValue(flag: string, text: string): bigint {
  if (text === 'unlimited' || text === 'infinity') return RLIM_INFINITY;
  if (!/^\d+$/.test(text) || BigInt(text) >= RLIM_INFINITY) {
    throw new UsageError(
      flag,
      `${JSON.stringify(text)} is not a number or "unlimited"`,
    );
  }
  return BigInt(text);
}

/** The value of a setting as a bigint. */
export function rlimitOf(setting: RlimitSetting): Rlimit {
  const flag = `--rlimit ${setting.name}`;
  return {
    soft: parseValue(flag, setting.soft),
    hard: parseValue(flag, setting.hard),
  };
}

// #region parse-rlimit
/**
 * Parse `NAME=SOFT[:HARD]` as prlimit(1) would (one value sets both).
 * `ceiling` is this process's own limit: raising a hard limit needs
 * CAP_SYS_RESOURCE, which a container runtime cannot count on (this
 * project's machines lack it in the bounding set), so going above it is
 * refused here rather than failing inside the container.
 */
export function parseRlimit(
  text: string,
  ceiling: (name: string) => Rlimit = getrlimit,
): RlimitSetting {
  const flag = `--rlimit ${text}`;
  const match = /^([A-Za-z]+)=([^:]+)(?::([^:]+))?$/.exec(text);
  if (!match) throw new UsageError(flag, 'expected NAME=SOFT[:HARD]');
  const [, rawName = '', soft = '', hard = soft] = match;
  const name = rawName.toUpperCase().replace(/^RLIMIT_/, '');
  if (RLIMITS[name] === undefined) {
    throw new UsageError(
      flag,
      `unknown resource ${JSON.stringify(rawName)}; known: ${Object.keys(RLIMITS).join(' ')}`,
    );
  }
  const setting = { name, soft, hard };
  const limit = rlimitOf(setting);
  if (limit.soft > limit.hard) {
    throw new UsageError(flag, 'the soft limit is above the hard limit');
  }
  const own = ceiling(name);
  if (limit.hard > own.hard) {
    throw new UsageError(
      flag,
      `${name} hard limit ${limitText(limit.hard)} is above tincan's own ` +
        `(${limitText(own.hard)}); raising it needs CAP_SYS_RESOURCE`,
    );
  }
  return setting;
}
// #endregion parse-rlimit

/**
 * Every `--rlimit`, after the defaults: a later setting of the same
 * resource replaces an earlier one.
 */
export function rlimitsFrom(
  given: readonly string[],
  ceiling?: (name: string) => Rlimit,
): RlimitSetting[] {
  const byName = new Map<string, RlimitSetting>();
  for (const text of [...DEFAULT_RLIMITS, ...given]) {
    const setting = parseRlimit(text, ceiling);
    byName.set(setting.name, setting);
  }
  return [...byName.values()];
}
