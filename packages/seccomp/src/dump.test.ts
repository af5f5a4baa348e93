// `tincan seccomp dump` output and the BPF helpers under it.

import {
  BPF,
  decodeProgram,
  encodeProgram,
  jump,
  stmt,
  validateProgram,
} from './bpf';
import { compile } from './compile';
import { DEFAULT_POLICY } from './default-policy';
import { costStats, dumpFilter } from './dump';
import { runFilter } from './interpret';
import { ARCHES } from './syscalls';

describe('dumpFilter', () => {
  const filter = compile(DEFAULT_POLICY, ARCHES.x86_64);
  const text = dumpFilter(filter, 'tincan default policy');

  test('names the syscalls at the search tests and labels the blocks', () => {
    expect(text).toMatch(/^; tincan default policy$/m);
    expect(text).toMatch(/ld {3}\[arch\]/);
    expect(text).toMatch(/jeq {2}#0xc000003e, next, ret_kill_process/);
    expect(text).toMatch(/jge {2}#0x40000000, ret_kill_process, next/);
    expect(text).toMatch(/nr >= 16 \(ioctl\)/);
    expect(text).toMatch(/^ioctl:$/m);
    expect(text).toMatch(/jeq {2}#0x5412, ret_errno1, next/);
    expect(text).toMatch(/^ret_allow:$/m);
    expect(text).toMatch(/ret {2}ERRNO\(38\)/);
  });

  test('ends with the length and the cost per syscall', () => {
    const cost = costStats(filter);
    expect(text).toContain(
      `; ${filter.program.length} instructions; per syscall ${cost.min} min, ${cost.median} median, ${cost.max} max executed`,
    );
  });

  test('lists names the architecture lacks', () => {
    const arm = dumpFilter(compile(DEFAULT_POLICY, ARCHES.aarch64), 'x');
    expect(arm).toMatch(/not on aarch64, skipped: chmod/);
  });
});

describe('BPF programs', () => {
  const prog = [
    stmt(BPF.LD | BPF.W | BPF.ABS, 0),
    jump(BPF.JMP | BPF.JEQ | BPF.K, 39, 0, 1),
    stmt(BPF.RET | BPF.K, 0x50001),
    stmt(BPF.RET | BPF.K, 0x7fff0000),
  ];

  test('encode and decode are inverse', () => {
    const bytes = encodeProgram(prog);
    expect(bytes.length).toBe(32);
    expect(decodeProgram(bytes)).toEqual(prog);
  });

  test('the interpreter counts what it executes', () => {
    expect(runFilter(prog, { nr: 39, arch: 0 })).toEqual({
      ret: 0x50001,
      executed: 3,
    });
    expect(runFilter(prog, { nr: 40, arch: 0 })).toEqual({
      ret: 0x7fff0000,
      executed: 3,
    });
  });

  test('validateProgram refuses what the kernel refuses', () => {
    expect(() => validateProgram([])).toThrow(/1 to 4096/);
    expect(() => validateProgram(prog.slice(0, 3))).toThrow(/past the end/);
    expect(() => validateProgram(prog.slice(0, 1))).toThrow(
      /end with a return/,
    );
    expect(() =>
      validateProgram([stmt(BPF.LD | BPF.W | BPF.ABS, 2), prog[3]]),
    ).toThrow(/outside seccomp_data/);
    expect(() =>
      validateProgram([stmt(BPF.LD | BPF.W | BPF.ABS, 64), prog[3]]),
    ).toThrow(/outside seccomp_data/);
    expect(() => validateProgram(prog)).not.toThrow();
  });
});
