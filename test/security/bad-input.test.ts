// The bad-input lines of design/security-cases.md: each gives a one-line
// error naming the input, exit 125, and creates nothing on disk or in
// cgroups. Seccomp profiles that are bad must never mean "unconfined".

import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { leftTraces, requireRoot, run, traceList } from './helpers';

let dir: string;

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync('/tmp/secinput-');
  writeFileSync(path.join(dir, 'a-file'), 'not a directory\n');
  const unreadable = path.join(dir, 'unreadable');
  mkdirSync(unreadable);
  chmodSync(unreadable, 0o000);
  const profiles: Record<string, string> = {
    'invalid.json': '{"defaultAction": "SCMP_ACT_ERRNO", ',
    'empty.json': '',
    'unknown-syscall.json': JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['no_such_syscall_xyz'], action: 'SCMP_ACT_ALLOW' }],
    }),
    'unknown-action.json': JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_SOMETIMES' }],
    }),
    'allows-nothing.json': JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [],
    }),
  };
  for (const [name, text] of Object.entries(profiles)) {
    writeFileSync(path.join(dir, name), text);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const p = (name: string): string => path.join(dir, name);

/** [case, tincan run arguments, what the one-line error must name] */
const cases: [string, () => string[], RegExp][] = [
  ['an unknown flag', () => ['--bogus', 'true'], /--bogus/],
  [
    'an unknown flag close to a known one',
    () => ['--hostnme', 'x', 'true'],
    /--hostnme/,
  ],
  ['a missing command', () => [], /command/],
  ['an empty --command', () => ['--command', ''], /--command/],
  ['--uid -1', () => ['--uid', '-1', 'true'], /--uid|-1/],
  [
    '--uid 70000 outside the map',
    () => ['--uid', '70000', 'true'],
    /--uid|70000/,
  ],
  ['--memory 12XB', () => ['--memory', '12XB', 'true'], /--memory|12XB/],
  ['--pids 0', () => ['--pids', '0', 'true'], /--pids/],
  ['--cpus -1', () => ['--cpus', '-1', 'true'], /--cpus/],
  ['--add without a colon', () => ['--add', '/tmp', 'true'], /--add/],
  [
    '--add with a relative container path',
    () => ['--add', '/tmp:relative/dir', 'true'],
    /--add/,
  ],
  [
    'a --mount that is missing',
    () => ['--mount', p('missing'), 'true'],
    /--mount|missing/,
  ],
  [
    'a --mount that is a file',
    () => ['--mount', p('a-file'), 'true'],
    /--mount|a-file/,
  ],
  [
    'a --mount that is not readable',
    () => ['--mount', p('unreadable'), 'true'],
    /--mount|unreadable/,
  ],
  ['an empty --hostname', () => ['--hostname', '', 'true'], /--hostname/],
  [
    'a --hostname longer than 64 characters',
    () => ['--hostname', 'h'.repeat(65), 'true'],
    /--hostname/,
  ],
  ['a --hostname with /', () => ['--hostname', 'a/b', 'true'], /--hostname/],
  [
    'a --hostname with a space',
    () => ['--hostname', 'a b', 'true'],
    /--hostname/,
  ],
  [
    'a --hostname with a newline',
    () => ['--hostname', 'a\nb', 'true'],
    /--hostname/,
  ],
  [
    'a seccomp profile that is invalid JSON',
    () => ['--seccomp', p('invalid.json'), 'true'],
    /--seccomp|invalid\.json/,
  ],
  [
    'an empty seccomp profile',
    () => ['--seccomp', p('empty.json'), 'true'],
    /--seccomp|empty\.json/,
  ],
  [
    'a seccomp profile naming an unknown syscall',
    () => ['--seccomp', p('unknown-syscall.json'), 'true'],
    /no_such_syscall_xyz/,
  ],
  [
    'a seccomp profile naming an unknown action',
    () => ['--seccomp', p('unknown-action.json'), 'true'],
    /SCMP_ACT_SOMETIMES/,
  ],
  [
    'a seccomp profile that allows nothing',
    () => ['--seccomp', p('allows-nothing.json'), 'true'],
    /--seccomp|allows-nothing\.json/,
  ],
];

describe('bad input exits 125 with one line naming it, creating nothing', () => {
  test.each(cases)('bad input: %s', async (_name, args, names) => {
    const baseline = traceList();
    const out = await run(args());
    const lines = out.stderr.trimEnd().split('\n');
    expect({ code: out.code, lines: lines.length }).toEqual({
      code: 125,
      lines: 1,
    });
    expect(lines[0]).toMatch(/^tincan: /);
    expect(lines[0]).toMatch(names);
    expect(out.stdout).toBe('');
    expect(await leftTraces(baseline, 1500)).toEqual([]);
  });
});
