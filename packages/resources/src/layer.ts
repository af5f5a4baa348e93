// Step 6 on the parent's side: the resource flags, the container's
// cgroups (created and limited before clone, joined by the init before it
// is told to go, removed on every path), --stats, `tincan gc` and the
// check lines.

import {
  accessSync,
  constants as fsConstants,
  lstatSync,
  readdirSync,
  rmdirSync,
} from 'node:fs';
import path from 'node:path';
import { stagingDirFor } from '@tincan/mounts';
import { Option, type Command } from 'commander';
import {
  configSection,
  formatChecks,
  messageOf,
  RuntimeError,
  UsageError,
  withContext,
  withContextAsync,
  type CheckLine,
  type Layer,
  type ParentContext,
} from '@tincan/cli';
import { hostCgroupFs, type CgroupFs } from './cgroup-fs';
import {
  controllerMap,
  detectTopology,
  hostPath,
  type CgroupTopology,
} from './cgroup-mode';
import { ContainerCgroups, planCgroups } from './cgroups';
import {
  containerIdOf,
  GC_MIN_AGE_SECONDS,
  gcCgroups,
  tincanAlive,
  type GcEntry,
} from './gc';
import type { ResourcesConfig } from './layer-config';
import {
  DEFAULT_LIMITS,
  limitsFrom,
  limitsRequested,
  type LimitFlags,
} from './limits';
import { DEFAULT_RLIMITS, rlimitsFrom } from './rlimit';
import { formatStats } from './stats';

const section = configSection<ResourcesConfig>('resources');
const CGROUPS = 'resources.cgroups';

/** The filesystem cgroup code uses; tests point it at a fake tree. */
export const cgroupFs: { current: CgroupFs } = { current: hostCgroupFs() };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function cgroupsOf(ctx: ParentContext): ContainerCgroups | undefined {
  return ctx.facts.get(CGROUPS) as ContainerCgroups | undefined;
}

// #region prepare
function prepare(ctx: ParentContext): void {
  const settings = section.get(ctx.config);
  const fs = cgroupFs.current;
  const topology = detectTopology(fs);
  ctx.log.debug(
    `cgroup mode ${topology.mode}: ${topology.hierarchies
      .map((h) => `v${h.version} ${h.mount} at ${h.current}`)
      .join(', ')}`,
  );
  const uid = process.geteuid?.() ?? 0;
  // Rootless, the limits need a cgroup the user may write to (a delegated
  // v2 subtree). Without one the run goes on unlimited - but never
  // silently, and never with --strict-limits.
  const rootlessFallback = (err: unknown): void => {
    if (uid === 0 || settings.strictLimits) throw err;
    if (!limitsRequested(settings.limits)) {
      // --no-limits: nothing is lost, so nothing to warn about
      ctx.log.debug(`rootless: no cgroup (${messageOf(err)}); none needed`);
      return;
    }
    ctx.log.warn(
      `rootless: no cgroup this user may create (${messageOf(err)}): ` +
        'memory, cpu, pids and io limits are NOT enforced; ' +
        '--strict-limits makes this fail instead',
    );
  };
  let plan: ReturnType<typeof planCgroups>;
  try {
    plan = planCgroups(fs, topology, {
      id: ctx.config.id,
      uid,
      ...(settings.cgroupParent !== undefined
        ? { cgroupParent: settings.cgroupParent }
        : {}),
    });
  } catch (err) {
    return rootlessFallback(err);
  }
  const cgroups = new ContainerCgroups(fs, plan, ctx.log);

  // Registered before the first mkdir: a setup that fails halfway still
  // removes what it made.
  ctx.defer('remove the cgroups', () =>
    withContextAsync('resources', () => cgroups.destroy()),
  );

  try {
    cgroups.create();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    return rootlessFallback(err);
  }
  ctx.facts.set(CGROUPS, cgroups);

  cgroups.applyLimits(settings.limits, {
    ignoreMissing: settings.ignoreMissing,
    defaulted: new Set(settings.defaulted),
  });
}
// #endregion prepare

/** Step 6's layer. */
export const resourcesLayer: Layer = {
  name: 'resources',
  initModule: require.resolve('./init'),

  options(run: Command) {
    run
      .option(
        '--memory <size>',
        `memory limit, no swap beyond it: bytes or K/M/G/T, or max (default: ${DEFAULT_LIMITS.memory})`,
      )
      .option(
        '--cpus <n>',
        `CPU time as a number of CPUs, e.g. 0.5, or max (default: ${DEFAULT_LIMITS.cpus})`,
      )
      .option(
        '--cpu-shares <n>',
        `relative CPU weight, 2-262144; cpu.weight on v2 (default: ${DEFAULT_LIMITS.cpuShares})`,
      )
      .option(
        '--pids <n>',
        `most processes and threads at once, or max (default: ${DEFAULT_LIMITS.pids})`,
      )
      .option(
        '--io-weight <n>',
        `relative block I/O weight, 10-1000 (default: ${DEFAULT_LIMITS.ioWeight})`,
      )
      .option('--no-limits', 'no cgroup limits (the cgroups are still made)')
      .option(
        '--ignore-missing-controllers',
        'warn instead of failing when a controller for a limit is missing',
      )
      .option(
        '--strict-limits',
        'fail when the limits cannot be enforced (rootless without a delegated cgroup)',
      )
      .option(
        '--stats',
        'print peak memory, CPU time, peak pids and OOM kills at exit',
      )
      .option(
        '--cgroup-parent <path>',
        'create the container cgroup beneath this cgroup path instead',
      )
      .addOption(
        new Option(
          '--rlimit <NAME=SOFT[:HARD]>',
          `set an rlimit, names as prlimit(1) (repeatable; default: ${DEFAULT_RLIMITS.join(' ')})`,
        ).argParser(collect),
      );
  },

  configure(options, config) {
    const flags = options as LimitFlags & Record<string, unknown>;
    const limits = limitsFrom(flags);
    const defaulted = [];
    if (flags.cpuShares === undefined) defaulted.push('--cpu-shares');
    if (flags.ioWeight === undefined) defaulted.push('--io-weight');
    const parent = options.cgroupParent as string | undefined;
    if (parent !== undefined && !parent.startsWith('/')) {
      throw new UsageError(
        `--cgroup-parent ${parent}`,
        'must be an absolute cgroup path, e.g. /mygroup',
      );
    }
    section.set(config, {
      limits,
      defaulted,
      ignoreMissing: Boolean(options.ignoreMissingControllers),
      stats: Boolean(options.stats),
      strictLimits: Boolean(options.strictLimits),
      ...(parent !== undefined
        ? { cgroupParent: path.posix.normalize(parent) }
        : {}),
      rlimits: rlimitsFrom((options.rlimit as string[] | undefined) ?? []),
    });
  },

  prepare: (ctx) => withContext('resources', () => prepare(ctx)),

  // #region join-hook
  // After the go byte: on cgroup v1 the first write to a cgroup.procs can
  // wait ~10 ms for an RCU grace period, and the init's Node start hides
  // that wait. The init runs nothing of the container's until it has the
  // config, which the parent sends only after this.
  join(ctx) {
    withContext('resources', () => {
      const pid = ctx.pid;
      if (pid === undefined) throw new Error('join before clone');
      cgroupsOf(ctx)?.attach(pid);
    });
  },
  // #endregion join-hook

  finish(ctx) {
    if (!section.get(ctx.config).stats) return;
    const cgroups = cgroupsOf(ctx);
    if (!cgroups) return;
    const lines = formatStats(cgroups.stats());
    process.stderr.write(`${lines.join('\n')}\n`);
  },

  check: () => resourceChecks(detectTopology(cgroupFs.current)),

  commands(program) {
    program
      .command('gc')
      .description(
        'remove tincan cgroups left behind by a tincan that was killed',
      )
      .option(
        '--min-age <seconds>',
        'leave empty cgroups younger than this alone: a tincan may be setting them up',
        String(GC_MIN_AGE_SECONDS),
      )
      .action(async (options: { minAge: string }) => {
        const fs = cgroupFs.current;
        if (!/^\d+(\.\d+)?$/.test(options.minAge)) {
          throw new UsageError(
            `--min-age ${options.minAge}`,
            'expected a number of seconds',
          );
        }
        const entries = await gcCgroups(
          fs,
          detectTopology(fs),
          Number(options.minAge),
        );
        const staging = gcStagingDirs(entries, Number(options.minAge));
        for (const e of [...entries, ...staging]) {
          process.stdout.write(
            `${e.action}: ${e.path}${e.detail ? ` (${e.detail})` : ''}\n`,
          );
        }
        const count = (list: typeof entries, one: string, many: string) => {
          const n = list.filter((e) => e.action === 'removed').length;
          return `${n} ${n === 1 ? one : many}`;
        };
        process.stdout.write(
          `gc: removed ${count(entries, 'stale cgroup', 'stale cgroups')} ` +
            `and ${count(staging, 'staging directory', 'staging directories')}\n`,
        );
        entries.push(...staging);
        if (entries.some((e) => e.action === 'failed')) {
          throw new RuntimeError('gc: some cgroups could not be removed');
        }
      });
  },
};

/** Step 6's lines of `tincan check`. */
export function resourceChecks(topology: CgroupTopology): CheckLine[] {
  const fs = cgroupFs.current;
  const served = controllerMap(topology);
  const lines: CheckLine[] = [];
  let placement: string;
  try {
    const plan = planCgroups(fs, topology, {
      id: '<id>',
      uid: process.geteuid?.() ?? 0,
    });
    placement = plan.dirs.map((d) => d.path).join(' ') || 'none';
  } catch (err) {
    placement = err instanceof Error ? err.message : String(err);
  }
  // Rootless, a placement is only usable where this user may create it.
  const writable =
    (process.geteuid?.() ?? 0) === 0 || placementWritable(placement);
  if (!writable) {
    placement +=
      ': not writable by this user, so limits will NOT be enforced (a loud warning at each run; --strict-limits fails)';
  }
  lines.push({
    what: 'cgroup placement',
    verdict: topology.mode === 'none' ? 'fail' : writable ? 'ok' : 'warn',
    detail: `${topology.mode}: ${placement}`,
  });
  const wanted = [
    ['memory', '--memory'],
    ['cpu', '--cpus --cpu-shares'],
    ['pids', '--pids'],
    ['freezer', 'cleanup on v1'],
    ['cpuacct', '--stats on v1'],
  ] as const;
  for (const [controller, use] of wanted) {
    const h = served.get(controller);
    if (!h && (controller === 'freezer' || controller === 'cpuacct')) {
      if (topology.mode !== 'v2') {
        lines.push({
          what: `cgroup ${controller}`,
          verdict: 'warn',
          detail: `not available (${use})`,
        });
      }
      continue;
    }
    lines.push({
      what: `cgroup ${controller}`,
      verdict: h ? 'ok' : 'fail',
      detail: h ? `v${h.version} at ${h.mount} (${use})` : `missing (${use})`,
    });
  }
  const block = served.get('blkio') ?? served.get('io');
  const blockDir = block ? hostPath(block, block.current) : undefined;
  const weightFiles = [
    'blkio.weight',
    'blkio.bfq.weight',
    'io.weight',
    'io.bfq.weight',
  ];
  // io.weight and io.bfq.weight are absent from the v2 root cgroup; the
  // root's io.cost.qos shows that iocost, and so io.weight, is built in.
  const weight = blockDir
    ? (weightFiles.find((f) => fs.exists(path.join(blockDir, f))) ??
      (fs.exists(path.join(blockDir, 'io.cost.qos')) ? 'io.weight' : undefined))
    : undefined;
  lines.push({
    what: 'cgroup io weight',
    verdict: weight ? 'ok' : 'warn',
    detail: weight
      ? `${weight} in v${block?.version} (--io-weight)`
      : block
        ? `the ${block.version === 1 ? 'blkio' : 'io'} controller has no weight file (no BFQ or iocost): --io-weight is not enforced`
        : 'no block I/O controller: --io-weight is not enforced',
  });
  return lines;
}

/** The check lines as text, for tests. */
export function formatResourceChecks(topology: CgroupTopology): string {
  return formatChecks(resourceChecks(topology));
}

/**
 * Remove the mount steps' staging directories (/tmp/tincan-ID) a killed
 * tincan left: empty, old enough, and not of a container still in use.
 */
export function gcStagingDirs(cgroups: GcEntry[], minAge: number): GcEntry[] {
  const busy = new Set(
    cgroups
      .filter((e) => e.action !== 'removed')
      .map((e) => containerIdOf(e.path)),
  );
  const entries: GcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync('/tmp');
  } catch {
    return entries;
  }
  for (const name of names) {
    const m = /^tincan-([0-9a-f]{12})$/.exec(name);
    if (!m?.[1] || busy.has(m[1])) continue;
    const dir = stagingDirFor(m[1]);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory()) continue;
      const owner = tincanAlive(m[1]);
      if (
        owner === true ||
        (owner === undefined && (Date.now() - st.mtimeMs) / 1000 < minAge)
      ) {
        entries.push({ path: dir, action: 'too new' });
        continue;
      }
      rmdirSync(dir);
      entries.push({ path: dir, action: 'removed' });
    } catch (err) {
      entries.push({ path: dir, action: 'failed', detail: messageOf(err) });
    }
  }
  return entries;
}

/** Whether every parent of the planned cgroup directories is writable. */
function placementWritable(placement: string): boolean {
  const dirs = placement.split(' ').filter((d) => d.startsWith('/'));
  if (dirs.length === 0) return false;
  return dirs.every((dir) => {
    try {
      accessSync(path.dirname(dir), fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}
