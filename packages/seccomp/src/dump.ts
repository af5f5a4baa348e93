// `tincan seccomp dump`: a filter as readable assembly. Jump targets get
// labels, search tests name the syscall at their pivot, and the program
// ends with its length and how many instructions a syscall costs.

import { BPF, SECCOMP_DATA, type Insn } from './bpf';
import type { Filter } from './compile';
import { runFilter } from './interpret';
import { describeRet } from './policy';
import { maxSyscall } from './syscalls';

const FIELDS = new Map<number, string>([
  [SECCOMP_DATA.nr, 'nr'],
  [SECCOMP_DATA.arch, 'arch'],
  [SECCOMP_DATA.ipLow, 'ip'],
  [SECCOMP_DATA.ipHigh, 'ip+4'],
]);
for (let i = 0; i < 6; i++) {
  FIELDS.set(SECCOMP_DATA.argLow(i), `args[${i}]`);
  FIELDS.set(SECCOMP_DATA.argHigh(i), `args[${i}]+4`);
}

const JUMPS: Record<number, string> = {
  [BPF.JEQ]: 'jeq',
  [BPF.JGT]: 'jgt',
  [BPF.JGE]: 'jge',
  [BPF.JSET]: 'jset',
};
const ALU: Record<number, string> = {
  [BPF.ADD]: 'add',
  [BPF.SUB]: 'sub',
  [BPF.MUL]: 'mul',
  [BPF.DIV]: 'div',
  [BPF.OR]: 'or',
  [BPF.AND]: 'and',
  [BPF.LSH]: 'lsh',
  [BPF.RSH]: 'rsh',
  [BPF.NEG]: 'neg',
  [BPF.MOD]: 'mod',
  [BPF.XOR]: 'xor',
};

const hex = (n: number): string => `#0x${(n >>> 0).toString(16)}`;

/** One instruction as text; `at(pc)` names a jump target. */
export function disassemble(
  insn: Insn,
  pc: number,
  at: (pc: number) => string,
): string {
  const src = (insn.code & BPF.X) !== 0 ? 'x' : hex(insn.k);
  switch (insn.code & 0x07) {
    case BPF.LD:
      switch (insn.code & 0xe0) {
        case BPF.ABS:
          return `ld   [${FIELDS.get(insn.k) ?? insn.k}]`;
        case BPF.MEM:
          return `ld   M[${insn.k}]`;
        case BPF.LEN:
          return 'ld   #len';
        default:
          return `ld   ${hex(insn.k)}`;
      }
    case BPF.LDX:
      return (insn.code & 0xe0) === BPF.MEM
        ? `ldx  M[${insn.k}]`
        : `ldx  ${hex(insn.k)}`;
    case BPF.ST:
      return `st   M[${insn.k}]`;
    case BPF.STX:
      return `stx  M[${insn.k}]`;
    case BPF.ALU:
      return `${(ALU[insn.code & 0xf0] ?? 'alu?').padEnd(4)} ${src}`;
    case BPF.JMP: {
      const op = insn.code & 0xf0;
      if (op === BPF.JA) return `ja   ${at(pc + 1 + insn.k)}`;
      const name = (JUMPS[op] ?? 'j?').padEnd(4);
      return `${name} ${src}, ${at(pc + 1 + insn.jt)}, ${at(pc + 1 + insn.jf)}`;
    }
    case BPF.RET:
      return (insn.code & 0x18) === BPF.A
        ? 'ret  a'
        : `ret  ${describeRet(insn.k)}`;
    default:
      return (insn.code & 0xf8) === BPF.TXA ? 'txa' : 'tax';
  }
}

/** Instructions executed per syscall number, over every known number. */
export interface CostStats {
  min: number;
  median: number;
  max: number;
}

/** Run the filter on every number of its table (arguments 0). */
export function costStats(filter: Filter): CostStats {
  const counts: number[] = [];
  for (let nr = 0; nr <= maxSyscall(filter.arch); nr++) {
    counts.push(
      runFilter(filter.program, { nr, arch: filter.arch.auditArch }).executed,
    );
  }
  counts.sort((a, b) => a - b);
  return {
    min: counts[0] ?? 0,
    median: counts[Math.floor(counts.length / 2)] ?? 0,
    max: counts[counts.length - 1] ?? 0,
  };
}

// #region dump
/** The whole filter as assembly with labels, comments and its cost. */
export function dumpFilter(filter: Filter, title: string): string {
  const { program, comments, labels } = filter;
  const names = new Map<number, string>();
  const targets = new Set<number>();
  program.forEach((insn, pc) => {
    if ((insn.code & 0x07) !== BPF.JMP) return;
    if ((insn.code & 0xf0) === BPF.JA) targets.add(pc + 1 + insn.k);
    else {
      if (insn.jt !== 0) targets.add(pc + 1 + insn.jt);
      if (insn.jf !== 0) targets.add(pc + 1 + insn.jf);
    }
  });
  for (const pc of [...targets].sort((a, b) => a - b)) {
    const given = labels.get(pc);
    names.set(pc, given && !given.includes('.') ? given : `L${pc}`);
  }
  const at = (pc: number): string => names.get(pc) ?? `${pc}`;
  const fallThrough = (pc: number): string => names.get(pc) ?? 'next';

  const lines = [`; ${title}`, `; arch ${filter.arch.name}`];
  program.forEach((insn, pc) => {
    const label = names.get(pc);
    if (label) lines.push(`${label}:`);
    const text = disassemble(insn, pc, (t) =>
      t === pc + 1 ? fallThrough(t) : at(t),
    );
    const comment = comments[pc] ? `; ${comments[pc]}` : '';
    lines.push(
      `  ${String(pc).padStart(4)}  ${text.padEnd(40)} ${comment}`.trimEnd(),
    );
  });
  const cost = costStats(filter);
  lines.push(
    `; ${program.length} instructions; per syscall ${cost.min} min, ` +
      `${cost.median} median, ${cost.max} max executed`,
  );
  if (filter.skipped.length > 0) {
    lines.push(
      `; not on ${filter.arch.name}, skipped: ${filter.skipped.join(' ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
// #endregion dump
