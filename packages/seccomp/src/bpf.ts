// Classic BPF as seccomp uses it (linux/filter.h, linux/seccomp.h): eight
// bytes an instruction, one 32-bit accumulator A, an index register X,
// sixteen scratch words, forward jumps only, and a program that must end
// in a return. The "packet" a filter reads is struct seccomp_data.

/** One instruction: struct sock_filter. */
export interface Insn {
  /** opcode: class | size/op | mode/source */
  code: number;
  /** jump offset when the test is true (0-255, forward) */
  jt: number;
  /** jump offset when the test is false (0-255, forward) */
  jf: number;
  /** the constant operand */
  k: number;
}

// #region opcodes
/** Instruction classes and fields used by seccomp filters. */
export const BPF = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  W: 0x00,
  ABS: 0x20,
  IMM: 0x00,
  MEM: 0x60,
  LEN: 0x80,
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  K: 0x00,
  X: 0x08,
  A: 0x10,
  TAX: 0x00,
  TXA: 0x80,
} as const;
// #endregion opcodes

// #region seccomp-data
/**
 * Offsets in struct seccomp_data: `int nr; __u32 arch; __u64
 * instruction_pointer; __u64 args[6];`. The 64-bit fields are read as two
 * 32-bit words; on little-endian machines the low word comes first.
 */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  ipLow: 8,
  ipHigh: 12,
  argLow: (i: number): number => 16 + 8 * i,
  argHigh: (i: number): number => 20 + 8 * i,
  size: 64,
} as const;
// #endregion seccomp-data

/** The filter's verdicts (SECCOMP_RET_*), highest precedence first. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

/** The most instructions the kernel accepts in one filter (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** `op k`: a statement. */
export function stmt(code: number, k: number): Insn {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** `op k, jt, jf`: a conditional jump. */
export function jump(code: number, k: number, jt: number, jf: number): Insn {
  return { code, jt, jf, k: k >>> 0 };
}

/** Pack instructions into the bytes of a struct sock_filter array. */
export function encodeProgram(program: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(8 * program.length);
  program.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, 8 * i);
    buf.writeUInt8(insn.jt, 8 * i + 2);
    buf.writeUInt8(insn.jf, 8 * i + 3);
    buf.writeUInt32LE(insn.k >>> 0, 8 * i + 4);
  });
  return buf;
}

/** Unpack a struct sock_filter array. */
export function decodeProgram(buf: Buffer): Insn[] {
  if (buf.length % 8 !== 0) {
    throw new Error(
      `a BPF program is a multiple of 8 bytes, not ${buf.length}`,
    );
  }
  const program: Insn[] = [];
  for (let off = 0; off < buf.length; off += 8) {
    program.push({
      code: buf.readUInt16LE(off),
      jt: buf.readUInt8(off + 2),
      jf: buf.readUInt8(off + 3),
      k: buf.readUInt32LE(off + 4),
    });
  }
  return program;
}

/**
 * Check what the kernel's seccomp_check_filter and bpf_check_classic
 * check: length, jumps inside the program, aligned in-bounds loads, known
 * opcodes, a return at the end. Throws on the first problem.
 */
export function validateProgram(program: readonly Insn[]): void {
  const n = program.length;
  if (n === 0 || n > BPF_MAXINSNS) {
    throw new Error(`a filter has 1 to ${BPF_MAXINSNS} instructions, not ${n}`);
  }
  program.forEach((insn, pc) => {
    const cls = insn.code & 0x07;
    const where = `instruction ${pc}`;
    if (cls === BPF.LD && (insn.code & 0xe0) === BPF.ABS) {
      if (insn.k % 4 !== 0 || insn.k + 4 > SECCOMP_DATA.size) {
        throw new Error(`${where}: load at ${insn.k} outside seccomp_data`);
      }
    }
    if ((cls === BPF.ST || cls === BPF.STX) && insn.k >= 16) {
      throw new Error(`${where}: scratch word ${insn.k} out of range`);
    }
    if (cls === BPF.JMP) {
      const op = insn.code & 0xf0;
      const targets =
        op === BPF.JA
          ? [pc + 1 + insn.k]
          : [pc + 1 + insn.jt, pc + 1 + insn.jf];
      for (const t of targets) {
        if (t >= n) throw new Error(`${where}: jump past the end to ${t}`);
      }
    }
  });
  const last = program[n - 1];
  if (!last || (last.code & 0x07) !== BPF.RET) {
    throw new Error('a filter must end with a return');
  }
}
