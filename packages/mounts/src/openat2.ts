// openat2(2) with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS: the kernel's
// own guarantee that the path resolveInRoot produced still holds when it
// is opened. Mounting onto /proc/self/fd/N of the fd it returns then
// mounts exactly what was checked, even if the tree changed in between.
// Kernels before 5.6 lack openat2; there a walk with O_NOFOLLOW gives the
// same answer one component at a time.

import { check, libc, q, SyscallError } from '@tincan/cli';
import { closeSync, fstatSync } from 'node:fs';
import { arch } from 'node:os';
import type { MountTarget } from './mount';

/** open(2) flags used here. */
export const O_RDONLY = 0;
/** A handle on a path, not an open file. */
export const O_PATH = 0o10000000;
/** Close on execve. */
export const O_CLOEXEC = 0o2000000;
/** Fail when the last component is a symlink. */
export const O_NOFOLLOW = 0o400000;
/** Fail unless a directory. */
export const O_DIRECTORY = 0o200000;

/** openat2(2) resolve flags. */
export const RESOLVE = {
  RESOLVE_NO_XDEV: 0x01,
  RESOLVE_NO_MAGICLINKS: 0x02,
  RESOLVE_NO_SYMLINKS: 0x04,
  RESOLVE_BENEATH: 0x08,
  RESOLVE_IN_ROOT: 0x10,
} as const;

const SYS_OPENAT2 = 437; // the same number on x86_64 and aarch64
const ENOSYS = 38;

const syscallC = libc.func('long syscall(long number, ...)');
const openatC = libc.func(
  'int openat(int dirfd, const char *path, int flags, ...)',
);

let haveOpenat2 = arch() === 'x64' || arch() === 'arm64';

/** openat2(2): `path` relative to `dirfd`, with `resolve` flags. */
export function openat2(
  dirfd: number,
  file: string,
  flags: number,
  resolve: number,
): number {
  const how = Buffer.alloc(24); // struct open_how { flags, mode, resolve }
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const names = Object.entries(RESOLVE)
    .filter(([, bit]) => resolve & bit)
    .map(([name]) => name)
    .join('|');
  return check('openat2', [String(dirfd), q(file), names], () =>
    Number(
      syscallC(
        SYS_OPENAT2,
        'int',
        dirfd,
        'const char *',
        file,
        'void *',
        how,
        'size_t',
        how.length,
      ),
    ),
  );
}

/** openat(2). */
export function openat(dirfd: number, file: string, flags: number): number {
  return check('openat', [String(dirfd), q(file)], () =>
    Number(openatC(dirfd, file, flags)),
  );
}

// #region open-beneath
/**
 * Open `rel` (an already resolved path inside the root, no symlinks on
 * it) beneath `rootFd` as an O_PATH handle. Any symlink met now, or any
 * `..` leaving the root, fails instead of being followed.
 */
export function openBeneath(rootFd: number, rel: string): number {
  const clean = rel.replace(/^\/+/, '') || '.';
  if (haveOpenat2) {
    try {
      return openat2(
        rootFd,
        clean,
        O_PATH | O_CLOEXEC,
        RESOLVE.RESOLVE_BENEATH |
          RESOLVE.RESOLVE_NO_SYMLINKS |
          RESOLVE.RESOLVE_NO_MAGICLINKS,
      );
    } catch (err) {
      if (!(err instanceof SyscallError) || err.errno !== ENOSYS) throw err;
      haveOpenat2 = false;
    }
  }
  return walkNoFollow(rootFd, clean);
}
// #endregion open-beneath

/** The pre-5.6 path: one openat per component, none of them a symlink. */
function walkNoFollow(rootFd: number, rel: string): number {
  let fd = openat(rootFd, '.', O_PATH | O_CLOEXEC);
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      closeSync(fd);
      throw new Error(`${rel}: ".." in a resolved path`);
    }
    let next: number;
    try {
      next = openat(fd, part, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    } finally {
      closeSync(fd);
    }
    if (fstatSync(next).isSymbolicLink()) {
      closeSync(next);
      throw new Error(`${rel}: ${part} is a symlink`);
    }
    fd = next;
  }
  return fd;
}

/** A mount target made from an O_PATH fd, shown as its container path. */
export function fdTarget(fd: number, shown: string): MountTarget {
  return { path: `/proc/self/fd/${fd}`, shown };
}
