// Rootless mode: a user without root may still create a user namespace,
// but may map only its own uid and gid - unless the setuid helpers
// newuidmap/newgidmap (from shadow's uidmap package) map a range that
// /etc/subuid and /etc/subgid grant the user. See user_namespaces(7).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { childProcess, q } from '@tincan/cli';
import { subordinateRange, type IdMapEntry } from './id-map';

/** How the id maps of a container are written. */
export type MappingStrategy =
  /** tincan runs as root and writes any range itself */
  | 'root'
  /** one id: the user's own uid and gid become 0 inside */
  | 'single'
  /** newuidmap/newgidmap write the user's subordinate ranges */
  | 'newuidmap';

/** The maps a rootless container gets, and how they are written. */
export interface RootlessPlan {
  strategy: MappingStrategy;
  uidMap: IdMapEntry[];
  gidMap: IdMapEntry[];
}

/** Whether tincan runs without root, and so in rootless mode. */
export function isRootless(): boolean {
  return (process.geteuid?.() ?? 0) !== 0;
}

/** The path of `name` in PATH, if it is there. */
export function findInPath(
  name: string,
  searchPath = process.env.PATH ?? '',
): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The maps for the current user: its own ids as 0, plus its subordinate
 * ranges as 1..N when the helpers are installed and the files grant some.
 */
export function rootlessPlan(
  user = currentUser(),
  helpers = {
    newuidmap: findInPath('newuidmap'),
    newgidmap: findInPath('newgidmap'),
  },
  subuid = readOrEmpty('/etc/subuid'),
  subgid = readOrEmpty('/etc/subgid'),
): RootlessPlan {
  const own = (id: number): IdMapEntry[] => [
    { inside: 0, outside: id, count: 1 },
  ];
  const uidRange = subordinateRange(subuid, user.username, user.uid);
  const gidRange = subordinateRange(subgid, user.username, user.uid);
  if (helpers.newuidmap && helpers.newgidmap && uidRange && gidRange) {
    return {
      strategy: 'newuidmap',
      uidMap: [...own(user.uid), { inside: 1, ...uidRange }],
      gidMap: [...own(user.gid), { inside: 1, ...gidRange }],
    };
  }
  return { strategy: 'single', uidMap: own(user.uid), gidMap: own(user.gid) };
}

/** The current user; a uid with no passwd entry is named by its number. */
export function currentUser(): { username: string; uid: number; gid: number } {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  try {
    return { username: userInfo().username, uid, gid };
  } catch {
    return { username: String(uid), uid, gid };
  }
}

/** Why a rootless plan has only one id, for the error a user sees. */
export function singleIdReason(
  helpers = { newuidmap: findInPath('newuidmap') },
): string {
  return helpers.newuidmap
    ? 'no range for this user in /etc/subuid and /etc/subgid'
    : 'newuidmap/newgidmap are not installed (Debian package uidmap)';
}

// #region write-rootless-maps
/**
 * Write the maps of the unprivileged child `pid`. With one id, the kernel
 * demands that setgroups(2) be denied first: otherwise the user could drop
 * a group that a file's permissions single out to deny it access.
 */
export function writeRootlessMaps(pid: number, plan: RootlessPlan): void {
  if (plan.strategy === 'newuidmap') {
    const args = (map: IdMapEntry[]): string[] =>
      map.flatMap((e) => [e.inside, e.outside, e.count].map(String));
    childProcess().execFileSync(
      'newuidmap',
      [String(pid), ...args(plan.uidMap)],
      {
        stdio: 'pipe',
      },
    );
    childProcess().execFileSync(
      'newgidmap',
      [String(pid), ...args(plan.gidMap)],
      {
        stdio: 'pipe',
      },
    );
    return;
  }
  writeOnce(`/proc/${pid}/setgroups`, 'deny');
  writeOnce(`/proc/${pid}/uid_map`, `0 ${plan.uidMap[0]?.outside ?? 0} 1\n`);
  writeOnce(`/proc/${pid}/gid_map`, `0 ${plan.gidMap[0]?.outside ?? 0} 1\n`);
}
// #endregion write-rootless-maps

function writeOnce(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`write(${q(file)}, ${q(text)}): ${code}`, { cause: err });
  }
}
