// Docker and OCI seccomp profiles (the JSON `docker run --security-opt
// seccomp=FILE` takes) turned into a Policy. Everything wrong with a
// profile is bad input: the container must never run unconfined, or with
// half a filter, because a profile could not be read.

import { DEFAULT_CAPABILITIES } from '@tincan/capabilities';
import { UsageError } from '@tincan/cli';
import os from 'node:os';
import {
  ERRNO,
  type Action,
  type ArgCondition,
  type CompareOp,
  type Policy,
  type Rule,
} from './policy';
import { isKnownSyscall, type Arch } from './syscalls';

/** What decides which of a profile's entries apply. */
export interface ProfileContext {
  /** the architecture the filter is for */
  arch: Arch;
  /** the container's capabilities, `CAP_*` */
  caps: readonly string[];
  /** the running kernel's release, e.g. `6.1.0` */
  kernel: string;
}

/**
 * The capability set `includes.caps` / `excludes.caps` are checked
 * against: what step 4 leaves a root process by default.
 */
export const DOCKER_DEFAULT_CAPS: readonly string[] = DEFAULT_CAPABILITIES;

/** The context for filters loaded on this machine. */
export function hostProfileContext(arch: Arch): ProfileContext {
  return { arch, caps: DOCKER_DEFAULT_CAPS, kernel: os.release() };
}

const ACTIONS: Record<string, Action['kind'] | undefined> = {
  SCMP_ACT_ALLOW: 'ALLOW',
  SCMP_ACT_ERRNO: 'ERRNO',
  SCMP_ACT_KILL: 'KILL_THREAD',
  SCMP_ACT_KILL_THREAD: 'KILL_THREAD',
  SCMP_ACT_KILL_PROCESS: 'KILL_PROCESS',
  SCMP_ACT_TRAP: 'TRAP',
  SCMP_ACT_LOG: 'LOG',
};

const OPS: Record<string, CompareOp | undefined> = {
  SCMP_CMP_EQ: 'EQ',
  SCMP_CMP_NE: 'NE',
  SCMP_CMP_LT: 'LT',
  SCMP_CMP_LE: 'LE',
  SCMP_CMP_GT: 'GT',
  SCMP_CMP_GE: 'GE',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};

/** Names each architecture goes by in `includes.arches` (Go's and ours). */
const ARCH_ALIASES: Record<string, readonly string[]> = {
  x86_64: ['amd64', 'x86_64', 'SCMP_ARCH_X86_64'],
  aarch64: ['arm64', 'aarch64', 'SCMP_ARCH_AARCH64'],
};

type Json = Record<string, unknown>;

// #region parse-profile
/**
 * Parse the profile `text` into a Policy; errors name `what` (the flag
 * and file, e.g. `--seccomp p.json`). Produces a Policy
 * for `ctx.arch`. Throws UsageError on anything it cannot honour.
 */
export function parseProfile(
  text: string,
  what: string,
  ctx: ProfileContext,
): Policy {
  const bad = (why: string): UsageError => new UsageError(what, why);
  if (text.trim() === '') throw bad('the profile is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw bad('the profile is not a JSON object');
  if (doc.defaultAction === undefined) throw bad('defaultAction is missing');
  if (doc.listenerPath !== undefined) {
    throw bad('listenerPath (SCMP_ACT_NOTIFY) is not supported by tincan');
  }
  for (const field of ['architectures', 'archMap', 'flags']) {
    if (doc[field] !== undefined && !Array.isArray(doc[field])) {
      throw bad(`${field} is not a list`);
    }
  }
  const defaultErrno = errnoField(doc.defaultErrnoRet, 'defaultErrnoRet', bad);
  const defaultAction = actionOf(
    doc.defaultAction,
    defaultErrno,
    'defaultAction',
    bad,
  );

  const syscalls = doc.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw bad('syscalls is not a list');
  const rules: Rule[] = [];
  syscalls.forEach((raw: unknown, i) => {
    const where = `syscalls[${i}]`;
    if (!isObject(raw)) throw bad(`${where} is not an object`);
    const names = namesOf(raw, where, bad);
    const errno = errnoField(raw.errnoRet, `${where}.errnoRet`, bad);
    const action = actionOf(
      raw.action,
      errno ?? defaultErrno,
      `${where}.action`,
      bad,
    );
    const conditions = argsOf(raw.args, where, bad);
    if (!applies(raw, ctx, where, bad)) return;
    // runc's rule: conditions on different arguments must all hold; two
    // on the same argument are alternatives, one rule each.
    const indexes = conditions.map((c) => c.index);
    const alternatives = new Set(indexes).size !== indexes.length;
    if (alternatives) {
      for (const c of conditions) {
        rules.push({ syscalls: names, action, conditions: [c] });
      }
    } else {
      rules.push({ syscalls: names, action, conditions });
    }
  });

  const policy = { defaultAction, rules };
  if (!allowsSomething(policy, ctx.arch)) {
    throw bad(`the profile allows no syscall on ${ctx.arch.name}`);
  }
  return policy;
}
// #endregion parse-profile

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function namesOf(
  raw: Json,
  where: string,
  bad: (why: string) => UsageError,
): string[] {
  const names: unknown[] = [];
  if (raw.names !== undefined) {
    if (!Array.isArray(raw.names)) throw bad(`${where}.names is not a list`);
    names.push(...(raw.names as unknown[]));
  }
  if (raw.name !== undefined) names.push(raw.name);
  if (names.length === 0) throw bad(`${where} names no syscall`);
  for (const name of names) {
    if (typeof name !== 'string' || !isKnownSyscall(name)) {
      throw bad(`${where}: unknown syscall ${JSON.stringify(name)}`);
    }
  }
  return names as string[];
}

function errnoField(
  value: unknown,
  what: string,
  bad: (why: string) => UsageError,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw bad(`${what} ${JSON.stringify(value)} is not an errno number`);
  }
  if (value > 4095) throw bad(`${what} ${value} is above 4095`);
  return value;
}

function actionOf(
  value: unknown,
  errno: number | undefined,
  what: string,
  bad: (why: string) => UsageError,
): Action {
  const kind = typeof value === 'string' ? ACTIONS[value] : undefined;
  if (!kind) {
    const why =
      value === 'SCMP_ACT_TRACE' || value === 'SCMP_ACT_NOTIFY'
        ? 'is not supported by tincan'
        : 'is not a seccomp action';
    throw bad(`${what} ${JSON.stringify(value)} ${why}`);
  }
  // Like runc, SCMP_ACT_ERRNO without a number means EPERM.
  return kind === 'ERRNO' ? ERRNO(errno ?? 1) : { kind };
}

function argsOf(
  value: unknown,
  where: string,
  bad: (why: string) => UsageError,
): ArgCondition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`${where}.args is not a list`);
  return value.map((raw: unknown, j) => {
    const at = `${where}.args[${j}]`;
    if (!isObject(raw)) throw bad(`${at} is not an object`);
    const index = raw.index;
    if (
      !Number.isInteger(index) ||
      (index as number) < 0 ||
      (index as number) > 5
    ) {
      throw bad(`${at}.index ${JSON.stringify(index)} is not 0-5`);
    }
    const op = typeof raw.op === 'string' ? OPS[raw.op] : undefined;
    if (!op) throw bad(`${at}.op ${JSON.stringify(raw.op)} is not SCMP_CMP_*`);
    const value = exactNumber(raw.value, `${at}.value`, bad);
    const valueTwo = exactNumber(raw.valueTwo ?? 0, `${at}.valueTwo`, bad);
    // In OCI profiles MASKED_EQ takes the mask in value, the datum in
    // valueTwo, as libseccomp's SCMP_CMP_MASKED_EQ does.
    return op === 'MASKED_EQ'
      ? { index: index as number, op, mask: value, value: valueTwo }
      : { index: index as number, op, value };
  });
}

function exactNumber(
  value: unknown,
  what: string,
  bad: (why: string) => UsageError,
): bigint {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw bad(`${what} ${JSON.stringify(value)} is not an unsigned integer`);
  }
  if (!Number.isSafeInteger(value)) {
    throw bad(`${what} ${value} is too large for JSON to carry exactly`);
  }
  return BigInt(value);
}

function applies(
  raw: Json,
  ctx: ProfileContext,
  where: string,
  bad: (why: string) => UsageError,
): boolean {
  const aliases = ARCH_ALIASES[ctx.arch.name] ?? [];
  const includes = isObject(raw.includes) ? raw.includes : {};
  const excludes = isObject(raw.excludes) ? raw.excludes : {};
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  const inArches = list(includes.arches);
  if (inArches.length > 0 && !inArches.some((a) => aliases.includes(a))) {
    return false;
  }
  if (list(excludes.arches).some((a) => aliases.includes(a))) return false;
  // Docker: every included capability must be held, no excluded one.
  if (!list(includes.caps).every((c) => ctx.caps.includes(c))) return false;
  if (list(excludes.caps).some((c) => ctx.caps.includes(c))) return false;
  if (includes.minKernel !== undefined) {
    const min = includes.minKernel;
    if (typeof min !== 'string' || !/^\d+(\.\d+)*$/.test(min)) {
      throw bad(
        `${where}.includes.minKernel ${JSON.stringify(min)} is not a version`,
      );
    }
    if (compareVersions(ctx.kernel, min) < 0) return false;
  }
  return true;
}

/** Compare dotted versions numerically; `6.1.0-13-amd64` reads as 6.1.0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] =>
    (/^[\d.]+/.exec(v)?.[0] ?? '0').split('.').filter(Boolean).map(Number);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function allowsSomething(policy: Policy, arch: Arch): boolean {
  const lets = (a: Action): boolean => a.kind === 'ALLOW' || a.kind === 'LOG';
  if (lets(policy.defaultAction)) return true;
  return policy.rules.some(
    (r) => lets(r.action) && r.syscalls.some((n) => n in arch.syscalls),
  );
}
