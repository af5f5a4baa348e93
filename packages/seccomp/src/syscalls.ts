// The architectures a filter can be built for, their AUDIT_ARCH values and
// syscall tables. seccomp hands the filter the syscall *number* and the
// architecture it was made on; names exist only in these tables.

import { AARCH64_SYSCALLS } from './syscalls/aarch64.generated';
import { X86_64_SYSCALLS } from './syscalls/x86_64.generated';

/** An architecture tincan builds filters for. */
export type ArchName = 'x86_64' | 'aarch64';

/** What the compiler needs to know about one architecture. */
export interface Arch {
  readonly name: ArchName;
  /** seccomp_data.arch for native calls (AUDIT_ARCH_*, linux/audit.h) */
  readonly auditArch: number;
  /** syscall numbers by name */
  readonly syscalls: Readonly<Record<string, number>>;
  /**
   * Numbers with this bit set belong to another ABI sharing the same
   * AUDIT_ARCH (x86_64's x32), so an arch check alone does not stop them.
   */
  readonly foreignBit?: number;
}

// AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
const AUDIT_64_LE = 0x80000000 | 0x40000000;

/** The architectures, by name. */
export const ARCHES: Readonly<Record<ArchName, Arch>> = {
  x86_64: {
    name: 'x86_64',
    auditArch: (AUDIT_64_LE | 62) >>> 0,
    syscalls: X86_64_SYSCALLS,
    foreignBit: 0x40000000,
  },
  aarch64: {
    name: 'aarch64',
    auditArch: (AUDIT_64_LE | 183) >>> 0,
    syscalls: AARCH64_SYSCALLS,
  },
};

/** AUDIT_ARCH_I386: 32-bit x86 calls made with `int 0x80` on x86_64. */
export const AUDIT_ARCH_I386 = (0x40000000 | 3) >>> 0;

/** x86_64's x32 ABI: its numbers carry this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

/** The architecture Node runs on. */
export function hostArch(): Arch {
  const name = archFromNode(process.arch);
  if (!name) {
    throw new Error(
      `seccomp: no syscall table for ${process.arch}; tincan knows x86_64 and aarch64`,
    );
  }
  return ARCHES[name];
}

/** Map Node's or Go's architecture names (x64, amd64, arm64) to ours. */
export function archFromNode(name: string): ArchName | undefined {
  switch (name) {
    case 'x64':
    case 'x86_64':
    case 'amd64':
      return 'x86_64';
    case 'arm64':
    case 'aarch64':
      return 'aarch64';
    default:
      return undefined;
  }
}

/** Whether some architecture tincan knows has a syscall called `name`. */
export function isKnownSyscall(name: string): boolean {
  return Object.values(ARCHES).some((a) => name in a.syscalls);
}

const reverse = new Map<ArchName, Map<number, string>>();

/** The name of syscall `nr` on `arch`, if it has one. */
export function syscallName(arch: Arch, nr: number): string | undefined {
  let names = reverse.get(arch.name);
  if (!names) {
    names = new Map(Object.entries(arch.syscalls).map(([n, v]) => [v, n]));
    reverse.set(arch.name, names);
  }
  return names.get(nr);
}

/** The highest syscall number in `arch`'s table. */
export function maxSyscall(arch: Arch): number {
  return Math.max(...Object.values(arch.syscalls));
}
