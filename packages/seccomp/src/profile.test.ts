// Docker/OCI profiles: what is honoured, and what is refused as bad input.

import { UsageError } from '@tincan/cli';
import { compile } from './compile';
import { runFilter } from './interpret';
import { actionValue, ALLOW, ERRNO } from './policy';
import { compareVersions, parseProfile, type ProfileContext } from './profile';
import { ARCHES } from './syscalls';

const x86: ProfileContext = {
  arch: ARCHES.x86_64,
  caps: ['CAP_CHOWN'],
  kernel: '6.1.0-13-amd64',
};
const arm: ProfileContext = { ...x86, arch: ARCHES.aarch64 };

const parse = (doc: unknown, ctx = x86) =>
  parseProfile(
    typeof doc === 'string' ? doc : JSON.stringify(doc),
    '--seccomp p.json',
    ctx,
  );

function verdict(doc: unknown, name: string, args: bigint[] = [], ctx = x86) {
  const filter = compile(parse(doc, ctx), ctx.arch);
  const nr = ctx.arch.syscalls[name];
  return runFilter(filter.program, { nr, arch: ctx.arch.auditArch, args }).ret;
}

const allowList = (extra: object[] = []) => ({
  defaultAction: 'SCMP_ACT_ERRNO',
  syscalls: [
    { names: ['read', 'write', 'execve'], action: 'SCMP_ACT_ALLOW' },
    ...extra,
  ],
});

describe('parseProfile', () => {
  test.each([
    ['', /the profile is empty/],
    ['  \n', /the profile is empty/],
    ['{', /invalid JSON/],
    ['[]', /not a JSON object/],
    ['{}', /defaultAction is missing/],
    [{ defaultAction: 'SCMP_ACT_NOPE' }, /"SCMP_ACT_NOPE" is not a seccomp/],
    [{ defaultAction: 'SCMP_ACT_TRACE' }, /not supported by tincan/],
    [{ defaultAction: 'SCMP_ACT_ERRNO' }, /allows no syscall on x86_64/],
    [
      allowList([{ names: ['no_such_call'], action: 'SCMP_ACT_ALLOW' }]),
      /unknown syscall "no_such_call"/,
    ],
    [allowList([{ names: [], action: 'SCMP_ACT_ALLOW' }]), /names no syscall/],
    [
      allowList([{ names: ['read'], action: 'SCMP_ACT_FOO' }]),
      /"SCMP_ACT_FOO"/,
    ],
    [
      allowList([
        {
          names: ['read'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }],
        },
      ]),
      /index 6 is not 0-5/,
    ],
    [
      allowList([
        {
          names: ['read'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }],
        },
      ]),
      /is not SCMP_CMP_/,
    ],
    [
      allowList([
        {
          names: ['read'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }],
        },
      ]),
      /not an unsigned integer/,
    ],
    [
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}',
      /too large for JSON/,
    ],
    [{ ...allowList(), defaultErrnoRet: 'x' }, /not an errno number/],
  ])('refuses %j', (doc, why) => {
    expect(() => parse(doc)).toThrow(UsageError);
    expect(() => parse(doc)).toThrow(why);
  });

  test('an allowlist allows its names and refuses the rest with EPERM', () => {
    expect(verdict(allowList(), 'read')).toBe(actionValue(ALLOW));
    expect(verdict(allowList(), 'mkdir')).toBe(actionValue(ERRNO(1)));
  });

  test('errnoRet and defaultErrnoRet', () => {
    const doc = {
      ...allowList([
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ]),
      defaultErrnoRet: 38,
    };
    expect(verdict(doc, 'mkdir')).toBe(actionValue(ERRNO(13)));
    expect(verdict(doc, 'rmdir')).toBe(actionValue(ERRNO(38)));
  });

  test('a deny list: defaultAction ALLOW', () => {
    const doc = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    };
    expect(verdict(doc, 'mkdir')).toBe(actionValue(ERRNO(1)));
    expect(verdict(doc, 'mkdirat')).toBe(actionValue(ERRNO(1)));
    expect(verdict(doc, 'getpid')).toBe(actionValue(ALLOW));
  });

  test('MASKED_EQ takes the mask in value and the datum in valueTwo', () => {
    const doc = allowList([
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          {
            index: 0,
            value: 0x7e020000,
            valueTwo: 0,
            op: 'SCMP_CMP_MASKED_EQ',
          },
        ],
      },
    ]);
    expect(verdict(doc, 'clone', [0x3d0f00n])).toBe(actionValue(ALLOW));
    expect(verdict(doc, 'clone', [0x10000011n])).toBe(actionValue(ERRNO(1)));
  });

  test('several conditions on one argument are alternatives (runc)', () => {
    const doc = allowList([
      {
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
        ],
      },
    ]);
    expect(verdict(doc, 'personality', [0n])).toBe(actionValue(ALLOW));
    expect(verdict(doc, 'personality', [8n])).toBe(actionValue(ALLOW));
    expect(verdict(doc, 'personality', [1n])).toBe(actionValue(ERRNO(1)));
  });

  test('includes and excludes by arch, caps and minKernel', () => {
    const doc = allowList([
      {
        names: ['arch_prctl'],
        action: 'SCMP_ACT_ALLOW',
        includes: { arches: ['amd64'] },
      },
      {
        names: ['mkdir'],
        action: 'SCMP_ACT_ALLOW',
        excludes: { arches: ['amd64'] },
      },
      {
        names: ['mount'],
        action: 'SCMP_ACT_ALLOW',
        includes: { caps: ['CAP_SYS_ADMIN'] },
      },
      {
        names: ['chown'],
        action: 'SCMP_ACT_ALLOW',
        includes: { caps: ['CAP_CHOWN'] },
      },
      {
        names: ['rmdir'],
        action: 'SCMP_ACT_ALLOW',
        excludes: { caps: ['CAP_CHOWN'] },
      },
      {
        names: ['getpid'],
        action: 'SCMP_ACT_ALLOW',
        includes: { minKernel: '6.2' },
      },
      {
        names: ['gettid'],
        action: 'SCMP_ACT_ALLOW',
        includes: { minKernel: '4.8' },
      },
    ]);
    const denied = actionValue(ERRNO(1));
    const allowed = actionValue(ALLOW);
    expect(verdict(doc, 'arch_prctl')).toBe(allowed);
    expect(verdict(doc, 'mkdir')).toBe(denied);
    expect(verdict(doc, 'mkdirat', [], arm)).toBe(denied);
    expect(verdict(doc, 'mount')).toBe(denied);
    expect(verdict(doc, 'chown')).toBe(allowed);
    expect(verdict(doc, 'rmdir')).toBe(denied);
    expect(verdict(doc, 'getpid')).toBe(denied);
    expect(verdict(doc, 'gettid')).toBe(allowed);
  });

  test('a name another architecture has is skipped, not refused', () => {
    const doc = allowList([{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }]);
    const filter = compile(parse(doc, arm), ARCHES.aarch64);
    expect(filter.skipped).toEqual(['mkdir']);
  });

  test('SCMP_ACT_KILL is KILL_THREAD, as in libseccomp', () => {
    const doc = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL' }],
    };
    expect(parse(doc).rules[0]?.action).toEqual({ kind: 'KILL_THREAD' });
  });
});

test('compareVersions reads kernel releases', () => {
  expect(compareVersions('6.1.0-13-amd64', '6.1')).toBe(0);
  expect(compareVersions('4.19.2', '4.8')).toBe(1);
  expect(compareVersions('4.7', '4.8')).toBe(-1);
});
