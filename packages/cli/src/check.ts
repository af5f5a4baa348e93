// `tincan check`: what this host offers a container runtime, one verdict a
// line. Later steps add their own lines through Layer.check.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import type { CheckLine } from './layer';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The glibc version Node runs on, or undefined on another libc. */
export function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as
    { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

/** The cgroup layout of this host, as /proc/self/mounts shows it. */
export interface CgroupLayout {
  /** which hierarchies are mounted: v1 only, v2 only, both, or none */
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  /** v1 controllers with a hierarchy of their own */
  v1: string[];
  /** controllers the v2 hierarchy offers at its root */
  v2: string[];
  /** where the v2 hierarchy is mounted, if anywhere */
  v2Mount?: string;
}

/** Read the cgroup layout from a mounts table (default: this process's). */
export function cgroupLayout(
  mounts = readText('/proc/self/mounts') ?? '',
): CgroupLayout {
  const v1: string[] = [];
  let v2Mount: string | undefined;
  for (const line of mounts.split('\n')) {
    const [, dir, type, opts = ''] = line.split(' ');
    if (type === 'cgroup2' && dir) v2Mount ??= dir;
    if (type === 'cgroup') {
      for (const opt of opts.split(',')) {
        if (
          !['rw', 'ro', 'relatime', 'nosuid', 'nodev', 'noexec'].includes(opt)
        )
          v1.push(opt);
      }
    }
  }
  const v2 = v2Mount
    ? (readText(`${v2Mount}/cgroup.controllers`) ?? '')
        .split(' ')
        .filter(Boolean)
    : [];
  const realV1 = v1.filter((c) => !c.startsWith('name='));
  const mode =
    realV1.length > 0 ? (v2Mount ? 'hybrid' : 'v1') : v2Mount ? 'v2' : 'none';
  return { mode, v1, v2, ...(v2Mount ? { v2Mount } : {}) };
}

/** Step 1's host checks. */
export function baseChecks(): CheckLine[] {
  const lines: CheckLine[] = [];
  const release = os.release();
  const [major = 0, minor = 0] = release.split('.').map(Number);
  lines.push({
    what: 'kernel',
    verdict: major > 5 || (major === 5 && minor >= 11) ? 'ok' : 'fail',
    detail: `${release} ${os.arch()} (tincan needs 5.11 or later: close_range, cgroup.kill)`,
  });

  const glibc = glibcVersion();
  lines.push({
    what: 'libc',
    verdict: glibc ? 'ok' : 'fail',
    detail: glibc
      ? `glibc ${glibc}`
      : 'not glibc: the native stage needs getcontext/makecontext, which musl lacks',
  });

  const maxUserns = readText('/proc/sys/user/max_user_namespaces');
  const unprivClone = readText('/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = readText(
    '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
  );
  const usernsOff = maxUserns === '0';
  lines.push({
    what: 'user namespaces',
    verdict: usernsOff ? 'fail' : 'ok',
    detail: [
      `user.max_user_namespaces=${maxUserns ?? 'absent'}`,
      unprivClone !== undefined
        ? `kernel.unprivileged_userns_clone=${unprivClone}`
        : undefined,
      apparmor !== undefined
        ? `kernel.apparmor_restrict_unprivileged_userns=${apparmor}`
        : undefined,
    ]
      .filter(Boolean)
      .join(', '),
  });

  const layout = cgroupLayout();
  lines.push({
    what: 'cgroups',
    verdict: layout.mode === 'none' ? 'warn' : 'ok',
    detail:
      `${layout.mode}; v1: ${layout.v1.join(' ') || '-'}; ` +
      `v2${layout.v2Mount ? ` at ${layout.v2Mount}` : ''}: ${layout.v2.join(' ') || '-'}`,
  });

  const status = readText('/proc/self/status') ?? '';
  const actions = readText('/proc/sys/kernel/seccomp/actions_avail');
  lines.push({
    what: 'seccomp',
    verdict: /^Seccomp:/m.test(status) && actions ? 'ok' : 'fail',
    detail: actions
      ? `filters supported; actions: ${actions}`
      : 'not supported',
  });

  const uid = process.getuid?.() ?? -1;
  lines.push({
    what: 'running as',
    verdict: uid === 0 ? 'ok' : 'info',
    detail:
      uid === 0
        ? 'root'
        : `uid ${uid}: rootless mode, with the isolation the kernel allows an unprivileged user`,
  });

  lines.push({
    what: 'pid namespaces',
    verdict: existsSync('/proc/self/ns/pid') ? 'ok' : 'fail',
    detail: readdirSync('/proc/self/ns').sort().join(' '),
  });
  return lines;
}

/** Print check lines as an aligned table. */
export function formatChecks(lines: readonly CheckLine[]): string {
  const width = Math.max(...lines.map((l) => l.what.length));
  return lines
    .map((l) => `${l.verdict.padEnd(4)}  ${l.what.padEnd(width)}  ${l.detail}`)
    .join('\n');
}
