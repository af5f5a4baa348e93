// Seccomp bypasses B1-B7 of design/security-cases.md, against the final
// runtime, on its default root and on a `tincan rootfs create` root.

import {
  probeIn,
  refused,
  ROOT_KINDS,
  runTincan,
  shOn,
  STEP_FLAGS,
  type Attempt,
  type Report,
  useProbe,
  useRoot,
} from './helpers';

const probe = useProbe();

type Attempts = Record<string, Attempt>;

describe.each(ROOT_KINDS)('%s root', (kind) => {
  const root = useRoot(kind);

  test('B1 clone3 answers ENOSYS; unshare -U fails with EPERM; threads work', async () => {
    const { json } = await probeIn<Attempts>(root, probe, ['clone']);
    expect({
      clone3: json.clone3?.errno,
      clone3_newuser: json.clone3_newuser?.errno,
    }).toEqual({ clone3: 'ENOSYS', clone3_newuser: 'ENOSYS' });
    // glibc falls back to clone when clone3 says ENOSYS: plain forks work.
    expect(json.clone?.ret).toBeGreaterThan(0);
    const unshare = await shOn(root, 'unshare -U true');
    expect(unshare.code).not.toBe(0);
    expect(unshare.stderr).toMatch(/Operation not permitted/);
    const report = await probeIn<Report>(root, probe, ['report']);
    expect(report.json.tasks).toBe(4);
  });

  test('B2 CLONE_NEWUSER is refused whatever other flags come with it', async () => {
    const { json } = await probeIn<Attempts>(root, probe, ['clone']);
    expect({
      clone_newuser: refused(json.clone_newuser),
      clone_newuser_newns: refused(json.clone_newuser_newns),
      unshare_newuser: refused(json.unshare_newuser),
      unshare_newuser_newns: refused(json.unshare_newuser_newns),
    }).toEqual({
      clone_newuser: true,
      clone_newuser_newns: true,
      unshare_newuser: true,
      unshare_newuser_newns: true,
    });
    for (const cmd of ['unshare -Ur true', 'unshare -Urm true']) {
      const out = await shOn(root, cmd);
      expect({ cmd, code: out.code === 0 ? 0 : 'failed' }).toEqual({
        cmd,
        code: 'failed',
      });
    }
  });

  test('B3 x32 syscall numbers never succeed (x32 keyctl)', async () => {
    const { json } = await probeIn<Attempts>(root, probe, ['x32']);
    expect(refused(json.keyctl)).toBe(true);
  });

  test('B4 an i386 int 0x80 keyctl never succeeds', async () => {
    const { json } = await probeIn<Attempts>(root, probe, ['i386']);
    expect(refused(json.keyctl)).toBe(true);
  });

  test('B5 the host check refuses kernels before 4.8', async () => {
    const out = await runTincan([...STEP_FLAGS, 'check']);
    const line = out.stdout.split('\n').find((l) => /\bkernel\b/.test(l));
    expect(line).toBeDefined();
    const need = /needs (\d+)\.(\d+)/.exec(line ?? '');
    expect(need).not.toBeNull();
    const [major, minor] = [Number(need?.[1]), Number(need?.[2])];
    expect(major > 4 || (major === 4 && minor >= 8)).toBe(true);
    // This host passes the check, so the filter is in force.
    const { json } = await probeIn<Report>(root, probe, ['report']);
    expect(json.status.Seccomp).toBe('2');
  });

  test('B6 every thread is filtered with no_new_privs; keyctl from a thread fails', async () => {
    const { json } = await probeIn<Report>(root, probe, ['report']);
    const threads = Object.values(json.threads);
    expect(threads.length).toBe(4);
    for (const t of threads) {
      expect({ Seccomp: t.Seccomp, NoNewPrivs: t.NoNewPrivs }).toEqual({
        Seccomp: '2',
        NoNewPrivs: '1',
      });
    }
    const keys = await probeIn<Attempts>(root, probe, ['keyring']);
    expect(keys.json.keyctl_thread?.errno).toBe('EPERM');
  });

  test('B7 io_uring_setup and socket(AF_VSOCK) fail with EPERM', async () => {
    const uring = await probeIn<Attempts>(root, probe, ['io_uring']);
    expect(uring.json.io_uring_setup?.errno).toBe('EPERM');
    const vsock = await probeIn<Attempts>(root, probe, ['vsock']);
    expect(vsock.json.socket?.errno).toBe('EPERM');
  });
});
