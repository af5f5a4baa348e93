// Helpers for the security suite: the final runtime (`tincan run` without
// --step), the root filesystems each case runs on, the in-container probe,
// process tracking and the traces a run may leave on the host.

import { DEFAULT_PROGRAMS } from '@tincan/mounts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import {
  hostTraces,
  ROOT,
  runTincan,
  TINCAN_BIN,
  type RunOptions,
  type RunOutput,
} from '../helpers/tincan';

export { hostTraces, ROOT, runTincan, TINCAN_BIN };
export type { RunOutput };

/** The root filesystems every case runs on. */
export const ROOT_KINDS = ['default', 'rootfs'] as const;

/** A root filesystem kind. */
export type RootKind = (typeof ROOT_KINDS)[number];

/** Fail, never skip: the suite runs for real on CI. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the security suite needs root: run it as root');
  }
}

/**
 * The runtime under test: the final one, unless TINCAN_SECURITY_STEP names
 * an earlier step (to see from which step on a case holds).
 */
export const STEP_FLAGS: string[] = process.env.TINCAN_SECURITY_STEP
  ? ['--step', process.env.TINCAN_SECURITY_STEP]
  : [];

/** `tincan run ARGS…` with the runtime under test. */
export function run(
  args: readonly string[],
  options?: RunOptions,
): Promise<RunOutput> {
  return runTincan([...STEP_FLAGS, 'run', ...args], options);
}

let helpText: string | undefined;

/** Whether the final runtime's `run` knows `flag` (e.g. `--add`). */
export function runHas(flag: string): boolean {
  helpText ??= execFileSync(
    process.execPath,
    [TINCAN_BIN, ...STEP_FLAGS, 'run', '--help'],
    { encoding: 'utf8' },
  );
  return new RegExp(`(^|[\\s,])${flag}\\b`, 'm').test(helpText);
}

/** Whether the final runtime has the subcommand `name` (e.g. `gc`). */
export function hasCommand(name: string): boolean {
  const help = execFileSync(
    process.execPath,
    [TINCAN_BIN, ...STEP_FLAGS, '--help'],
    { encoding: 'utf8' },
  );
  return new RegExp(`^\\s+${name}\\b`, 'm').test(help);
}

/** Programs a `tincan rootfs create` root needs for the shell cases. */
export const ROOTFS_PROGRAMS = [
  ...DEFAULT_PROGRAMS,
  'unshare',
  'chroot',
  'setsid',
  'kill',
  'dd',
  'tr',
];

/** Mount points the suite binds into a root (the probe, E2's script). */
export const BIND_POINTS = ['probe', 'e2'];

/** A root filesystem of one kind, and the flags that select it. */
export interface TestRoot {
  kind: RootKind;
  flags: string[];
  dir?: string;
  cleanup(): void;
}

/**
 * Make a root of `kind`: the runtime's default root needs nothing; a
 * `rootfs` root is built with `tincan rootfs create`, and fails clearly
 * while the runtime has no such command.
 */
export async function makeRoot(kind: RootKind): Promise<TestRoot> {
  if (kind === 'default') return { kind, flags: [], cleanup: () => {} };
  const dir = mkdtempSync('/tmp/secroot-');
  const out = await runTincan(
    [
      ...STEP_FLAGS,
      'rootfs',
      'create',
      '--from-host',
      ROOTFS_PROGRAMS.join(','),
      dir,
    ],
    { timeoutMs: 120_000 },
  );
  if (out.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `tincan rootfs create failed (exit ${String(out.code)}): ` +
        `${out.stderr.trim()} - the rootfs variant needs the mounts step's ` +
        "'tincan rootfs create'",
    );
  }
  chmodSync(dir, 0o755);
  // The container's root may not create directories in a root it does not
  // own, so the bind mount points are made here, as a user would.
  for (const name of BIND_POINTS) mkdirSync(path.join(dir, name), 0o755);
  return {
    kind,
    dir,
    flags: ['--mount', dir],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The probe built for this test file, and how containers reach it. */
export interface Probe {
  /** the host directory holding `probe` */
  dir: string;
  /** the probe's host path */
  hostPath: string;
  /** the probe's path inside a container */
  path: string;
  /** flags that bind the probe into a container */
  flags: string[];
  cleanup(): void;
}

/**
 * Compile test/security/fixtures/probe.c with `gcc -static -O2` into a temp
 * dir. With the mounts step the dir is bound at /probe read-only; before
 * it, the host root is the container's root and the host path works.
 */
export function buildProbe(): Probe {
  const dir = mkdtempSync('/tmp/secprobe-');
  chmodSync(dir, 0o755);
  const hostPath = path.join(dir, 'probe');
  try {
    execFileSync(
      'gcc',
      [
        '-static',
        '-O2',
        '-pthread',
        '-o',
        hostPath,
        path.join(__dirname, 'fixtures/probe.c'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? err);
    throw new Error(
      `gcc -static failed: ${stderr.trim()} (Debian needs gcc and libc6-dev, ` +
        'which holds libc.a)',
    );
  }
  const bind = runHas('--add');
  return {
    dir,
    hostPath,
    path: bind ? '/probe/probe' : hostPath,
    flags: bind ? ['--add', `${dir}:/probe:ro`] : [],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The last JSON object a probe printed. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'));
  const last = lines[lines.length - 1];
  if (last === undefined) {
    throw new Error(`the probe printed no JSON; stdout: ${stdout}`);
  }
  return JSON.parse(last) as T;
}

/** One attempted syscall, as the probe reports it. */
export interface Attempt {
  ret?: number;
  errno?: string;
  signal?: number;
  exit?: number;
}

/** Whether an attempt was refused (an error, or killed by the kernel). */
export function refused(a: Attempt | undefined): boolean {
  if (!a) return false;
  if (a.signal !== undefined) return true;
  return a.ret !== undefined && a.ret < 0;
}

/** The one attempt of a single-attempt probe's output. */
export function only(json: Record<string, unknown>): Attempt | undefined {
  return Object.values(json).find(
    (v): v is Attempt => typeof v === 'object' && v !== null,
  );
}

/** A probe's report. */
export interface Report {
  pid: number;
  namespaces: Record<string, string | null>;
  uid_map: string | null;
  gid_map: string | null;
  setgroups: string | null;
  uids: number[];
  gids: number[];
  groups: number[];
  status: Record<string, string>;
  threads: Record<string, Record<string, string>>;
  mountinfo: string[];
  masked: Record<
    string,
    {
      exists: boolean;
      readable?: boolean;
      bytes?: number;
      entries?: number;
      dir?: boolean;
      errno?: string;
    }
  >;
  cgroup: string[];
  cgroup_limits: Record<string, string>;
  own_cgroup_limits: Record<string, string>;
  rlimits: Record<string, [number | 'unlimited', number | 'unlimited']>;
  fds: Record<string, string>;
  links: Record<string, string | null>;
  hostname: string;
  tasks: number;
}

/** A container run of the probe: the run's output and the JSON it printed. */
export interface ProbeRun<T> {
  out: RunOutput;
  json: T;
}

/**
 * A root of `kind` for one describe block: made before its tests, removed
 * after them. Like useProbe, the object is filled in by beforeAll.
 */
export function useRoot(kind: RootKind): TestRoot {
  const root = {} as TestRoot;
  beforeAll(async () => {
    Object.assign(root, await makeRoot(kind));
  });
  afterAll(() => root.cleanup?.());
  return root;
}

/**
 * The probe for one test file: built (as root) before its tests, removed
 * after them. The object is filled in by beforeAll, so take fields from it
 * inside tests and hooks, not at the top of the file.
 */
export function useProbe(): Probe {
  const probe = {} as Probe;
  beforeAll(() => {
    requireRoot();
    Object.assign(probe, buildProbe());
  });
  afterAll(() => probe.cleanup?.());
  return probe;
}

/** Run `probe ARGS…` in a container on `root`, with extra tincan `flags`. */
export async function probeIn<T = Record<string, Attempt | string>>(
  root: TestRoot,
  probe: Probe,
  args: readonly string[],
  flags: readonly string[] = [],
  options?: RunOptions,
): Promise<ProbeRun<T>> {
  const out = await run(
    [...root.flags, ...probe.flags, ...flags, '--', probe.path, ...args],
    options,
  );
  let json: T;
  try {
    json = lastJson<T>(out.stdout);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\nexit ${String(out.code)}, stderr: ${out.stderr}`,
    );
  }
  return { out, json };
}

/** Run `sh -c SCRIPT` in a container on `root`. */
export function shOn(
  root: TestRoot,
  script: string,
  flags: readonly string[] = [],
  options?: RunOptions,
): Promise<RunOutput> {
  return run([...root.flags, ...flags, '--', '/bin/sh', '-c', script], options);
}

// ------------------------------------------------------------ processes

/** Processes this suite started, tracked by PID. */
export class Tracker {
  readonly children = new Set<ChildProcess>();

  /** Spawn `tincan ARGS…` and track it until it exits. */
  spawnTincan(args: readonly string[]): ChildProcess {
    const child = spawn(
      process.execPath,
      [TINCAN_BIN, ...STEP_FLAGS, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    // Drain the pipes, so a chatty child never blocks on a full one.
    child.stdout?.resume();
    child.stderr?.resume();
    return child;
  }

  /** SIGKILL every tracked child still running, by PID. */
  killAll(): void {
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

/** Resolve when `child` has exited; its code and signal. */
export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
}

/** The init entry this checkout's runtime starts inside every container. */
export const INIT_ENTRY = path.join(ROOT, 'packages/cli/dist/init-entry.js');

/**
 * What marks a process as one this suite started: a string found in its
 * command line (arguments joined by NUL, as in /proc/PID/cmdline), or a
 * test of its argument vector.
 */
export type Marker = string | ((argv: string[]) => boolean);

/** A `sleep SECONDS` process itself (never a tincan or shell naming it). */
export function sleepOf(seconds: string): Marker {
  return (argv) =>
    path.basename(argv[0] ?? '') === 'sleep' && argv[1] === seconds;
}

/** PIDs of live (non-zombie) processes that one of `markers` marks. */
export function processesMatching(markers: readonly Marker[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const argv = cmdline.split('\0');
      const marked = markers.some((m) =>
        typeof m === 'string' ? cmdline.includes(m) : m(argv),
      );
      if (!marked) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^\d+ \(.*\) [ZX]/.test(stat)) continue;
      found.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Kill (by PID) processes left with one of `markers`; return their PIDs. */
export function killLeftovers(markers: readonly Marker[]): number[] {
  const left = processesMatching(markers);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return left;
}

/** Wait `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** Whether a cgroup directory holds processes (a running container's). */
function populated(dir: string): boolean {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/** The directories of the cgroups this process is in, one per hierarchy. */
function ownCgroupDirs(): string[] {
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, ctrls = '', rel = ''] = m;
    const names =
      ctrls === ''
        ? ['', 'unified']
        : [ctrls, ...ctrls.split(',').map((c) => c.replace(/^name=/, ''))];
    for (const n of names) {
      dirs.push(path.join('/sys/fs/cgroup', n, rel));
    }
  }
  return dirs;
}

/**
 * Container names (tincan-ID) with a cgroup outside the cgroups this
 * process is in: tincan makes its cgroups beneath the cgroup it runs in,
 * so those belong to a tincan another session on this machine started.
 */
function foreignIds(cgroups: readonly string[]): Set<string> {
  const own = ownCgroupDirs();
  const foreign = new Set<string>();
  for (const c of cgroups) {
    const parent = path.dirname(c);
    const hierarchy = path.relative('/sys/fs/cgroup', c).split('/')[0] ?? '';
    const ours = own.filter(
      (d) =>
        (path.relative('/sys/fs/cgroup', d).split('/')[0] ?? '') === hierarchy,
    );
    const inside = ours.some((d) => parent === d || parent.startsWith(`${d}/`));
    if (ours.length > 0 && !inside) foreign.add(path.basename(c));
  }
  return foreign;
}

/**
 * Host traces tincan may leave, flattened to one list of strings. Cgroups
 * that hold processes belong to containers still running (other tests on
 * this machine may run some); a leak is an empty one.
 */
export function traceList(): string[] {
  const t = hostTraces();
  const foreign = foreignIds(t.cgroups);
  const cgroups = t.cgroups.filter(
    (c) => !populated(c) && !foreign.has(path.basename(c)),
  );
  return [
    ...cgroups.map((c) => `cgroup ${c}`),
    ...t.mounts.map((m) => `mount ${m}`),
    ...t.tmp.map((d) => `tmp /tmp/${d}`),
  ];
}

/**
 * Traces that are not in `baseline` and stay for `settleMs`: other
 * runtimes' tests may run on this machine at the same time, and their
 * containers' traces come and go, while a leak stays.
 */
export async function leftTraces(
  baseline: readonly string[],
  settleMs = 3000,
): Promise<string[]> {
  const before = new Set(baseline);
  let left = traceList().filter((t) => !before.has(t));
  const deadline = Date.now() + settleMs;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(250);
    const now = new Set(traceList());
    left = left.filter((t) => now.has(t));
  }
  return left;
}

/** Whether `path` exists (for readable assertions). */
export const exists = (p: string): boolean => existsSync(p);

/** What each `tincan gc` of this test file printed. */
export const gcLog: string[] = [];

/**
 * `tincan gc` once the cgroups are old enough for it (it leaves young ones
 * to a tincan that may still be starting): 'ok', or what went wrong.
 */
export async function gc(): Promise<string> {
  if (!hasCommand('gc')) {
    return 'tincan has no gc command (it comes with the resources step)';
  }
  await sleep(6000);
  const out = await runTincan([...STEP_FLAGS, 'gc']);
  gcLog.push(out.stdout);
  return out.code === 0 ? 'ok' : `gc exit ${String(out.code)}: ${out.stderr}`;
}

/** The cgroup files whose values the resource cases compare. */
const LIMIT_FILES = [
  'pids.max',
  'memory.max',
  'memory.swap.max',
  'cpu.max',
  'memory.limit_in_bytes',
  'memory.memsw.limit_in_bytes',
  'cpu.cfs_quota_us',
  'cpu.cfs_period_us',
];

/**
 * The limits of the cgroups process `pid` is in, read on the host (where
 * /proc/PID/cgroup gives full paths whatever the container's cgroup
 * namespace shows), keyed by file name.
 */
export function hostCgroupLimits(pid: number): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, ctrls = '', rel = ''] = m;
    const dirs =
      ctrls === ''
        ? [`/sys/fs/cgroup${rel}`, `/sys/fs/cgroup/unified${rel}`]
        : [
            `/sys/fs/cgroup/${ctrls}${rel}`,
            ...ctrls
              .split(',')
              .map((c) => `/sys/fs/cgroup/${c.replace(/^name=/, '')}${rel}`),
          ];
    for (const dir of dirs) {
      for (const file of LIMIT_FILES) {
        if (file in found) continue;
        try {
          found[file] = readFileSync(path.join(dir, file), 'utf8').trim();
        } catch {
          // not this controller's file, or no such cgroup
        }
      }
    }
  }
  return found;
}

/**
 * Run `sleep MARKER` in a container with `flags`, call `inspect` with the
 * sleep's host PID while it runs, then kill it (by PID) and wait for tincan.
 */
export async function whileRunning<T>(
  tracker: Tracker,
  flags: readonly string[],
  inspect: (pid: number) => T,
): Promise<T> {
  const marker = `${3000 + (process.pid % 1000)}.${Date.now() % 100000}`;
  const sleeping = sleepOf(marker);
  const child = tracker.spawnTincan(['run', ...flags, '--', 'sleep', marker]);
  try {
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length === 0; i++) {
      if (child.exitCode !== null) break;
      await sleep(100);
      pids = processesMatching([sleeping]);
    }
    const pid = pids[0];
    if (pid === undefined) {
      throw new Error(
        `the container never ran sleep (tincan exit ${String(child.exitCode)})`,
      );
    }
    return inspect(pid);
  } finally {
    killLeftovers([sleeping]);
    tracker.killAll();
    await exited(child);
  }
}
