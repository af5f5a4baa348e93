// What a filter should do, independent of BPF: a default action and rules
// that name syscalls, optionally with conditions on their arguments. The
// default policy and Docker profiles both become a Policy; the compiler
// turns a Policy into a program for one architecture.

import { SECCOMP_RET } from './bpf';

// #region policy
/** What the kernel does with a matching syscall. */
export type Action =
  | { kind: 'ALLOW' }
  | { kind: 'ERRNO'; errno: number }
  | { kind: 'KILL_PROCESS' }
  | { kind: 'KILL_THREAD' }
  | { kind: 'TRAP' }
  | { kind: 'LOG' };

/** How an argument is compared (libseccomp's SCMP_CMP_* without the prefix). */
export type CompareOp = 'EQ' | 'NE' | 'LT' | 'LE' | 'GT' | 'GE' | 'MASKED_EQ';

/** One condition on one argument; all of a rule's conditions must hold. */
export interface ArgCondition {
  /** which argument, 0-5 */
  index: number;
  op: CompareOp;
  /** compared as an unsigned 64-bit number */
  value: bigint;
  /** for MASKED_EQ: the argument is ANDed with this first */
  mask?: bigint;
}

/** A rule: these syscalls, when every condition holds, get this action. */
export interface Rule {
  syscalls: string[];
  action: Action;
  conditions?: ArgCondition[];
}

/** A whole filter, architecture-neutral. */
export interface Policy {
  /** what happens to a syscall no rule matches */
  defaultAction: Action;
  /**
   * Rules in order. For one syscall, rules with conditions are tried first
   * in the order given, then the rule without conditions; the first that
   * matches decides.
   */
  rules: Rule[];
}
// #endregion policy

/** Shorthands for building policies. */
export const ALLOW: Action = { kind: 'ALLOW' };
/** ERRNO(n): the syscall fails with errno n and is never run. */
export const ERRNO = (errno: number): Action => ({ kind: 'ERRNO', errno });
/** Kill the whole process (SIGSYS, no handler runs). */
export const KILL_PROCESS: Action = { kind: 'KILL_PROCESS' };

/** The SECCOMP_RET_* value a filter returns for `action`. */
export function actionValue(action: Action): number {
  switch (action.kind) {
    case 'ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'ERRNO':
      return (SECCOMP_RET.ERRNO | (action.errno & SECCOMP_RET.DATA)) >>> 0;
    case 'KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'TRAP':
      return SECCOMP_RET.TRAP;
    case 'LOG':
      return SECCOMP_RET.LOG;
  }
}

/** The action a SECCOMP_RET_* value stands for, as text (`ERRNO(1)`). */
export function describeRet(ret: number): string {
  const action = (ret & SECCOMP_RET.ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET.DATA;
  for (const [name, value] of Object.entries(SECCOMP_RET)) {
    if (name === 'ACTION_FULL' || name === 'DATA') continue;
    if (value !== action) continue;
    return name === 'ERRNO' || name === 'TRACE' ? `${name}(${data})` : name;
  }
  return `0x${(ret >>> 0).toString(16)}`;
}

/** An action as text, e.g. `ERRNO(1)`. */
export function describeAction(action: Action): string {
  return action.kind === 'ERRNO' ? `ERRNO(${action.errno})` : action.kind;
}

/** Whether two actions are the same verdict. */
export function sameAction(a: Action, b: Action): boolean {
  return actionValue(a) === actionValue(b);
}

// #region narrow-args
/**
 * Parameters the kernel declares narrower than 64 bits. The kernel drops
 * their upper half, so a filter that compared all 64 bits could be fooled
 * by a caller who sets high bits: ioctl(fd, TIOCSTI | 1 << 32) still
 * pushes a character, yet it is not equal to TIOCSTI. These are compared
 * on their low 32 bits only.
 */
export const NARROW_ARGS: Readonly<Record<string, readonly number[]>> = {
  ioctl: [1], // unsigned int cmd
  chmod: [1], // umode_t mode
  fchmod: [1],
  fchmodat: [2],
  fchmodat2: [2],
  clone: [0], // the kernel keeps lower_32_bits(clone_flags)
  unshare: [0], // int in userspace; every flag is in the low half
  socket: [0, 1, 2], // int family, type, protocol
  personality: [0], // unsigned int
};
// #endregion narrow-args

/** Whether argument `index` of `syscall` is compared on its low half. */
export function isNarrowArg(syscall: string, index: number): boolean {
  return NARROW_ARGS[syscall]?.includes(index) ?? false;
}
