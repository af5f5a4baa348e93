// The init's side of step 3, in the `filesystem` phase: a private mount
// tree, the new root assembled in the parent's temp dir, every mount of
// the plan made on a target resolved inside that root, then pivot_root
// and the old root detached.

import {
  configSection,
  errnoName,
  flagNames,
  q,
  SyscallError,
  withContext,
  type InitContext,
  type InitLayer,
  type Logger,
} from '@tincan/cli';
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  describeStep,
  mountPlan,
  type MountsSettings,
  type MountStep,
} from './mount-plan';
import {
  formatMount,
  mount,
  mountFlagsOf,
  MOUNT_ATTR,
  mountSetattrRecursive,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  shownPath,
  type MountTarget,
} from './mount';
import {
  fdTarget,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_PATH,
  O_WRONLY,
  openat,
  openBeneath,
  tryOpenatMode,
  tryOpenBeneath,
} from './openat2';
import { AT_REMOVEDIR, switchRoot, unlinkat } from './pivot-root';
import { resolveInRoot, type FsView } from './resolve';

const settings = configSection<MountsSettings>('mounts');

const AT_FDCWD = -100;
const ENOENT = 2;
const RO_NOSUID_NODEV = MS_RDONLY | MS_NOSUID | MS_NODEV;

/** The host's filesystem, as resolveInRoot sees it. */
export const hostFs: FsView = {
  lstat(file) {
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) return 'symlink';
    return st.isDirectory() ? 'dir' : 'file';
  },
  readlink: (file) => readlinkSync(file),
};

/** The new root being assembled: its host path and an O_PATH fd on it. */
interface NewRoot {
  dir: string;
  fd: number;
  log: Logger;
  /** the first masked directory and file: later masks bind them */
  maskedDir?: string;
  maskedFile?: string;
}

/** Something inside the new root, opened. */
interface Opened {
  /** a file descriptor on it, the mount target (`/proc/self/fd/N`) */
  fd: number;
  /** its path inside the root, with no symlink on the way */
  path: string;
  kind: 'dir' | 'file';
}

// #region setup-root
/** Build the container's root and switch to it. */
export function setupRoot(ctx: InitContext): void {
  const s = settings.get(ctx.config);
  const log = ctx.log;
  const dir = s.staging;

  // Nothing mounted from here on may propagate back to the host.
  doMount(log, null, '/', null, MS_REC | MS_PRIVATE);

  if (s.rootfs !== undefined) {
    doMount(log, s.rootfs, dir, null, MS_BIND | MS_REC);
  } else {
    doMount(log, 'tmpfs', dir, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=755');
  }

  // Modes in the plan are exact (/tmp is 1777); the command gets the
  // umask back.
  const umask = process.umask(0);
  const fd = openat(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  try {
    const root: NewRoot = { dir, fd, log };
    for (const step of mountPlan(s)) {
      try {
        runStep(root, step);
      } catch (err) {
        // Described only when it fails: the plan has dozens of steps.
        withContext(describeStep(step), () => {
          throw err;
        });
      }
    }
  } finally {
    closeSync(fd);
    process.umask(umask);
  }

  // The temp dir's parent, kept open across the pivot: once the old root
  // is detached, the temp dir is no mount point anywhere and can go at
  // once, so that even a SIGKILLed tincan leaves nothing on the host.
  const tmp = openat(AT_FDCWD, path.dirname(dir), O_PATH | O_CLOEXEC);
  try {
    switchRoot(dir);
    debug(
      log,
      () => `pivot_root(".", "."), umount2(".", MNT_DETACH) in ${dir}`,
    );

    removeStaging(log, tmp, path.basename(dir));
  } finally {
    closeSync(tmp);
  }

  // Only the root mount: /proc, /dev and /tmp stay writable below it.
  if (s.readOnly) {
    const rootFd = openat(AT_FDCWD, '/', O_PATH | O_CLOEXEC);
    try {
      setFlags(log, rootFd, '/', MS_RDONLY, false);
    } finally {
      closeSync(rootFd);
    }
  }
}
// #endregion setup-root

function removeStaging(log: Logger, dirfd: number, name: string): void {
  try {
    unlinkat(dirfd, name, AT_REMOVEDIR);
    debug(log, () => `unlinkat(${q(path.join('/tmp', name))}, AT_REMOVEDIR)`);
  } catch (err) {
    // The parent removes it at the end in any case.
    debug(log, () => `${(err as Error).message}: left to the parent`);
  }
}

/** Step 3's part of the init. */
export const initLayer: InitLayer = {
  name: 'mounts',
  phases: {
    filesystem: (ctx) => withContext('mounts', () => setupRoot(ctx)),
  },
};

/**
 * A debug line, built only with --debug: the filesystem phase makes dozens
 * of calls, and formatting each one costs more than the call itself.
 */
function debug(log: Logger, line: () => string): void {
  if (log.enabled) log.debug(line());
}

function doMount(
  log: Logger,
  source: string | MountTarget | null,
  target: string | MountTarget,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  mount(source, target, fstype, flags, data);
  debug(log, () => {
    const from = source === null ? null : shownPath(source);
    const args = formatMount(from, shownPath(target), fstype, flags, data);
    return `mount(${args.join(', ')})`;
  });
}

// #region run-step
function runStep(root: NewRoot, step: MountStep): void {
  switch (step.op) {
    case 'mkdir':
      closeSync(ensure(root, step.path, 'dir', step.mode).fd);
      return;
    case 'symlink': {
      const parent = openParent(root, step.path);
      const file = inside(parent, step.path);
      try {
        symlinkSync(step.link, `/proc/self/fd/${parent.fd}/${baseName(file)}`);
      } finally {
        closeSync(parent.fd);
      }
      debug(
        root.log,
        () => `symlink(${q(step.link)}, ${q(hostPath(root, file))})`,
      );
      return;
    }
    case 'write': {
      // O_EXCL: a new file, never a symlink followed at the end.
      const fd = create(
        root,
        step.path,
        O_WRONLY | O_CREAT | O_EXCL,
        step.mode,
      );
      try {
        writeSync(fd.fd, step.content);
      } finally {
        closeSync(fd.fd);
      }
      debug(root.log, () => `write ${hostPath(root, fd.path)}`);
      return;
    }
    case 'mount': {
      const target = ensure(root, step.target, 'dir', 0o755);
      try {
        doMount(
          root.log,
          step.source,
          fdTarget(target.fd, hostPath(root, target.path)),
          step.fstype,
          step.flags,
          step.data ?? null,
        );
      } catch (err) {
        if (step.fallbackBind === undefined) throw err;
        // sysfs needs a network namespace owned by the container's user
        // namespace; without one, show the host's /sys, read-only.
        root.log.warn(
          `${step.fstype} could not be mounted (${(err as Error).message}): binding the host's ${step.fallbackBind} read-only instead`,
        );
        bind(
          root,
          step.fallbackBind,
          target,
          true,
          RO_NOSUID_NODEV | MS_NOEXEC,
        );
      } finally {
        closeSync(target.fd);
      }
      return;
    }
    case 'bind': {
      const mode = step.create === 'dir' ? 0o755 : 0o644;
      const target = ensure(root, step.target, step.create, mode);
      try {
        bind(root, step.source, target, step.recursive, step.flags);
      } finally {
        closeSync(target.fd);
      }
      return;
    }
    case 'mask':
      mask(root, step.target);
      return;
    case 'read-only': {
      const found = lookup(root, step.target);
      if (found === undefined) {
        debug(root.log, () => `read-only ${step.target}: missing, skipped`);
        return;
      }
      try {
        // The source is the fd too: exactly what was checked.
        const self = fdTarget(found.fd, hostPath(root, found.path));
        bind(root, self, found, true, MS_RDONLY);
      } finally {
        closeSync(found.fd);
      }
      return;
    }
  }
}
// #endregion run-step

// #region mask
/**
 * Hide `target`: an empty read-only tmpfs over a directory, the new
 * /dev/null (read-only) over a file. Paths the kernel does not have are
 * skipped. The first mask of each kind is made once; later ones bind it,
 * which copies its flags (read-only included) and makes no new tmpfs.
 */
function mask(root: NewRoot, target: string): void {
  const found = lookup(root, target);
  if (found === undefined) {
    debug(root.log, () => `mask ${target}: missing, skipped`);
    return;
  }
  try {
    const at = fdTarget(found.fd, hostPath(root, found.path));
    if (found.kind === 'dir') {
      if (root.maskedDir !== undefined) {
        doMount(root.log, hostPath(root, root.maskedDir), at, null, MS_BIND);
        return;
      }
      doMount(
        root.log,
        'tmpfs',
        at,
        'tmpfs',
        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
        'mode=0555,size=4k',
      );
      root.maskedDir = found.path;
      return;
    }
    if (root.maskedFile !== undefined) {
      doMount(root.log, hostPath(root, root.maskedFile), at, null, MS_BIND);
      return;
    }
    const devNull = hostPath(root, '/dev/null');
    bind(root, devNull, found, false, MS_RDONLY | MS_NOSUID | MS_NOEXEC);
    root.maskedFile = found.path;
  } finally {
    closeSync(found.fd);
  }
}
// #endregion mask

/**
 * Bind `source` onto the opened `target`, then add `flags` to the new
 * mount, which a fresh open of the target reaches (the fd still names the
 * directory underneath).
 */
function bind(
  root: NewRoot,
  source: string | MountTarget,
  target: Opened,
  recursive: boolean,
  flags: number,
): void {
  const shown = hostPath(root, target.path);
  const at = fdTarget(target.fd, shown);
  doMount(root.log, source, at, null, MS_BIND | (recursive ? MS_REC : 0));
  if (flags === 0) return;
  const top = openBeneath(root.fd, target.path);
  try {
    setFlags(root.log, top, shown, flags, recursive);
  } finally {
    closeSync(top);
  }
}

// #region set-flags
/**
 * Add `flags` to the mount `fd` is on (and, when `recursive`, to every
 * mount below it). A bind ignores most flags, so they come afterwards.
 * mount_setattr(2) reaches submounts, which a remount never does: without
 * it, `-a /srv:/srv:ro` would leave anything mounted under /srv writable.
 */
function setFlags(
  log: Logger,
  fd: number,
  shown: string,
  flags: number,
  recursive: boolean,
): void {
  if (recursive && haveMountSetattr) {
    try {
      mountSetattrRecursive(fd, shown, flags);
      debug(
        log,
        () =>
          `mount_setattr(${q(shown)}, AT_RECURSIVE, ${flagNames(flags & 0xf, MOUNT_ATTR)})`,
      );
      return;
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'ENOSYS') throw err;
      haveMountSetattr = false;
      log.warn(
        'mount_setattr is missing (Linux < 5.12): read-only binds cover their top mount only',
      );
    }
  }
  // Inside a user namespace, a remount that would clear a flag the
  // kernel locked (one the host set) fails with EPERM: repeat them.
  const locked = mountFlagsOf(fd, shown);
  const target = fdTarget(fd, shown);
  doMount(log, null, target, null, MS_BIND | MS_REMOUNT | locked | flags);
}
// #endregion set-flags

let haveMountSetattr = true;

/**
 * Open `target` inside the root (an O_DIRECTORY open when `kind` is
 * 'dir'), or undefined when it does not exist. One openat2 call when the
 * path holds no symlink, which is every path of the default root and
 * nearly every path of an image: RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS makes
 * the kernel check what resolveInRoot would. When it refuses (a symlink
 * on the way, or no openat2), resolveInRoot walks the path the way the
 * container will see it, and explains what it finds wrong.
 */
function lookup(
  root: NewRoot,
  target: string,
  kind?: 'dir',
): Opened | undefined {
  const fd = tryOpenBeneath(root.fd, target, kind ? O_DIRECTORY : 0);
  if (fd !== undefined && fd >= 0) {
    const isDir = kind === 'dir' || fstatSync(fd).isDirectory();
    return { fd, path: target, kind: isDir ? 'dir' : 'file' };
  }
  if (fd === -ENOENT) return undefined;
  const found = resolveInRoot(root.dir, target, hostFs);
  if (found.kind === undefined) return undefined;
  return {
    fd: openBeneath(root.fd, found.path),
    path: found.path,
    kind: found.kind,
  };
}

/**
 * `target` inside the root, opened; created as a `kind` when missing, in
 * its parent directory and never through a symlink.
 */
function ensure(
  root: NewRoot,
  target: string,
  kind: 'dir' | 'file',
  mode: number,
): Opened {
  const found = lookup(root, target, kind === 'dir' ? 'dir' : undefined);
  if (found?.kind === kind) return found;
  if (found !== undefined) {
    closeSync(found.fd);
    throw new Error(
      `${found.path}: exists and is not a ${kind === 'dir' ? 'directory' : 'file'}`,
    );
  }
  if (kind === 'file') {
    const made = create(root, target, O_WRONLY | O_CREAT | O_EXCL, mode);
    debug(
      root.log,
      () => `create ${hostPath(root, made.path)} ${mode.toString(8)}`,
    );
    return made;
  }

  const parent = openParent(root, target);
  const made = inside(parent, target);
  try {
    mkdirSync(`/proc/self/fd/${parent.fd}/${baseName(made)}`, { mode });
  } catch (err) {
    closeSync(parent.fd);
    throw createError(root, made, (err as NodeJS.ErrnoException).code, err);
  }
  try {
    debug(root.log, () => `mkdir ${hostPath(root, made)} ${mode.toString(8)}`);
    return { fd: openBeneath(parent.fd, baseName(made)), path: made, kind };
  } finally {
    closeSync(parent.fd);
  }
}

/** Create the file `target` inside the root with openat(`flags`). */
function create(
  root: NewRoot,
  target: string,
  flags: number,
  mode: number,
): Opened {
  const parent = openParent(root, target);
  const made = inside(parent, target);
  let fd: number;
  try {
    fd = tryOpenatMode(parent.fd, baseName(made), flags | O_CLOEXEC, mode);
  } finally {
    closeSync(parent.fd);
  }
  if (fd < 0) throw createError(root, made, errnoName(-fd));
  return { fd, path: made, kind: 'file' };
}

function createError(
  root: NewRoot,
  made: string,
  code = 'failed',
  cause?: unknown,
): Error {
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? ` (the container's root may not write in this root filesystem: create ${made} in it first)`
      : '';
  return new Error(`create ${hostPath(root, made)}: ${code}${hint}`, {
    cause,
  });
}

/** The directory that holds `target`, opened; symlinks to it followed. */
function openParent(root: NewRoot, target: string): Opened {
  const dir = path.posix.dirname(target);
  const fd = tryOpenBeneath(root.fd, dir, O_DIRECTORY);
  if (fd !== undefined && fd >= 0) return { fd, path: dir, kind: 'dir' };
  const parent =
    fd === -ENOENT ? undefined : resolveInRoot(root.dir, dir, hostFs, true);
  if (parent?.kind !== 'dir') {
    throw new Error(`${dir}: no such directory in the root`);
  }
  return {
    fd: openBeneath(root.fd, parent.path),
    path: parent.path,
    kind: 'dir',
  };
}

/** The path of `target`'s last component inside its opened parent. */
function inside(parent: Opened, target: string): string {
  return path.posix.join(parent.path, baseName(target));
}

function baseName(file: string): string {
  return path.posix.basename(file);
}

function hostPath(root: NewRoot, inside: string): string {
  return path.join(root.dir, inside);
}
