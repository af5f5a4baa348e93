// Step 2 behaviours: the seven namespaces, the id maps, the hostname.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  requireRoot,
  runTincan,
  shIn,
  stepsFrom,
  type StepName,
} from '../helpers/tincan';

beforeAll(requireRoot);

/** Run `script`, then call `probe` with the init's pid while it runs. */
function whileRunning(
  step: StepName,
  script: string,
  flags: string[],
  probe: (initPid: number) => void,
) {
  return shIn(step, `${script}; echo ready; sleep 1`, ['--debug', ...flags], {
    onSpawn: (child) => {
      let err = '';
      let out = '';
      const maybe = (): void => {
        const pid = /clone\([^)]*\) = (\d+)/.exec(err);
        if (pid && out.includes('ready')) {
          out = '';
          probe(Number(pid[1]));
        }
      };
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        maybe();
      });
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        maybe();
      });
    },
  });
}

describe.each(stepsFrom('namespaces'))('step %s runtime', (step) => {
  test('the command is root of its namespace, PID 1, with a new hostname', async () => {
    const out = await shIn(
      step,
      'id -u; id -g; echo $$; hostname; echo "$HOSTNAME"',
    );
    expect(out.code).toBe(0);
    const [uid, gid, pid, name, envName] = out.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(gid).toBe('0');
    expect(pid).toBe('1');
    expect(name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(name).not.toBe(hostname());
    expect(envName).toBe(name);
  });

  test('the id maps never map host root', async () => {
    const out = await shIn(step, 'cat /proc/self/uid_map /proc/self/gid_map');
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(lines).toEqual([
      ['0', '100000', '65536'],
      ['0', '100000', '65536'],
    ]);
  });

  test('--uidmap/--gidmap choose the range, --uid/--gid the ids', async () => {
    const out = await shIn(step, 'cat /proc/self/uid_map; id -u; id -g', [
      '--uidmap',
      '0:200000:1000',
      '--gidmap',
      '300000:2000',
      '--uid',
      '42',
      '--gid',
      '7',
    ]);
    expect(out.code).toBe(0);
    const [map, uid, gid] = out.stdout.trim().split('\n');
    expect(map?.trim().split(/\s+/)).toEqual(['0', '200000', '1000']);
    expect(uid).toBe('42');
    expect(gid).toBe('7');
  });

  test('supplementary groups are cleared', async () => {
    const out = await shIn(step, 'grep "^Groups:" /proc/self/status');
    expect(out.stdout.trim()).toBe('Groups:');
  });

  test('the uid_map cannot be rewritten from inside', async () => {
    const out = await shIn(
      step,
      "echo '0 0 1' > /proc/self/uid_map && echo wrote",
    );
    expect(out.stdout).not.toContain('wrote');
  });

  test('only lo, up, and loopback TCP works', async () => {
    const out = await shIn(
      step,
      'ip -o link | cut -d: -f2; python3 -c "' +
        "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); " +
        'c=socket.create_connection(s.getsockname()); a,_=s.accept(); ' +
        "c.send(b'ping'); print(a.recv(4).decode())\"",
    );
    expect(out.code).toBe(0);
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((s) => s.trim()),
    ).toEqual(['lo', 'ping']);
    const link = await shIn(step, 'ip -o link show lo');
    expect(link.stdout).toMatch(/<LOOPBACK,UP/);
  });

  test('a SysV IPC object of the host is invisible inside', async () => {
    const id = execFileSync('ipcmk', ['-Q']).toString().match(/\d+/)?.[0] ?? '';
    try {
      const host = execFileSync('ipcs', ['-q']).toString();
      expect(host).toContain(id);
      const out = await shIn(step, 'ipcs -q');
      expect(out.code).toBe(0);
      expect(out.stdout).not.toMatch(new RegExp(`\\b${id}\\b`));
    } finally {
      spawnSync('ipcrm', ['-q', id]);
    }
  });

  test("the cgroup namespace is rooted at the container's cgroup", async () => {
    const out = await shIn(step, 'cat /proc/self/cgroup');
    for (const line of out.stdout.trim().split('\n')) {
      expect(line.split(':')[2]).toBe('/');
    }
  });

  test('from the host, the init runs as the mapped uid, never 0', async () => {
    let uidLine = '';
    let nsLinks: string[] = [];
    const out = await whileRunning(step, 'true', [], (pid) => {
      uidLine =
        /^Uid:.*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[0] ??
        '';
      nsLinks = ['user', 'pid', 'net', 'uts', 'ipc', 'mnt', 'cgroup'].map(
        (ns) => readlinkSync(`/proc/${pid}/ns/${ns}`),
      );
    });
    expect(out.code).toBe(0);
    expect(uidLine.split(/\s+/).slice(1)).toEqual([
      '100000',
      '100000',
      '100000',
      '100000',
    ]);
    const mine = ['user', 'pid', 'net', 'uts', 'ipc', 'mnt', 'cgroup'].map(
      (ns) => readlinkSync(`/proc/self/ns/${ns}`),
    );
    nsLinks.forEach((link, i) => expect(link).not.toBe(mine[i]));
  });

  test('two containers at once: other hostnames, other namespaces', async () => {
    const script =
      'hostname; readlink /proc/self/ns/pid /proc/self/ns/net /proc/self/ns/user; sleep 0.5';
    const [a, b] = await Promise.all([shIn(step, script), shIn(step, script)]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const la = a.stdout.trim().split('\n');
    const lb = b.stdout.trim().split('\n');
    la.slice(1).forEach((link, i) => expect(link).not.toBe(lb[i + 1]));
  });
});

describe('bad namespace input exits 125 before anything is created', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a map that includes host root',
      ['--uidmap', '0:0:65536'],
      /--uidmap 0:0:65536: the range includes host id 0/,
    ],
    ['a zero count', ['--uidmap', '0:100000:0'], /the count is zero/],
    ['a range past 2^32', ['--gidmap', '0:4294967000:1000'], /past 2\^32-1/],
    ['a malformed map', ['--uidmap', 'abc'], /--uidmap abc: expected/],
    [
      'a uid outside the map',
      ['--uid', '70000'],
      /--uid 70000: outside the uid map/,
    ],
    ['a negative uid', ['--uid', '-1'], /--uid -1: not a valid id/],
    [
      'an empty hostname',
      ['--hostname', ''],
      /--hostname "": the name is empty/,
    ],
    [
      'a long hostname',
      ['--hostname', 'a'.repeat(65)],
      /longer than 64 characters/,
    ],
    ['a hostname with /', ['--hostname', 'a/b'], /only letters, digits/],
    ['a hostname with a space', ['--hostname', 'a b'], /only letters, digits/],
    [
      'a hostname with a newline',
      ['--hostname', 'a\nb'],
      /only letters, digits/,
    ],
  ];
  test.each(cases)('%s', async (_name, flags, message) => {
    for (const step of stepsFrom('namespaces')) {
      const out = await runTincan([
        '--step',
        step,
        'run',
        ...flags,
        '--',
        'true',
      ]);
      expect(out.code).toBe(125);
      expect(out.stderr).toMatch(message);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
