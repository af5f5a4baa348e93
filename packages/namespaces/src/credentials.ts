// Identity inside the user namespace: the init checks it became root with
// every capability, and later switches to the requested uid and gid with
// no supplementary groups. See credentials(7), capabilities(7).

import { readFileSync } from 'node:fs';
import { check, libc } from '@tincan/cli';

const setgroupsC = libc.func(
  'int setgroups(size_t size, const uint32_t *list)',
);
const setresuidC = libc.func(
  'int setresuid(uint32_t r, uint32_t e, uint32_t s)',
);
const setresgidC = libc.func(
  'int setresgid(uint32_t r, uint32_t e, uint32_t s)',
);

/** setgroups(2) with an empty list: drop every supplementary group. */
export function setgroupsEmpty(): void {
  check('setgroups', ['0', '[]'], () => Number(setgroupsC(0, null)));
}

/** setresgid(2) with one gid for real, effective and saved. */
export function setresgid(gid: number): void {
  const g = String(gid);
  check('setresgid', [g, g, g], () => Number(setresgidC(gid, gid, gid)));
}

/** setresuid(2) with one uid for real, effective and saved. */
export function setresuid(uid: number): void {
  const u = String(uid);
  check('setresuid', [u, u, u], () => Number(setresuidC(uid, uid, uid)));
}

/** The fields of /proc/self/status that describe identity. */
export interface StatusIdentity {
  uid: number[];
  gid: number[];
  groups: number[];
  capEff: bigint;
}

/** Parse the identity lines of a /proc/PID/status text. */
export function parseStatus(text: string): StatusIdentity {
  const field = (name: string): string =>
    new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const ids = (name: string): number[] =>
    field(name).split(/\s+/).filter(Boolean).map(Number);
  return {
    uid: ids('Uid'),
    gid: ids('Gid'),
    groups: ids('Groups'),
    capEff: BigInt(`0x${field('CapEff') || '0'}`),
  };
}

/** Every capability bit up to the kernel's last one. */
export function fullCapabilitySet(
  lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')),
): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n;
}

/**
 * Why the init is not root with every capability in its namespace, or
 * undefined when it is. The usual cause is a uid_map the parent never
 * wrote: an unmapped process runs as the overflow uid 65534.
 */
export function identityProblem(
  status: StatusIdentity,
  full: bigint,
): string | undefined {
  if (status.uid.some((u) => u !== 0)) {
    return status.uid[0] === 65534
      ? 'the init runs as uid 65534 (unmapped): the parent never wrote uid_map'
      : `the init runs as uid ${status.uid.join('/')} instead of 0`;
  }
  if (status.gid.some((g) => g !== 0)) {
    return status.gid[0] === 65534
      ? 'the init runs as gid 65534 (unmapped): the parent never wrote gid_map'
      : `the init runs as gid ${status.gid.join('/')} instead of 0`;
  }
  if ((status.capEff & full) !== full) {
    return `the init lacks capabilities in its namespace: CapEff ${status.capEff.toString(16)}, expected ${full.toString(16)}`;
  }
  return undefined;
}
