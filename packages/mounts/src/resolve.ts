// Resolving a path inside the new root, the way the container will see
// it, without ever following a symlink out of it. This is pure logic over
// a view of the filesystem, so it is unit-tested without root; openat2.ts
// then opens the answer with the kernel's own check.

import path from 'node:path';

/** What resolution needs to know about one path on the host. */
export interface FsView {
  /** the type of `file` without following a final symlink, if it exists */
  lstat(file: string): 'dir' | 'file' | 'symlink' | undefined;
  /** the text of the symlink `file` */
  readlink(file: string): string;
}

/** A path that cannot be resolved safely; the run must fail closed. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/** The answer: where a container path lands, and whether it exists. */
export interface Resolved {
  /** the path inside the root, absolute, with no symlinks on the way */
  path: string;
  /** the type of what is there, or undefined when it does not exist yet */
  kind: 'dir' | 'file' | undefined;
}

/** The same limit the kernel uses (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

// #region resolve-in-root (lab)
/**
 * Resolve `target` (absolute, as the container sees it) inside `root`.
 * Symlinks on the way are followed as the container would follow them:
 * an absolute one starts again at the new root. A `..` that would climb
 * above the root is an error, and so is a symlink as the last component:
 * a mount target is never a symlink, which is how a root whose `proc`
 * points at `/` or `../..` fails closed instead of mounting on the host.
 * `followLast` lifts that rule, for the directory a file is created in.
 */
export function resolveInRoot(
  root: string,
  target: string,
  fs: FsView,
  followLast = false,
): Resolved {
  if (!target.startsWith('/')) {
    throw new UnsafePathError(`${target}: not an absolute path`);
  }
  const pending = target.split('/').reverse();
  const done: string[] = [];
  let links = 0;
  let kind: 'dir' | 'file' | 'symlink' | undefined = 'dir';
  while (pending.length > 0) {
    const part = pending.pop() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (done.length === 0) {
        throw new UnsafePathError(`${target}: leads outside the root`);
      }
      done.pop();
      kind = 'dir';
      continue;
    }
    if (kind === undefined) {
      // The parent is missing: the rest will be created, not resolved.
      done.push(part);
      continue;
    }
    if (kind === 'file') {
      throw new UnsafePathError(
        `${target}: /${done.join('/')} is not a directory`,
      );
    }
    done.push(part);
    const shown = `/${done.join('/')}`;
    kind = fs.lstat(path.join(root, shown));
    if (kind !== 'symlink') continue;

    const link = fs.readlink(path.join(root, shown));
    if (!followLast && pending.every((p) => p === '' || p === '.')) {
      throw new UnsafePathError(
        `${shown} is a symlink to ${link}: a mount target must not be a symlink`,
      );
    }
    if (++links > MAX_SYMLINKS) {
      throw new UnsafePathError(`${target}: too many levels of symlinks`);
    }
    done.pop();
    if (link.startsWith('/')) done.length = 0;
    pending.push(...link.split('/').reverse());
    kind = 'dir';
  }
  return {
    path: `/${done.join('/')}`,
    kind,
  };
}
// #endregion resolve-in-root

/**
 * Whether a mount on `mountPoint` covers `dir`: the same path or one below
 * it, both resolved inside the root. An fd opened on a covered directory
 * still names the directory underneath, not what the container will see.
 */
export function covers(mountPoint: string, dir: string): boolean {
  if (mountPoint === '/') return true;
  return dir === mountPoint || dir.startsWith(`${mountPoint}/`);
}
