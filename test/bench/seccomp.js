// @ts-check
// Section 3: seccomp programs. tincan's compiler next to libseccomp's for
// the same policies: program length, and instructions executed per
// syscall number (min/median/max), all counted with tincan's TS
// interpreter. libseccomp is bound through koffi; its program is exported
// with seccomp_export_bpf into a temp file and read back as sock_filters.

'use strict';

const {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
} = require('node:fs');
const path = require('node:path');
const { ROOT, hasStep, summarize, table, fix, verdict } = require('./lib');

const SCMP_FLTATR_ACT_BADARCH = 2;
const SCMP_FLTATR_CTL_OPTIMIZE = 8;
/** SCMP_CMP_* from seccomp.h, by tincan's op names. */
const SCMP_CMP = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 };
const SECCOMP_RET_KILL_PROCESS = 0x80000000;

/** @typedef {{ code: number, jt: number, jf: number, k: number }} Insn */

/** The seccomp package's exports, or undefined when it is not built. */
function loadSeccomp() {
  if (!hasStep('seccomp')) return undefined;
  return require(path.join(ROOT, 'packages/seccomp/dist/index.js'));
}

/** koffi, from the cli package that depends on it. */
function loadKoffi() {
  const dist = path.join(ROOT, 'packages/cli/dist');
  return require(require.resolve('koffi', { paths: [dist] }));
}

/**
 * libseccomp's functions, or the reason they cannot be had.
 * @returns {{ lib: any } | { error: string }}
 */
function bindLibseccomp() {
  const koffi = loadKoffi();
  let lib;
  try {
    lib = koffi.load('libseccomp.so.2');
  } catch (err) {
    return {
      error: `libseccomp.so.2 not loadable (apt-get install libseccomp-dev): ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return {
    lib: {
      version: lib.func('const void *seccomp_version(void)'),
      init: lib.func('void *seccomp_init(uint32_t def_action)'),
      release: lib.func('void seccomp_release(void *ctx)'),
      attrSet: lib.func(
        'int seccomp_attr_set(void *ctx, int attr, uint32_t value)',
      ),
      resolve: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
      ruleAddArray: lib.func(
        'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)',
      ),
      exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
      koffi,
    },
  };
}

/** libseccomp's version as text. */
function libseccompVersion(/** @type {any} */ lib) {
  const ptr = lib.version();
  const v = lib.koffi.decode(ptr, 'uint32_t', 3);
  return v.join('.');
}

/**
 * struct scmp_arg_cmp[] { u32 arg; enum op; u64 datum_a; u64 datum_b; }
 * @param {{ index: number, op: keyof typeof SCMP_CMP, value: bigint, mask?: bigint }[]} conditions
 */
function argArray(conditions) {
  const buf = Buffer.alloc(24 * Math.max(conditions.length, 1));
  conditions.forEach((c, i) => {
    buf.writeUInt32LE(c.index, i * 24);
    buf.writeUInt32LE(SCMP_CMP[c.op], i * 24 + 4);
    // MASKED_EQ takes the mask in datum_a and the value in datum_b.
    const a = c.op === 'MASKED_EQ' ? (c.mask ?? 0n) : c.value;
    const b = c.op === 'MASKED_EQ' ? c.value : 0n;
    buf.writeBigUInt64LE(BigInt.asUintN(64, a), i * 24 + 8);
    buf.writeBigUInt64LE(BigInt.asUintN(64, b), i * 24 + 16);
  });
  return buf;
}

/**
 * Build `policy` with libseccomp at optimization `level` (1: the default
 * linear list, 2: binary tree) and return its program.
 * @param {any} lib
 * @param {any} sec the seccomp package
 * @param {any} policy
 * @param {number} level
 * @param {string} tmp a file name for the export
 */
function libseccompProgram(lib, sec, policy, level, tmp) {
  const ctx = lib.init(sec.actionValue(policy.defaultAction) >>> 0);
  if (!ctx) throw new Error('seccomp_init failed');
  /** @type {string[]} */
  const notes = [];
  try {
    let rc = lib.attrSet(
      ctx,
      SCMP_FLTATR_ACT_BADARCH,
      SECCOMP_RET_KILL_PROCESS,
    );
    if (rc < 0) throw new Error(`seccomp_attr_set(ACT_BADARCH): ${rc}`);
    rc = lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, level);
    if (rc < 0)
      throw new Error(`seccomp_attr_set(CTL_OPTIMIZE, ${level}): ${rc}`);
    const def = sec.actionValue(policy.defaultAction) >>> 0;
    for (const rule of policy.rules) {
      const action = sec.actionValue(rule.action) >>> 0;
      // libseccomp refuses a rule whose action is the default (EACCES);
      // it changes nothing, so leave it out.
      if (action === def) continue;
      const conds = rule.conditions ?? [];
      for (const name of rule.syscalls) {
        const nr = lib.resolve(name);
        if (nr === -1) {
          notes.push(`unknown to libseccomp: ${name}`);
          continue;
        }
        rc = lib.ruleAddArray(ctx, action, nr, conds.length, argArray(conds));
        if (rc < 0) notes.push(`seccomp_rule_add(${name}): ${rc}`);
      }
    }
    const fd = openSync(tmp, 'w+', 0o600);
    try {
      rc = lib.exportBpf(ctx, fd);
    } finally {
      closeSync(fd);
    }
    if (rc < 0) throw new Error(`seccomp_export_bpf: ${rc}`);
  } finally {
    lib.release(ctx);
  }
  const bytes = readFileSync(tmp);
  /** @type {Insn[]} */
  const program = [];
  for (let off = 0; off + 8 <= bytes.length; off += 8) {
    program.push({
      code: bytes.readUInt16LE(off),
      jt: bytes.readUInt8(off + 2),
      jf: bytes.readUInt8(off + 3),
      k: bytes.readUInt32LE(off + 4),
    });
  }
  return { program, notes };
}

/**
 * Run `program` for every syscall number of `arch` (arguments zero).
 * @param {any} sec
 * @param {Insn[]} program
 * @param {any} arch
 */
function countExecuted(sec, program, arch) {
  const max = sec.maxSyscall(arch);
  /** @type {number[]} */
  const executed = [];
  /** @type {number[]} */
  const rets = [];
  for (let nr = 0; nr <= max; nr++) {
    const r = sec.runFilter(program, { nr, arch: arch.auditArch });
    executed.push(r.executed);
    rets.push(r.ret >>> 0);
  }
  return { executed: summarize(executed), rets };
}

/** The Docker-format profile fixture the seccomp step ships, if any. */
function profileFixture() {
  const dir = path.join(ROOT, 'test/fixtures/seccomp');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const pick =
    files.find((f) => /docker/.test(f)) ?? files.find((f) => /allow/.test(f));
  return pick ? path.join(dir, pick) : undefined;
}

/**
 * Measure section 3.
 * @param {string} dir the benchmark's temp dir
 */
function measureSeccomp(dir) {
  const sec = loadSeccomp();
  if (!sec) return { present: false };
  const arch = sec.hostArch();
  /** @type {{ name: string, policy: any }[]} */
  const policies = [{ name: 'default policy', policy: sec.DEFAULT_POLICY }];
  /** @type {string[]} */
  const notes = [];
  const fixture = profileFixture();
  if (fixture) {
    const policy = sec.parseProfile(
      readFileSync(fixture, 'utf8'),
      path.relative(ROOT, fixture),
      sec.hostProfileContext(arch),
    );
    policies.push({
      name: `profile ${path.relative(ROOT, fixture)}`,
      policy,
    });
  } else {
    notes.push('no Docker-format profile under test/fixtures/seccomp');
  }

  const bound = bindLibseccomp();
  let version = '';
  if ('error' in bound) notes.push(bound.error);
  else version = libseccompVersion(bound.lib);

  const rows = [];
  for (const { name, policy } of policies) {
    const filter = sec.compile(policy, arch);
    const mine = countExecuted(sec, filter.program, arch);
    const entry = {
      policy: name,
      rules: policy.rules.length,
      /** @type {Record<number, string>} */
      names: Object.fromEntries(
        Object.entries(arch.syscalls).map(([n, nr]) => [nr, n]),
      ),
      tincan: { length: filter.program.length, executed: mine.executed },
      /** @type {Record<string, { length: number, executed: ReturnType<typeof summarize>, disagree: number[], notes: string[] }>} */
      libseccomp: {},
    };
    if ('lib' in bound) {
      for (const level of [1, 2]) {
        const { program, notes: n } = libseccompProgram(
          bound.lib,
          sec,
          policy,
          level,
          path.join(dir, `libseccomp-${level}.bpf`),
        );
        const theirs = countExecuted(sec, program, arch);
        // Numbers where the two programs decide differently (arguments
        // zero): a sanity check that like is compared with like.
        const disagree = theirs.rets.flatMap((r, nr) =>
          r === mine.rets[nr] ? [] : [nr],
        );
        entry.libseccomp[`opt${level}`] = {
          length: program.length,
          executed: theirs.executed,
          disagree,
          notes: n,
        };
      }
    }
    rows.push(entry);
  }
  return { present: true, arch: arch.name, version, rows, notes };
}

/**
 * Print section 3 and return its targets.
 * @param {ReturnType<typeof measureSeccomp>} s
 */
function reportSeccomp(s) {
  console.log(
    "\n3. Seccomp programs (instructions; executed = per syscall number 0..max, arguments 0, counted by tincan's interpreter)\n",
  );
  /** @type {{ key: string, name: string, target: string, value: string, ok: boolean }[]} */
  const targets = [];
  if (!s.present || !s.rows) {
    console.log('  seccomp: package not present');
    return targets;
  }
  const lines = [];
  for (const r of s.rows) {
    const ex = r.tincan.executed;
    lines.push([
      r.policy,
      'tincan',
      r.tincan.length,
      ex.min,
      fix(ex.median, 0),
      ex.max,
    ]);
    for (const [level, l] of Object.entries(r.libseccomp)) {
      const what =
        level === 'opt1' ? 'libseccomp (default)' : 'libseccomp (binary tree)';
      lines.push([
        '',
        what,
        l.length,
        l.executed.min,
        fix(l.executed.median, 0),
        l.executed.max,
      ]);
    }
  }
  console.log(
    table(['policy', 'compiler', 'length', 'min', 'median', 'max'], lines),
  );
  if (s.version) {
    console.log(
      `  libseccomp ${s.version}, arch ${s.arch}; bad arch -> KILL_PROCESS in both. libseccomp ${s.version} compares every argument on both 32-bit halves, tincan only the low half of 32-bit parameters (ioctl request, modes, clone flags)`,
    );
  }
  for (const n of s.notes ?? []) console.log(`  note: ${n}`);
  for (const r of s.rows) {
    const levels = Object.values(r.libseccomp);
    const unknown = [
      ...new Set(
        levels.flatMap((l) =>
          l.notes
            .filter((n) => n.startsWith('unknown to libseccomp: '))
            .map((n) => n.slice('unknown to libseccomp: '.length)),
        ),
      ),
    ];
    const other = [
      ...new Set(
        levels.flatMap((l) =>
          l.notes.filter((n) => !n.startsWith('unknown to libseccomp')),
        ),
      ),
    ];
    if (unknown.length > 0) {
      console.log(
        `  note: ${r.policy}: libseccomp ${s.version} does not know ${unknown.join(', ')}: left out of its programs`,
      );
    }
    for (const n of other) console.log(`  note: ${r.policy}: ${n}`);
    const disagree = [...new Set(levels.flatMap((l) => l.disagree))];
    if (disagree.length > 0) {
      const names = disagree.map((nr) => r.names[nr] ?? String(nr));
      const explained = names.every((n) => unknown.includes(n));
      console.log(
        `  note: ${r.policy}: tincan and libseccomp decide differently for ${disagree.length} numbers (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', ...' : ''})${explained ? ': exactly the syscalls libseccomp does not know' : ''}`,
      );
    }
    const tree = r.libseccomp.opt2;
    const flat = r.libseccomp.opt1;
    if (!tree || !flat) continue;
    const me = r.tincan;
    const checks = [
      {
        key: 'seccomp',
        name: `${r.policy}: executed median`,
        target: `<= libseccomp tree ${fix(tree.executed.median, 0)}`,
        value: fix(me.executed.median, 0),
        ok: me.executed.median <= tree.executed.median,
      },
      {
        key: 'seccomp',
        name: `${r.policy}: executed max`,
        target: `<= libseccomp tree ${tree.executed.max}`,
        value: String(me.executed.max),
        ok: me.executed.max <= tree.executed.max,
      },
      {
        key: 'seccomp',
        name: `${r.policy}: length`,
        target: `<= libseccomp default ${flat.length}`,
        value: String(me.length),
        ok: me.length <= flat.length,
      },
    ];
    for (const c of checks) {
      console.log(
        `  target: ${c.name} ${c.value} ${c.target}  ${verdict(c.ok)}`,
      );
    }
    targets.push(...checks);
  }
  return targets;
}

module.exports = { measureSeccomp, reportSeccomp, bindLibseccomp };
