// Escape attempts E1-E10 of design/security-cases.md, against the final
// runtime, on its default root and on a `tincan rootfs create` root.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
  leftTraces,
  makeRoot,
  only,
  probeIn,
  refused,
  ROOT_KINDS,
  run,
  shOn,
  traceList,
  TINCAN_BIN,
  STEP_FLAGS,
  type Attempt,
  type Report,
  useProbe,
  useRoot,
} from './helpers';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const probe = useProbe();

const sha256 = (file: string): string =>
  createHash('sha256').update(readFileSync(file)).digest('hex');

/** Whether a masked path reads as absent, denied or empty. */
function maskedOk(m: Report['masked'][string] | undefined): boolean {
  if (!m || !m.exists || m.readable === false) return true;
  return m.dir ? m.entries === 0 : m.bytes === 0;
}

describe.each(ROOT_KINDS)('%s root', (kind) => {
  const root = useRoot(kind);

  test('E1 only fds 0-2 reach the command; cwd and root stay inside', async () => {
    const { out, json } = await probeIn<Report>(root, probe, ['report']);
    expect(out.code).toBe(0);
    expect(Object.keys(json.fds).sort()).toEqual(['0', '1', '2']);
    expect(json.links['/proc/self/cwd']).toBe('/');
    expect(json.links['/proc/self/root']).toBe('/');
    const ls = await shOn(root, 'ls /proc/self/fd');
    expect(ls.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
    const links = await shOn(root, 'readlink /proc/self/cwd /proc/self/root');
    expect(links.stdout).toBe('/\n/\n');
  });

  test('E2 the host node binary cannot be opened for writing through /proc/…/exe', async () => {
    const before = sha256(process.execPath);
    const one = await probeIn<Record<string, Attempt>>(root, probe, [
      'open-write',
      '/proc/1/exe',
    ]);
    expect(refused(one.json['/proc/1/exe'])).toBe(true);
    const self = await probeIn<Record<string, Attempt>>(root, probe, [
      'open-write',
      '/proc/self/exe',
    ]);
    expect(refused(self.json['/proc/self/exe'])).toBe(true);

    // A command whose interpreter is /proc/self/exe re-runs whatever
    // binary the runtime exec'd from (the runc 2019 attack). If that is the
    // host's node, the script below runs in it and tries to open it (and
    // PID 1's exe) read-write - without truncating or writing, so the host
    // binary is safe even when the open succeeds.
    const dir = mkdtempSync('/tmp/secexe-');
    try {
      chmodSync(dir, 0o755);
      const script = path.join(dir, 'evil');
      writeFileSync(
        script,
        '#!/proc/self/exe\n' +
          "const fs = require('fs');\n" +
          "for (const p of ['/proc/self/exe', '/proc/1/exe']) {\n" +
          "  try { fs.closeSync(fs.openSync(p, 'r+')); console.log('OPENED ' + p); }\n" +
          "  catch (e) { console.log('refused ' + p + ' ' + e.code); }\n" +
          '}\n',
      );
      chmodSync(script, 0o755);
      const bind = probe.flags.length > 0;
      const out = await run([
        ...root.flags,
        ...(bind ? ['--add', `${dir}:/e2:ro`] : []),
        '--',
        bind ? '/e2/evil' : script,
      ]);
      expect(out.stdout).not.toMatch(/OPENED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(sha256(process.execPath)).toBe(before);
  });

  test('E3 PID 1 shows only the documented environment and nothing outside the root', async () => {
    const out = await shOn(
      root,
      'tr "\\0" "\\n" < /proc/1/environ; echo ---; ' +
        'readlink /proc/1/cwd /proc/1/root /proc/1/exe; ls -l /proc/1/fd',
      ['-e', 'EXTRA=1'],
      { env: { SECRET_ON_HOST: 'x' } },
    );
    expect(out.code).toBe(0);
    const [env = '', rest = ''] = out.stdout.split('---\n');
    const keys = env
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0])
      .sort();
    const documented = ['EXTRA', 'HOME', 'HOSTNAME', 'PATH', 'TERM'];
    expect(keys.filter((k) => !documented.includes(k ?? ''))).toEqual([]);
    expect(rest).not.toMatch(/unreachable|\/tmp\/tincan|node|init-entry/);
    const [cwd, rootLink] = rest.split('\n');
    expect(cwd).toBe('/');
    expect(rootLink).toBe('/');
  });

  test('E4 TIOCSTI and TIOCLINUX fail with EPERM and nothing reaches the host terminal', async () => {
    // The probe runs tincan with a fresh pty as its stdin and controlling
    // terminal, then reads what is waiting in that terminal's input queue.
    for (const req of ['tiocsti', 'tioclinux']) {
      const { stdout: out } = await promisify(execFile)(
        probe.hostPath,
        [
          'pty-exec',
          process.execPath,
          TINCAN_BIN,
          ...STEP_FLAGS,
          'run',
          ...root.flags,
          ...probe.flags,
          '--',
          probe.path,
          req,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const inner = out
        .split('\n')
        .find((l) => l.startsWith(`{"case":"${req}"`));
      const pty = /^PTYEXEC (.*)$/m.exec(out)?.[1];
      expect(inner).toBeDefined();
      expect(pty).toBeDefined();
      const res = JSON.parse(inner ?? '{}') as Record<string, Attempt>;
      const host = JSON.parse(pty ?? '{}') as { injected: string };
      expect({ req, stdin: res.stdin?.errno, pty: res.pty?.errno }).toEqual({
        req,
        stdin: 'EPERM',
        pty: 'EPERM',
      });
      expect(host.injected).toBe('');
    }
  });

  test('E5 open_by_handle_at fails with EPERM', async () => {
    const { json } = await probeIn<Record<string, Attempt>>(root, probe, [
      'handle',
      '/',
    ]);
    expect(json.name_to_handle_at?.errno).toBe('EPERM');
    expect(json.open_by_handle_at?.errno).toBe('EPERM');
  });

  test('E6 masked and read-only paths hold; host core_pattern unchanged', async () => {
    const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const { json } = await probeIn<Report>(root, probe, ['report']);
    const masked = [
      '/proc/kcore',
      '/proc/keys',
      '/proc/timer_list',
      '/proc/sched_debug',
      '/sys/firmware',
    ];
    const open = masked.filter((p) => !maskedOk(json.masked[p]));
    expect(open).toEqual([]);

    // Each write puts back what the file holds, so nothing changes even
    // when the runtime lets it through; the open must already fail.
    for (const file of [
      '/proc/sys/kernel/core_pattern',
      '/proc/sysrq-trigger',
      // Reads "Y" and takes "Y" back: a kernel parameter any host has.
      '/sys/module/printk/parameters/time',
    ]) {
      const w = await probeIn<Record<string, Attempt>>(root, probe, [
        'rewrite',
        file,
      ]);
      expect({ file, refused: refused(w.json[file]) }).toEqual({
        file,
        refused: true,
      });
    }
    const um = await probeIn<Record<string, Attempt>>(root, probe, [
      'umount',
      '/proc/kcore',
    ]);
    expect(refused(um.json['/proc/kcore'])).toBe(true);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(
      corePattern,
    );
  });

  test('E8 no host or old-root mounts inside; chroot and cd .. stays; nested unshare fails', async () => {
    const { json } = await probeIn<Report>(root, probe, ['report']);
    const mountPoints = json.mountinfo.map((l) => l.split(' ')[4] ?? '');
    expect(mountPoints.filter((m) => /old_?root/i.test(m))).toEqual([]);
    expect(mountPoints.filter((m) => m.startsWith('/tmp/tincan'))).toEqual([]);
    // Mount points the host has outside the usual system directories must
    // not show up inside (e.g. /work, /mnt/…, /run/…).
    const system =
      /^\/(|usr|bin|sbin|lib|lib32|lib64|libx32|etc|tmp|dev|proc|sys|run|probe)(\/|$)/;
    const host = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m !== '' && !system.test(m));
    expect(mountPoints.filter((m) => host.includes(m))).toEqual([]);

    const chroot = await probeIn<Record<string, Attempt>>(root, probe, [
      'chroot-escape',
    ]);
    // ret 1 means "/" is somewhere else after the climb: an escape.
    expect(chroot.json.chroot?.ret).not.toBe(1);

    const nested = await shOn(root, 'unshare -Urmpf --mount-proc true');
    expect(nested.code).not.toBe(0);
  });

  test('E9 no cgroup mount, no new cgroup, no pids.max write, no writable release_agent', async () => {
    for (const fs of ['cgroup2', 'cgroup,pids', 'cgroup,memory']) {
      const m = await probeIn<Record<string, Attempt>>(root, probe, [
        'mount',
        '/tmp',
        fs,
      ]);
      expect({ fs, refused: refused(m.json['/tmp']) }).toEqual({
        fs,
        refused: true,
      });
    }
    // Only the container's own cgroups are targets: a runtime that let
    // these through would change a cgroup tincan made for this test.
    const { json } = await probeIn<Report>(root, probe, ['report']);
    const own = json.cgroup.flatMap((line) => {
      const [, ctrl = '', rel = ''] = line.split(':');
      if (ctrl === '') return [`/sys/fs/cgroup${rel}`];
      return ctrl.includes('pids') ? [`/sys/fs/cgroup/${ctrl}${rel}`] : [];
    });
    expect(own.length).toBeGreaterThan(0);
    for (const dir of own) {
      const mk = await probeIn<Record<string, Attempt>>(root, probe, [
        'mkdir',
        `${dir}/secprobe`.replace('//', '/'),
      ]);
      expect(refused(only(mk.json))).toBe(true);
      const w = await probeIn<Record<string, Attempt>>(root, probe, [
        'rewrite',
        `${dir}/pids.max`.replace('//', '/'),
      ]);
      expect(refused(only(w.json))).toBe(true);
    }
    const agents = await shOn(
      root,
      'for f in $(find /sys/fs/cgroup -maxdepth 3 -name release_agent 2>/dev/null); do ' +
        '[ -w "$f" ] && (: >> "$f") 2>/dev/null && echo "WRITABLE $f"; done; true',
    );
    expect(agents.stdout).not.toMatch(/WRITABLE/);
  });

  test('E10 keyctl, add_key and request_key fail with EPERM; /proc/keys is masked', async () => {
    const { json } = await probeIn<Record<string, Attempt>>(root, probe, [
      'keyring',
    ]);
    expect({
      add_key: json.add_key?.errno,
      request_key: json.request_key?.errno,
      keyctl: json.keyctl?.errno,
    }).toEqual({ add_key: 'EPERM', request_key: 'EPERM', keyctl: 'EPERM' });
    const report = await probeIn<Report>(root, probe, ['report']);
    expect(maskedOk(report.json.masked['/proc/keys'])).toBe(true);
  });
});

describe('E7 symlinked mount targets', () => {
  const cases: [string, string, string][] = [
    ['proc -> /', 'proc', '/'],
    ['sys -> ../..', 'sys', '../..'],
    ['dev -> /', 'dev', '/'],
  ];

  test.each(cases)(
    'E7 a root whose %s makes the run fail closed',
    async (_name, entry, target) => {
      const root = await makeRoot('rootfs');
      try {
        const dir = root.dir ?? '';
        rmSync(path.join(dir, entry), { recursive: true, force: true });
        symlinkSync(target, path.join(dir, entry));
        const baseline = traceList();
        const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
        const out = await run([...root.flags, '--', '/bin/true']);
        expect(out.code).toBe(125);
        expect(out.stderr).toMatch(new RegExp(entry));
        expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
        expect(await leftTraces(baseline)).toEqual([]);
      } finally {
        root.cleanup();
      }
    },
  );

  test('E7 an --add target through a symlink that leaves the root stays inside', async () => {
    const root = await makeRoot('rootfs');
    const host = mkdtempSync('/tmp/secadd-');
    const outside = '/tmp/secadd-escaped';
    try {
      const dir = root.dir ?? '';
      symlinkSync('/', path.join(dir, 'escape'));
      copyFileSync('/etc/hostname', path.join(host, 'f'));
      const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
      const out = await run([
        ...root.flags,
        '--add',
        `${host}:/escape${outside}:ro`,
        '--',
        '/bin/true',
      ]);
      // Safe: refused (125), or resolved inside the root (the bind lands in
      // the root's own /tmp); never a mount point made on the host.
      expect([0, 125]).toContain(out.code);
      expect(existsSync(outside)).toBe(false);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
    } finally {
      rmSync(host, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
      root.cleanup();
    }
  });
});
