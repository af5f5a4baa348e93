// mount(2), umount2(2) and statfs(2): the calls every other file of this
// step is built from. Flags are named in every error and debug line.

import { check, flagNames, koffi, libc, q, SyscallError } from '@tincan/cli';

/** mount(2) flags tincan uses, named as in <sys/mount.h>. */
export const MS: Readonly<Record<string, number>> = {
  MS_RDONLY: 0x1,
  MS_NOSUID: 0x2,
  MS_NODEV: 0x4,
  MS_NOEXEC: 0x8,
  MS_SYNCHRONOUS: 0x10,
  MS_REMOUNT: 0x20,
  MS_MANDLOCK: 0x40,
  MS_NOSYMFOLLOW: 0x100,
  MS_NOATIME: 0x400,
  MS_NODIRATIME: 0x800,
  MS_BIND: 0x1000,
  MS_MOVE: 0x2000,
  MS_REC: 0x4000,
  MS_PRIVATE: 0x40000,
  MS_SLAVE: 0x80000,
  MS_RELATIME: 0x200000,
  MS_STRICTATIME: 0x1000000,
};

/** The flags as plain constants, for code (MS above is for naming). */
export const MS_RDONLY = 0x1;
/** Ignore set-user-id and set-group-id bits. */
export const MS_NOSUID = 0x2;
/** Refuse device files. */
export const MS_NODEV = 0x4;
/** Refuse to execute programs. */
export const MS_NOEXEC = 0x8;
/** Change the flags of an existing mount. */
export const MS_REMOUNT = 0x20;
/** Make a bind mount. */
export const MS_BIND = 0x1000;
/** Apply to the whole subtree. */
export const MS_REC = 0x4000;
/** No propagation in or out. */
export const MS_PRIVATE = 0x40000;

/** umount2(2) flag: detach now, clean up when no longer busy. */
export const MNT_DETACH = 2;

/** The name of a flag set, e.g. `MS_BIND|MS_REC`, or `0`. */
export function msNames(flags: number): string {
  return flags === 0 ? '0' : flagNames(flags, MS);
}

const mountC = libc.func(
  'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
);
const umount2C = libc.func('int umount2(const char *target, int flags)');

/**
 * How a target is shown in errors and debug lines: the path inside the
 * container when the call goes through an fd, else the path itself.
 */
export interface MountTarget {
  /** the path the kernel is given, e.g. `/proc/self/fd/12` */
  path: string;
  /** what a human should read, e.g. `/tmp/tincan-x/proc` */
  shown: string;
}

/** The arguments of a mount call, as they are shown. */
export function formatMount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null,
): string[] {
  const args = [
    source === null ? 'NULL' : q(source),
    q(target),
    fstype === null ? 'NULL' : q(fstype),
    msNames(flags),
  ];
  if (data !== null) args.push(q(data));
  return args;
}

// #region mount
/**
 * mount(2). `source` and `target` may be fd paths (`/proc/self/fd/N`),
 * shown as the path they stand for.
 */
export function mount(
  source: string | MountTarget | null,
  target: string | MountTarget,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const from = typeof source === 'string' ? source : (source?.path ?? null);
  const to = typeof target === 'string' ? target : target.path;
  if (Number(mountC(from, to, fstype, flags, data)) === -1) {
    // errno first: the arguments are formatted only for the error.
    throw new SyscallError(
      'mount',
      koffi.errno(),
      formatMount(
        source === null ? null : shownPath(source),
        shownPath(target),
        fstype,
        flags,
        data,
      ),
    );
  }
}
// #endregion mount

/** How a mount argument is shown: the path it stands for. */
export function shownPath(arg: string | MountTarget): string {
  return typeof arg === 'string' ? arg : arg.shown;
}

/** umount2(2). */
export function umount2(target: string, flags: number): void {
  check(
    'umount2',
    [q(target), flags === MNT_DETACH ? 'MNT_DETACH' : String(flags)],
    () => Number(umount2C(target, flags)),
  );
}

// Anonymous: a named koffi type may be declared once per process, and
// test runners load this module more than once.
const StatfsT = koffi.struct({
  f_type: 'long',
  f_bsize: 'long',
  f_blocks: 'uint64_t',
  f_bfree: 'uint64_t',
  f_bavail: 'uint64_t',
  f_files: 'uint64_t',
  f_ffree: 'uint64_t',
  f_fsid: koffi.array('int', 2),
  f_namelen: 'long',
  f_frsize: 'long',
  f_flags: 'long',
  f_spare: koffi.array('long', 4),
});
const fstatfsC = libc.func('fstatfs', 'int', [
  'int',
  koffi.out(koffi.pointer(StatfsT)),
]);

// statfs(2) reports per-mount flags as ST_* bits; most equal their MS_*
// twins, relatime and nosymfollow do not.
const ST_TO_MS: readonly [number, number][] = [
  [0x1, 0x1],
  [0x2, 0x2],
  [0x4, 0x4],
  [0x8, 0x8],
  [0x10, 0x10],
  [0x40, 0x40],
  [0x400, 0x400],
  [0x800, 0x800],
  [0x1000, 0x200000],
  [0x2000, 0x100],
];

/**
 * The MS_* flags of the mount `fd` lives on. A remount inside a user
 * namespace must repeat the flags the kernel locked when the mount came
 * from the host (nosuid, nodev, noexec, atime), or it fails with EPERM.
 */
export function mountFlagsOf(fd: number, shown: string): number {
  const buf: { f_flags: number } = { f_flags: 0 };
  check('fstatfs', [q(shown)], () => Number(fstatfsC(fd, buf)));
  let flags = 0;
  for (const [st, ms] of ST_TO_MS) if (Number(buf.f_flags) & st) flags |= ms;
  return flags;
}

/** mount_setattr(2) attributes; the low four equal their MS_* twins. */
export const MOUNT_ATTR: Readonly<Record<string, number>> = {
  MOUNT_ATTR_RDONLY: 0x1,
  MOUNT_ATTR_NOSUID: 0x2,
  MOUNT_ATTR_NODEV: 0x4,
  MOUNT_ATTR_NOEXEC: 0x8,
};

const SYS_MOUNT_SETATTR = 442; // the same number on x86_64 and aarch64
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const syscallC = libc.func('long syscall(long number, ...)');

/**
 * mount_setattr(2) on the mount `fd` refers to, and with `recursive` on
 * every mount below it: sets `flags` (MS_RDONLY, MS_NOSUID, MS_NODEV,
 * MS_NOEXEC) and clears nothing, so the flags the kernel locked stay as
 * they are. Linux 5.12.
 */
export function mountSetattr(
  fd: number,
  shown: string,
  flags: number,
  recursive: boolean,
): void {
  const attr = Buffer.alloc(32); // struct mount_attr
  attr.writeBigUInt64LE(BigInt(flags & 0xf), 0);
  const ret = Number(
    syscallC(
      SYS_MOUNT_SETATTR,
      'int',
      fd,
      'const char *',
      '',
      'unsigned int',
      AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
      'void *',
      attr,
      'size_t',
      attr.length,
    ),
  );
  if (ret === -1) {
    throw new SyscallError('mount_setattr', koffi.errno(), [
      q(shown),
      recursive ? 'AT_EMPTY_PATH|AT_RECURSIVE' : 'AT_EMPTY_PATH',
      `{attr_set=${flagNames(flags & 0xf, MOUNT_ATTR)}}`,
    ]);
  }
}
