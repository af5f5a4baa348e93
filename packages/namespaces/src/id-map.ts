// uid_map and gid_map: how ids inside the user namespace correspond to ids
// outside. See user_namespaces(7). tincan maps a whole range, never host
// root, so that root in the container is an ordinary user on the host.

import { readFileSync, writeFileSync } from 'node:fs';
import { q, UsageError } from '@tincan/cli';

/** One line of a uid_map or gid_map: `inside outside count`. */
export interface IdMapEntry {
  /** the first id inside the namespace */
  inside: number;
  /** the id it corresponds to outside */
  outside: number;
  /** how many consecutive ids */
  count: number;
}

/** The largest id plus one: ids are 32-bit and 2^32-1 is never valid. */
const ID_LIMIT = 2 ** 32 - 1;

/** The kernel accepts at most this many lines (since Linux 4.15). */
const MAX_LINES = 340;

/** The range used when /etc/subuid has none for root (podman's default). */
export const DEFAULT_RANGE = { outside: 100000, count: 65536 };

/**
 * Parse a podman-style map `INSIDE:OUTSIDE:COUNT`, or `OUTSIDE:COUNT`
 * meaning inside ids start at 0.
 */
export function parseIdMap(flag: string, text: string): IdMapEntry {
  const parts = text.split(':');
  if (
    parts.length < 2 ||
    parts.length > 3 ||
    parts.some((p) => !/^\d+$/.test(p))
  ) {
    throw new UsageError(
      `${flag} ${text}`,
      'expected INSIDE:OUTSIDE:COUNT or OUTSIDE:COUNT (whole numbers)',
    );
  }
  const nums = parts.map(Number);
  const [inside, outside, count] =
    nums.length === 2
      ? [0, nums[0] ?? 0, nums[1] ?? 0]
      : (nums as [number, number, number]);
  return { inside, outside, count };
}

/**
 * Check a whole map: non-empty ranges within 32 bits, no overlap inside or
 * outside, and never host id 0 - mapping host root would make root in the
 * container root on the host.
 */
export function validateIdMap(flag: string, map: readonly IdMapEntry[]): void {
  if (map.length === 0) throw new UsageError(flag, 'the map is empty');
  if (map.length > MAX_LINES) {
    throw new UsageError(flag, `more than ${MAX_LINES} ranges`);
  }
  for (const e of map) {
    const text = `${e.inside}:${e.outside}:${e.count}`;
    if (e.count === 0)
      throw new UsageError(`${flag} ${text}`, 'the count is zero');
    if (e.inside + e.count > ID_LIMIT || e.outside + e.count > ID_LIMIT) {
      throw new UsageError(`${flag} ${text}`, 'the range goes past 2^32-1');
    }
    if (e.outside === 0) {
      throw new UsageError(
        `${flag} ${text}`,
        'the range includes host id 0 (root)',
      );
    }
  }
  const overlaps = (key: 'inside' | 'outside'): boolean => {
    const sorted = [...map].sort((a, b) => a[key] - b[key]);
    return sorted.some((e, i) => {
      const next = sorted[i + 1];
      return next !== undefined && e[key] + e.count > next[key];
    });
  };
  if (overlaps('inside')) throw new UsageError(flag, 'ranges overlap inside');
  if (overlaps('outside')) throw new UsageError(flag, 'ranges overlap outside');
}

/** Whether the inside id `id` is mapped by `map`. */
export function isMapped(map: readonly IdMapEntry[], id: number): boolean {
  return map.some((e) => id >= e.inside && id < e.inside + e.count);
}

/** The outside id for the inside id `id`, if mapped. */
export function outsideId(
  map: readonly IdMapEntry[],
  id: number,
): number | undefined {
  const e = map.find((m) => id >= m.inside && id < m.inside + m.count);
  return e ? e.outside + (id - e.inside) : undefined;
}

/** The text the kernel expects in /proc/PID/uid_map: one line a range. */
export function formatIdMap(map: readonly IdMapEntry[]): string {
  return map.map((e) => `${e.inside} ${e.outside} ${e.count}\n`).join('');
}

/**
 * The first range /etc/subuid (or subgid) gives `user`, by name or uid,
 * in the `name:start:count` format of subuid(5).
 */
export function subordinateRange(
  text: string,
  user: string,
  uid: number,
): { outside: number; count: number } | undefined {
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if (
      !name ||
      name.startsWith('#') ||
      start === undefined ||
      count === undefined
    )
      continue;
    if (name !== user && name !== String(uid)) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    return { outside: Number(start), count: Number(count) };
  }
  return undefined;
}

/** The default map for root: its subordinate range, else 100000:65536. */
export function defaultIdMap(
  file: '/etc/subuid' | '/etc/subgid',
): IdMapEntry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no file: the default range
  }
  const range = subordinateRange(text, 'root', 0) ?? DEFAULT_RANGE;
  return [{ inside: 0, ...range }];
}

// #region write-id-maps (lab)
/**
 * Write the init's uid_map and gid_map from the parent. The child cannot
 * do it itself: a process may map only its own id, and the parent, root
 * in the namespace's parent, may map any range.
 */
export function writeIdMaps(
  pid: number,
  uidMap: readonly IdMapEntry[],
  gidMap: readonly IdMapEntry[],
): void {
  writeMapFile(`/proc/${pid}/uid_map`, formatIdMap(uidMap));
  writeMapFile(`/proc/${pid}/gid_map`, formatIdMap(gidMap));
}
// #endregion write-id-maps

function writeMapFile(file: string, text: string): void {
  try {
    // One write(2): the kernel takes a map only whole, and only once.
    writeFileSync(file, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`write(${q(file)}, ${q(text)}): ${code}`, { cause: err });
  }
}
