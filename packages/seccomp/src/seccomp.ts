// The seccomp(2) binding. glibc has no wrapper for it, so it goes through
// syscall(2) with the number from this architecture's table.

import {
  check,
  flagNames,
  free,
  koffi,
  libc,
  malloc,
  pokeBytes,
  pokePointer,
  PR,
  prctl,
} from '@tincan/cli';
import { encodeProgram, type Insn } from './bpf';
import { hostArch } from './syscalls';

const syscallC = libc.func('long syscall(long number, ...)');

/** seccomp(2) operations and flags (linux/seccomp.h). */
export const SECCOMP_SET_MODE_FILTER = 1;
/** Install the filter on every thread of the process, or fail. */
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
/** Log every action but ALLOW. */
export const SECCOMP_FILTER_FLAG_LOG = 2;

const FILTER_FLAGS = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
};

// #region seccomp-set-mode-filter
/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog): install `program` on
 * the calling thread (every thread, with TSYNC). With TSYNC the kernel
 * answers a positive thread id when that thread could not take the
 * filter: nothing was installed then, and that is an error too.
 */
export function seccompSetModeFilter(
  program: readonly Insn[],
  flags: number,
): void {
  const bytes = encodeProgram(program);
  const filter = malloc(bytes.length);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = malloc(16);
  try {
    pokeBytes(filter, 0, bytes);
    koffi.encode(fprog, 0, 'uint16_t', program.length);
    pokePointer(fprog, 8, filter);
    const args = [
      'SECCOMP_SET_MODE_FILTER',
      flagNames(flags, FILTER_FLAGS),
      `{len=${program.length}}`,
    ];
    const nr = hostArch().syscalls.seccomp;
    const ret = check('seccomp', args, () =>
      Number(
        syscallC(
          nr,
          'unsigned int',
          SECCOMP_SET_MODE_FILTER,
          'unsigned int',
          flags,
          'void *',
          fprog,
        ),
      ),
    );
    if (ret !== 0) {
      throw new Error(
        `seccomp(${args.join(', ')}) = ${ret}: thread ${ret} could not be synchronized`,
      );
    }
  } finally {
    free(fprog);
    free(filter);
  }
}
// #endregion seccomp-set-mode-filter

/** prctl(PR_GET_NO_NEW_PRIVS). */
export function getNoNewPrivs(): boolean {
  return prctl('PR_GET_NO_NEW_PRIVS', PR.GET_NO_NEW_PRIVS) === 1;
}

/** prctl(PR_SET_NO_NEW_PRIVS, 1). */
export function setNoNewPrivs(): void {
  prctl('PR_SET_NO_NEW_PRIVS', PR.SET_NO_NEW_PRIVS, 1);
}
