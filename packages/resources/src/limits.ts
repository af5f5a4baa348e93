// The resource flags of `tincan run`, parsed and checked before anything
// is created. Defaults are crabcan's: 1 GiB of memory, 256 CPU shares, 64
// pids, an I/O weight of 50.

import { UsageError } from '@tincan/cli';

/** A limit value, or `max` for none. */
export type Limit = number | 'max';

/** The cgroup limits of one container. */
export interface Limits {
  /** bytes */
  memory: Limit;
  /** CPUs (fractional), turned into a CFS quota per period */
  cpus: Limit;
  /** relative CPU weight on v1's scale (2-262144); undefined: the kernel's */
  cpuShares?: number;
  /** the most tasks at once */
  pids: Limit;
  /** relative I/O weight (10-1000); undefined: the kernel's */
  ioWeight?: number;
}

/** Whether `limits` asks for anything at all (`--no-limits` asks nothing). */
export function limitsRequested(limits: Limits): boolean {
  return (
    limits.memory !== 'max' ||
    limits.cpus !== 'max' ||
    limits.pids !== 'max' ||
    limits.cpuShares !== undefined ||
    limits.ioWeight !== undefined
  );
}

/** crabcan's defaults. */
export const DEFAULT_LIMITS = {
  memory: '1G',
  cpus: 'max',
  cpuShares: '256',
  pids: '64',
  ioWeight: '50',
} as const;

/** The CFS period tincan uses: 100 ms, the kernel's default. */
export const CPU_PERIOD_US = 100_000;

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

// #region parse-memory (lab)
/**
 * A size like docker's: bytes, or a number with K, M, G or T (powers of
 * 1024, with an optional `B` or `iB`), or `max`.
 */
export function parseMemory(text: string): Limit {
  if (text === 'max') return 'max';
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text);
  if (!match) {
    throw new UsageError(
      `--memory ${text}`,
      'expected a size like 512M, 1G or 1073741824, or max',
    );
  }
  const [, number = '', unit = ''] = match;
  const bytes = Math.floor(Number(number) * (UNITS[unit.toLowerCase()] ?? 1));
  // Below one page the kernel would round the limit down to nothing.
  if (bytes < 4096) {
    throw new UsageError(`--memory ${text}`, 'must be at least 4K');
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(`--memory ${text}`, 'too large');
  }
  return bytes;
}
// #endregion parse-memory

/** Fractional CPUs (`0.5`, `2`) or `max`. */
export function parseCpus(text: string): Limit {
  if (text === 'max') return 'max';
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) {
    throw new UsageError(
      `--cpus ${text}`,
      'expected a positive number of CPUs like 0.5 or 2, or max',
    );
  }
  // The kernel's smallest quota is 1 ms per period.
  if (cpuQuotaUs(Number(text)) < 1000) {
    throw new UsageError(`--cpus ${text}`, 'must be at least 0.01');
  }
  return Number(text);
}

/** The CFS quota in microseconds per CPU_PERIOD_US for `cpus` CPUs. */
export function cpuQuotaUs(cpus: number): number {
  return Math.round(cpus * CPU_PERIOD_US);
}

function parseInteger(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(
      `${flag} ${text}`,
      `expected a whole number from ${min} to ${max}`,
    );
  }
  return Number(text);
}

/** A number of pids (at least 1) or `max`. */
export function parsePids(text: string): Limit {
  if (text === 'max') return 'max';
  // No upper bound here: the kernel's own (PID_MAX_LIMIT) is checked when
  // pids.max is written, and its refusal names the controller.
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(
      `--pids ${text}`,
      'expected a whole number of at least 1, or max',
    );
  }
  return Number(text);
}

/** CPU shares on v1's scale: 2 to 262144 (cpu.shares' own range). */
export function parseCpuShares(text: string): number {
  return parseInteger('--cpu-shares', text, 2, 262144);
}

/**
 * An I/O weight from 10 to 1000: the range blkio.weight, blkio.bfq.weight
 * and io.weight all accept.
 */
export function parseIoWeight(text: string): number {
  return parseInteger('--io-weight', text, 10, 1000);
}

// #region cpu-weight
/**
 * cpu.weight (v2, 1-10000) for v1 cpu.shares (2-262144): the conversion
 * runc, crun and systemd share, so 1024 shares (v1's default) become 39
 * and tincan's default 256 becomes 10.
 */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}
// #endregion cpu-weight

/** Raw flag values as commander hands them over. */
export interface LimitFlags {
  memory?: string;
  cpus?: string;
  cpuShares?: string;
  pids?: string;
  ioWeight?: string;
  /** commander's name for `--no-limits`: false when it was given */
  limits?: boolean;
}

/** The limits for the flags given, crabcan's defaults for the rest. */
export function limitsFrom(flags: LimitFlags): Limits {
  const none = flags.limits === false;
  const pick = (given: string | undefined, fallback: string): string =>
    given ?? (none ? 'max' : fallback);
  const limits: Limits = {
    memory: parseMemory(pick(flags.memory, DEFAULT_LIMITS.memory)),
    cpus: parseCpus(pick(flags.cpus, DEFAULT_LIMITS.cpus)),
    pids: parsePids(pick(flags.pids, DEFAULT_LIMITS.pids)),
  };
  const shares =
    flags.cpuShares ?? (none ? undefined : DEFAULT_LIMITS.cpuShares);
  if (shares !== undefined) limits.cpuShares = parseCpuShares(shares);
  const weight = flags.ioWeight ?? (none ? undefined : DEFAULT_LIMITS.ioWeight);
  if (weight !== undefined) limits.ioWeight = parseIoWeight(weight);
  return limits;
}

/** A size in bytes for people: `64.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
