// Step 5's layer on the parent's side: choose the policy (tincan's
// default, a Docker profile, or none), compile it here where errors are
// still bad input, and hand the program to the init in the config.

import {
  RuntimeError,
  UsageError,
  type CheckLine,
  type ContainerConfig,
  type Layer,
  type RawOptions,
} from '@tincan/cli';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { encodeProgram } from './bpf';
import { compile, type Filter } from './compile';
import { seccompSection } from './config';
import { DEFAULT_POLICY } from './default-policy';
import { costStats, dumpFilter } from './dump';
import { runFilter } from './interpret';
import { parseProfile, compareVersions, hostProfileContext } from './profile';
import { ARCHES, archFromNode, hostArch, type Arch } from './syscalls';

/**
 * What the init still calls once the filter is in place (@tincan/cli's
 * exec.ts, as strace shows it): a profile that refuses one of these could
 * never start the command. Names an architecture lacks are skipped
 * (aarch64 has no `access`; glibc uses `faccessat` there).
 */
export const INIT_NEEDS = [
  'statx',
  'access',
  'faccessat',
  'chdir',
  'write',
  'fcntl',
  'close_range',
  'rt_sigaction',
  'rt_sigprocmask',
  'mmap',
  'futex',
  'execve',
  'exit_group',
] as const;

/**
 * What the init also calls when the filter is loaded early, before the
 * capability drop and the switch of credentials (no_new_privs off).
 */
export const INIT_NEEDS_EARLY = [
  ...INIT_NEEDS,
  'prctl',
  'capget',
  'capset',
  'setgroups',
  'setresgid',
  'setresuid',
  'prlimit64',
  'setrlimit',
  'gettid',
  'getpid',
  'openat',
  'read',
  'close',
  'newfstatat',
  'fstat',
] as const;

/**
 * The policy `--seccomp VALUE` names, compiled for `arch`; errors name
 * `flag` and the file.
 */
export function filterFor(
  profile: string | undefined,
  arch: Arch,
  flag = '--seccomp',
  needs: readonly string[] = INIT_NEEDS,
): Filter {
  if (profile === undefined) return compile(DEFAULT_POLICY, arch);
  const what = `${flag} ${profile}`;
  let text: string;
  try {
    text = readFileSync(profile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'failed';
    throw new UsageError(what, `cannot read the profile: ${code}`);
  }
  const policy = parseProfile(text, what, hostProfileContext(arch));
  let filter: Filter;
  try {
    filter = compile(policy, arch);
  } catch (err) {
    throw new UsageError(what, (err as Error).message);
  }
  for (const name of needs) {
    const nr = arch.syscalls[name];
    if (nr === undefined) continue;
    const { ret } = runFilter(filter.program, { nr, arch: arch.auditArch });
    const action = ret & 0xffff0000;
    if (action !== 0x7fff0000 && action !== 0x7ffc0000) {
      throw new UsageError(
        what,
        `the profile refuses ${name}, which tincan needs between loading the filter and starting the command`,
      );
    }
  }
  return filter;
}

// #region layer
/** Step 5's layer. */
export const seccompLayer: Layer = {
  name: 'seccomp',
  initModule: require.resolve('./init'),

  options(run: Command) {
    run.option(
      '--seccomp <profile>',
      'a Docker/OCI seccomp profile (JSON) instead of the default filter, ' +
        'or "unconfined" for none',
    );
  },

  configure(options: RawOptions, config: ContainerConfig) {
    const value = options.seccomp as string | undefined;
    if (value === 'unconfined') {
      seccompSection.set(config, { mode: 'unconfined' });
      return;
    }
    // Step 4 configures itself first: with no_new_privs off, the filter
    // goes in before the capability drop.
    const caps = config.layers.capabilities as
      { noNewPrivs?: boolean } | undefined;
    const early = caps?.noNewPrivs === false;
    const filter = filterFor(
      value,
      hostArch(),
      '--seccomp',
      early ? INIT_NEEDS_EARLY : INIT_NEEDS,
    );
    seccompSection.set(config, {
      mode: 'filter',
      source: value ?? 'default',
      program: encodeProgram(filter.program).toString('base64'),
      length: filter.program.length,
      early,
    });
  },

  prepare(ctx) {
    const settings = seccompSection.get(ctx.config);
    if (settings.mode === 'unconfined') {
      ctx.log.warn('--seccomp unconfined: the container runs without a filter');
      return;
    }
    refuseOldKernel(os.release());
    ctx.log.debug(
      `compiled the ${settings.source} policy: ${settings.length} instructions`,
    );
  },

  commands(program: Command) {
    const seccomp = program
      .command('seccomp')
      .description('inspect seccomp filters')
      .usage('dump [--profile FILE] [--arch ARCH]')
      .argument('[command]')
      .action((name?: string) => {
        if (name !== undefined) {
          throw new UsageError(`seccomp ${name}`, 'unknown command; try dump');
        }
        process.stdout.write(seccomp.helpInformation());
      });
    seccomp
      .command('dump')
      .description('print a filter as BPF assembly, with its length and cost')
      .option('--profile <file>', 'a Docker/OCI profile instead of the default')
      .option('--arch <arch>', 'x86_64 or aarch64 (default: this machine)')
      .action((options: { profile?: string; arch?: string }) => {
        const arch = options.arch ? archNamed(options.arch) : hostArch();
        const filter = filterFor(options.profile, arch, '--profile');
        const title = options.profile
          ? `profile ${options.profile}`
          : 'tincan default policy';
        process.stdout.write(dumpFilter(filter, title));
      });
  },

  check(): CheckLine[] {
    const status = readStatus();
    const kernel = os.release();
    if (!/^Seccomp:/m.test(status)) {
      return [
        {
          what: 'seccomp filter',
          verdict: 'fail',
          detail: 'no Seccomp line in /proc/self/status',
        },
      ];
    }
    if (compareVersions(kernel, '4.8') < 0) {
      return [
        {
          what: 'seccomp filter',
          verdict: 'fail',
          detail: `kernel ${kernel} < 4.8: ptrace can bypass filters`,
        },
      ];
    }
    const filter = compile(DEFAULT_POLICY, hostArch());
    const cost = costStats(filter);
    return [
      {
        what: 'seccomp filter',
        verdict: 'ok',
        detail: `filter mode on ${kernel}; default filter ${filter.program.length} instructions, ${cost.median} executed per syscall (median)`,
      },
    ];
  },
};
// #endregion layer

/**
 * Before Linux 4.8 a ptrace tracer could rewrite a syscall after the
 * filter had allowed it (the check ran before the tracer stop), so a
 * container allowed ptrace could escape its own filter.
 */
export function refuseOldKernel(release: string): void {
  if (compareVersions(release, '4.8') < 0) {
    throw new RuntimeError(
      `seccomp: kernel ${release} is older than 4.8, where ptrace can bypass a filter`,
    );
  }
}

function archNamed(name: string): Arch {
  const found = archFromNode(name);
  if (!found) {
    throw new UsageError(
      `--arch ${name}`,
      `unknown architecture; known: ${Object.keys(ARCHES).join(', ')}`,
    );
  }
  return ARCHES[found];
}

function readStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}
