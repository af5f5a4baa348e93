// The init runs as the container's root, which is an ordinary uid on the
// host (100000 by default): it must be able to read node's modules and
// tincan's own files where they are installed. A checkout under a private
// directory such as /root (mode 700) is out of its reach, and without this
// check the container would fail with a bare EACCES from inside node.

import { statSync } from 'node:fs';
import path from 'node:path';

/** Ownership and mode of a path, as stat(2) gives them. */
export interface StatLike {
  uid: number;
  gid: number;
  mode: number;
}

/** Whether `who` has permission `bit` (4 read, 1 search) on `st`. */
export function permits(
  st: StatLike,
  who: { uid: number; gid: number },
  bit: number,
): boolean {
  if (st.uid === who.uid) return ((st.mode >> 6) & bit) === bit;
  if (st.gid === who.gid) return ((st.mode >> 3) & bit) === bit;
  return (st.mode & bit) === bit;
}

/**
 * The first directory above `file` that `who` cannot search, or `file`
 * itself when it cannot be read; undefined when all is reachable.
 */
export function firstUnreachable(
  file: string,
  who: { uid: number; gid: number },
  stat: (p: string) => StatLike = statSync,
): { path: string; mode: number } | undefined {
  const dirs: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of dirs) {
    const st = stat(dir);
    if (!permits(st, who, 1)) return { path: dir, mode: st.mode };
  }
  const st = stat(file);
  return permits(st, who, 4) ? undefined : { path: file, mode: st.mode };
}
