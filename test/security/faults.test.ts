// Fault injection (issue 9): tincan SIGKILLed at random moments, the init
// killed in each setup phase, exec of a missing command, and root
// filesystems that fail each mount step. After each: no tincan cgroup,
// mount, temp dir or process is left, and the next run succeeds.

import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  exited,
  gc,
  gcLog,
  INIT_ENTRY,
  killLeftovers,
  leftTraces,
  makeRoot,
  processesMatching,
  requireRoot,
  run,
  sleep,
  sleepOf,
  traceList,
  Tracker,
} from './helpers';

const tracker = new Tracker();
const marker = `${2000 + (process.pid % 1000)}.${Date.now() % 100000}`;
/** The marker sleep itself. */
const SLEEPING = sleepOf(marker);
/** Processes of containers this file started. */
const OURS = [SLEEPING, `\0${INIT_ENTRY}\0`];

beforeAll(requireRoot);

afterEach(() => {
  tracker.killAll();
  killLeftovers(OURS);
});

/** Wait until none of our container processes is alive, up to `ms`. */
async function ourProcessesAfter(ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesMatching(OURS);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesMatching(OURS);
  }
  return left;
}

test('faults: 100 runs SIGKILLed 0-500 ms after start leave nothing behind after gc', async () => {
  const RUNS = 100;
  const BATCH = 10;
  const baseline = traceList();
  const orphans: number[] = [];
  const ourNames = new Set<string>();
  const codes: Record<string, number> = {};
  for (let b = 0; b < RUNS / BATCH; b++) {
    const running = [];
    for (let i = 0; i < BATCH; i++) {
      // Half the runs double-fork a setsid sleep: a new session and an
      // orphan that still must die with the container.
      const doubleFork = i % 2 === 1;
      const command = doubleFork
        ? ['/bin/sh', '-c', `(setsid sleep ${marker} &); sleep ${marker}`]
        : ['sleep', marker];
      const child = tracker.spawnTincan(['run', '--debug', '--', ...command]);
      // The debug lines name what this run made (cgroups carry the
      // container id, the staging dir its name): traces are attributed.
      child.stderr?.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/tincan-[0-9a-zA-Z]{6,}/g)) {
          ourNames.add(m[0]);
        }
      });
      const delay = Math.floor(Math.random() * 500);
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // it ended on its own a moment ago
          }
        }
      }, delay);
      running.push(
        exited(child).then(({ code, signal }) => {
          clearTimeout(timer);
          const key = signal ?? String(code);
          codes[key] = (codes[key] ?? 0) + 1;
        }),
      );
    }
    await Promise.all(running);
    const left = await ourProcessesAfter(2000);
    orphans.push(...left);
    killLeftovers(OURS);
  }
  const gcResult = await gc();
  // Other tests on this machine make and remove traces of their own: a
  // long settle lets theirs go; the ones our runs logged are named apart.
  const left = await leftTraces(baseline, 10_000);
  const ours = left.filter((t) => [...ourNames].some((n) => t.includes(n)));
  const unattributed = left.filter((t) => !ours.includes(t));
  const next = await run(['--', '/bin/true']);
  // What gc said about the cgroups that stayed, to tell "too new" and
  // "in use" from "never found".
  const gcSaid = (gcLog[gcLog.length - 1] ?? '')
    .split('\n')
    .filter((l) => ours.some((t) => l.includes(t.split('/').pop() ?? '-')));
  expect({
    orphans,
    gc: gcResult,
    gcSaid: ours.length > 0 ? gcSaid : [],
    traces: { ours, unattributed },
    next: next.code,
  }).toEqual({
    orphans: [],
    gc: 'ok',
    gcSaid: [],
    traces: { ours: [], unattributed: [] },
    next: 0,
  });
  // Every run was killed or ended on its own; none hung.
  expect(Object.values(codes).reduce((a, n) => a + n, 0)).toBe(RUNS);
});

describe('faults: the init killed during each setup phase', () => {
  // The init's debug lines are tagged with the layer doing the work; kill
  // the init when the first line of a layer arrives.
  const phases: [string, RegExp][] = [
    ['start (config read)', /tincan\[init\] .*read the config/],
    ['namespaces', /tincan\[init:namespaces\]/],
    ['mounts', /tincan\[init:mounts\]/],
    ['capabilities', /tincan\[init:capabilities\]/],
    ['resources', /tincan\[init:resources\]/],
    ['seccomp', /tincan\[init:seccomp\]/],
    ['exec', /tincan\[init\] .*execve\(/],
  ];

  test.each(phases)(
    'faults: init killed in %s: tincan fails cleanly',
    async (phase, trigger) => {
      const baseline = traceList();
      const child = tracker.spawnTincan([
        'run',
        '--debug',
        '--',
        'sleep',
        marker,
      ]);
      let seen = '';
      let killed = false;
      child.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        const pid = /clone\([^)]*\) = (\d+)/.exec(seen);
        if (!killed && pid && trigger.test(seen)) {
          killed = true;
          try {
            process.kill(Number(pid[1]), 'SIGKILL');
          } catch {
            // the init is gone already
          }
        }
      });
      const timer = setTimeout(() => tracker.killAll(), 20_000);
      const { code } = await exited(child);
      clearTimeout(timer);
      expect({ phase, logged: killed }).toEqual({ phase, logged: true });
      // The exec phase kills the command itself: 137, like docker.
      expect([125, 137]).toContain(code);
      expect(await ourProcessesAfter(2000)).toEqual([]);
      expect(await leftTraces(baseline)).toEqual([]);
      expect((await run(['--', '/bin/true'])).code).toBe(0);
    },
  );
});

test('faults: exec of a missing command fails with 127 and leaves nothing', async () => {
  const baseline = traceList();
  const out = await run(['--', '/no/such/command']);
  expect(out.code).toBe(127);
  expect(out.stderr.trim().split('\n')).toHaveLength(1);
  expect(await ourProcessesAfter(2000)).toEqual([]);
  expect(await leftTraces(baseline)).toEqual([]);
  expect((await run(['--', '/bin/true'])).code).toBe(0);
});

describe('faults: a root filesystem that fails each mount step', () => {
  // Each breaks one mount the runtime makes in a `tincan rootfs create`
  // root by putting a file where a directory must be.
  const breaks: [string, string, string[]][] = [
    ['proc', 'proc', []],
    ['sys', 'sys', []],
    ['dev', 'dev', []],
    // /tmp gets a tmpfs of its own only under --read-only
    ['tmp (with --read-only)', 'tmp', ['--read-only']],
  ];

  test.each(breaks)(
    'faults: a root whose %s is a file fails with 125 and leaves nothing',
    async (_name, entry, flags) => {
      const root = await makeRoot('rootfs');
      try {
        const target = path.join(root.dir ?? '', entry);
        rmSync(target, { recursive: true, force: true });
        writeFileSync(target, 'not a directory\n');
        const baseline = traceList();
        const out = await run([...root.flags, ...flags, '--', '/bin/true']);
        expect(out.code).toBe(125);
        expect(out.stderr).toMatch(new RegExp(entry));
        expect(await ourProcessesAfter(2000)).toEqual([]);
        expect(await leftTraces(baseline)).toEqual([]);
      } finally {
        root.cleanup();
      }
      expect((await run(['--', '/bin/true'])).code).toBe(0);
    },
  );

  test('faults: an --add whose target lies under a file fails with 125 and leaves nothing', async () => {
    const root = await makeRoot('rootfs');
    try {
      const baseline = traceList();
      const out = await run([
        ...root.flags,
        '--add',
        '/etc/hostname:/bin/sh/x:ro',
        '--',
        '/bin/true',
      ]);
      expect(out.code).toBe(125);
      expect(await leftTraces(baseline)).toEqual([]);
    } finally {
      root.cleanup();
    }
  });
});
