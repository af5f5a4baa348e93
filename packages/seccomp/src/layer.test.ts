// The layer's choice of filter: default, profile, and the profiles it
// must refuse because the init could not get to execve under them.

import { UsageError } from '@tincan/cli';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { filterFor, INIT_NEEDS, refuseOldKernel } from './layer';
import { ARCHES } from './syscalls';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'seccomp-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, doc: unknown): string {
  const target = path.join(dir, name);
  writeFileSync(target, JSON.stringify(doc));
  return target;
}

describe('filterFor', () => {
  test('no profile: the default policy', () => {
    expect(filterFor(undefined, ARCHES.x86_64).program.length).toBe(53);
  });

  test('a missing profile is bad input', () => {
    expect(() => filterFor(path.join(dir, 'nope.json'), ARCHES.x86_64)).toThrow(
      /cannot read the profile: ENOENT/,
    );
  });

  test.each(INIT_NEEDS.filter((n) => n in ARCHES.x86_64.syscalls))(
    'a profile refusing %s is refused',
    (name) => {
      const profile = file(`no-${name}.json`, {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: [name], action: 'SCMP_ACT_ERRNO' }],
      });
      expect(() => filterFor(profile, ARCHES.x86_64)).toThrow(UsageError);
      expect(() => filterFor(profile, ARCHES.x86_64)).toThrow(
        `refuses ${name}`,
      );
    },
  );

  test('a profile refusing mkdir compiles', () => {
    const profile = file('no-mkdir.json', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(filterFor(profile, ARCHES.aarch64).skipped).toEqual(['mkdir']);
  });
});

test('kernels before 4.8 are refused', () => {
  expect(() => refuseOldKernel('4.4.0-210-generic')).toThrow(
    /older than 4.8, where ptrace can bypass/,
  );
  expect(() => refuseOldKernel('4.8.0')).not.toThrow();
  expect(() => refuseOldKernel('6.18.44-fc-v1252')).not.toThrow();
});
