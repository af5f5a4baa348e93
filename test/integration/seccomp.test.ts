// Step 5 behaviours, checked against the step-5 runtime and every later
// one: the default filter refuses what the lesson says and nothing the
// command needs; Docker-format profiles; bad profiles never run.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostArch } from '@tincan/seccomp';
import {
  requireRoot,
  ROOT,
  runIn,
  runTincan,
  shIn,
  stepsFrom,
} from '../helpers/tincan';

beforeAll(requireRoot);

/** The host's python3, which the default root of later steps binds too. */
const PY = '/usr/bin/python3';
const arch = hostArch();
const nr = (name: string): number => {
  const n = arch.syscalls[name];
  if (n === undefined) throw new Error(`no ${name} on ${arch.name}`);
  return n;
};

/** Python that calls syscall(2) and prints `ok` or the errno's name. */
const PY_SYSCALL = `
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) for a in args])
    return 'ok' if r != -1 else errno.errorcode[ctypes.get_errno()]
`;

const python = (step: Parameters<typeof runIn>[0], code: string) =>
  runIn(step, ['--', PY, '-c', PY_SYSCALL + code]);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'seccomp-it-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // the chmod test's directories, should a run have died half-way
  for (const name of readdirSync('/tmp')) {
    if (name.startsWith('seccomp-chmod.')) {
      rmSync(path.join('/tmp', name), { recursive: true, force: true });
    }
  }
});

function profile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe.each(stepsFrom('seccomp'))('step %s runtime', (step) => {
  test('the filter is on in every thread, with no_new_privs', async () => {
    const out = await python(
      step,
      `
import glob, threading
ready = threading.Barrier(5)
results = []
def worker():
    results.append(call(${nr('keyctl')}, 0, 0))
    ready.wait()
    ready.wait()
threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads: t.start()
ready.wait()
lines = set()
for f in glob.glob('/proc/self/task/*/status'):
    for line in open(f):
        if line.startswith(('Seccomp:', 'NoNewPrivs:')):
            lines.add(line.split()[0] + line.split()[1])
print(len(glob.glob('/proc/self/task/*')), sorted(lines), sorted(set(results)))
ready.wait()
for t in threads: t.join()
`,
    );
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe("5 ['NoNewPrivs:1', 'Seccomp:2'] ['EPERM']");
    expect(out.code).toBe(0);
  });

  test('keyrings: keyctl, add_key and request_key fail with EPERM', async () => {
    const out = await python(
      step,
      `print(call(${nr('keyctl')}, 0, 0), call(${nr('add_key')}, 0, 0, 0, 0, 0), call(${nr('request_key')}, 0, 0, 0, 0))`,
    );
    expect(out.stdout.trim()).toBe('EPERM EPERM EPERM');
    expect(out.code).toBe(0);
  });

  test('user namespaces: unshare -U and clone(CLONE_NEWUSER) fail', async () => {
    const out = await shIn(
      step,
      'for f in -U -Ur -Urm; do unshare $f true; echo "unshare $f: $?"; done',
    );
    expect(out.stdout).toBe('unshare -U: 1\nunshare -Ur: 1\nunshare -Urm: 1\n');
    expect(out.stderr).toMatch(/Operation not permitted/);
    const raw = await python(
      step,
      `
import os
r = call(${nr('clone')}, 0x10000000 | 17, 0, 0, 0, 0)
if r == 'ok': os._exit(0)
print(r)`,
    );
    expect(raw.stdout.trim()).toBe('EPERM');
  });

  test('clone3 answers ENOSYS, and threads and fork still work', async () => {
    const out = await python(
      step,
      `
import os, subprocess, threading
print(call(${nr('clone3')}, 0, 0))
t = threading.Thread(target=lambda: print('thread'))
t.start(); t.join()
print(subprocess.run(['/bin/sh', '-c', 'echo child'], capture_output=True).stdout.decode().strip())`,
    );
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('ENOSYS\nthread\nchild\n');
  });

  test('chmod u+s and g+s fail with EPERM; chmod 755 works', async () => {
    const out = await shIn(
      step,
      `d=$(mktemp -d /tmp/seccomp-chmod.XXXXXX) || exit 9
trap 'rm -rf "$d"' EXIT
touch "$d/f"
chmod 755 "$d/f"; echo "755: $?"
chmod u+s "$d/f"; echo "u+s: $?"
chmod g+s "$d/f"; echo "g+s: $?"
stat -c %a "$d/f"`,
    );
    expect(out.stdout).toBe('755: 0\nu+s: 1\ng+s: 1\n755\n');
    expect(out.stderr).toMatch(/Operation not permitted/);
  });

  test('TIOCSTI and TIOCLINUX on a pty fail with EPERM', async () => {
    const out = await runIn(step, [
      '--',
      PY,
      '-c',
      `
import errno, fcntl, os, pty, termios
master, slave = pty.openpty()
for req in (termios.TIOCSTI, 0x541C):
    try:
        fcntl.ioctl(slave, req, b'x')
        print('ok')
    except OSError as e:
        print(errno.errorcode[e.errno])
os.set_blocking(master, False)
try:
    print(repr(os.read(master, 10)))
except BlockingIOError:
    print('nothing injected')`,
    ]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('EPERM\nEPERM\nnothing injected\n');
  });

  test('io_uring, AF_VSOCK and file handles are refused', async () => {
    const out = await python(
      step,
      `print(call(${nr('io_uring_setup')}, 1, 0), call(${nr('socket')}, 40, 1, 0), call(${nr('name_to_handle_at')}, 0, 0, 0, 0, 0), call(${nr('open_by_handle_at')}, 0, 0, 0))`,
    );
    expect(out.stdout.trim()).toBe('EPERM EPERM EPERM EPERM');
  });

  test('x32 and foreign-architecture calls never succeed', async () => {
    if (arch.name !== 'x86_64') {
      // No x32 on this architecture: a number with bit 30 is unknown.
      const out = await python(step, `print(call(0x40000000 | 39))`);
      expect(out.stdout.trim()).not.toBe('ok');
      return;
    }
    // x32 getpid: the filter kills the process (SIGSYS, exit 128+31).
    const x32 = await shIn(
      step,
      `${PY} -c "${PY_SYSCALL.replace(/\n/g, '\n').replace(/"/g, '\\"')}
print(call(0x40000000 | ${nr('getpid')}))"; echo "status $?"`,
    );
    expect(x32.stdout).toBe('status 159\n');
    // i386 keyctl through int 0x80: another AUDIT_ARCH, also killed.
    const i386 = await shIn(
      step,
      `${PY} -c "
import ctypes, mmap
code = bytes([0xb8, 0x20, 0x01, 0, 0, 0x31, 0xdb, 0xcd, 0x80, 0xc3])
buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(code)
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
print(ctypes.CFUNCTYPE(ctypes.c_int)(addr)())"; echo "status $?"`,
    );
    expect(i386.stdout).toBe('status 159\n');
  });

  test('a Docker-format profile that denies mkdir makes mkdir fail', async () => {
    const file = profile(
      'no-mkdir.json',
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          {
            names: ['mkdir', 'mkdirat'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 13,
          },
        ],
      }),
    );
    const out = await shIn(
      step,
      'mkdir /tmp/seccomp-never-made; echo "mkdir: $?"; grep Seccomp: /proc/self/status',
      ['--seccomp', file],
    );
    expect(out.stdout).toBe('mkdir: 1\nSeccomp:\t2\n');
    expect(out.stderr).toMatch(/Permission denied/);
  });

  test('the Docker-like allowlist runs ordinary commands', async () => {
    const fixture = path.join(ROOT, 'test/fixtures/seccomp/docker-like.json');
    const out = await shIn(
      step,
      `echo hello | cat; ls / >/dev/null && echo ls; ${PY} -c "${PY_SYSCALL.replace(/"/g, '\\"')}
print(call(${nr('keyctl')}, 0, 0), call(${nr('getpid')}))"; unshare -U true; echo "unshare: $?"`,
      ['--seccomp', fixture],
    );
    expect(out.stdout).toBe('hello\nls\nEPERM ok\nunshare: 1\n');
  });

  test('bad profiles exit 125 and run nothing', async () => {
    const cases: [string, string, RegExp][] = [
      ['invalid.json', '{"defaultAction":', /invalid JSON/],
      ['empty.json', '', /the profile is empty/],
      [
        'unknown-syscall.json',
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["nosuchcall"],"action":"SCMP_ACT_ERRNO"}]}',
        /unknown syscall "nosuchcall"/,
      ],
      [
        'unknown-action.json',
        '{"defaultAction":"SCMP_ACT_MAYBE"}',
        /"SCMP_ACT_MAYBE" is not a seccomp action/,
      ],
      [
        'allow-nothing.json',
        '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}',
        /allows no syscall/,
      ],
      [
        'no-execve.json',
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execve"],"action":"SCMP_ACT_KILL"}]}',
        /refuses execve/,
      ],
    ];
    for (const [name, text, why] of cases) {
      const file = profile(name, text);
      const out = await runIn(step, ['--seccomp', file, '--', 'echo', 'ran']);
      expect([name, out.code, out.stdout]).toEqual([name, 125, '']);
      expect(out.stderr).toMatch(new RegExp(`^tincan: --seccomp ${file}: `));
      expect(out.stderr).toMatch(why);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = await runIn(step, [
      '--seccomp',
      path.join(dir, 'missing.json'),
      '--',
      'echo',
      'ran',
    ]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/cannot read the profile: ENOENT/);
  });

  test('with no_new_privs off, the filter still loads, before the capability drop', async () => {
    const out = await shIn(
      step,
      'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; unshare -U true; echo "unshare $?"',
      ['--no-new-privileges=false', '--uid', '1000'],
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(out.stdout).toMatch(/^NoNewPrivs:\s+0$/m);
    expect(out.stdout).toMatch(/^CapEff:\s+0+$/m);
    expect(out.stdout).toMatch(/unshare 1/);
  });

  test('--seccomp unconfined runs without a filter, with a warning', async () => {
    const out = await shIn(step, 'grep Seccomp: /proc/self/status', [
      '--seccomp',
      'unconfined',
    ]);
    expect(out.stdout).toBe('Seccomp:\t0\n');
    expect(out.stderr).toMatch(/warning: --seccomp unconfined/);
    expect(out.code).toBe(0);
  });

  test('seccomp dump prints the program with its length', async () => {
    const out = await runTincan(['--step', step, 'seccomp', 'dump']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^; tincan default policy/);
    expect(out.stdout).toMatch(/\(keyctl\)|\(add_key\)/);
    expect(out.stdout).toMatch(/; \d+ instructions; per syscall/);
    const arm = await runTincan([
      'seccomp',
      'dump',
      '--arch',
      'aarch64',
      '--profile',
      path.join(ROOT, 'test/fixtures/seccomp/docker-like.json'),
    ]);
    expect(arm.code).toBe(0);
    expect(arm.stdout).toMatch(/; arch aarch64/);
    const bad = await runTincan(['seccomp', 'dump', '--arch', 'mips']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe(
      'tincan: --arch mips: unknown architecture; known: x86_64, aarch64\n',
    );
    const missing = path.join(dir, 'missing.json');
    const noFile = await runTincan(['seccomp', 'dump', '--profile', missing]);
    expect(noFile.code).toBe(125);
    expect(noFile.stderr).toBe(
      `tincan: --profile ${missing}: cannot read the profile: ENOENT\n`,
    );
  });
});
