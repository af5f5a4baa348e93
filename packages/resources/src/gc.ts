// `tincan gc`: remove the cgroups a tincan killed with SIGKILL left
// behind. A tincan that dies that way runs no cleanup; its container dies
// with it (the parent-death signal), but the empty cgroup directories
// stay until someone removes them.

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { containerOwnerPid, messageOf } from '@tincan/cli';
import type { CgroupFs } from './cgroup-fs';
import { parseProcs, readOptional } from './cgroup-fs';
import { hostPath, type CgroupTopology } from './cgroup-mode';
import { rmdirWithRetries, V2_SHARED } from './cgroups';

const LEAF = /^tincan-[0-9a-f]{12}$/;
const V2_LEAF = /^[0-9a-f]{12}$/;

/**
 * A cgroup this young may belong to a tincan between mkdir and moving its
 * init in: leave it alone.
 */
export const GC_MIN_AGE_SECONDS = 5;

/** What gc did with one cgroup. */
export interface GcEntry {
  path: string;
  action: 'removed' | 'in use' | 'too new' | 'failed';
  detail?: string;
}

/** Every tincan cgroup directory beneath the cgroups this process is in. */
export function findTincanCgroups(
  fs: CgroupFs,
  topology: CgroupTopology,
): string[] {
  const found: string[] = [];
  const scan = (dir: string, pattern: RegExp): void => {
    let names: string[];
    try {
      names = fs.subdirs(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (pattern.test(name)) found.push(path.join(dir, name));
    }
  };
  for (const h of topology.hierarchies) {
    const current = hostPath(h, h.current);
    if (current) scan(current, LEAF);
    if (h.version === 2) scan(path.join(h.mount, V2_SHARED), V2_LEAF);
  }
  return found;
}

/**
 * Whether the tincan that made container `id` still runs: its pid is in
 * the id, and the process there must still be a tincan (pids are reused).
 * undefined when the id names no pid.
 */
export function tincanAlive(id: string): boolean | undefined {
  const pid = containerOwnerPid(id);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tincan');
  } catch {
    return false;
  }
}

/** The container id a tincan cgroup directory belongs to. */
export function containerIdOf(dir: string): string {
  return path.basename(dir).replace(/^tincan-/, '');
}

// #region gc
/** Remove every stale tincan cgroup: empty, and not just created. */
export async function gcCgroups(
  fs: CgroupFs,
  topology: CgroupTopology,
  minAge = GC_MIN_AGE_SECONDS,
  ownerAlive: (id: string) => boolean | undefined = tincanAlive,
): Promise<GcEntry[]> {
  const entries: GcEntry[] = [];
  // One container has a cgroup in every hierarchy, and the kernel touches
  // their times differently (a v1 cpuacct or freezer directory looks newer
  // than the others): judge each container as a whole, by its oldest.
  const byContainer = new Map<string, string[]>();
  for (const dir of findTincanCgroups(fs, topology)) {
    const id = containerIdOf(dir);
    byContainer.set(id, [...(byContainer.get(id) ?? []), dir]);
  }
  for (const dirs of byContainer.values()) {
    const busy = dirs
      .map((dir) => ({
        dir,
        procs: parseProcs(
          readOptional(fs, path.join(dir, 'cgroup.procs')) ?? '',
        ),
      }))
      .filter((d) => d.procs.length > 0);
    if (busy.length > 0) {
      for (const { dir, procs } of busy) {
        entries.push({
          path: dir,
          action: 'in use',
          detail: `${procs.length} processes`,
        });
      }
      continue;
    }
    // A container whose tincan still runs is being set up: leave it. Its
    // id names that tincan's pid. When the pid says nothing (an id from
    // elsewhere), the directories' age decides.
    const owner = ownerAlive(containerIdOf(dirs[0] ?? ''));
    const age = Math.max(...dirs.map((dir) => fs.ageSeconds(dir)));
    for (const dir of dirs) {
      if (owner === true || (owner === undefined && age < minAge)) {
        entries.push({ path: dir, action: 'too new' });
        continue;
      }
      try {
        await rmdirWithRetries(fs, dir, 5);
        entries.push({ path: dir, action: 'removed' });
      } catch (err) {
        entries.push({ path: dir, action: 'failed', detail: messageOf(err) });
      }
    }
  }
  for (const h of topology.hierarchies) {
    if (h.version !== 2) continue;
    const shared = path.join(h.mount, V2_SHARED);
    try {
      if (fs.exists(shared) && fs.subdirs(shared).length === 0) {
        fs.rmdir(shared);
        entries.push({ path: shared, action: 'removed' });
      }
    } catch {
      // in use again: a container started meanwhile
    }
  }
  return entries;
}
// #endregion gc
