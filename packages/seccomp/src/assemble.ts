// A small assembler for classic BPF with named labels. Conditional jumps
// reach at most 255 instructions ahead; when a label is farther, the jump
// is routed through an unconditional `ja`, whose offset is 32 bits wide.

import { BPF, type Insn } from './bpf';

/** An instruction whose jump targets are labels (undefined: the next one). */
export interface AsmInsn {
  code: number;
  k: number;
  /** for conditional jumps */
  jt?: string;
  jf?: string;
  /** for `ja` */
  target?: string;
  /** shown by `tincan seccomp dump` */
  comment?: string;
}

type Item = { label: string } | { insn: AsmInsn };

/** A finished program and what the dump shows beside it. */
export interface Assembled {
  program: Insn[];
  /** one comment per instruction ('' for none) */
  comments: string[];
  /** label names by instruction index */
  labels: Map<number, string>;
}

/** Collects instructions and labels, then resolves the jumps. */
export class Assembler {
  private readonly items: Item[] = [];
  private counter = 0;

  /** A fresh label name with `hint` in it. */
  fresh(hint: string): string {
    return `${hint}.${this.counter++}`;
  }

  /** Place `name` at the next instruction. */
  label(name: string): void {
    this.items.push({ label: name });
  }

  /** Add one instruction. */
  emit(insn: AsmInsn): void {
    this.items.push({ insn });
  }

  /** Resolve labels into offsets, adding trampolines for far jumps. */
  assemble(): Assembled {
    let items = this.items.slice();
    for (;;) {
      const positions = positionsOf(items);
      const far = findFarJump(items, positions);
      if (far === undefined) return finish(items, positions);
      items = this.addTrampoline(items, far, positions);
    }
  }

  private addTrampoline(
    items: Item[],
    index: number,
    positions: Map<string, number>,
  ): Item[] {
    const { insn } = items[index] as { insn: AsmInsn };
    const pc = pcOf(items, index);
    const isFar = (label: string | undefined): boolean =>
      label !== undefined && (positions.get(label) ?? 0) - pc - 1 > 255;
    const added: Item[] = [];
    const rewritten: AsmInsn = { ...insn };
    const after = this.fresh('after');
    for (const side of ['jt', 'jf'] as const) {
      const target = insn[side];
      if (!isFar(target)) continue;
      const hop = this.fresh('far');
      rewritten[side] = hop;
      added.push(
        { label: hop },
        { insn: { code: BPF.JMP | BPF.JA, k: 0, target, comment: 'far' } },
      );
    }
    // The side that fell through must now jump over the trampolines.
    for (const side of ['jt', 'jf'] as const) {
      if (rewritten[side] === undefined) rewritten[side] = after;
    }
    return [
      ...items.slice(0, index),
      { insn: rewritten },
      ...added,
      { label: after },
      ...items.slice(index + 1),
    ];
  }
}

function isConditional(insn: AsmInsn): boolean {
  return (insn.code & 0x07) === BPF.JMP && (insn.code & 0xf0) !== BPF.JA;
}

function positionsOf(items: Item[]): Map<string, number> {
  const positions = new Map<string, number>();
  let pc = 0;
  for (const item of items) {
    if ('label' in item) {
      if (positions.has(item.label)) {
        throw new Error(`label ${item.label} defined twice`);
      }
      positions.set(item.label, pc);
    } else pc++;
  }
  return positions;
}

function pcOf(items: Item[], index: number): number {
  return items.slice(0, index).filter((i) => 'insn' in i).length;
}

function findFarJump(
  items: Item[],
  positions: Map<string, number>,
): number | undefined {
  let pc = 0;
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (!('insn' in item)) continue;
    if (isConditional(item.insn)) {
      for (const label of [item.insn.jt, item.insn.jf]) {
        if (label === undefined) continue;
        if (offset(positions, label, pc) > 255) return index;
      }
    }
    pc++;
  }
  return undefined;
}

function offset(
  positions: Map<string, number>,
  label: string,
  pc: number,
): number {
  const at = positions.get(label);
  if (at === undefined) throw new Error(`undefined label ${label}`);
  const off = at - pc - 1;
  if (off < 0) throw new Error(`label ${label} is behind instruction ${pc}`);
  return off;
}

function finish(items: Item[], positions: Map<string, number>): Assembled {
  const program: Insn[] = [];
  const comments: string[] = [];
  const labels = new Map<number, string>();
  for (const [name, pc] of positions) {
    if (!labels.has(pc) || name.includes('.') === false) labels.set(pc, name);
  }
  for (const item of items) {
    if (!('insn' in item)) continue;
    const { insn } = item;
    const pc = program.length;
    const resolve = (label: string | undefined): number =>
      label === undefined ? 0 : offset(positions, label, pc);
    if ((insn.code & 0x07) === BPF.JMP && (insn.code & 0xf0) === BPF.JA) {
      program.push({ code: insn.code, jt: 0, jf: 0, k: resolve(insn.target) });
    } else if (isConditional(insn)) {
      program.push({
        code: insn.code,
        jt: resolve(insn.jt),
        jf: resolve(insn.jf),
        k: insn.k >>> 0,
      });
    } else {
      program.push({ code: insn.code, jt: 0, jf: 0, k: insn.k >>> 0 });
    }
    comments.push(insn.comment ?? '');
  }
  return { program, comments, labels };
}
