// Which cgroup hierarchies this host has, which controllers each carries,
// and where this process sits in each: read from /proc/self/mountinfo and
// /proc/self/cgroup. v1 has one hierarchy per controller (or per group of
// controllers), v2 one unified hierarchy; a hybrid host has both.

import path from 'node:path';
import type { CgroupFs } from './cgroup-fs';
import { readOptional } from './cgroup-fs';

/** The controllers tincan uses on cgroup v1. */
export const V1_CONTROLLERS = [
  'memory',
  'cpu',
  'cpuacct',
  'pids',
  'blkio',
  'freezer',
] as const;

/** The controllers tincan uses on cgroup v2 (cpu.stat and kill are core). */
export const V2_CONTROLLERS = ['memory', 'cpu', 'pids', 'io'] as const;

/** One mounted cgroup hierarchy and this process's place in it. */
export interface Hierarchy {
  version: 1 | 2;
  /** where it is mounted, e.g. `/sys/fs/cgroup/memory` */
  mount: string;
  /** the cgroup the mount shows at its top (mountinfo's root field) */
  mountRoot: string;
  /** v1: the controllers bound to it; v2: those its root offers */
  controllers: string[];
  /** this process's cgroup, as /proc/self/cgroup shows it */
  current: string;
}

/** The cgroup mode and hierarchies of a host. */
export interface CgroupTopology {
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  hierarchies: Hierarchy[];
}

/** One line of /proc/self/mountinfo that mounts a cgroup filesystem. */
interface CgroupMount {
  type: 'cgroup' | 'cgroup2';
  root: string;
  mount: string;
  superOptions: string[];
}

/** The cgroup mounts of a mountinfo table, first mount of each kept. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const type = fields[dash + 1];
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    mounts.push({
      type,
      root: unescapeMountinfo(fields[3] ?? '/'),
      mount: unescapeMountinfo(fields[4] ?? ''),
      superOptions: (fields[dash + 3] ?? '').split(','),
    });
  }
  return mounts;
}

function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(parseInt(oct, 8)),
  );
}

/** /proc/self/cgroup as a map from hierarchy key to path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers = '', where = '/'] = match;
    // v2 is `0::/path`; v1 lines name their controllers.
    const key = id === '0' && controllers === '' ? '' : controllers;
    out.set(key, where);
  }
  return out;
}

const NOT_CONTROLLERS = new Set([
  'rw',
  'ro',
  'relatime',
  'noatime',
  'nosuid',
  'nodev',
  'noexec',
  'clone_children',
  'noprefix',
  'xattr',
  'nsdelegate',
  'memory_recursiveprot',
  'memory_localevents',
  'memory_hugetlb_accounting',
  'favordynmods',
  'cpuset_v2_mode',
]);

// #region detect-topology
/** Read the host's cgroup mode and hierarchies through `fs`. */
export function detectTopology(fs: CgroupFs): CgroupTopology {
  const mounts = parseCgroupMounts(
    readOptional(fs, '/proc/self/mountinfo') ?? '',
  );
  const own = parseProcCgroup(readOptional(fs, '/proc/self/cgroup') ?? '');
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const m of mounts) {
    if (m.type === 'cgroup2') {
      if (seen.has('')) continue;
      seen.add('');
      const current = own.get('');
      if (current === undefined) continue;
      const controllers = (
        readOptional(fs, path.join(m.mount, 'cgroup.controllers')) ?? ''
      )
        .split(/\s+/)
        .filter(Boolean);
      hierarchies.push({
        version: 2,
        mount: m.mount,
        mountRoot: m.root,
        controllers,
        current,
      });
      continue;
    }
    const controllers = m.superOptions.filter(
      (o) => !NOT_CONTROLLERS.has(o) && !o.includes('='),
    );
    if (controllers.length === 0) continue; // name=systemd and the like
    const key = [...controllers].sort().join(',');
    if (seen.has(key)) continue;
    // /proc/self/cgroup lists a hierarchy's controllers in the kernel's
    // order; compare them as a set.
    const line = [...own].find(
      ([k]) => k !== '' && k.split(',').sort().join(',') === key,
    );
    if (!line) continue;
    seen.add(key);
    hierarchies.push({
      version: 1,
      mount: m.mount,
      mountRoot: m.root,
      controllers,
      current: line[1],
    });
  }
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  const mode = v1 ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  return { mode, hierarchies };
}
// #endregion detect-topology

/**
 * The host path of cgroup `cgroupPath` (as /proc/self/cgroup names it) in
 * hierarchy `h`, or undefined when the mount does not show it (a mount of
 * a subtree that does not contain it).
 */
export function hostPath(h: Hierarchy, cgroupPath: string): string | undefined {
  const rel = path.posix.relative(h.mountRoot, cgroupPath);
  if (rel.startsWith('..')) return undefined;
  return path.posix.join(h.mount, rel);
}

/**
 * Which hierarchy serves each controller tincan uses: a v1 hierarchy when
 * the controller is bound to one, else v2 when its root offers it.
 */
export function controllerMap(
  topology: CgroupTopology,
): Map<string, Hierarchy> {
  const out = new Map<string, Hierarchy>();
  for (const h of topology.hierarchies) {
    if (h.version !== 1) continue;
    for (const c of h.controllers) {
      if ((V1_CONTROLLERS as readonly string[]).includes(c)) out.set(c, h);
    }
  }
  const v2 = topology.hierarchies.find((h) => h.version === 2);
  if (v2) {
    for (const c of V2_CONTROLLERS) {
      // On a hybrid host blkio may be v1 while io is offered by v2: one
      // block controller is enough.
      const v1Twin = c === 'io' ? out.has('blkio') : out.has(c);
      if (!v1Twin && v2.controllers.includes(c)) out.set(c, v2);
    }
  }
  return out;
}
