// The mount plan: every directory, file and mount the init makes inside
// the new root, as plain data. The parent builds it, --debug prints it,
// unit tests check it, and the init carries it out step by step.

import { UsageError } from '@tincan/cli';
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  msNames,
} from './mount';

/** One thing the init does inside the new root; paths are container paths. */
export type MountStep =
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'symlink'; path: string; link: string }
  | { op: 'write'; path: string; content: string; mode: number }
  | {
      op: 'mount';
      source: string;
      target: string;
      fstype: string;
      flags: number;
      data?: string;
      /** when the mount is refused, bind this host path read-only instead */
      fallbackBind?: string;
    }
  | {
      op: 'bind';
      /** a host path, reached before the old root is detached */
      source: string;
      target: string;
      /** what to create when the target is missing */
      create: 'dir' | 'file';
      recursive: boolean;
      /** flags applied by a remount after the bind (MS_RDONLY, …) */
      flags: number;
    }
  | { op: 'mask'; target: string }
  | { op: 'read-only'; target: string };

/** One `-a HOST:CONTAINER[:ro]`. */
export interface AddSpec {
  source: string;
  target: string;
  readOnly: boolean;
}

/** A top-level entry of the host's root that the default root reuses. */
export interface HostEntry {
  name: string;
  kind: 'dir' | 'symlink';
  /** the symlink's text, for merged-/usr links such as bin -> usr/bin */
  link?: string;
}

/** This layer's section of the config. */
export interface MountsSettings {
  /** the root filesystem: a directory, or the default root when absent */
  rootfs?: string;
  /** where the parent lets the init assemble the root (a temp dir) */
  staging: string;
  /** `-a` binds, in order */
  adds: (AddSpec & { kind: 'dir' | 'file' })[];
  /** `--read-only` */
  readOnly: boolean;
  /** host entries the default root binds or links */
  hostEntries: HostEntry[];
  /** the generated /etc of the default root: file name to content */
  etc: Record<string, string>;
  /** the group of new ptys (tty, 5) when the gid map has it */
  ptyGid?: number;
}

/** The top-level host directories the default root may bind. */
export const HOST_SYSTEM_DIRS = [
  'usr',
  'bin',
  'sbin',
  'lib',
  'lib32',
  'lib64',
  'libx32',
] as const;

/** Device nodes bound from the host into the new /dev (as runc does). */
export const DEV_NODES = [
  'null',
  'zero',
  'full',
  'random',
  'urandom',
  'tty',
] as const;

/** Symlinks every /dev has. */
export const DEV_LINKS: readonly [string, string][] = [
  ['ptmx', 'pts/ptmx'],
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

// #region masked-paths
/**
 * Paths hidden from the container (docker's and runc's defaults): kernel
 * memory, the keys of every user, timers and scheduler state that leak
 * other processes' activity, and firmware and power interfaces.
 */
export const MASKED_PATHS = [
  '/proc/kcore',
  '/proc/keys',
  '/proc/timer_list',
  '/proc/sched_debug',
  '/proc/latency_stats',
  '/proc/scsi',
  '/proc/acpi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
] as const;

/** Paths the container may read but never write. */
export const READ_ONLY_PATHS = [
  '/proc/sys',
  '/proc/sysrq-trigger',
  '/proc/irq',
  '/proc/bus',
  '/proc/fs',
] as const;
// #endregion masked-paths

// #region parse-add
/** Parse one `-a HOST:CONTAINER[:ro]`; throws UsageError on bad input. */
export function parseAdd(spec: string): AddSpec {
  const flag = `--add ${spec}`;
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3 && parts[2] === 'ro') {
    readOnly = true;
    parts.pop();
  } else if (parts.length === 3 && parts[2] === 'rw') {
    parts.pop();
  }
  if (parts.length !== 2) {
    throw new UsageError(flag, 'expected HOST:CONTAINER or HOST:CONTAINER:ro');
  }
  const [source = '', target = ''] = parts;
  if (!source.startsWith('/')) {
    throw new UsageError(flag, 'the host path must be absolute');
  }
  if (!target.startsWith('/')) {
    throw new UsageError(flag, 'the container path must be absolute');
  }
  if (path.posix.normalize(target) === '/') {
    throw new UsageError(flag, 'cannot bind over the container root');
  }
  return {
    source: path.posix.normalize(source),
    target: path.posix.normalize(target),
    readOnly,
  };
}
// #endregion parse-add

/** The entries of the host's root the default root reuses. */
export function hostEntries(hostRoot = '/'): HostEntry[] {
  const entries: HostEntry[] = [];
  for (const name of HOST_SYSTEM_DIRS) {
    const st = lstatSync(path.join(hostRoot, name), {
      throwIfNoEntry: false,
    });
    if (!st) continue;
    if (st.isSymbolicLink()) {
      const link = readlinkSync(path.join(hostRoot, name));
      entries.push({ name, kind: 'symlink', link });
    } else if (st.isDirectory()) {
      entries.push({ name, kind: 'dir' });
    }
  }
  return entries;
}

const NOSUID_NODEV = MS_NOSUID | MS_NODEV;

// #region plan
/**
 * Everything the init does inside the new root, in order: the default
 * root's skeleton, the special filesystems, the user's binds, then the
 * masked and read-only paths, which must come last so that nothing
 * mounted later can cover them up.
 */
export function mountPlan(s: MountsSettings): MountStep[] {
  const steps: MountStep[] = [];
  if (s.rootfs === undefined) steps.push(...defaultRootSteps(s));

  steps.push({
    op: 'mount',
    source: 'proc',
    target: '/proc',
    fstype: 'proc',
    flags: NOSUID_NODEV | MS_NOEXEC,
  });
  steps.push({
    op: 'mount',
    source: 'sysfs',
    target: '/sys',
    fstype: 'sysfs',
    flags: NOSUID_NODEV | MS_NOEXEC | MS_RDONLY,
    fallbackBind: '/sys',
  });
  steps.push(...devSteps(s.ptyGid));

  for (const add of s.adds) {
    steps.push({
      op: 'bind',
      source: add.source,
      target: add.target,
      create: add.kind,
      recursive: true,
      flags: NOSUID_NODEV | (add.readOnly ? MS_RDONLY : 0),
    });
  }
  if (s.readOnly) {
    steps.push({
      op: 'mount',
      source: 'tmpfs',
      target: '/tmp',
      fstype: 'tmpfs',
      flags: NOSUID_NODEV,
      data: 'mode=1777',
    });
  }

  for (const target of MASKED_PATHS) steps.push({ op: 'mask', target });
  for (const target of READ_ONLY_PATHS) {
    steps.push({ op: 'read-only', target });
  }
  return steps;
}
// #endregion plan

// #region default-root
/**
 * The default root, on a fresh tmpfs: the host's system directories bound
 * read-only (merged-/usr links copied as links), writable /tmp and /root,
 * and a generated /etc that holds nothing of the host's secrets.
 */
export function defaultRootSteps(s: MountsSettings): MountStep[] {
  const steps: MountStep[] = [];
  for (const entry of s.hostEntries) {
    const target = `/${entry.name}`;
    if (entry.kind === 'symlink' && entry.link !== undefined) {
      steps.push({ op: 'symlink', path: target, link: entry.link });
      continue;
    }
    steps.push({
      op: 'bind',
      source: target,
      target,
      create: 'dir',
      recursive: true,
      flags: NOSUID_NODEV | MS_RDONLY,
    });
  }
  steps.push({ op: 'mkdir', path: '/tmp', mode: 0o1777 });
  steps.push({ op: 'mkdir', path: '/root', mode: 0o700 });
  steps.push({ op: 'mkdir', path: '/etc', mode: 0o755 });
  for (const [name, content] of Object.entries(s.etc)) {
    steps.push({ op: 'write', path: `/etc/${name}`, content, mode: 0o644 });
  }
  for (const dir of ['/proc', '/sys', '/dev']) {
    steps.push({ op: 'mkdir', path: dir, mode: 0o755 });
  }
  return steps;
}
// #endregion default-root

// #region dev
/**
 * A fresh /dev: a tmpfs with only the harmless nodes (bound from the host,
 * since a user namespace may not mknod), a private devpts instance, shm
 * and the usual links. Nothing of the image's own /dev is used. New ptys
 * belong to group `ptyGid` (tty) when the container has it: devpts
 * refuses a gid its user namespace does not map (rootless, one id).
 */
export function devSteps(ptyGid?: number): MountStep[] {
  const steps: MountStep[] = [
    {
      op: 'mount',
      source: 'tmpfs',
      target: '/dev',
      fstype: 'tmpfs',
      flags: MS_NOSUID | MS_NOEXEC,
      data: 'mode=755,size=65536k',
    },
  ];
  for (const node of DEV_NODES) {
    steps.push({
      op: 'bind',
      source: `/dev/${node}`,
      target: `/dev/${node}`,
      create: 'file',
      recursive: false,
      flags: 0,
    });
  }
  steps.push({ op: 'mkdir', path: '/dev/pts', mode: 0o755 });
  steps.push({
    op: 'mount',
    source: 'devpts',
    target: '/dev/pts',
    fstype: 'devpts',
    flags: MS_NOSUID | MS_NOEXEC,
    data:
      'newinstance,ptmxmode=0666,mode=0620' +
      (ptyGid === undefined ? '' : `,gid=${ptyGid}`),
  });
  steps.push({ op: 'mkdir', path: '/dev/shm', mode: 0o1777 });
  steps.push({
    op: 'mount',
    source: 'shm',
    target: '/dev/shm',
    fstype: 'tmpfs',
    flags: NOSUID_NODEV | MS_NOEXEC,
    data: 'mode=1777,size=65536k',
  });
  for (const [name, link] of DEV_LINKS) {
    steps.push({ op: 'symlink', path: `/dev/${name}`, link });
  }
  return steps;
}
// #endregion dev

/** One step as a --debug line. */
export function describeStep(step: MountStep): string {
  switch (step.op) {
    case 'mkdir':
      return `mkdir ${step.path} ${step.mode.toString(8)}`;
    case 'symlink':
      return `symlink ${step.path} -> ${step.link}`;
    case 'write':
      return `write ${step.path} (${step.content.length} bytes)`;
    case 'mount':
      return `mount ${step.fstype} on ${step.target} ${msNames(step.flags)}${step.data ? ` ${step.data}` : ''}`;
    case 'bind':
      return `bind ${step.source} on ${step.target} ${msNames(MS_BIND | step.flags)}`;
    case 'mask':
      return `mask ${step.target}`;
    case 'read-only':
      return `read-only ${step.target}`;
  }
}
