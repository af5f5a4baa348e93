// The init's side of step 3, in the `filesystem` phase: a private mount
// tree, the new root assembled in the parent's temp dir, every mount of
// the plan made on a target resolved inside that root, then pivot_root
// and the old root detached.

import {
  configSection,
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
  lstatSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
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
  type MountTarget,
} from './mount';
import {
  fdTarget,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  openat,
  openBeneath,
} from './openat2';
import { AT_REMOVEDIR, switchRoot, unlinkat } from './pivot-root';
import { resolveInRoot, type FsView, type Resolved } from './resolve';

const settings = configSection<MountsSettings>('mounts');

const AT_FDCWD = -100;
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
      withContext(describeStep(step), () => runStep(root, step));
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
    log.debug(`pivot_root(".", "."), umount2(".", MNT_DETACH) in ${dir}`);

    removeStaging(log, tmp, path.basename(dir));
  } finally {
    closeSync(tmp);
  }

  // Only the root mount: /proc, /dev and /tmp stay writable below it.
  if (s.readOnly) setFlags(log, { path: '/', shown: '/' }, MS_RDONLY, false);
}
// #endregion setup-root

function removeStaging(log: Logger, dirfd: number, name: string): void {
  try {
    unlinkat(dirfd, name, AT_REMOVEDIR);
    log.debug(`unlinkat(${q(path.join('/tmp', name))}, AT_REMOVEDIR)`);
  } catch (err) {
    // The parent removes it at the end in any case.
    log.debug(`${(err as Error).message}: left to the parent`);
  }
}

/** Step 3's part of the init. */
export const initLayer: InitLayer = {
  name: 'mounts',
  phases: {
    filesystem: (ctx) => withContext('mounts', () => setupRoot(ctx)),
  },
};

function doMount(
  log: Logger,
  source: string | null,
  target: string | MountTarget,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const shown = typeof target === 'string' ? target : target.shown;
  mount(source, target, fstype, flags, data);
  log.debug(
    `mount(${formatMount(source, shown, fstype, flags, data).join(', ')})`,
  );
}

// #region run-step
function runStep(root: NewRoot, step: MountStep): void {
  switch (step.op) {
    case 'mkdir':
      ensure(root, step.path, 'dir', step.mode);
      return;
    case 'symlink': {
      const parent = openParent(root, step.path);
      try {
        symlinkSync(
          step.link,
          `/proc/self/fd/${parent}/${path.basename(step.path)}`,
        );
      } finally {
        closeSync(parent);
      }
      root.log.debug(
        `symlink(${JSON.stringify(step.link)}, ${JSON.stringify(hostPath(root, step.path))})`,
      );
      return;
    }
    case 'write': {
      const parent = openParent(root, step.path);
      try {
        // wx: O_CREAT|O_EXCL, which never follows a symlink at the end.
        writeFileSync(
          `/proc/self/fd/${parent}/${path.basename(step.path)}`,
          step.content,
          { flag: 'wx', mode: step.mode },
        );
      } finally {
        closeSync(parent);
      }
      root.log.debug(`write ${hostPath(root, step.path)}`);
      return;
    }
    case 'mount':
      ensure(root, step.target, 'dir', 0o755);
      try {
        withTarget(root, step.target, (t) =>
          doMount(
            root.log,
            step.source,
            t,
            step.fstype,
            step.flags,
            step.data ?? null,
          ),
        );
      } catch (err) {
        if (step.fallbackBind === undefined) throw err;
        // sysfs needs a network namespace owned by the container's user
        // namespace; without one, show the host's /sys, read-only.
        root.log.warn(
          `${step.fstype} could not be mounted (${(err as Error).message}): binding the host's ${step.fallbackBind} read-only instead`,
        );
        bind(root, step.fallbackBind, step.target, true);
        withTarget(root, step.target, (t) =>
          setFlags(root.log, t, RO_NOSUID_NODEV | MS_NOEXEC, true),
        );
      }
      return;
    case 'bind':
      ensure(
        root,
        step.target,
        step.create,
        step.create === 'dir' ? 0o755 : 0o644,
      );
      bind(root, step.source, step.target, step.recursive);
      if (step.flags !== 0) {
        withTarget(root, step.target, (t) =>
          setFlags(root.log, t, step.flags, step.recursive),
        );
      }
      return;
    case 'mask':
      mask(root, step.target);
      return;
    case 'read-only': {
      const found = resolveInRoot(root.dir, step.target, hostFs);
      if (found.kind === undefined) {
        root.log.debug(`read-only ${step.target}: missing, skipped`);
        return;
      }
      bind(root, hostPath(root, found.path), found.path, true);
      withTarget(root, found.path, (t) =>
        setFlags(root.log, t, MS_RDONLY, true),
      );
      return;
    }
  }
}
// #endregion run-step

// #region mask
/**
 * Hide `target`: an empty read-only tmpfs over a directory, the new
 * /dev/null (read-only) over a file. Paths the kernel does not have are
 * skipped.
 */
function mask(root: NewRoot, target: string): void {
  const found = resolveInRoot(root.dir, target, hostFs);
  if (found.kind === undefined) {
    root.log.debug(`mask ${target}: missing, skipped`);
    return;
  }
  if (found.kind === 'dir') {
    withTarget(root, found.path, (t) =>
      doMount(
        root.log,
        'tmpfs',
        t,
        'tmpfs',
        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
        'mode=0555,size=4k',
      ),
    );
    return;
  }
  bind(root, hostPath(root, '/dev/null'), found.path, false);
  withTarget(root, found.path, (t) =>
    setFlags(root.log, t, MS_RDONLY | MS_NOSUID | MS_NOEXEC, false),
  );
}
// #endregion mask

function bind(
  root: NewRoot,
  source: string,
  target: string,
  recursive: boolean,
): void {
  withTarget(root, target, (t) =>
    doMount(root.log, source, t, null, MS_BIND | (recursive ? MS_REC : 0)),
  );
}

// #region set-flags
/**
 * Add `flags` to the mount at `target` (and, when `recursive`, to every
 * mount below it). A bind ignores most flags, so they come afterwards.
 * mount_setattr(2) reaches submounts, which a remount never does: without
 * it, `-a /srv:/srv:ro` would leave anything mounted under /srv writable.
 */
function setFlags(
  log: Logger,
  target: MountTarget,
  flags: number,
  recursive: boolean,
): void {
  const { shown } = target;
  const fd = openat(AT_FDCWD, target.path, O_PATH | O_CLOEXEC);
  try {
    if (recursive && haveMountSetattr) {
      try {
        mountSetattrRecursive(fd, shown, flags);
        log.debug(
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
    doMount(log, null, target, null, MS_BIND | MS_REMOUNT | locked | flags);
  } finally {
    closeSync(fd);
  }
}
// #endregion set-flags

let haveMountSetattr = true;

/** Open `target` inside the root and hand `fn` a mount target for it. */
function withTarget(
  root: NewRoot,
  target: string,
  fn: (t: MountTarget) => void,
): void {
  const found = resolveInRoot(root.dir, target, hostFs);
  const fd = openBeneath(root.fd, found.path);
  try {
    fn(fdTarget(fd, hostPath(root, found.path)));
  } finally {
    closeSync(fd);
  }
}

/** Make sure `target` exists inside the root as a `kind`. */
function ensure(
  root: NewRoot,
  target: string,
  kind: 'dir' | 'file',
  mode: number,
): Resolved {
  const found = resolveInRoot(root.dir, target, hostFs);
  if (found.kind === kind) return found;
  if (found.kind !== undefined) {
    throw new Error(
      `${found.path}: exists and is not a ${kind === 'dir' ? 'directory' : 'file'}`,
    );
  }
  const parent = openParent(root, found.path);
  const file = `/proc/self/fd/${parent}/${path.basename(found.path)}`;
  try {
    if (kind === 'dir') mkdirSync(file, { mode });
    else writeFileSync(file, '', { flag: 'wx', mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'failed';
    const hint =
      code === 'EACCES' || code === 'EPERM'
        ? ` (the container's root may not write in this root filesystem: create ${found.path} in it first)`
        : '';
    throw new Error(`create ${hostPath(root, found.path)}: ${code}${hint}`, {
      cause: err,
    });
  } finally {
    closeSync(parent);
  }
  root.log.debug(
    `${kind === 'dir' ? 'mkdir' : 'create'} ${hostPath(root, found.path)} ${mode.toString(8)}`,
  );
  return { path: found.path, kind };
}

/** An O_PATH fd on the directory that holds `target`, resolved in root. */
function openParent(root: NewRoot, target: string): number {
  const parent = resolveInRoot(
    root.dir,
    path.posix.dirname(target),
    hostFs,
    true,
  );
  if (parent.kind !== 'dir') {
    throw new Error(
      `${path.posix.dirname(target)}: no such directory in the root`,
    );
  }
  return openBeneath(root.fd, parent.path);
}

function hostPath(root: NewRoot, inside: string): string {
  return path.join(root.dir, inside);
}
