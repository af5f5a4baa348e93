// pivot_root(2): make the new root the process's root and move the old
// one aside, so that it can be detached and nothing of the host stays
// reachable. glibc has no wrapper, so it goes through syscall(2).

import { check, libc, q } from '@tincan/cli';
import { arch } from 'node:os';
import { MNT_DETACH, umount2 } from './mount';

const SYS_PIVOT_ROOT: Record<string, number> = { x64: 155, arm64: 41 };

const syscallC = libc.func('long syscall(long number, ...)');
const unlinkatC = libc.func(
  'int unlinkat(int dirfd, const char *path, int flags)',
);

/** unlinkat(2) flag: remove a directory, like rmdir. */
export const AT_REMOVEDIR = 0x200;

/** unlinkat(2). */
export function unlinkat(dirfd: number, file: string, flags: number): void {
  check(
    'unlinkat',
    [String(dirfd), q(file), flags === AT_REMOVEDIR ? 'AT_REMOVEDIR' : '0'],
    () => Number(unlinkatC(dirfd, file, flags)),
  );
}

/** pivot_root(2). */
export function pivotRoot(newRoot: string, putOld: string): void {
  const nr = SYS_PIVOT_ROOT[arch()];
  if (nr === undefined) {
    throw new Error(`pivot_root: no syscall number known for ${arch()}`);
  }
  check('pivot_root', [q(newRoot), q(putOld)], () =>
    Number(syscallC(nr, 'const char *', newRoot, 'const char *', putOld)),
  );
}

// #region pivot-root (lab)
/**
 * Switch to `newRoot` (a mount point) and detach the old root.
 * pivot_root(".", ".") stacks the old root on top of the new one, so no
 * directory for it is needed; unmounting "." then removes the top of the
 * stack, which is the old root (the trick runc and crun use).
 */
export function switchRoot(newRoot: string): void {
  process.chdir(newRoot);

  pivotRoot('.', '.');

  umount2('.', MNT_DETACH);

  process.chdir('/');
}
// #endregion pivot-root
