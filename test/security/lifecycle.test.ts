// Lifecycle cases L1-L3 of design/security-cases.md: signals, the death of
// tincan, cleanup on every exit path. The final runtime, default root.

import { readdirSync, readFileSync } from 'node:fs';
import {
  exited,
  gc,
  INIT_ENTRY,
  killLeftovers,
  leftTraces,
  processesMatching,
  requireRoot,
  run,
  sleep,
  sleepOf,
  traceList,
  Tracker,
} from './helpers';

const tracker = new Tracker();
/** A sleep length no other process on the machine uses: our marker. */
const marker = `${1000 + (process.pid % 1000)}.${Date.now() % 100000}`;
/** The marker sleep itself. */
const SLEEPING = sleepOf(marker);

beforeAll(requireRoot);

afterEach(() => {
  tracker.killAll();
  killLeftovers([SLEEPING]);
});

/** Spawn `tincan run ARGS…`; resolve once its stdout shows `ready`. */
function startReady(args: string[]): {
  child: ReturnType<Tracker['spawnTincan']>;
  ready: Promise<void>;
} {
  const child = tracker.spawnTincan(['run', ...args]);
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`tincan exited: ${seen}`)));
  });
  return { child, ready };
}

/** Wait until no process with the marker is alive, up to `ms`. */
async function noneLeft(ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesMatching([SLEEPING]);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesMatching([SLEEPING]);
  }
  return left;
}

/** Zombies whose parent is this test process. */
function zombieChildren(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const m = /\) (\S) (\d+)/.exec(stat);
      if (m?.[1] === 'Z' && Number(m[2]) === process.pid) {
        found.push(Number(name));
      }
    } catch {
      // gone
    }
  }
  return found;
}

describe('L1 PID 1 and signals', () => {
  test('L1 SIGTERM to tincan reaches the command, which exits 143', async () => {
    const { child, ready } = startReady([
      '--',
      '/bin/sh',
      '-c',
      `trap 'echo got TERM; exit 143' TERM; echo ready; ` +
        `sleep ${marker} & wait`,
    ]);
    await ready;
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(143);
    expect(await noneLeft(2000)).toEqual([]);
  });

  test('L1 a command that ignores SIGTERM is killed after the grace period: 137', async () => {
    const { child, ready } = startReady([
      '--stop-timeout',
      '1',
      '--',
      '/bin/sh',
      '-c',
      `trap '' TERM; echo ready; while :; do sleep ${marker}; done`,
    ]);
    await ready;
    const sent = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(137);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(900);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(await noneLeft(2000)).toEqual([]);
  });

  test('L1 a bare PID 1 without a handler still stops on SIGTERM', async () => {
    const { child, ready } = startReady([
      '--stop-timeout',
      '1',
      '--',
      '/bin/sh',
      '-c',
      `echo ready; exec sleep ${marker}`,
    ]);
    await ready;
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect([143, 137]).toContain(code);
    expect(await noneLeft(2000)).toEqual([]);
  });
});

describe('L2 parent death', () => {
  test('L2 kill -9 of tincan leaves no orphan two seconds later', async () => {
    const { child, ready } = startReady([
      '--',
      '/bin/sh',
      '-c',
      `echo ready; exec sleep ${marker}`,
    ]);
    await ready;
    // The shell prints "ready" just before it becomes the sleep.
    for (let i = 0; i < 20 && processesMatching([SLEEPING]).length === 0; i++) {
      await sleep(100);
    }
    expect(processesMatching([SLEEPING]).length).toBe(1);
    child.kill('SIGKILL');
    await exited(child);
    expect(await noneLeft(2000)).toEqual([]);
  });

  test('L2 a double-forked setsid sleep dies with tincan too', async () => {
    const { child, ready } = startReady([
      '--',
      '/bin/sh',
      '-c',
      `(setsid sleep ${marker} &) ; echo ready; sleep ${marker}`,
    ]);
    await ready;
    await sleep(200);
    child.kill('SIGKILL');
    await exited(child);
    expect(await noneLeft(2000)).toEqual([]);
  });
});

describe('L3 cleanup', () => {
  const exits: [string, string[], number][] = [
    ['success', ['--', '/bin/true'], 0],
    ['a failing command', ['--', '/bin/sh', '-c', 'exit 3'], 3],
    [
      'a failure in the init (missing workdir)',
      ['-w', '/nonexistent-secwd', '--', '/bin/true'],
      125,
    ],
    ['an exec failure (missing command)', ['--', '/nonexistent-seccmd'], 127],
    ['an exec failure (not executable)', ['--', '/etc/hostname'], 126],
  ];

  test.each(exits)(
    'L3 after %s nothing remains and the next run succeeds',
    async (_what, args, code) => {
      const baseline = traceList();
      const out = await run(args);
      expect(out.code).toBe(code);
      expect(await leftTraces(baseline)).toEqual([]);
      expect(processesMatching([INIT_ENTRY])).toEqual([]);
      expect(zombieChildren()).toEqual([]);
      const next = await run(['--', '/bin/true']);
      expect(next.code).toBe(0);
    },
  );

  test('L3 after a kill nothing remains (with tincan gc) and the next run succeeds', async () => {
    const baseline = traceList();
    const { child, ready } = startReady([
      '--',
      '/bin/sh',
      '-c',
      `echo ready; exec sleep ${marker}`,
    ]);
    await ready;
    child.kill('SIGKILL');
    await exited(child);
    expect(await noneLeft(2000)).toEqual([]);
    expect(await gc()).toBe('ok');
    expect(await leftTraces(baseline)).toEqual([]);
    const next = await run(['--', '/bin/true']);
    expect(next.code).toBe(0);
  });
});
