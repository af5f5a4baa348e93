// A classic BPF interpreter for seccomp filters, in TypeScript: it runs a
// program on a seccomp_data the way the kernel would and counts the
// instructions it executed, so tests can check every syscall number
// without loading anything into a kernel.

import { BPF, SECCOMP_DATA, type Insn } from './bpf';

/** The input of a filter: struct seccomp_data. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** up to six arguments, unsigned 64-bit */
  args?: readonly bigint[];
}

/** What a run of the filter returned. */
export interface RunResult {
  /** the SECCOMP_RET_* value */
  ret: number;
  /** instructions executed, the return included */
  executed: number;
}

/** The bytes of a seccomp_data, as a filter's loads see them. */
export function seccompDataBytes(data: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA.size);
  buf.writeUInt32LE(data.nr >>> 0, SECCOMP_DATA.nr);
  buf.writeUInt32LE(data.arch >>> 0, SECCOMP_DATA.arch);
  buf.writeBigUInt64LE(BigInt.asUintN(64, data.instructionPointer ?? 0n), 8);
  (data.args ?? []).slice(0, 6).forEach((arg, i) => {
    buf.writeBigUInt64LE(BigInt.asUintN(64, arg), SECCOMP_DATA.argLow(i));
  });
  return buf;
}

// #region run
/** Run `program` on `data`. Throws on what the kernel would refuse to load. */
export function runFilter(
  program: readonly Insn[],
  data: SeccompData,
): RunResult {
  const packet = seccompDataBytes(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  let executed = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const insn = program[pc];
    executed++;
    const k = insn.k >>> 0;
    const src = (insn.code & BPF.X) !== 0 ? x : k;
    switch (insn.code & 0x07) {
      case BPF.LD:
        a = load(insn, packet, mem, k, a);
        break;
      case BPF.LDX:
        x = (insn.code & 0xe0) === BPF.MEM ? (mem[k] ?? 0) : k;
        break;
      case BPF.ST:
        mem[k] = a;
        break;
      case BPF.STX:
        mem[k] = x;
        break;
      case BPF.ALU:
        a = alu(insn.code & 0xf0, a, src);
        break;
      case BPF.JMP: {
        const op = insn.code & 0xf0;
        if (op === BPF.JA) {
          pc += k;
          break;
        }
        const taken =
          op === BPF.JEQ
            ? a === src
            : op === BPF.JGT
              ? a > src
              : op === BPF.JGE
                ? a >= src
                : (a & src) !== 0;
        pc += taken ? insn.jt : insn.jf;
        break;
      }
      case BPF.RET:
        return {
          ret: ((insn.code & 0x18) === BPF.A ? a : k) >>> 0,
          executed,
        };
      case BPF.MISC:
        if ((insn.code & 0xf8) === BPF.TXA) a = x;
        else x = a;
        break;
    }
  }
  throw new Error('the filter ran past its end');
}
// #endregion run

function load(
  insn: Insn,
  packet: Buffer,
  mem: Uint32Array,
  k: number,
  a: number,
): number {
  switch (insn.code & 0xe0) {
    case BPF.ABS:
      if (k % 4 !== 0 || k + 4 > packet.length) {
        throw new Error(`load of seccomp_data at ${k}`);
      }
      return packet.readUInt32LE(k);
    case BPF.IMM:
      return k;
    case BPF.MEM:
      return mem[k] ?? 0;
    case BPF.LEN:
      return packet.length;
    default:
      throw new Error(`unsupported load 0x${insn.code.toString(16)} (A=${a})`);
  }
}

function alu(op: number, a: number, src: number): number {
  switch (op) {
    case BPF.ADD:
      return (a + src) >>> 0;
    case BPF.SUB:
      return (a - src) >>> 0;
    case BPF.MUL:
      return Math.imul(a, src) >>> 0;
    case BPF.DIV:
      return src === 0 ? 0 : Math.floor(a / src) >>> 0;
    case BPF.MOD:
      return src === 0 ? 0 : (a % src) >>> 0;
    case BPF.OR:
      return (a | src) >>> 0;
    case BPF.AND:
      return (a & src) >>> 0;
    case BPF.XOR:
      return (a ^ src) >>> 0;
    case BPF.LSH:
      return src >= 32 ? 0 : (a << src) >>> 0;
    case BPF.RSH:
      return src >= 32 ? 0 : a >>> src;
    case BPF.NEG:
      return -a >>> 0;
    default:
      throw new Error(`unsupported ALU op 0x${op.toString(16)}`);
  }
}
