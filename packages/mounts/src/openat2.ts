// openat2(2) with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS: the kernel's
// own guarantee that the path resolveInRoot produced still holds when it
// is opened. Mounting onto /proc/self/fd/N of the fd it returns then
// mounts exactly what was checked, even if the tree changed in between.
// Kernels before 5.6 lack openat2; there a walk with O_NOFOLLOW gives the
// same answer one component at a time.

import { check, koffi, libc, q, SyscallError } from '@tincan/cli';
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
/** Open for writing only. */
export const O_WRONLY = 1;
/** Create the file when it is missing. */
export const O_CREAT = 0o100;
/** With O_CREAT: fail when it exists, and never follow a final symlink. */
export const O_EXCL = 0o200;

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

/** The names of the `resolve` bits, for errors and debug lines. */
export function resolveNames(resolve: number): string {
  return Object.entries(RESOLVE)
    .filter(([, bit]) => resolve & bit)
    .map(([name]) => name)
    .join('|');
}

/**
 * openat2(2), returning -errno instead of throwing: the init asks it
 * dozens of times, and a miss (ENOENT, ELOOP) is an answer, not a
 * failure. Nothing is formatted unless the caller needs it.
 */
export function tryOpenat2(
  dirfd: number,
  file: string,
  flags: number,
  resolve: number,
): number {
  // struct open_how { u64 flags, mode, resolve }: every bit tincan uses
  // sits in the low halves, and the high halves stay zero.
  openHow.writeUInt32LE(flags >>> 0, 0);
  openHow.writeUInt32LE(resolve >>> 0, 16);
  const fd = Number(
    syscallC(
      SYS_OPENAT2,
      'int',
      dirfd,
      'const char *',
      file,
      'void *',
      openHow,
      'size_t',
      openHow.length,
    ),
  );
  return fd === -1 ? -koffi.errno() : fd;
}

const openHow = Buffer.alloc(24);

/** openat2(2): `path` relative to `dirfd`, with `resolve` flags. */
export function openat2(
  dirfd: number,
  file: string,
  flags: number,
  resolve: number,
): number {
  const fd = tryOpenat2(dirfd, file, flags, resolve);
  if (fd >= 0) return fd;
  throw new SyscallError('openat2', -fd, [
    String(dirfd),
    q(file),
    resolveNames(resolve),
  ]);
}

/** openat(2). */
export function openat(dirfd: number, file: string, flags: number): number {
  return check('openat', [String(dirfd), q(file)], () =>
    Number(openatC(dirfd, file, flags)),
  );
}

/**
 * openat(2) with a mode for O_CREAT, returning -errno instead of
 * throwing, so that the caller can say what it was creating.
 */
export function tryOpenatMode(
  dirfd: number,
  file: string,
  flags: number,
  mode: number,
): number {
  const fd = Number(openatC(dirfd, file, flags, 'unsigned int', mode));
  return fd === -1 ? -koffi.errno() : fd;
}

const mkdiratC = libc.func(
  'int mkdirat(int dirfd, const char *path, unsigned int mode)',
);
const symlinkatC = libc.func(
  'int symlinkat(const char *target, int dirfd, const char *path)',
);

/** mkdirat(2): 0, or -errno. */
export function tryMkdirat(dirfd: number, name: string, mode: number): number {
  return Number(mkdiratC(dirfd, name, mode)) === -1 ? -koffi.errno() : 0;
}

/** symlinkat(2): 0, or -errno. */
export function trySymlinkat(
  link: string,
  dirfd: number,
  name: string,
): number {
  return Number(symlinkatC(link, dirfd, name)) === -1 ? -koffi.errno() : 0;
}

/** How every target inside the new root is opened. */
const BENEATH =
  RESOLVE.RESOLVE_BENEATH |
  RESOLVE.RESOLVE_NO_SYMLINKS |
  RESOLVE.RESOLVE_NO_MAGICLINKS;

/** `rel` without its leading slashes: openat2 takes it relative to a fd. */
function relative(rel: string): string {
  let start = 0;
  while (rel.charCodeAt(start) === 0x2f) start++;
  return start === rel.length ? '.' : rel.slice(start);
}

// #region open-beneath
/**
 * Open `rel` beneath `rootFd` as an O_PATH handle (`flags` may add
 * O_DIRECTORY), the kernel refusing any symlink on the way and any `..`
 * that leaves the root. Returns the fd, or -errno: ELOOP for a symlink,
 * ENOENT for a missing component. Undefined without openat2 (Linux < 5.6).
 */
export function tryOpenBeneath(
  rootFd: number,
  rel: string,
  flags = 0,
): number | undefined {
  if (!haveOpenat2) return undefined;
  const fd = tryOpenat2(
    rootFd,
    relative(rel),
    O_PATH | O_CLOEXEC | flags,
    BENEATH,
  );
  if (fd !== -ENOSYS) return fd;
  haveOpenat2 = false;
  return undefined;
}

/**
 * Open `rel` (an already resolved path inside the root, no symlinks on
 * it) beneath `rootFd` as an O_PATH handle. Any symlink met now, or any
 * `..` leaving the root, fails instead of being followed.
 */
export function openBeneath(rootFd: number, rel: string): number {
  const fd = tryOpenBeneath(rootFd, rel);
  if (fd === undefined) return walkNoFollow(rootFd, relative(rel));
  if (fd >= 0) return fd;
  throw new SyscallError('openat2', -fd, [
    String(rootFd),
    q(relative(rel)),
    resolveNames(BENEATH),
  ]);
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
