// Privileges P1-P2 of design/security-cases.md, against the final runtime,
// on its default root and on a `tincan rootfs create` root.

import { copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  lastJson,
  probeIn,
  refused,
  ROOT_KINDS,
  run,
  type Attempt,
  type Report,
  useProbe,
  useRoot,
} from './helpers';

/** Docker's fourteen default capabilities. */
const DOCKER_CAPS = '00000000a80425fb';
const ZERO = '0000000000000000';

const probe = useProbe();
let capProbe: string;

beforeAll(() => {
  // A copy of the probe with the file capability CAP_SYS_ADMIN.
  const file = path.join(probe.dir, 'capprobe');
  copyFileSync(probe.hostPath, file);
  chmodSync(file, 0o755);
  execFileSync(probe.hostPath, ['setfcap', file]);
  capProbe = path.join(path.dirname(probe.path), 'capprobe');
});

/** Parse uid_map/gid_map text into [inside, outside, count] triples. */
function parseMap(text: string | null): number[][] {
  return (text ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).map(Number));
}

describe.each(ROOT_KINDS)('%s root', (kind) => {
  const root = useRoot(kind);

  test("P1 root gets Docker's fourteen capabilities; no inheritable or ambient; no_new_privs", async () => {
    const { json } = await probeIn<Report>(root, probe, ['report']);
    const s = json.status;
    expect({
      CapInh: s.CapInh,
      CapPrm: s.CapPrm,
      CapEff: s.CapEff,
      CapBnd: s.CapBnd,
      CapAmb: s.CapAmb,
      NoNewPrivs: s.NoNewPrivs,
    }).toEqual({
      CapInh: ZERO,
      CapPrm: DOCKER_CAPS,
      CapEff: DOCKER_CAPS,
      CapBnd: DOCKER_CAPS,
      CapAmb: ZERO,
      NoNewPrivs: '1',
    });
  });

  test('P1 a non-root uid has no effective capabilities', async () => {
    const { json } = await probeIn<Report>(
      root,
      probe,
      ['report'],
      ['--uid', '1000'],
    );
    expect(json.uids).toEqual([1000, 1000, 1000]);
    expect({
      CapInh: json.status.CapInh,
      CapPrm: json.status.CapPrm,
      CapEff: json.status.CapEff,
      CapAmb: json.status.CapAmb,
      NoNewPrivs: json.status.NoNewPrivs,
    }).toEqual({
      CapInh: ZERO,
      CapPrm: ZERO,
      CapEff: ZERO,
      CapAmb: ZERO,
      NoNewPrivs: '1',
    });
  });

  test('P1 a file-capability binary gains nothing', async () => {
    // Run directly as a non-root uid, and by a root that switches uid and
    // execs it. Safe outcomes: the kernel refuses the exec (EPERM: the
    // file's effective bit asks for a capability the bounding set lacks),
    // or the program runs without CAP_SYS_ADMIN.
    const direct = await run([
      ...root.flags,
      ...probe.flags,
      '--uid',
      '1000',
      '--',
      capProbe,
      'report',
    ]);
    if (direct.code === 126) {
      expect(direct.stderr).toMatch(/EPERM/);
    } else {
      const json = lastJson<Report>(direct.stdout);
      expect([json.status.CapPrm, json.status.CapEff]).toEqual([ZERO, ZERO]);
    }
    const viaRoot = await run([
      ...root.flags,
      ...probe.flags,
      '--',
      probe.path,
      'setuid-exec',
      '1000',
      capProbe,
      'report',
    ]);
    const json = lastJson<Report & { exec_errno?: string }>(viaRoot.stdout);
    if (json.exec_errno !== undefined) {
      expect(json.exec_errno).toBe('EPERM');
    } else {
      expect(json.uids).toEqual([1000, 1000, 1000]);
      expect([json.status.CapPrm, json.status.CapEff]).toEqual([ZERO, ZERO]);
    }
  });

  test('P2 uid/gid maps match the configuration and never map host root; groups cleared', async () => {
    const { json } = await probeIn<Report>(
      root,
      probe,
      ['report'],
      ['--uidmap', '0:200000:65536', '--gidmap', '0:200000:65536'],
    );
    expect(parseMap(json.uid_map)).toEqual([[0, 200000, 65536]]);
    expect(parseMap(json.gid_map)).toEqual([[0, 200000, 65536]]);
    expect(json.groups).toEqual([]);

    const dflt = await probeIn<Report>(root, probe, ['report']);
    for (const map of [dflt.json.uid_map, dflt.json.gid_map]) {
      const rows = parseMap(map);
      expect(rows.length).toBeGreaterThan(0);
      const mapsHostRoot = rows.some(
        ([, outside = 0, count = 0]) => outside <= 0 && 0 < outside + count,
      );
      expect(mapsHostRoot).toBe(false);
    }
    expect(dflt.json.groups).toEqual([]);

    const w = await probeIn<Record<string, Attempt>>(root, probe, [
      'write',
      '/proc/self/uid_map',
      '0 0 1',
    ]);
    expect(refused(w.json['/proc/self/uid_map'])).toBe(true);
  });
});
