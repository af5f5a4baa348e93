// Step 4 behaviours: Docker's default capability set for root, nothing for
// other uids, nothing inheritable or ambient, no_new_privs, and binaries
// that would raise privileges (setuid root, file capabilities) gaining
// nothing. Security case P1.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALL_STEPS,
  presentSteps,
  requireRoot,
  runIn,
  runTincan,
  shIn,
  stepsFrom,
  TINCAN_BIN,
  type StepName,
} from '../helpers/tincan';

beforeAll(requireRoot);

/** Docker's fourteen, as /proc/PID/status prints them. */
const DEFAULT_SET = '00000000a80425fb';
const NONE = '0000000000000000';
const CAP_CHOWN = 0n;
const CAP_SYS_ADMIN = 21n;
const CAP_NET_ADMIN = 12n;

const hex = (set: bigint): string => set.toString(16).padStart(16, '0');
const bit = (cap: bigint): bigint => 1n << cap;

/** The fields of a /proc/PID/status text, by name. */
function statusFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m?.[1]) fields[m[1]] = (m[2] ?? '').trim();
  }
  return fields;
}

/** The capability lines, NoNewPrivs and Uid of a status text. */
function privileges(text: string) {
  const f = statusFields(text);
  return {
    uid: f.Uid,
    inh: f.CapInh,
    prm: f.CapPrm,
    eff: f.CapEff,
    bnd: f.CapBnd,
    amb: f.CapAmb,
    nnp: f.NoNewPrivs,
  };
}

/** The runtime's own bounding set: a child's is the test's own. */
function hostBoundingSet(): bigint {
  const bnd = statusFields(readFileSync('/proc/self/status', 'utf8')).CapBnd;
  return BigInt(`0x${bnd}`);
}

/**
 * The binaries that would raise privileges, all copies of cat, so that
 * `BINARY /proc/self/status` shows what they were given: a setuid-root
 * one; one with CHOWN and SYS_ADMIN as permitted file capabilities (what a
 * capability-aware program carries); and a "capability-dumb" one with the
 * same capabilities also effective, which the kernel refuses to run at
 * all when it cannot have every one of them.
 */
const FILE_CAPS: Record<string, string | undefined> = {
  'suid-cat': undefined,
  'fcap-cat': 'cap_chown,cap_sys_admin+p',
  'fcap-dumb-cat': 'cap_chown,cap_sys_admin+ep',
};

/**
 * A directory of the binaries above, owned by the container's root so
 * that the kernel honours them inside the user namespace.
 */
interface Fixture {
  /** the directory on the host */
  host: string;
  /** the same directory inside the container */
  inside: string;
  /** the run flags that make it visible inside */
  flags: string[];
}

/** The host ids of the container's root (the first line of each map). */
async function containerRootIds(step: StepName): Promise<[number, number]> {
  const out = await shIn(step, 'cat /proc/self/uid_map /proc/self/gid_map');
  const [uidLine = '', gidLine = ''] = out.stdout.trim().split('\n');
  const hostId = (line: string): number => {
    const [inside, outside] = line.trim().split(/\s+/).map(Number);
    if (inside !== 0 || outside === undefined) {
      throw new Error(`unexpected id map line ${JSON.stringify(line)}`);
    }
    return outside;
  };
  return [hostId(uidLine), hostId(gidLine)];
}

async function makeFixture(step: StepName): Promise<Fixture> {
  const [uid, gid] = await containerRootIds(step);
  const host = mkdtempSync(path.join(os.tmpdir(), 'caps-fixture-'));
  const cat = execFileSync('sh', ['-c', 'command -v cat'], {
    encoding: 'utf8',
  }).trim();
  // From the mounts step on, the container has a root of its own: the
  // binaries go into a --rootfs, which is bound without nosuid (an --add
  // bind is nosuid, and the kernel would then ignore setuid bits and file
  // capabilities on its own, so the control tests would fail and the
  // others pass for the wrong reason).
  const ownRoot =
    presentSteps().includes('mounts') &&
    ALL_STEPS.indexOf(step) >= ALL_STEPS.indexOf('mounts');
  let dir = host;
  if (ownRoot) {
    chmodSync(host, 0o755);
    const made = await runTincan([
      'rootfs',
      'create',
      path.join(host, 'root'),
      '--from-host',
      'sh,cat,grep,mount,umount,readlink,touch,chown,rm,true',
    ]);
    if (made.code !== 0) {
      rmSync(host, { recursive: true, force: true });
      throw new Error(`tincan rootfs create failed: ${made.stderr}`);
    }
    dir = path.join(host, 'root', 'fixture');
    mkdirSync(dir);
  }
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o755);
  for (const [name, caps] of Object.entries(FILE_CAPS)) {
    const file = path.join(dir, name);
    copyFileSync(cat, file);
    // chown clears the setuid bit and file capabilities: set them after.
    chownSync(file, uid, gid);
    chmodSync(file, caps === undefined ? 0o4755 : 0o755);
    if (caps === undefined) continue;
    // -n: a version 3 xattr whose root is the container's root; the
    // kernel ignores file capabilities whose root is not root of the
    // namespace running them.
    try {
      execFileSync('setcap', ['-n', String(uid), caps, file]);
    } catch (err) {
      rmSync(host, { recursive: true, force: true });
      throw new Error(
        `setcap (Debian package libcap2-bin) failed: ${String(err)}`,
      );
    }
  }
  return ownRoot
    ? {
        host,
        inside: '/fixture',
        flags: ['--rootfs', path.join(host, 'root')],
      }
    : { host, inside: host, flags: [] };
}

describe.each(stepsFrom('capabilities'))('step %s runtime', (step) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeFixture(step);
  });
  afterAll(() => {
    if (fx) rmSync(fx.host, { recursive: true, force: true });
  });

  /** Run `script` in a container that sees the fixture. */
  const run = (script: string, flags: string[] = []) =>
    shIn(step, script, [...fx.flags, ...flags]);

  test('root has the default set, nothing inheritable or ambient, no_new_privs', async () => {
    const out = await run('cat /proc/self/status');
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    expect(privileges(out.stdout)).toEqual({
      uid: '0\t0\t0\t0',
      inh: NONE,
      prm: DEFAULT_SET,
      eff: DEFAULT_SET,
      bnd: DEFAULT_SET,
      amb: NONE,
      nnp: '1',
    });
  });

  test('--uid 1000 has nothing permitted or effective; the set still bounds', async () => {
    const out = await run('cat /proc/self/status', ['--uid', '1000']);
    expect(out.code).toBe(0);
    expect(privileges(out.stdout)).toEqual({
      uid: '1000\t1000\t1000\t1000',
      inh: NONE,
      prm: NONE,
      eff: NONE,
      bnd: DEFAULT_SET,
      amb: NONE,
      nnp: '1',
    });
  });

  test('--cap-add with a non-root --uid only reaches the bounding set, with a warning', async () => {
    const out = await run('cat /proc/self/status', [
      '--uid',
      '1000',
      '--cap-add',
      'SYS_ADMIN',
    ]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(
      'tincan: warning: --uid 1000 is not root and gets no capabilities: ' +
        '--cap-add CAP_SYS_ADMIN only reaches the bounding set\n',
    );
    expect(privileges(out.stdout)).toMatchObject({
      prm: NONE,
      eff: NONE,
      bnd: hex(BigInt(`0x${DEFAULT_SET}`) | bit(CAP_SYS_ADMIN)),
    });
  });

  test('mount is refused without CAP_SYS_ADMIN, allowed with --cap-add SYS_ADMIN', async () => {
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
    const script =
      'readlink /proc/self/ns/mnt; ' +
      'mount -t tmpfs none /tmp && grep -c " /tmp tmpfs " /proc/self/mounts && umount /tmp';

    const refused = await run(script);
    const [ns, ...rest] = refused.stdout.trim().split('\n');
    // Never mount anything in the host's mount namespace.
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    expect(rest).toEqual([]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/permission denied|not permitted/i);

    const allowed = await run(script, ['--cap-add', 'SYS_ADMIN']);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout.trim().split('\n').slice(1)).toEqual(['1']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
  });

  test('--cap-drop ALL empties every set, and chown fails', async () => {
    const script =
      'cat /proc/self/status; f=$1/chown.$$; touch "$f"; ' +
      'chown 1:1 "$f"; echo "chown=$?"; rm -f "$f"';
    const withArg = (flags: string[]) =>
      runIn(step, [
        ...fx.flags,
        ...flags,
        '--',
        '/bin/sh',
        '-c',
        script,
        'sh',
        fx.inside,
      ]);

    const dropped = await withArg(['--cap-drop', 'ALL']);
    expect(privileges(dropped.stdout)).toMatchObject({
      inh: NONE,
      prm: NONE,
      eff: NONE,
      bnd: NONE,
      amb: NONE,
    });
    expect(dropped.stdout).toMatch(/^chown=1$/m);
    expect(dropped.stderr).toMatch(/Operation not permitted/);

    // The same chown works with the default set: CAP_CHOWN is what failed.
    const kept = await withArg([]);
    expect(kept.stdout).toMatch(/^chown=0$/m);
    expect(kept.stderr).toBe('');
  });

  test('--cap-add and --cap-drop adjust the default set', async () => {
    const out = await run('cat /proc/self/status', [
      '--cap-drop',
      'chown',
      '--cap-add',
      'CAP_NET_ADMIN',
      '--cap-add',
      'Sys_Admin',
    ]);
    expect(out.code).toBe(0);
    const want = hex(
      (BigInt(`0x${DEFAULT_SET}`) & ~bit(CAP_CHOWN)) |
        bit(CAP_NET_ADMIN) |
        bit(CAP_SYS_ADMIN),
    );
    expect(privileges(out.stdout)).toMatchObject({
      prm: want,
      eff: want,
      bnd: want,
    });
  });

  test('--cap-add ALL gives every capability tincan holds, and warns about the rest', async () => {
    const out = await run('cat /proc/self/status', ['--cap-add', 'ALL']);
    expect(out.code).toBe(0);
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const all = (1n << BigInt(last + 1)) - 1n;
    const held = all & hostBoundingSet();
    expect(privileges(out.stdout)).toMatchObject({
      prm: hex(held),
      eff: hex(held),
      bnd: hex(held),
    });
    if (held === all) expect(out.stderr).toBe('');
    else expect(out.stderr).toMatch(/warning: --cap-add ALL: tincan itself/);
  });

  describe('binaries that would raise privileges gain nothing', () => {
    const statusOf = (binary: string, flags: string[] = []) =>
      run(`${fx.inside}/${binary} /proc/self/status`, flags).then((out) => {
        expect(out.code).toBe(0);
        return privileges(out.stdout);
      });

    test('a setuid-root binary run by uid 1000', async () => {
      expect(await statusOf('suid-cat', ['--uid', '1000'])).toMatchObject({
        uid: '1000\t1000\t1000\t1000',
        prm: NONE,
        eff: NONE,
      });
    });

    test('a file-capability binary run by uid 1000', async () => {
      expect(await statusOf('fcap-cat', ['--uid', '1000'])).toMatchObject({
        uid: '1000\t1000\t1000\t1000',
        prm: NONE,
        eff: NONE,
      });
    });

    test('a file-capability binary run by root keeps to the set', async () => {
      expect(await statusOf('fcap-cat')).toMatchObject({
        prm: DEFAULT_SET,
        eff: DEFAULT_SET,
        bnd: DEFAULT_SET,
      });
    });

    test('either binary run by root after --cap-drop ALL', async () => {
      for (const binary of ['suid-cat', 'fcap-cat']) {
        expect(await statusOf(binary, ['--cap-drop', 'ALL'])).toMatchObject({
          prm: NONE,
          eff: NONE,
          bnd: NONE,
        });
      }
    });

    test('a capability-dumb binary that needs SYS_ADMIN is refused', async () => {
      for (const flags of [
        [],
        ['--uid', '1000'],
        ['--no-new-privileges=false'],
      ]) {
        const out = await run(
          `${fx.inside}/fcap-dumb-cat /proc/self/status`,
          flags,
        );
        expect(out.stdout).toBe('');
        expect(out.stderr).toMatch(/fcap-dumb-cat: Operation not permitted/);
        expect(out.code).toBe(126);
      }
    });

    test('the fixture works: with --no-new-privileges=false they do raise privileges, within the set', async () => {
      const options = findmntOptions(fx.host);
      expect(options).not.toMatch(/(^|,)nosuid(,|$)/);

      const flags = ['--uid', '1000', '--no-new-privileges=false'];
      const suid = await run(`${fx.inside}/suid-cat /proc/self/status`, flags);
      expect(suid.stderr).toMatch(/warning: --no-new-privileges=false/);
      expect(privileges(suid.stdout)).toMatchObject({
        uid: '1000\t0\t0\t0',
        prm: DEFAULT_SET,
        eff: DEFAULT_SET,
        nnp: '0',
      });

      // CAP_SYS_ADMIN is in the file but not in the bounding set.
      expect(await statusOf('fcap-cat', flags)).toMatchObject({
        uid: '1000\t1000\t1000\t1000',
        prm: hex(bit(CAP_CHOWN)),
        eff: NONE,
      });

      // With SYS_ADMIN in the set, the capability-dumb binary runs.
      const both = hex(bit(CAP_CHOWN) | bit(CAP_SYS_ADMIN));
      expect(
        await statusOf('fcap-dumb-cat', [...flags, '--cap-add', 'SYS_ADMIN']),
      ).toMatchObject({ prm: both, eff: both });
    });
  });
});

/** The mount options of the filesystem holding `dir`. */
function findmntOptions(dir: string): string {
  return execFileSync('findmnt', ['-n', '-o', 'VFS-OPTIONS', '-T', dir], {
    encoding: 'utf8',
  }).trim();
}

describe.each(stepsFrom('capabilities'))(
  'step %s: bad input exits 125 with one line naming it',
  (step) => {
    const cases: [string, string[], RegExp][] = [
      [
        'an unknown capability',
        ['--cap-add', 'SYS_ADMN'],
        /^tincan: --cap-add SYS_ADMN: unknown capability/,
      ],
      [
        'an unknown capability dropped',
        ['--cap-drop', 'cap_nothing'],
        /^tincan: --cap-drop cap_nothing: unknown capability/,
      ],
      [
        'CAP_ALL',
        ['--cap-drop', 'CAP_ALL'],
        /^tincan: --cap-drop CAP_ALL: unknown capability/,
      ],
      [
        'a --no-new-privileges that is not true or false',
        ['--no-new-privileges=maybe'],
        /^tincan: --no-new-privileges maybe: expected true or false/,
      ],
    ];
    test.each(cases)('%s', async (_name, flags, message) => {
      const out = await runIn(step, [...flags, '--', 'true']);
      expect(out.code).toBe(125);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(message);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
    });

    test('a capability tincan itself lacks', () => {
      // Take CAP_SYS_RESOURCE out of tincan's own bounding set, whatever
      // this machine gives it (the project's machines lack it already).
      const out = spawnSync(
        'setpriv',
        [
          '--bounding-set',
          '-sys_resource',
          '--',
          process.execPath,
          TINCAN_BIN,
          '--step',
          step,
          'run',
          '--cap-add',
          'sys_resource',
          '--',
          'true',
        ],
        { encoding: 'utf8' },
      );
      expect(out.status).toBe(125);
      expect(out.stderr).toMatch(
        /^tincan: --cap-add sys_resource: tincan itself does not hold CAP_SYS_RESOURCE \(its bounding set is [0-9a-f]{16}\), so it cannot give it\n$/,
      );
    });
  },
);

describe('tincan check', () => {
  test("reports tincan's own bounding set", async () => {
    const out = await runTincan(['check']);
    expect(out.stdout).toMatch(
      new RegExp(
        `^(ok|warn)\\s+capabilities\\s+bounding set ${hex(hostBoundingSet())} of \\d+ capabilities`,
        'm',
      ),
    );
  });

  test('names what tincan lacks', () => {
    const out = spawnSync(
      'setpriv',
      [
        '--bounding-set',
        '-sys_resource',
        '--',
        process.execPath,
        TINCAN_BIN,
        'check',
      ],
      { encoding: 'utf8' },
    );
    expect(out.stdout).toMatch(
      /^warn\s+capabilities\s+bounding set [0-9a-f]{16} .*lacks CAP_SYS_RESOURCE/m,
    );
  });
});

describe.each(stepsFrom('capabilities'))(
  'step %s runtime, rootless',
  (step) => {
    /** Run `grep … /proc/self/status` with tincan started by `user`. */
    const statusAs = (user: string, flags: string[]) => {
      const out = spawnSync(
        'setpriv',
        [
          ...['--reuid', user, '--regid', user, '--clear-groups', '--'],
          ...[process.execPath, TINCAN_BIN, '--step', step, 'run', ...flags],
          ...['--', 'cat', '/proc/self/status'],
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      );
      if (out.status !== 0) {
        throw new Error(
          `tincan as ${user} exited ${out.status}: ${out.stderr}`,
        );
      }
      return privileges(out.stdout);
    };

    test('an unprivileged user gets the same sets (test/rootless users)', () => {
      for (const user of ['tc-single', 'tc-subuid']) {
        expect(statusAs(user, [])).toEqual({
          uid: '0\t0\t0\t0',
          inh: NONE,
          prm: DEFAULT_SET,
          eff: DEFAULT_SET,
          bnd: DEFAULT_SET,
          amb: NONE,
          nnp: '1',
        });
      }
      expect(statusAs('tc-subuid', ['--uid', '1000'])).toMatchObject({
        uid: '1000\t1000\t1000\t1000',
        prm: NONE,
        eff: NONE,
        bnd: DEFAULT_SET,
      });
    });
  },
);
