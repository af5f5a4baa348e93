// Step 3 behaviours: the container's own root filesystem, its special
// filesystems, binds, masked and read-only paths, and roots that try to
// lead the runtime's mounts out onto the host.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import {
  TINCAN_BIN,
  requireRoot,
  runIn,
  runTincan,
  shIn,
  stepsFrom,
} from '../helpers/tincan';

// The integration project's testTimeout does not reach the tests (jest
// reads it from the global config only), and many of these tests run more
// than one container.
jest.setTimeout(60_000);

beforeAll(requireRoot);

const MASKED = [
  '/proc/kcore',
  '/proc/keys',
  '/proc/timer_list',
  '/proc/sched_debug',
  '/proc/latency_stats',
  '/proc/scsi',
  '/proc/acpi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

const DEV = [
  'fd',
  'full',
  'null',
  'ptmx',
  'pts',
  'random',
  'shm',
  'stderr',
  'stdin',
  'stdout',
  'tty',
  'urandom',
  'zero',
];

function hostMountinfo(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

/** The mount points of a mountinfo text. */
function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '');
}

/**
 * The temp dirs a --debug run says it made that still exist (other
 * tincan runs on the machine may own other /tmp/tincan-* dirs).
 */
function stagingLeft(stderr: string): string[] {
  const made = [...stderr.matchAll(/mkdir (\/tmp\/tincan-\w+) /g)];
  expect(made.length).toBeGreaterThan(0);
  return made.map((m) => m[1] ?? '').filter((dir) => existsSync(dir));
}

/** Every fixture lives under one temp dir, removed at the end. */
let base = '';
/** A root made by `tincan rootfs create` with the default programs. */
let rootfs = '';

/** A fresh copy of a small root, for a malicious variation. */
async function smallRoot(name: string): Promise<string> {
  const dir = path.join(base, name);
  const out = await runTincan([
    'rootfs',
    'create',
    dir,
    '--from-host',
    'sh,echo',
  ]);
  expect(out.code).toBe(0);
  return dir;
}

beforeAll(async () => {
  base = mkdtempSync('/tmp/mounts-test-');
  chmodSync(base, 0o755);
  rootfs = path.join(base, 'rootfs');
  const out = await runTincan(['rootfs', 'create', rootfs]);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/\d+ programs, \d+ libraries/);
}, 60_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe.each(stepsFrom('mounts'))('step %s runtime', (step) => {
  test('the default root: host system dirs, a generated /etc, no host state', async () => {
    const out = await shIn(
      step,
      'ls /; echo --; ls /etc; echo --; cat /etc/passwd',
    );
    expect(out.code).toBe(0);
    const [root = '', etc = '', passwd = ''] = out.stdout.split('--\n');
    const expected = ['dev', 'etc', 'proc', 'root', 'sys', 'tmp'];
    for (const dir of ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64']) {
      if (existsSync(`/${dir}`)) expected.push(dir);
    }
    expect(root.trim().split('\n').sort()).toEqual(expected.sort());
    expect(etc.trim().split('\n')).not.toContain('shadow');
    expect(etc.trim().split('\n').sort()).toEqual(
      expect.arrayContaining(['group', 'hostname', 'hosts', 'passwd']),
    );
    expect(passwd).toMatch(/^root:x:0:0:/);
  });

  test('ls / shows the -m root, and /proc/1/root is that root', async () => {
    const out = await shIn(
      step,
      'ls /; echo --; readlink /proc/1/root /proc/self/root /proc/self/cwd; ls /proc/1/root/',
      ['-m', rootfs],
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [listing = '', links = ''] = out.stdout.split('--\n');
    expect(listing.trim().split('\n').sort()).toEqual(
      readdirSync(rootfs).sort(),
    );
    const [root1, self, cwd, ...again] = links.trim().split('\n');
    expect([root1, self, cwd]).toEqual(['/', '/', '/']);
    expect(again.sort()).toEqual(readdirSync(rootfs).sort());
  });

  test("a device node in a -m root opens no device, and /dev's still do", async () => {
    const root = await smallRoot(`devnode-${step}`);
    // /dev/null's numbers: harmless if the guard failed, as it used to
    // (a host disk's numbers would have opened the host's disk)
    execFileSync('mknod', [
      '-m',
      '666',
      path.join(root, 'devnode'),
      'c',
      '1',
      '3',
    ]);
    const out = await shIn(
      step,
      'echo x > /devnode && echo OPENED; echo x > /dev/null && echo DEVNULL; ' +
        // the root's mount options, with sh's builtins only (no grep here)
        'while read -r id up mm src at opts rest; do [ "$at" = / ] && echo "root $opts"; done < /proc/self/mountinfo',
      ['-m', root],
    );
    expect(out.stdout).not.toContain('OPENED');
    expect(out.stderr).toMatch(/devnode: Permission denied/);
    expect(out.stdout).toContain('DEVNULL');
    expect(out.stdout).toMatch(/^root \S*nodev/m);
  });

  test('mountinfo has no host or old-root entries', async () => {
    const out = await shIn(step, 'cat /proc/self/mountinfo');
    expect(out.code).toBe(0);
    const inside = mountPoints(out.stdout);
    expect(inside.filter((p) => p === '/')).toHaveLength(1);
    // Paths the default root has too: the special filesystems, its own
    // /tmp, and the system directories it binds, which are mount points
    // of their own on some hosts (a separate /usr; the VM lane's 9p /usr).
    const shared = [
      '/',
      '/proc',
      '/sys',
      '/dev',
      '/dev/shm',
      '/dev/pts',
      '/tmp',
      '/usr',
      '/bin',
      '/sbin',
      '/lib',
      '/lib32',
      '/lib64',
      '/libx32',
    ];
    for (const point of mountPoints(hostMountinfo())) {
      if (!shared.includes(point)) expect(inside).not.toContain(point);
    }
    expect(out.stdout).not.toMatch(/tincan-/);
    expect(inside.every((p) => p.startsWith('/'))).toBe(true);
  });

  test('ps shows only the container processes', async () => {
    const out = await shIn(step, 'ps -e -o pid=,comm=', ['-m', rootfs]);
    expect(out.code).toBe(0);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(rows).toHaveLength(2);
    expect(rows[0]).toBe('1 sh');
    expect(rows[1]).toMatch(/^\d+ ps$/);
  });

  test('masked paths read as empty or are denied, and are read-only', async () => {
    const present = MASKED.filter((p) => existsSync(p));
    expect(present.length).toBeGreaterThan(0);
    const script = present
      .map(
        (p) =>
          `if [ -d ${p} ]; then echo "${p} $(ls -A ${p} | wc -l)"; ` +
          `else echo "${p} $(cat ${p} 2>/dev/null | wc -c)"; fi; ` +
          `touch ${p}/x 2>/dev/null && echo "${p} WRITABLE"`,
      )
      .join('; ');
    const out = await shIn(step, script);
    expect(out.code).not.toBe(125);
    for (const p of present) expect(out.stdout).toContain(`${p} 0\n`);
    expect(out.stdout).not.toMatch(/WRITABLE/);
  });

  test('read-only paths and /sys refuse writes; the host is unchanged', async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const script = [
      'echo "|/tmp/evil" > /proc/sys/kernel/core_pattern && echo BAD1',
      '[ ! -e /proc/sysrq-trigger ] || { echo h > /proc/sysrq-trigger && echo BAD2; }',
      'touch /sys/kernel/x && echo BAD3',
      'grep -E " /proc/(sys|irq|bus|fs) " /proc/self/mountinfo | grep -vc " ro,"',
    ].join('; ');
    const out = await shIn(step, `${script}; true`);
    expect(out.stdout).not.toMatch(/BAD/);
    expect(out.stdout.trim().split('\n').pop()).toBe('0');
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(pattern);
  });

  test('/dev holds exactly the listed nodes and a pty can be opened', async () => {
    const out = await shIn(
      step,
      'ls -A /dev; echo --; readlink /dev/ptmx; ' +
        'node -e \'require("fs").openSync("/dev/ptmx", "r+"); ' +
        'console.log(require("fs").readdirSync("/dev/pts").join(","))\'; ' +
        'echo hi > /dev/null && head -c 4 /dev/zero | wc -c',
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [listing = '', rest = ''] = out.stdout.split('--\n');
    expect(listing.trim().split('\n').sort()).toEqual(DEV);
    expect(rest).toBe('pts/ptmx\n0,ptmx\n4\n');
  });

  test('--add binds work, nosuid and nodev, and :ro refuses writes', async () => {
    const dir = mkdtempSync(path.join(base, 'add-'));
    chmodSync(dir, 0o777);
    writeFileSync(path.join(dir, 'in'), 'from host\n');
    const out = await shIn(
      step,
      'cat /data/in; echo inside > /data/out; ' +
        'touch /ro/x 2>/dev/null && echo WRITABLE; cat /ro/in; ' +
        'grep -E " /(data|ro) " /proc/self/mountinfo',
      ['-a', `${dir}:/data`, '-a', `${dir}:/ro:ro`],
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^from host\nfrom host\n/);
    expect(out.stdout).not.toMatch(/WRITABLE/);
    expect(readFileSync(path.join(dir, 'out'), 'utf8')).toBe('inside\n');
    expect(out.stdout).toMatch(/ \/data rw,nosuid,nodev/);
    expect(out.stdout).toMatch(/ \/ro ro,nosuid,nodev/);
  });

  test('an --add :ro bind is read-only all the way down', async () => {
    // A host mount below the source must not stay writable inside.
    const dir = mkdtempSync(path.join(base, 'rec-'));
    chmodSync(dir, 0o755);
    mkdirSync(path.join(dir, 'sub'));
    execFileSync('mount', [
      '-t',
      'tmpfs',
      '-o',
      'mode=777',
      'tincan-test',
      path.join(dir, 'sub'),
    ]);
    try {
      const out = await shIn(
        step,
        'touch /r/sub/x 2>/dev/null && echo WRITABLE; touch /w/sub/y && echo ok; ' +
          'grep -c " /r/sub ro," /proc/self/mountinfo',
        ['-a', `${dir}:/r:ro`, '-a', `${dir}:/w`],
      );
      expect(out.stdout).toBe('ok\n1\n');
      expect(existsSync(path.join(dir, 'sub', 'y'))).toBe(true);
    } finally {
      execFileSync('umount', [path.join(dir, 'sub')]);
    }
  });

  test('an --add target missing from a -m root fails with the fix', async () => {
    const before = hostMountinfo();
    const out = await runIn(step, [
      '-m',
      rootfs,
      '-a',
      '/etc:/nothere',
      'true',
    ]);
    expect(out.code).toBe(125);
    expect(out.stderr).toMatch(/create \/nothere in it first/);
    expect(existsSync(path.join(rootfs, 'nothere'))).toBe(false);
    expect(hostMountinfo()).toBe(before);
  });

  test('--read-only refuses writes outside /tmp', async () => {
    for (const flags of [['--read-only'], ['--read-only', '-m', rootfs]]) {
      const out = await shIn(
        step,
        'touch /x 2>/dev/null && echo WRITABLE; mkdir /root/y 2>/dev/null && echo W2; ' +
          'touch /tmp/ok && echo tmp ok',
        flags,
      );
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('tmp ok\n');
    }
  });

  test('a rootfs create root runs sh -c "echo ok"', async () => {
    const out = await runIn(step, ['-m', rootfs, '--', 'sh', '-c', 'echo ok']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('ok\n');
  });

  test('rootfs create --busybox: a static busybox root, or a clear refusal', async () => {
    const dir = path.join(base, `busybox-${step}`);
    const made = await runTincan(['rootfs', 'create', dir, '--busybox']);
    const onHost = ['/usr/bin/busybox', '/bin/busybox'].some(existsSync);
    if (!onHost) {
      // Asserted, not skipped: without busybox the command must say so.
      expect(made.code).toBe(125);
      expect(made.stderr).toMatch(/--busybox: no busybox on this host/);
      return;
    }
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/\d+ programs, 0 libraries/);
    const out = await runIn(step, ['-m', dir, '--', 'sh', '-c', 'echo ok']);
    expect(out.stdout).toBe('ok\n');
    expect(out.code).toBe(0);
  });

  test('--debug names every mount and its flags', async () => {
    const out = await shIn(step, 'true', ['--debug']);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /tincan\[init:mounts\] .*mount\("proc", "\/tmp\/tincan-\w+\/proc", "proc", MS_NOSUID\|MS_NODEV\|MS_NOEXEC\)/,
    );
    expect(out.stderr).toMatch(/mount\(NULL, "\/", NULL, MS_REC\|MS_PRIVATE\)/);
    expect(out.stderr).toMatch(/pivot_root/);
  });

  test('a chroot-style cd .. stays at the container root', async () => {
    const out = await shIn(
      step,
      'ls /; echo --; cd /; cd ../../..; pwd; ls; echo --; ls /proc/1/root/..',
      ['-m', rootfs],
    );
    expect(out.code).toBe(0);
    const listing = `${readdirSync(rootfs).sort().join('\n')}\n`;
    expect(out.stdout).toBe(`${listing}--\n/\n${listing}--\n${listing}`);
  });

  test('a nested container cannot mount a proc: this proc is not fully visible', async () => {
    // The masks over /proc make the kernel's "mount too revealing" check
    // refuse any new proc mount in a namespace made from this one.
    const out = await shIn(
      step,
      'unshare -Urmpf --mount-proc true && echo NESTED; true',
    );
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/unshare: .*(Operation not permitted|EPERM)/);
  });

  test('tincan killed with SIGKILL leaves no temp dir behind', async () => {
    let stderr = '';
    const out = await runIn(step, ['--debug', '--', 'sleep', '60'], {
      onSpawn: (child) => {
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/execve\("[^"]*sleep"/.test(stderr)) child.kill('SIGKILL');
        });
      },
    });
    expect(out.signal).toBe('SIGKILL');
    expect(stagingLeft(stderr)).toEqual([]);
  });

  test('rootless (one id): the default root, its /dev and a pty', async () => {
    // tc-single comes from test/rootless/setup-users.sh: no subordinate
    // range, so gid 5 (tty) is not mapped and devpts gets no gid.
    const out = await new Promise<{ code: number | null; stdout: string }>(
      (resolve, reject) => {
        const child = spawn(
          'setpriv',
          [
            ...['--reuid', 'tc-single', '--regid', 'tc-single'],
            '--clear-groups',
            ...['--', process.execPath, TINCAN_BIN, '--step', step, 'run'],
            ...[
              '--',
              'sh',
              '-c',
              'ls -A /dev | wc -l; ls /proc/1/root/etc; ' +
                'node -e \'require("fs").openSync("/dev/ptmx", "r+")\' && echo pty',
            ],
          ],
          { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' },
        );
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      },
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^13\n/);
    expect(out.stdout).toMatch(/\npasswd\n/);
    expect(out.stdout).toMatch(/\npty\n$/);
  });

  describe('malicious roots fail closed', () => {
    const cases: [string, string, (root: string) => string][] = [
      ['proc -> /', 'proc', () => '/'],
      ['sys -> ../..', 'sys', () => '../..'],
      ['dev -> a host dir', 'dev', () => path.join(base, 'victim')],
    ];
    test.each(cases)('%s', async (_name, entry, link) => {
      const victim = path.join(base, 'victim');
      mkdirSync(victim, { recursive: true });
      writeFileSync(path.join(victim, 'keep'), 'x');
      const root = await smallRoot(`evil-${step}-${entry}`);
      rmdirSync(path.join(root, entry));
      symlinkSync(link(root), path.join(root, entry));
      const before = hostMountinfo();

      const out = await runIn(step, [
        '--debug',
        '-m',
        root,
        '--',
        'sh',
        '-c',
        'echo no',
      ]);

      expect(out.code).toBe(125);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(
        new RegExp(
          `/${entry} is a symlink to .*: a mount target must not be a symlink`,
        ),
      );
      expect(hostMountinfo()).toBe(before);
      expect(readdirSync(victim)).toEqual(['keep']);
      expect(stagingLeft(out.stderr)).toEqual([]);
    });
  });

  test("an image's names reach the terminal escaped, on one line", async () => {
    const evil = await smallRoot(`escape-${step}`);
    rmdirSync(path.join(evil, 'proc'));
    symlinkSync('x\x1b[2J\ntincan: fake line', path.join(evil, 'proc'));
    const out = await runIn(step, ['-m', evil, '--', 'true']);
    expect(out.code).toBe(125);
    expect(out.stderr).not.toContain('\x1b');
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain(
      'a symlink to x\\x1b[2J\\x0atincan: fake line: a mount target',
    );
  });

  test('host mountinfo is identical after 20 runs, failed ones included', async () => {
    const before = hostMountinfo();
    const evil = await smallRoot(`evil-20-${step}`);
    rmdirSync(path.join(evil, 'proc'));
    symlinkSync('/', path.join(evil, 'proc'));
    const runs: [string[], number][] = [
      [['--', 'true'], 0],
      [['-m', rootfs, '--', 'sh', '-c', 'exit 3'], 3],
      [['-m', evil, '--', 'true'], 125],
      [['--read-only', '-a', `${base}:/b:ro`, '--', 'true'], 0],
      [['--', '/nonexistent'], 127],
    ];
    for (let i = 0; i < 20; i++) {
      const [args, code] = runs[i % runs.length];
      const out = await runIn(step, ['--debug', ...args]);
      expect(out.code).toBe(code);
      expect(stagingLeft(out.stderr)).toEqual([]);
    }
    expect(hostMountinfo()).toBe(before);
  }, 120_000);
});

describe('bad input exits 125 with one line naming it', () => {
  test.each([
    [
      'a missing root',
      () => ['-m', '/nonexistent-root'],
      /--mount \/nonexistent-root: no such file/,
    ],
    [
      'a missing root given as --rootfs',
      () => ['--rootfs', '/nonexistent-root'],
      /--rootfs \/nonexistent-root: no such file/,
    ],
    ['a root that is a file', () => ['-m', '/etc/hostname'], /not a directory/],
    [
      'a root the container root cannot reach',
      () => {
        const dir = path.join(base, 'private');
        mkdirSync(path.join(dir, 'root'), { recursive: true });
        chmodSync(dir, 0o700);
        return ['-m', path.join(dir, 'root')];
      },
      /is not searchable by the container's root/,
    ],
    [
      '--add without a colon',
      () => ['-a', '/tmp'],
      /--add \/tmp: expected HOST:CONTAINER/,
    ],
    [
      'a relative container path',
      () => ['-a', '/tmp:data'],
      /the container path must be absolute/,
    ],
    [
      'a missing host path',
      () => ['-a', '/nonexistent-src:/data'],
      /--add \/nonexistent-src:\/data: no such file/,
    ],
    [
      '-m and --rootfs disagreeing',
      () => ['-m', '/', '--rootfs', '/tmp'],
      /given twice/,
    ],
  ])('%s', async (_name, flags, message) => {
    const before = hostMountinfo();
    const out = await runTincan(['run', ...flags(), '--', 'true']);
    expect(out.code).toBe(125);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(out.stderr).toMatch(/^tincan: /);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(hostMountinfo()).toBe(before);
  });
});

describe('tincan rootfs create refuses bad input before creating anything', () => {
  test.each([
    [
      'a directory that is not empty',
      ['/etc'],
      /rootfs create \/etc: the directory is not empty/,
    ],
    [
      'an unknown program',
      ['--from-host', 'sh,no-such-program-xyz'],
      /--from-host no-such-program-xyz: not found on this host/,
    ],
  ])('%s', async (_name, args, message) => {
    const dir = path.join(base, 'never-made');
    const out = await runTincan([
      'rootfs',
      'create',
      ...(args[0]?.startsWith('/') ? args : [dir, ...args]),
    ]);
    expect(out.code).toBe(125);
    expect(out.stderr).toMatch(message);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(dir)).toBe(false);
  });
});
