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
  readlinkSync,
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
  mountSetattr,
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
  tryMkdirat,
  tryOpenatMode,
  tryOpenBeneath,
  trySymlinkat,
} from './openat2';
import { AT_REMOVEDIR, switchRoot, unlinkat } from './pivot-root';
import { covers, resolveInRoot, type FsView } from './resolve';

const settings = configSection<MountsSettings>('mounts');

const AT_FDCWD = -100;
const ENOENT = 2;
const EEXIST = 17;
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
  /**
   * Directories opened to create things in, by their path inside the
   * root (no symlinks on it), kept for the next step: /etc gets six files
   * and /dev a dozen entries. A mount on one, or above it, covers what
   * its fd refers to, so mountOn forgets those.
   */
  dirs: Map<string, number>;
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
  const root: NewRoot = { dir, fd, log, dirs: new Map() };
  try {
    // A root filesystem is a directory of the host's, bound with the host
    // filesystem's superblock: a device node in it would open the host's
    // device (say, the host's disk) from inside. Nothing in it may be one;
    // the container's /dev is a tmpfs of its own, mounted on top later.
    if (s.rootfs !== undefined) setFlags(log, fd, dir, MS_NODEV, true);
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
    for (const dirFd of root.dirs.values()) closeSync(dirFd);
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
      makeDir(root, step.path, step.mode);
      return;
    case 'symlink': {
      const parent = openParent(root, step.path);
      const made = inside(parent, step.path);
      const err = trySymlinkat(step.link, parent.fd, baseName(made));
      if (err < 0) {
        throw new SyscallError('symlinkat', -err, [
          q(step.link),
          q(hostPath(root, made)),
        ]);
      }
      debug(
        root.log,
        () => `symlink(${q(step.link)}, ${q(hostPath(root, made))})`,
      );
      return;
    }
    case 'write': {
      // O_EXCL: a new file, never a symlink followed at the end.
      const file = create(
        root,
        step.path,
        O_WRONLY | O_CREAT | O_EXCL,
        step.mode,
      );
      try {
        writeSync(file.fd, step.content);
      } finally {
        closeSync(file.fd);
      }
      debug(root.log, () => `write ${hostPath(root, file.path)}`);
      return;
    }
    case 'mount': {
      const target = ensure(root, step.target, 'dir', 0o755);
      try {
        mountOn(root, step.source, target, step.fstype, step.flags, step.data);
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
    if (found.kind === 'dir') {
      if (root.maskedDir !== undefined) {
        const first = root.maskedDir;
        fromRoot(root, first, (src) =>
          mountOn(root, src, found, null, MS_BIND),
        );
        return;
      }
      const flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
      mountOn(root, 'tmpfs', found, 'tmpfs', flags, 'mode=0555,size=4k');
      root.maskedDir = found.path;
      return;
    }
    if (root.maskedFile !== undefined) {
      const first = root.maskedFile;
      fromRoot(root, first, (src) => mountOn(root, src, found, null, MS_BIND));
      return;
    }
    fromRoot(root, '/dev/null', (src) =>
      bind(root, src, found, false, MS_RDONLY | MS_NOSUID | MS_NOEXEC),
    );
    root.maskedFile = found.path;
  } finally {
    closeSync(found.fd);
  }
}
// #endregion mask

/**
 * Run `use` with `source`, a path inside the new root, as a bind source
 * opened beneath the root (never through a symlink): by host path, the
 * kernel would resolve it from the host's root, where a rootfs changed
 * meanwhile could point it anywhere.
 */
function fromRoot(
  root: NewRoot,
  source: string,
  use: (src: MountTarget) => void,
): void {
  const fd = openBeneath(root.fd, source);
  try {
    use(fdTarget(fd, hostPath(root, source)));
  } finally {
    closeSync(fd);
  }
}

/**
 * Mount onto the opened `target`, and forget the directory fds the new
 * mount covers: the target's own, and any below it.
 */
function mountOn(
  root: NewRoot,
  source: string | MountTarget,
  target: Opened,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const at = fdTarget(target.fd, hostPath(root, target.path));
  doMount(root.log, source, at, fstype, flags, data);
  for (const [dir, fd] of root.dirs) {
    if (covers(target.path, dir)) {
      closeSync(fd);
      root.dirs.delete(dir);
    }
  }
}

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
  mountOn(root, source, target, null, MS_BIND | (recursive ? MS_REC : 0));
  if (flags === 0) return;
  const top = openBeneath(root.fd, target.path);
  try {
    setFlags(root.log, top, hostPath(root, target.path), flags, recursive);
  } finally {
    closeSync(top);
  }
}

// #region set-flags
/**
 * Add `flags` to the mount `fd` is on (and, when `recursive`, to every
 * mount below it). A bind ignores most flags, so they come afterwards.
 * mount_setattr(2) only sets flags, and with AT_RECURSIVE it reaches
 * submounts, which a remount never does: without it, `-a /srv:/srv:ro`
 * would leave anything mounted under /srv writable.
 */
function setFlags(
  log: Logger,
  fd: number,
  shown: string,
  flags: number,
  recursive: boolean,
): void {
  if (haveMountSetattr) {
    try {
      mountSetattr(fd, shown, flags, recursive);
      debug(log, () => {
        const how = recursive ? ', AT_RECURSIVE' : '';
        return `mount_setattr(${q(shown)}${how}, ${flagNames(flags & 0xf, MOUNT_ATTR)})`;
      });
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
 * container will see it, and explains what it finds wrong. `followLast`
 * lets the last component be a symlink, for a directory to create in.
 */
function lookup(
  root: NewRoot,
  target: string,
  kind?: 'dir',
  followLast = false,
): Opened | undefined {
  const fd = tryOpenBeneath(root.fd, target, kind ? O_DIRECTORY : 0);
  if (fd !== undefined && fd >= 0) {
    const isDir = kind === 'dir' || fstatSync(fd).isDirectory();
    return { fd, path: target, kind: isDir ? 'dir' : 'file' };
  }
  if (fd === -ENOENT) return undefined;
  const found = resolveInRoot(root.dir, target, hostFs, followLast);
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
  // What was made is opened again from the root, like any mount target:
  // had its directory been moved meanwhile, the open fails.
  if (kind === 'dir') {
    const made = makeDir(root, target, mode);
    return { fd: openBeneath(root.fd, made), path: made, kind };
  }
  const made = create(root, target, O_WRONLY | O_CREAT | O_EXCL, mode);
  closeSync(made.fd);
  debug(
    root.log,
    () => `create ${hostPath(root, made.path)} ${mode.toString(8)}`,
  );
  return { fd: openBeneath(root.fd, made.path), path: made.path, kind };
}

/**
 * mkdir `target` inside the root, in its parent directory; nothing
 * happens when it is a directory already.
 */
/**
 * mkdir `target` in its parent inside the root (mkdirat never follows a
 * symlink at the end); nothing happens when it is a directory already.
 * Returns where it is.
 */
function makeDir(root: NewRoot, target: string, mode: number): string {
  const parent = openParent(root, target);
  const name = baseName(target);
  const made = inside(parent, target);
  const err = tryMkdirat(parent.fd, name, mode);
  if (err === -EEXIST) {
    const found = lookup(root, made, 'dir');
    if (found !== undefined) closeSync(found.fd);
    if (found?.kind !== 'dir')
      throw new Error(`${made}: exists and is not a directory`);
    return made;
  }
  if (err < 0) throw createError(root, made, errnoName(-err));
  debug(root.log, () => `mkdir ${hostPath(root, made)} ${mode.toString(8)}`);
  return made;
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
  const fd = tryOpenatMode(parent.fd, baseName(made), flags | O_CLOEXEC, mode);
  if (fd < 0) throw createError(root, made, errnoName(-fd));
  return { fd, path: made, kind: 'file' };
}

function createError(root: NewRoot, made: string, code: string): Error {
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? ` (the container's root may not write in this root filesystem: create ${made} in it first)`
      : '';
  return new Error(`create ${hostPath(root, made)}: ${code}${hint}`);
}

/**
 * The directory that holds `target`, opened (symlinks to it followed
 * inside the root). The fd belongs to root.dirs: callers never close it.
 */
function openParent(root: NewRoot, target: string): Opened {
  const dir = path.posix.dirname(target);
  if (dir === '/') return { fd: root.fd, path: '/', kind: 'dir' };
  const kept = root.dirs.get(dir);
  if (kept !== undefined) return { fd: kept, path: dir, kind: 'dir' };

  const found = lookup(root, dir, 'dir', true);
  if (found === undefined || found.kind !== 'dir') {
    if (found !== undefined) closeSync(found.fd);
    throw new Error(`${dir}: no such directory in the root`);
  }
  const known = root.dirs.get(found.path);
  if (known !== undefined) {
    closeSync(found.fd);
    return { ...found, fd: known };
  }
  root.dirs.set(found.path, found.fd);
  return found;
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
