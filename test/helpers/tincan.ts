// Helpers for the cross-step black-box suite: run the real `tincan`
// binary, as a user would, against one step's runtime.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository's root. */
export const ROOT = path.resolve(__dirname, '../..');

/** The `tincan` command as npx would run it. */
export const TINCAN_BIN = path.join(ROOT, 'packages/cli/bin/tincan.js');

/** Every step, first to last; a step counts when its package is built. */
export const ALL_STEPS = [
  'cli',
  'namespaces',
  'mounts',
  'capabilities',
  'seccomp',
  'resources',
] as const;

/** A step's name. */
export type StepName = (typeof ALL_STEPS)[number];

/** The steps present in this checkout, first to last. */
export function presentSteps(): StepName[] {
  return ALL_STEPS.filter((s) =>
    existsSync(path.join(ROOT, 'packages', s, 'dist', 'index.js')),
  );
}

/**
 * The steps a test applies to: `first` and every later one present, up to
 * `last` when the behaviour stops holding there (say why where it is used).
 *
 * With TINCAN_TEST_STEPS=newest, only the newest of those: each behaviour
 * is checked once, on the most complete runtime it holds for. The VM lane
 * uses it to fit its time-box (every container costs seconds under TCG).
 */
export function stepsFrom(first: StepName, last?: StepName): StepName[] {
  const present = presentSteps();
  const from = ALL_STEPS.indexOf(first);
  const to = last ? ALL_STEPS.indexOf(last) : ALL_STEPS.length - 1;
  const steps = present.filter((s) => {
    const i = ALL_STEPS.indexOf(s);
    return i >= from && i <= to;
  });
  const mode = process.env.TINCAN_TEST_STEPS;
  if (mode === undefined || mode === '' || mode === 'all') return steps;
  if (mode === 'newest') return steps.slice(-1);
  throw new Error(`TINCAN_TEST_STEPS=${mode}: expected all or newest`);
}

/** What a finished tincan run left. */
export interface RunOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for runTincan. */
export interface RunOptions {
  /** feed this to tincan's stdin (default: /dev/null) */
  input?: string;
  /**
   * kill tincan after this many ms (default 30 s), times
   * TINCAN_TEST_TIME_SCALE when set (the VM lane's emulated CPU is slower)
   */
  timeoutMs?: number;
  /** extra environment for tincan itself */
  env?: NodeJS.ProcessEnv;
  /** called with the child once it started, e.g. to send it signals */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** How much slower than the host this machine runs containers. */
function timeScale(): number {
  const raw = process.env.TINCAN_TEST_TIME_SCALE;
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!(scale >= 1)) {
    throw new Error(`TINCAN_TEST_TIME_SCALE=${raw}: expected a number >= 1`);
  }
  return scale;
}

/** Run `tincan ARGS…` and collect its output. */
export function runTincan(
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TINCAN_BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      (options.timeoutMs ?? 30_000) * timeScale(),
    );
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}

/** Run a command in a container of `step`: `tincan --step STEP run ARGS…`. */
export function runIn(
  step: StepName,
  runArgs: readonly string[],
  options?: RunOptions,
): Promise<RunOutput> {
  return runTincan(['--step', step, 'run', ...runArgs], options);
}

/** Run `sh -c SCRIPT` in a container of `step`. */
export function shIn(
  step: StepName,
  script: string,
  flags: readonly string[] = [],
  options?: RunOptions,
): Promise<RunOutput> {
  return runIn(step, [...flags, '--', '/bin/sh', '-c', script], options);
}

/**
 * Fail, never skip, when the suite cannot run here: privileged tests must
 * run for real on CI.
 */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the integration suite needs root: run it as root');
  }
}

/**
 * The directories of the cgroups this process is in, one per hierarchy.
 * tincan creates its cgroups beneath these, so only they are searched for
 * leftovers: other sessions on a shared machine have cgroups of their own.
 */
export function ownCgroupDirs(): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  const v2 = mounts
    .map((l) => l.split(' '))
    .find((f) => f[2] === 'cgroup2')?.[1];
  const dirs = new Set<string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, ctrls = '', rel = ''] = m;
    if (ctrls === '') {
      if (v2) dirs.add(path.join(v2, rel));
      continue;
    }
    for (const name of [ctrls, ...ctrls.split(',')]) {
      const dir = path.join('/sys/fs/cgroup', name.replace(/^name=/, ''), rel);
      if (existsSync(dir)) {
        dirs.add(dir);
        break;
      }
    }
  }
  return [...dirs];
}

/** The parent pid of `pid`, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name in parentheses may hold spaces: split after it
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Whether `name` (a cgroup, temp dir or mount path) belongs to a container
 * that another tincan, not started by this test process, still runs: on a
 * shared machine someone else's containers are not this suite's leftovers.
 * A container id ends in its tincan's pid (newContainerId).
 */
export function othersLiveContainer(name: string): boolean {
  const m = /tincan-[0-9a-f]{6}([0-9a-f]{6})(?![0-9a-f])/.exec(name);
  if (!m) return false;
  const owner = parseInt(m[1] ?? '', 16);
  let pid: number | undefined = owner;
  for (let hops = 0; pid !== undefined && pid > 1 && hops < 64; hops++) {
    if (pid === process.pid) return false;
    pid = parentOf(pid);
  }
  // not ours; it counts as someone else's only while that tincan runs
  if (pid === undefined) return false;
  try {
    return readFileSync(`/proc/${owner}/cmdline`, 'utf8').includes('tincan');
  } catch {
    return false;
  }
}

/**
 * What tincan might leave on the host: mounts, temp dirs, cgroups. Those of
 * containers another tincan still runs are not counted (see
 * othersLiveContainer).
 */
export function hostTraces(): {
  mounts: string[];
  tmp: string[];
  cgroups: string[];
} {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes('tincan'));
  const tmp = readdirSync('/tmp').filter((n) => n.includes('tincan'));
  const cgroups: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 2) return;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (e.name.includes('tincan')) cgroups.push(full);
      walk(full, depth + 1);
    }
  };
  for (const dir of ownCgroupDirs()) walk(dir, 0);
  const mine = (name: string): boolean => !othersLiveContainer(name);
  return {
    mounts: mounts.filter(mine),
    tmp: tmp.filter(mine),
    cgroups: [...new Set(cgroups)].filter(mine),
  };
}
