// Rootless mode: tincan run by users without root. The users come from
// test/rootless/setup-users.sh, which .ci/run calls:
//   tc-single  no subordinate range: one-id maps, setgroups denied
//   tc-subuid  a range in /etc/subuid and /etc/subgid: newuidmap maps it

import { spawn, spawnSync } from 'node:child_process';
import {
  TINCAN_BIN,
  requireRoot,
  stepsFrom,
  type RunOutput,
} from '../helpers/tincan';

function idOf(user: string, flag: '-u' | '-g'): number {
  const out = spawnSync('id', [flag, user], { encoding: 'utf8' });
  if (out.status !== 0) {
    throw new Error(
      `no user ${user}: run test/rootless/setup-users.sh as root`,
    );
  }
  return Number(out.stdout.trim());
}

/** Run tincan as `user`, with no supplementary groups. */
function runAs(user: string, args: string[]): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'setpriv',
      [
        '--reuid',
        user,
        '--regid',
        user,
        '--clear-groups',
        '--',
        process.execPath,
        TINCAN_BIN,
        ...args,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

beforeAll(() => {
  requireRoot();
  const readable = spawnSync('setpriv', [
    '--reuid',
    'tc-single',
    '--regid',
    'tc-single',
    '--clear-groups',
    'test',
    '-r',
    TINCAN_BIN,
  ]);
  if (readable.status !== 0) {
    throw new Error(
      `${TINCAN_BIN} is not readable by tc-single: the rootless tests need a checkout every user can read`,
    );
  }
});

describe.each(stepsFrom('namespaces'))('step %s runtime, rootless', (step) => {
  test('one id: the user is root inside, mapped to itself', async () => {
    const uid = idOf('tc-single', '-u');
    const out = await runAs('tc-single', [
      '--step',
      step,
      'run',
      '--',
      '/bin/sh',
      '-c',
      'id -u; cat /proc/self/uid_map; cat /proc/self/setgroups',
    ]);
    expect(out.stderr).not.toMatch(/error|EPERM/i);
    expect(out.code).toBe(0);
    const [id, map, setgroups] = out.stdout.trim().split('\n');
    expect(id).toBe('0');
    expect(map?.trim().split(/\s+/)).toEqual(['0', String(uid), '1']);
    expect(setgroups).toBe('deny');
  });

  test('one id: another uid or a chosen map is refused with the reason', async () => {
    const other = await runAs('tc-single', [
      '--step',
      step,
      'run',
      '--uid',
      '5',
      'true',
    ]);
    expect(other.code).toBe(125);
    expect(other.stderr).toMatch(
      /--uid 5: rootless with one id maps only id 0: no range for this user/,
    );
    const map = await runAs('tc-single', [
      '--step',
      step,
      'run',
      '--uidmap',
      '0:1:1',
      'true',
    ]);
    expect(map.code).toBe(125);
    expect(map.stderr).toMatch(/--uidmap: rootless mode maps/);
  });

  test('a subordinate range: newuidmap maps 65536 more ids', async () => {
    const uid = idOf('tc-subuid', '-u');
    const out = await runAs('tc-subuid', [
      '--step',
      step,
      'run',
      '--debug',
      '--uid',
      '1000',
      '--',
      '/bin/sh',
      '-c',
      'id -u; cat /proc/self/uid_map; grep "^Groups:" /proc/self/status',
    ]);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/rootless \(newuidmap\)/);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('1000');
    expect(lines[1]?.trim().split(/\s+/)).toEqual(['0', String(uid), '1']);
    expect(lines[2]?.trim().split(/\s+/).slice(0, 2)).toEqual([
      '1',
      expect.stringMatching(/^\d+$/),
    ]);
    expect(lines[3]?.trim()).toBe('Groups:');
  });
});

describe.each(stepsFrom('resources'))(
  'step %s runtime, rootless limits',
  (step) => {
    test('without a delegated cgroup: a loud warning, or a failure with --strict-limits', async () => {
      const loud = await runAs('tc-single', [
        '--step',
        step,
        'run',
        '--',
        'true',
      ]);
      expect(loud.code).toBe(0);
      expect(loud.stderr).toMatch(
        /warning: rootless: .*limits are NOT enforced/,
      );
      const strict = await runAs('tc-single', [
        '--step',
        step,
        'run',
        '--strict-limits',
        '--',
        'true',
      ]);
      expect(strict.code).toBe(125);
      expect(strict.stderr).toMatch(/resources: mkdir\(.*EACCES/);
    });

    test('with --no-limits nothing is lost, so there is no warning', async () => {
      const out = await runAs('tc-single', [
        '--step',
        step,
        'run',
        '--no-limits',
        '--',
        'true',
      ]);
      expect(out.code).toBe(0);
      expect(out.stderr).toBe('');
    });
  },
);
