// The capability table and the set arithmetic the layer needs: names to
// numbers, Docker's default allowlist, --cap-add/--cap-drop, and the hex
// masks /proc/PID/status prints. Pure logic, unit-tested without root.

import { readFileSync } from 'node:fs';
import { UsageError } from '@tincan/cli';

// #region capability-names
/**
 * The capabilities this code knows by name, by number (capability(7),
 * <linux/capability.h>). CAP_CHECKPOINT_RESTORE (40, Linux 5.9) is the
 * newest; a kernel that knows more reports it in cap_last_cap, and the
 * table names the extra ones by number.
 */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];
// #endregion capability-names

// #region docker-default
/**
 * Docker's default capability set (moby's `DefaultCapabilities`), the
 * allowlist a container gets unless told otherwise. As a mask it is
 * 0x00000000a80425fb, what /proc/self/status shows inside.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];
// #endregion docker-default

/**
 * A set of capabilities as the kernel stores it: bit N is capability N.
 * A bigint, because there are more than 32 and JavaScript's bit operators
 * on numbers stop at 32 bits.
 */
export type CapSet = bigint;

/** The empty set. */
export const EMPTY: CapSet = 0n;

/** The capabilities of one running kernel: 0 to `lastCap`, with names. */
export interface CapabilityTable {
  /** the highest capability number the kernel knows */
  readonly lastCap: number;
  /** `CAP_…` for each number from 0 to lastCap */
  readonly names: readonly string[];
}

/**
 * The highest capability this kernel knows, from
 * /proc/sys/kernel/cap_last_cap (Linux 3.2 and later).
 */
export function readLastCap(file = '/proc/sys/kernel/cap_last_cap'): number {
  const text = readFileSync(file, 'utf8').trim();
  const lastCap = Number(text);
  if (!/^\d+$/.test(text) || lastCap > 63) {
    throw new Error(`${file}: unexpected contents ${JSON.stringify(text)}`);
  }
  return lastCap;
}

/** The table for a kernel whose highest capability is `lastCap`. */
export function capabilityTable(lastCap = readLastCap()): CapabilityTable {
  const names: string[] = [];
  for (let n = 0; n <= lastCap; n++) {
    // A capability newer than this code has no name here; it is still
    // dropped from every set, and ALL includes it.
    names.push(CAPABILITY_NAMES[n] ?? `CAP_${n}`);
  }
  return { lastCap, names };
}

// #region parse-capability
/**
 * The number of capability `name`: case does not matter and the `CAP_`
 * prefix is optional (`sys_admin`, `CAP_SYS_ADMIN`). Undefined when the
 * kernel has no such capability.
 */
export function capabilityNumber(
  table: CapabilityTable,
  name: string,
): number | undefined {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  const n = table.names.indexOf(full);
  return n < 0 ? undefined : n;
}
// #endregion parse-capability

/** The set holding the capabilities numbered `numbers`. */
export function capSetOf(numbers: Iterable<number>): CapSet {
  let set = EMPTY;
  for (const n of numbers) set |= 1n << BigInt(n);
  return set;
}

/** Every capability of the table. */
export function allCapabilities(table: CapabilityTable): CapSet {
  return (1n << BigInt(table.lastCap + 1)) - 1n;
}

/** Whether capability `n` is in `set`. */
export function hasCapability(set: CapSet, n: number): boolean {
  return (set & (1n << BigInt(n))) !== 0n;
}

/** The numbers in `set`, lowest first. */
export function capNumbers(set: CapSet): number[] {
  const numbers: number[] = [];
  for (let n = 0; set >> BigInt(n) !== 0n; n++) {
    if (hasCapability(set, n)) numbers.push(n);
  }
  return numbers;
}

/** The names in `set`, lowest number first. */
export function capNames(table: CapabilityTable, set: CapSet): string[] {
  return capNumbers(set).map((n) => table.names[n] ?? `CAP_${n}`);
}

/** A set as /proc/PID/status prints it: 16 hex digits. */
export function formatCapSet(set: CapSet): string {
  return set.toString(16).padStart(16, '0');
}

/** The set in a hex mask, as /proc/PID/status prints it. */
export function parseCapSet(hex: string): CapSet {
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(hex.trim())) {
    throw new Error(`not a capability mask: ${JSON.stringify(hex)}`);
  }
  return BigInt(`0x${hex.trim().replace(/^0x/, '')}`);
}

/** The five capability sets of one thread. */
export interface CapSets {
  inheritable: CapSet;
  permitted: CapSet;
  effective: CapSet;
  bounding: CapSet;
  ambient: CapSet;
}

/** The five sets in a /proc/PID/status text (CapInh … CapAmb). */
export function statusCapSets(status: string): CapSets {
  const field = (name: string): CapSet => {
    const m = new RegExp(`^${name}:\\s*([0-9a-fA-F]+)$`, 'm').exec(status);
    if (!m?.[1]) throw new Error(`/proc/PID/status has no ${name} line`);
    return parseCapSet(m[1]);
  };
  return {
    inheritable: field('CapInh'),
    permitted: field('CapPrm'),
    effective: field('CapEff'),
    bounding: field('CapBnd'),
    ambient: field('CapAmb'),
  };
}

/** The five sets of this process's main thread. */
export function ownCapSets(): CapSets {
  return statusCapSets(readFileSync('/proc/self/status', 'utf8'));
}

/** What --cap-add and --cap-drop asked for, resolved against the kernel. */
export interface CapabilityRequest {
  /** the capabilities the container keeps */
  set: CapSet;
  /** capabilities ALL asked for that the runtime itself does not hold */
  unavailable: CapSet;
}

/** One flag's values as capability numbers; ALL is reported apart. */
function parseList(
  table: CapabilityTable,
  flag: string,
  values: readonly string[],
): { all: boolean; set: CapSet; given: Map<number, string> } {
  let all = false;
  let set = EMPTY;
  const given = new Map<number, string>();
  for (const value of values) {
    if (value.trim().toUpperCase() === 'ALL') {
      all = true;
      continue;
    }
    const n = capabilityNumber(table, value);
    if (n === undefined) {
      throw new UsageError(
        `${flag} ${value}`,
        `unknown capability; this kernel knows ${table.names[0]} to ` +
          `${table.names[table.lastCap]} (see capabilities(7)) and ALL`,
      );
    }
    set |= 1n << BigInt(n);
    given.set(n, value);
  }
  return { all, set, given };
}

// #region resolve-capabilities
/**
 * The container's capability set: Docker's default, minus --cap-drop,
 * plus --cap-add, the way `docker run` combines them. `--cap-add ALL`
 * starts from every capability, and then only drops count;
 * `--cap-drop ALL` starts from none, and only adds count. A capability
 * named in both is added: adds are applied last.
 *
 * `available` is the runtime's own bounding set: a capability outside it
 * cannot be given to anyone, so naming one is bad input. ALL quietly means
 * every capability the runtime holds; the caller may warn about the rest.
 */
export function resolveCapabilities(
  table: CapabilityTable,
  addValues: readonly string[],
  dropValues: readonly string[],
  available: CapSet,
): CapabilityRequest {
  const all = allCapabilities(table);
  const add = parseList(table, '--cap-add', addValues);
  const drop = parseList(table, '--cap-drop', dropValues);
  const defaults = capSetOf(
    DEFAULT_CAPABILITIES.map((name) => table.names.indexOf(name)),
  );

  let set: CapSet;
  if (add.all) set = all & ~drop.set;
  else if (drop.all) set = add.set;
  else set = (defaults & ~drop.set) | add.set;

  const missing = set & ~available;
  for (const n of capNumbers(missing)) {
    const name = table.names[n] ?? `CAP_${n}`;
    const named = add.given.get(n);
    if (named !== undefined) {
      throw new UsageError(
        `--cap-add ${named}`,
        `tincan itself does not hold ${name} (its bounding set is ` +
          `${formatCapSet(available)}), so it cannot give it`,
      );
    }
    if (!add.all) {
      throw new UsageError(
        name,
        `part of the default set, but tincan itself does not hold it ` +
          `(its bounding set is ${formatCapSet(available)}); ` +
          `--cap-drop ${name.slice(4)} to run without it`,
      );
    }
  }
  return { set: set & available, unavailable: missing };
}
// #endregion resolve-capabilities
