// Step 1 behaviours, checked against the step-1 runtime and every later
// one: exit statuses, the environment, fds, signals, bad input.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT,
  TINCAN_BIN,
  requireRoot,
  runIn,
  runTincan,
  shIn,
  stepsFrom,
} from '../helpers/tincan';

beforeAll(requireRoot);

/** Whether `pid` is gone (or a zombie) within two seconds. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe.each(stepsFrom('cli'))('step %s runtime', (step) => {
  test('exits with the command status', async () => {
    const out = await shIn(step, 'exit 3');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(3);
  });

  test('a missing command exits 127 and names it', async () => {
    const out = await runIn(step, ['--', '/nonexistent']);
    expect(out.code).toBe(127);
    expect(out.stderr).toMatch(/\/nonexistent/);
    const bare = await runIn(step, ['--', 'no-such-command-xyz']);
    expect(bare.code).toBe(127);
    expect(bare.stderr).toMatch(/no-such-command-xyz: command not found/);
  });

  test('a file that cannot be executed exits 126', async () => {
    const out = await runIn(step, ['--', '/etc/hostname']);
    expect(out.code).toBe(126);
    expect(out.stderr).toMatch(/\/etc\/hostname/);
    const dir = await runIn(step, ['--', '/usr']);
    expect(dir.code).toBe(126);
  });

  test("only fds 0-2 (and ls's own) reach the command", async () => {
    const out = await shIn(step, 'ls /proc/self/fd');
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
  });

  test('SIGPIPE is back to its default: yes | head ends at once', async () => {
    const out = await shIn(step, 'yes | head -n1', [], { timeoutMs: 10_000 });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('y\n');
  });

  test('no signal is ignored or blocked in the command', async () => {
    const out = await shIn(step, 'grep -E "^Sig(Ign|Blk)" /proc/self/status');
    expect(out.stdout).toMatch(/SigBlk:\s+0000000000000000/);
    expect(out.stdout).toMatch(/SigIgn:\s+0000000000000000/);
  });

  test('--env, --workdir and -c are applied', async () => {
    const out = await runIn(step, [
      '-e',
      'GREETING=hello world',
      '-w',
      '/tmp',
      '-c',
      'sh -c \'echo "$GREETING"; pwd; echo "$PATH"\'',
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      'hello world\n/tmp\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n',
    );
  });

  test('the environment holds only the documented variables', async () => {
    const out = await runIn(step, ['-e', 'A=1', '--', 'env'], {
      env: { SECRET_ON_HOST: 'x', TERM: 'xterm' },
    });
    const keys = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0])
      .sort();
    expect(keys).not.toContain('SECRET_ON_HOST');
    expect(keys).toEqual(expect.arrayContaining(['A', 'HOME', 'PATH', 'TERM']));
  });

  test('a command killed by signal N exits 128+N', async () => {
    // SIGKILL from outside works on a PID 1 too (later steps).
    const out = await runIn(step, ['--debug', '--', 'sleep', '30'], {
      onSpawn: (child) => {
        let seen = '';
        child.stderr?.on('data', (d: Buffer) => {
          seen += d.toString();
          const m = /execve\("[^"]*sleep"/.exec(seen);
          const pid = /clone\([^)]*\) = (\d+)/.exec(seen);
          if (m && pid) {
            seen = '';
            setTimeout(() => process.kill(Number(pid[1]), 'SIGKILL'), 300);
          }
        });
      },
    });
    expect(out.code).toBe(137);
  });

  test('SIGTERM sent to tincan reaches the command', async () => {
    const out = await shIn(
      step,
      'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done',
      [],
      {
        onSpawn: (child) => {
          child.stdout?.on('data', (d: Buffer) => {
            if (d.toString().includes('ready')) child.kill('SIGTERM');
          });
        },
      },
    );
    expect(out.stdout).toContain('got TERM');
    expect(out.code).toBe(7);
  });

  test('a command that ignores SIGTERM is killed after --stop-timeout', async () => {
    const out = await shIn(
      step,
      'trap "" TERM; echo ready; while :; do sleep 0.1; done',
      ['--stop-timeout', '1'],
      {
        onSpawn: (child) => {
          child.stdout?.on('data', (d: Buffer) => {
            if (d.toString().includes('ready')) child.kill('SIGTERM');
          });
        },
      },
    );
    expect(out.code).toBe(137);
    expect(out.stderr).toMatch(/did not stop within 1s/);
  });

  test('tincan killed with SIGKILL leaves no container process', async () => {
    let initPid = 0;
    await runIn(step, ['--debug', '--', 'sleep', '60'], {
      onSpawn: (child) => {
        let seen = '';
        child.stderr?.on('data', (d: Buffer) => {
          seen += d.toString();
          const pid = /clone\([^)]*\) = (\d+)/.exec(seen);
          if (pid && /execve\("[^"]*sleep"/.test(seen) && !initPid) {
            initPid = Number(pid[1]);
            child.kill('SIGKILL');
          }
        });
      },
    });
    expect(initPid).toBeGreaterThan(0);
    expect(await gone(initPid)).toBe(true);
    if (stepsFrom('resources').includes(step)) {
      // A SIGKILLed tincan cannot remove its cgroups: tincan gc does.
      const gc = await runTincan(['--step', step, 'gc', '--min-age', '0']);
      expect(gc.stdout).toMatch(/removed: .*tincan[-/]/);
    }
  });

  test('an interactive sh on a terminal works, in a session of its own', () => {
    // script(1) gives tincan a pty as its terminal, as a user's shell would.
    const out = spawnSync(
      'script',
      [
        '-qec',
        `${process.execPath} ${TINCAN_BIN} --step ${step} run -- /bin/sh -i`,
        '/dev/null',
      ],
      {
        input:
          'echo "sid $(cut -d" " -f6 /proc/self/stat) tty $(cut -d" " -f7 /proc/self/stat)"\nexit 4\n',
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(out.status).toBe(4);
    // No controlling terminal inside (tty_nr 0): nothing in the container
    // can push input into the host's terminal.
    expect(out.stdout).toMatch(/sid \d+ tty 0/);
  });

  test("--debug relays the init's lines tagged with the stage", async () => {
    const out = await shIn(step, 'true', ['--debug']);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/tincan\[parent:cli\] .*clone\(/);
    expect(out.stderr).toMatch(/tincan\[init\] .*execve\(/);
  });
});

describe('bad input exits 125 with one line naming it', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', ['run', '--bogus'], /--bogus: unknown option/],
    ['no command', ['run'], /command: missing/],
    ['an empty -c', ['run', '-c', ''], /--command: the command line is empty/],
    ['shell syntax in -c', ['run', '-c', 'ls | wc'], /--command: shell syntax/],
    [
      'a config too big for one message to the init',
      // (one argument may hold 128 KiB at most: execve's own limit)
      [
        'run',
        ...['A', 'B', 'C'].flatMap((k) => ['-e', `${k}=${'x'.repeat(70_000)}`]),
        'true',
      ],
      /the command, its arguments and --env: \d+ bytes in all; at most \d+ fit/,
    ],
    [
      'an unclosed quote in -c',
      ['run', '-c', "echo 'hi"],
      /--command: the ' quote is never closed/,
    ],
    [
      'an --env without =',
      ['run', '-e', 'FOO', 'true'],
      /--env FOO: expected KEY=VALUE/,
    ],
    [
      'a relative --workdir',
      ['run', '-w', 'tmp', 'true'],
      /--workdir tmp: must be an absolute path/,
    ],
    [
      'an unknown step',
      ['--step', 'nope', 'run', 'true'],
      /--step nope: unknown step; known steps: 1\/cli/,
    ],
    ['an unknown subcommand', ['frobnicate'], /frobnicate/],
  ];
  test.each(cases)('%s', async (_name, args, message) => {
    const out = await runTincan(args);
    expect(out.code).toBe(125);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^tincan: /);
  });
});

describe('the command line', () => {
  test('--help explains every run option with its default', async () => {
    const out = await runTincan(['run', '--help']);
    expect(out.code).toBe(0);
    for (const flag of [
      '--command',
      '--debug',
      '--env',
      '--workdir',
      '--stop-timeout',
    ]) {
      expect(out.stdout).toContain(flag);
    }
    expect(out.stdout).toMatch(/default:\s+"\/"/);
  });

  test('tincan alone shows the usage', async () => {
    const out = await runTincan([]);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/^Usage: tincan \[options\] \[command\]/);
    expect(out.stderr).toMatch(/^ {2}run /m);
  });

  test('--version prints the version', async () => {
    const out = await runTincan(['--version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("check --container checks each step's promises from the inside", async () => {
    const out = await runTincan(['check', '--container']);
    const inside = out.stdout.split('\n').filter((l) => l.includes('inside:'));
    expect(inside.length).toBeGreaterThanOrEqual(1);
    for (const line of inside) expect(line).toMatch(/^ok\s/);
  });

  test('check prints a verdict per line', async () => {
    const out = await runTincan(['check']);
    expect(out.stdout).toMatch(/^ok\s+kernel\s+\d/m);
    expect(out.stdout).toMatch(/^ok\s+libc\s+glibc/m);
    expect(out.stdout).toMatch(/^\w+\s+cgroups\s+(v1|v2|hybrid)/m);
    expect(out.stdout).toMatch(/^ok\s+seccomp/m);
    expect(out.stdout).toMatch(/^ok\s+running as\s+root/m);
  });
});

describe('the bundles npm run build makes', () => {
  const dist = path.join(ROOT, 'packages/cli/dist');
  const manifest = path.join(dist, 'init.bundle.json');

  test('parent and init run from their bundles while they are fresh', async () => {
    const out = await runTincan(['run', '--debug', '--', '/bin/true']);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /the parent runs from tincan\.bundle\.js; the init runs from init\.bundle\.js/,
    );
  });

  test('TINCAN_NO_BUNDLE=1 runs the modules in dist/ themselves', async () => {
    const out = await runTincan(
      ['run', '--debug', '--', '/bin/sh', '-c', 'echo ran'],
      { env: { TINCAN_NO_BUNDLE: '1' } },
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('ran\n');
    expect(out.stderr).toMatch(
      /the parent runs from container\.js \(TINCAN_NO_BUNDLE is set\); the init loads its modules one by one: TINCAN_NO_BUNDLE is set/,
    );
  });

  // As if a step had been rebuilt with tsc alone, or the cache replaced (V8
  // checks a cache against its source by length only): the manifest gets a
  // different size for one file, and the real one is put back whatever
  // happens.
  test.each([
    ['an input', 'inputs', 0],
    ['the code cache', 'outputs', 1],
  ] as const)(
    'when %s changed, the init bundle is not used and the container still runs',
    async (_what, list, index) => {
      const real = readFileSync(manifest, 'utf8');
      const stale = JSON.parse(real) as Record<
        'inputs' | 'outputs',
        { file: string; size: number }[]
      >;
      const entry = stale[list][index];
      if (!entry) throw new Error(`${manifest} has no ${list}[${index}]`);
      entry.size += 1;
      try {
        writeFileSync(manifest, JSON.stringify(stale));
        const out = await runTincan([
          'run',
          '--debug',
          '--',
          '/bin/sh',
          '-c',
          'echo ran',
        ]);
        expect(out.code).toBe(0);
        expect(out.stdout).toBe('ran\n');
        expect(out.stderr).toContain(
          `the init loads its modules one by one: ${path.resolve(dist, entry.file)} changed since the bundle was built`,
        );
      } finally {
        writeFileSync(manifest, real);
      }
    },
  );
});
