// The compiler: a Policy and an architecture in, a classic BPF program
// out. Its shape:
//
//   check the architecture          anything else is killed
//   load the syscall number
//   (x86_64) refuse x32 numbers     they share AUDIT_ARCH_X86_64
//   binary search on the number     over ranges of equal verdict
//   one block per conditional call  argument tests, then a return
//   the shared returns

import { Assembler, type Assembled } from './assemble';
import { BPF, SECCOMP_DATA, validateProgram } from './bpf';
import {
  actionValue,
  describeAction,
  isNarrowArg,
  KILL_PROCESS,
  type Action,
  type ArgCondition,
  type Policy,
  type Rule,
} from './policy';
import { isKnownSyscall, syscallName, type Arch } from './syscalls';

/** A compiled filter: the program and what `seccomp dump` prints beside it. */
export interface Filter extends Assembled {
  arch: Arch;
  /** syscall names the policy used that this architecture lacks */
  skipped: string[];
}

/** Compiler settings. */
export interface CompileOptions {
  /** the verdict for another architecture or an x32 number */
  badArch?: Action;
}

const LD_ABS = BPF.LD | BPF.W | BPF.ABS;
const JEQ = BPF.JMP | BPF.JEQ | BPF.K;
const JGT = BPF.JMP | BPF.JGT | BPF.K;
const JGE = BPF.JMP | BPF.JGE | BPF.K;
const JA = BPF.JMP | BPF.JA;
const JSET = BPF.JMP | BPF.JSET | BPF.K;
const AND = BPF.ALU | BPF.AND | BPF.K;
const RET = BPF.RET | BPF.K;

/** One syscall's rules once names are resolved. */
interface Entry {
  nr: number;
  name: string;
  /** rules with conditions, in order */
  conditional: { action: Action; conditions: ArgCondition[] }[];
  /** the verdict when none of them matches */
  fallback: Action;
}

// #region compile (lab)
/** Compile `policy` for `arch`. Throws on a policy the kernel cannot run. */
export function compile(
  policy: Policy,
  arch: Arch,
  options: CompileOptions = {},
): Filter {
  const badArch = options.badArch ?? KILL_PROCESS;
  const { entries, skipped } = resolve(policy, arch);
  const asm = new Assembler();
  const returns = new Returns(asm);

  const bad = returns.label(badArch);
  asm.emit({ code: LD_ABS, k: SECCOMP_DATA.arch, comment: 'A = arch' });
  asm.emit({
    code: JEQ,
    k: arch.auditArch,
    jf: bad,
    comment: `${arch.name}? else another arch`,
  });
  asm.emit({ code: LD_ABS, k: SECCOMP_DATA.nr, comment: 'A = nr' });
  let top = 2 ** 32;
  if (arch.foreignBit !== undefined) {
    // x32 calls arrive with AUDIT_ARCH_X86_64 and the number ORed with
    // 0x40000000: without this test they would reach the search below.
    top = arch.foreignBit;
    asm.emit({ code: JGE, k: top, jt: bad, comment: 'x32 bit set?' });
  }

  const blocks = blocksOf(entries);
  const ranges = rangesOf(
    entries,
    returns.label(policy.defaultAction),
    (e) => blocks.get(e)?.label ?? returns.label(e.fallback),
    top,
  );
  emitSearch(asm, arch, ranges, 0, ranges.length - 1);

  for (const block of new Set(blocks.values())) {
    emitBlock(asm, block, returns);
  }
  returns.emitAll();

  const filter = { ...asm.assemble(), arch, skipped };
  validateProgram(filter.program);
  return filter;
}
// #endregion compile

/** The ret instructions shared by every range with the same verdict. */
class Returns {
  private readonly used = new Map<string, Action>();

  constructor(private readonly asm: Assembler) {}

  label(action: Action): string {
    const name = `ret_${describeAction(action).toLowerCase().replace(/[()]/g, '')}`;
    this.used.set(name, action);
    return name;
  }

  emitAll(): void {
    for (const [name, action] of this.used) {
      this.asm.label(name);
      this.asm.emit({ code: RET, k: actionValue(action) });
    }
  }
}

function resolve(
  policy: Policy,
  arch: Arch,
): { entries: Entry[]; skipped: string[] } {
  const byNr = new Map<number, Entry>();
  const skipped = new Set<string>();
  const unconditional = new Map<number, Action>();
  for (const rule of policy.rules) {
    for (const name of rule.syscalls) {
      const nr = arch.syscalls[name];
      if (nr === undefined) {
        if (!isKnownSyscall(name)) throw new Error(`unknown syscall ${name}`);
        skipped.add(name);
        continue;
      }
      checkConditions(name, rule);
      const entry = byNr.get(nr) ?? {
        nr,
        name,
        conditional: [],
        fallback: policy.defaultAction,
      };
      byNr.set(nr, entry);
      if (rule.conditions && rule.conditions.length > 0) {
        entry.conditional.push({
          action: rule.action,
          conditions: rule.conditions,
        });
      } else if (!unconditional.has(nr)) {
        unconditional.set(nr, rule.action);
        entry.fallback = rule.action;
      }
    }
  }
  // A call whose every path ends in the default needs no entry at all.
  const entries = [...byNr.values()]
    .map((e) => ({
      ...e,
      conditional: e.conditional.filter(
        (c) => actionValue(c.action) !== actionValue(e.fallback),
      ),
    }))
    .filter(
      (e) =>
        e.conditional.length > 0 ||
        actionValue(e.fallback) !== actionValue(policy.defaultAction),
    )
    .sort((a, b) => a.nr - b.nr);
  return { entries, skipped: [...skipped].sort() };
}

function checkConditions(name: string, rule: Rule): void {
  for (const c of rule.conditions ?? []) {
    if (!Number.isInteger(c.index) || c.index < 0 || c.index > 5) {
      throw new Error(`${name}: argument index ${c.index} is not 0-5`);
    }
    const limit = isNarrowArg(name, c.index) ? 1n << 32n : 1n << 64n;
    for (const v of [c.value, c.mask ?? 0n]) {
      if (v < 0n || v >= limit) {
        throw new Error(
          `${name}: argument ${c.index} value 0x${v.toString(16)} does not fit ${limit === 1n << 32n ? '32' : '64'} bits`,
        );
      }
    }
  }
}

/** A run of syscall numbers [start, end) with one verdict. */
interface Range {
  start: number;
  end: number;
  /** where the search sends it: a block or a shared return */
  target: string;
}

/** Cut [0, top) into ranges; neighbours with the same target merge. */
function rangesOf(
  entries: Entry[],
  defaultTarget: string,
  targetOf: (e: Entry) => string,
  top: number,
): Range[] {
  const ranges: Range[] = [];
  const push = (r: Range): void => {
    const last = ranges[ranges.length - 1];
    if (last && last.end === r.start && last.target === r.target) {
      last.end = r.end;
    } else if (r.end > r.start) ranges.push(r);
  };
  let next = 0;
  for (const e of entries) {
    push({ start: next, end: e.nr, target: defaultTarget });
    push({ start: e.nr, end: e.nr + 1, target: targetOf(e) });
    next = e.nr + 1;
  }
  push({ start: next, end: top, target: defaultTarget });
  return ranges;
}

// #region search
/**
 * A balanced binary search over ranges lo..hi: each test `nr >= start`
 * halves the ranges left, so a call meets about log2(ranges) tests.
 */
function emitSearch(
  asm: Assembler,
  arch: Arch,
  ranges: Range[],
  lo: number,
  hi: number,
  here?: string,
): void {
  if (here) asm.label(here);
  if (lo === hi) {
    asm.emit({ code: JA, k: 0, target: ranges[lo].target });
    return;
  }
  const mid = Math.ceil((lo + hi) / 2);
  const pivot = ranges[mid];
  const left = lo === mid - 1 ? ranges[lo].target : undefined;
  const right = mid === hi ? pivot.target : asm.fresh('ge');
  const name = syscallName(arch, pivot.start);
  asm.emit({
    code: JGE,
    k: pivot.start,
    jt: right,
    jf: left,
    comment: `nr >= ${pivot.start}${name ? ` (${name})` : ''}`,
  });
  if (left === undefined) emitSearch(asm, arch, ranges, lo, mid - 1);
  if (mid !== hi) emitSearch(asm, arch, ranges, mid, hi, right);
}
// #endregion search

// #region block
/**
 * One call's rules: each rule's tests, going on to the next rule on a
 * miss and to the shared return of its action on a hit.
 */
function emitBlock(asm: Assembler, block: Block, returns: Returns): void {
  asm.label(block.label);
  let holds: number | undefined;
  block.rules.forEach((rule, i) => {
    const last = i === block.rules.length - 1;
    const miss = last
      ? returns.label(block.fallback)
      : asm.fresh(`${block.label}.miss`);
    const hit = returns.label(rule.action);
    rule.tests.forEach((test, j) => {
      const final = j === rule.tests.length - 1;
      holds = emitTest(
        asm,
        block.narrow,
        test,
        miss,
        final ? hit : undefined,
        holds,
      );
    });
    if (!last) asm.label(miss);
  });
}
// #endregion block

/**
 * A test the compiler emits: a condition of the policy, or several
 * single-bit MASKED_EQ rules of one action folded into one `jset`.
 */
type Test = ArgCondition | { index: number; op: 'ANY_BIT'; mask: bigint };

/** The rules of one call (or of several calls with the same rules). */
interface Block {
  label: string;
  /** which arguments are compared on their low half only */
  narrow: (index: number) => boolean;
  rules: { action: Action; tests: Test[] }[];
  fallback: Action;
}

const isSingleBit = (c: ArgCondition): boolean =>
  c.op === 'MASKED_EQ' &&
  c.mask === c.value &&
  c.value > 0n &&
  c.value < 1n << 32n &&
  (c.value & (c.value - 1n)) === 0n;

/**
 * A single-bit MASKED_EQ is a `jset`; consecutive ones of one action fold
 * into one: `mode & S_ISUID` or `mode & S_ISGID` is `mode & 06000`.
 */
function foldBitTests(entry: Entry): Block['rules'] {
  const rules: Block['rules'] = [];
  for (const rule of entry.conditional) {
    const [c] = rule.conditions;
    const prev = rules[rules.length - 1];
    const prevTest = prev?.tests.length === 1 ? prev.tests[0] : undefined;
    if (
      rule.conditions.length === 1 &&
      c &&
      isSingleBit(c) &&
      prev &&
      prevTest &&
      prevTest.index === c.index &&
      actionValue(prev.action) === actionValue(rule.action) &&
      prevTest.op === 'ANY_BIT'
    ) {
      const mask = prevTest.mask;
      prev.tests = [{ index: c.index, op: 'ANY_BIT', mask: mask | c.value }];
      continue;
    }
    rules.push({
      action: rule.action,
      tests: rule.conditions.map((t) =>
        isSingleBit(t) ? { index: t.index, op: 'ANY_BIT', mask: t.value } : t,
      ),
    });
  }
  return rules;
}

/** One block per distinct rule set: chmod and fchmod share `chmod/fchmod`. */
function blocksOf(entries: Entry[]): Map<Entry, Block> {
  const byKey = new Map<string, Block>();
  const blocks = new Map<Entry, Block>();
  for (const entry of entries) {
    if (entry.conditional.length === 0) continue;
    const rules = foldBitTests(entry);
    const narrowArgs = [0, 1, 2, 3, 4, 5].map((i) =>
      isNarrowArg(entry.name, i),
    );
    const key = JSON.stringify(
      { rules, fallback: entry.fallback, narrowArgs },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    let block = byKey.get(key);
    if (block) block.label += `/${entry.name}`;
    else {
      block = {
        label: entry.name,
        narrow: (i) => narrowArgs[i] ?? false,
        rules,
        fallback: entry.fallback,
      };
      byKey.set(key, block);
    }
    blocks.set(entry, block);
  }
  return blocks;
}

// #region condition
/**
 * Jump to `miss` when the test fails and to `hit` (or fall through) when
 * it holds. A 64-bit test looks at the high word first and decides there
 * when it can; a narrow argument is tested on its low word alone.
 * `holds` is the seccomp_data offset already in A, if any; the result is
 * the offset A holds on the way to `miss` (undefined when unknown).
 */
function emitTest(
  asm: Assembler,
  isNarrow: (index: number) => boolean,
  c: Test,
  miss: string,
  hit: string | undefined,
  holds: number | undefined,
): number | undefined {
  const narrow = c.op === 'ANY_BIT' || isNarrow(c.index);
  const value = split(c.op === 'ANY_BIT' ? 0n : c.value);
  const mask = split(c.mask ?? 0xffffffffffffffffn);
  const arg = `arg${c.index}`;
  const low = SECCOMP_DATA.argLow(c.index);
  const loadLow = (): void => {
    if (holds !== low) {
      asm.emit({ code: LD_ABS, k: low, comment: `A = ${arg} low` });
    }
    holds = low;
  };
  const loadHigh = (): void => {
    asm.emit({
      code: LD_ABS,
      k: SECCOMP_DATA.argHigh(c.index),
      comment: `A = ${arg} high`,
    });
    holds = undefined;
  };
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const local = asm.fresh('pass');
  let localUsed = false;
  const pass = (): string => {
    if (hit) return hit;
    localUsed = true;
    return local;
  };

  switch (c.op) {
    case 'ANY_BIT':
      loadLow();
      asm.emit({
        code: JSET,
        k: mask.low,
        jt: hit,
        jf: miss,
        comment: `${arg} & ${hex(mask.low)}`,
      });
      break;
    case 'EQ':
    case 'NE': {
      // EQ: both words equal. NE: either word differs.
      const eq = c.op === 'EQ';
      if (!narrow) {
        loadHigh();
        asm.emit(
          eq
            ? { code: JEQ, k: value.high, jf: miss }
            : { code: JEQ, k: value.high, jf: pass() },
        );
      }
      loadLow();
      asm.emit({
        code: JEQ,
        k: value.low,
        ...(eq ? { jt: hit, jf: miss } : { jt: miss, jf: hit }),
        comment: `${arg} ${eq ? '==' : '!='} ${hex(value.low)}`,
      });
      break;
    }
    case 'MASKED_EQ': {
      if (!narrow && (mask.high !== 0 || value.high !== 0)) {
        loadHigh();
        if (mask.high !== 0xffffffff) asm.emit({ code: AND, k: mask.high });
        asm.emit({ code: JEQ, k: value.high, jf: miss });
      }
      loadLow();
      if (mask.low !== 0xffffffff) {
        asm.emit({ code: AND, k: mask.low });
        holds = undefined;
      }
      asm.emit({
        code: JEQ,
        k: value.low,
        jt: hit,
        jf: miss,
        comment: `(${arg} & ${hex(mask.low)}) == ${hex(value.low)}`,
      });
      break;
    }
    default: {
      // Unsigned order. GT/GE hold when the high word is greater, fail
      // when it is smaller, and look at the low word when it is equal;
      // LT and LE are the negations of GE and GT.
      const strict = c.op === 'GT' || c.op === 'LE';
      const negate = c.op === 'LT' || c.op === 'LE';
      if (!narrow) {
        loadHigh();
        asm.emit({ code: JGT, k: value.high, jt: negate ? miss : pass() });
        asm.emit({ code: JEQ, k: value.high, jf: negate ? pass() : miss });
      }
      loadLow();
      asm.emit({
        code: strict ? JGT : JGE,
        k: value.low,
        jt: negate ? miss : hit,
        jf: negate ? hit : miss,
        comment: `${arg} ${c.op.toLowerCase()} ${hex(value.low)}`,
      });
      if (!narrow) holds = undefined;
      break;
    }
  }
  if (localUsed) asm.label(local);
  return holds;
}
// #endregion condition

function split(v: bigint): { high: number; low: number } {
  return {
    high: Number((v >> 32n) & 0xffffffffn),
    low: Number(v & 0xffffffffn),
  };
}
