// One container's cgroups: where they go, creating them, writing and
// verifying the limits, moving the init in, reading usage, and removing
// them again on every path. Version-specific files are in cgroup-v1.ts
// and cgroup-v2.ts; everything goes through a CgroupFs.

import path from 'node:path';
import {
  RuntimeError,
  SyscallError,
  messageOf,
  withContext,
  type Logger,
} from '@tincan/cli';
import type { CgroupFs } from './cgroup-fs';
import { delay, parseProcs, readOptional } from './cgroup-fs';
import type { LimitWrite } from './cgroup-limits';
import {
  controllerMap,
  hostPath,
  type CgroupTopology,
  type Hierarchy,
} from './cgroup-mode';
import { v1Kill, v1LimitWrites, v1Stats } from './cgroup-v1';
import {
  canDelegate,
  enableControllers,
  v2Kill,
  v2LimitWrites,
  v2Stats,
} from './cgroup-v2';
import type { Limits } from './limits';
import type { CgroupStats } from './stats';

/** The name of a container's cgroup directory beneath its parent. */
export function cgroupName(id: string): string {
  return `tincan-${id}`;
}

/** The directory shared by containers placed at the v2 root. */
export const V2_SHARED = 'tincan';

/** One cgroup directory of the container. */
export interface CgroupDir {
  version: 1 | 2;
  /** host path */
  path: string;
  /** the controllers tincan uses through it */
  controllers: string[];
}

/** Where a container's cgroups go, before any is created. */
export interface CgroupPlan {
  topology: CgroupTopology;
  dirs: CgroupDir[];
  /** v2 only: the shared `<root>/tincan` and the root, to enable first */
  v2Shared?: { root: string; shared: string; controllers: string[] };
}

/** How to place a container's cgroups. */
export interface PlacementOptions {
  id: string;
  /** `--cgroup-parent`: a cgroup path used in every hierarchy */
  cgroupParent?: string;
  /** the effective uid; the v2 root fallback needs root */
  uid: number;
}

// #region placement
/**
 * Place the container: in each v1 hierarchy beneath the cgroup tincan runs
 * in; on v2 beneath it when it delegates the controllers, else (as root)
 * at `<v2 root>/tincan/<id>`; `--cgroup-parent` overrides both.
 */
export function planCgroups(
  fs: CgroupFs,
  topology: CgroupTopology,
  options: PlacementOptions,
): CgroupPlan {
  const served = controllerMap(topology);
  const plan: CgroupPlan = { topology, dirs: [] };
  const name = cgroupName(options.id);
  for (const h of topology.hierarchies) {
    const controllers = [...served].filter(([, s]) => s === h).map(([c]) => c);
    if (h.version === 1) {
      if (controllers.length === 0) continue;
      const parent = parentDir(h, options.cgroupParent ?? h.current);
      plan.dirs.push({
        version: 1,
        path: path.join(parent, name),
        controllers,
      });
      continue;
    }
    // A hybrid host whose v2 hierarchy carries nothing tincan uses (only
    // hugetlb, say) gets no v2 cgroup.
    if (controllers.length === 0 && topology.mode === 'hybrid') continue;
    if (options.cgroupParent !== undefined) {
      const parent = parentDir(h, options.cgroupParent);
      plan.dirs.push({
        version: 2,
        path: path.join(parent, name),
        controllers,
      });
      continue;
    }
    const current = parentDir(h, h.current);
    // At the root, containers share one `tincan` directory instead of
    // spreading over the top level, delegated or not.
    const atRoot = current === h.mount;
    if (!atRoot && canDelegate(fs, current, controllers).ok) {
      plan.dirs.push({
        version: 2,
        path: path.join(current, name),
        controllers,
      });
      continue;
    }
    if (!atRoot && options.uid !== 0) {
      const { missing } = canDelegate(fs, current, controllers);
      throw new RuntimeError(
        `cgroup v2: ${current} does not delegate ${missing.join(' ')} to ` +
          'its children and tincan is not root: run tincan in a delegated ' +
          'cgroup or give --cgroup-parent',
      );
    }
    const shared = path.join(h.mount, V2_SHARED);
    plan.v2Shared = { root: h.mount, shared, controllers };
    plan.dirs.push({
      version: 2,
      path: path.join(shared, options.id),
      controllers,
    });
  }
  return plan;
}
// #endregion placement

function parentDir(h: Hierarchy, cgroupPath: string): string {
  const dir = hostPath(h, cgroupPath);
  if (dir === undefined) {
    throw new RuntimeError(
      `cgroup ${cgroupPath} is outside the mount of ${h.mount} (root ${h.mountRoot})`,
    );
  }
  return dir;
}

/** What applying the limits needs to know besides the limits. */
export interface ApplyOptions {
  /** `--ignore-missing-controllers`: warn instead of failing */
  ignoreMissing: boolean;
  /** flags left at their default: a missing file there is only logged */
  defaulted: ReadonlySet<string>;
}

/** A container's cgroups, once planned; create() makes them. */
export class ContainerCgroups {
  private readonly created: string[] = [];
  private sharedCreated = false;

  constructor(
    private readonly fs: CgroupFs,
    readonly plan: CgroupPlan,
    private readonly log: Logger,
  ) {}

  /** The directory serving `controller`, if any. */
  dirFor(controller: string): CgroupDir | undefined {
    return this.plan.dirs.find((d) => d.controllers.includes(controller));
  }

  // #region create
  /** mkdir every planned directory; v2's shared parent first, if any. */
  create(): void {
    const shared = this.plan.v2Shared;
    if (shared) {
      // A concurrent tincan may remove the shared directory as it empties;
      // a lost race shows as ENOENT on the leaf and is retried.
      for (let attempt = 0; ; attempt++) {
        try {
          this.createShared(shared);
          this.mkdir(this.plan.dirs.find((d) => d.version === 2)?.path ?? '');
          break;
        } catch (err) {
          if (
            !(err instanceof SyscallError && err.code === 'ENOENT') ||
            attempt > 3
          ) {
            throw err;
          }
        }
      }
    }
    for (const dir of this.plan.dirs) {
      if (!this.created.includes(dir.path)) this.mkdir(dir.path);
    }
  }

  private createShared(shared: NonNullable<CgroupPlan['v2Shared']>): void {
    const debug = (t: string): void => this.log.debug(t);
    // The root is exempt from the no-internal-processes rule; enabling a
    // controller there is what a runtime without a cgroup manager must do.
    enableControllers(this.fs, shared.root, shared.controllers, debug);
    if (!this.fs.exists(shared.shared)) {
      try {
        this.fs.mkdir(shared.shared);
        this.sharedCreated = true;
        this.log.debug(`mkdir ${shared.shared}`);
      } catch (err) {
        if (!(err instanceof SyscallError && err.code === 'EEXIST')) throw err;
      }
    }
    enableControllers(this.fs, shared.shared, shared.controllers, debug);
  }

  private mkdir(dir: string): void {
    this.fs.mkdir(dir);
    this.created.push(dir);
    this.log.debug(`mkdir ${dir}`);
  }
  // #endregion create

  // #region apply-limits
  /**
   * Write every limit and read it back. A controller that is missing or
   * a value the kernel did not keep is an error naming it; with
   * ignoreMissing a missing controller is a warning instead.
   */
  applyLimits(limits: Limits, options: ApplyOptions): void {
    const writes = [
      ...v1LimitWrites(limits).filter((w) => this.served(w, 1)),
      ...v2LimitWrites(limits).filter((w) => this.served(w, 2)),
    ];
    const handled = new Set(writes.map((w) => w.flag));
    // A limit no hierarchy serves at all.
    for (const w of [...v1LimitWrites(limits), ...v2LimitWrites(limits)]) {
      if (handled.has(w.flag)) continue;
      handled.add(w.flag);
      this.missing(w, 'no cgroup hierarchy offers the controller', options);
    }
    for (const w of writes) this.applyOne(w, options);
  }

  private served(w: LimitWrite, version: 1 | 2): boolean {
    return this.dirFor(w.controller)?.version === version;
  }

  private applyOne(w: LimitWrite, options: ApplyOptions): void {
    const dir = this.dirFor(w.controller);
    if (!dir) return;
    const target = w.files.find((f) =>
      this.fs.exists(path.join(dir.path, f.file)),
    );
    if (!target) {
      if (w.optional) {
        this.log.debug(
          `${w.files.map((f) => f.file).join(', ')}: absent in ${dir.path}, skipped`,
        );
        return;
      }
      this.missing(
        w,
        `${dir.path} has no ${w.files.map((f) => f.file).join(' or ')}`,
        options,
      );
      return;
    }
    const file = path.join(dir.path, target.file);
    withContext(w.flag, () => this.fs.write(file, target.value));
    const back = this.fs.read(file);
    this.log.debug(
      `wrote ${JSON.stringify(target.value)} to ${file}, read back ${JSON.stringify(back.trim())}`,
    );
    if (!w.matches(back, target.value)) {
      throw new RuntimeError(
        `${w.flag}: wrote ${JSON.stringify(target.value)} to ${file} but it reads ${JSON.stringify(back.trim())}`,
      );
    }
  }

  private missing(w: LimitWrite, why: string, options: ApplyOptions): void {
    const what = `${w.flag}: the ${w.controller} controller is not usable (${why})`;
    if (w.unlimited || options.defaulted.has(w.flag)) {
      this.log.debug(`${what}; not limited`);
      return;
    }
    if (options.ignoreMissing) {
      this.log.warn(
        `${what}; running WITHOUT this limit (--ignore-missing-controllers)`,
      );
      return;
    }
    throw new RuntimeError(
      `${what}; ${w.unlimitable ? `use ${w.flag} max` : `leave out ${w.flag}`} or add --ignore-missing-controllers to run without it`,
    );
  }
  // #endregion apply-limits

  // #region attach
  /** Move `pid` into every cgroup of the container. */
  attach(pid: number): void {
    for (const dir of this.plan.dirs) {
      this.fs.write(path.join(dir.path, 'cgroup.procs'), String(pid));
      this.log.debug(`wrote ${pid} to ${dir.path}/cgroup.procs`);
    }
  }
  // #endregion attach

  /** Usage figures, read before the cgroups are removed. */
  stats(): CgroupStats {
    const v2 = this.plan.dirs.find((d) => d.version === 2);
    const fromV1 = v1Stats(this.fs, (c) => {
      const dir = this.dirFor(c);
      return dir?.version === 1 ? dir.path : undefined;
    });
    return v2 ? { ...v2Stats(this.fs, v2.path), ...fromV1 } : fromV1;
  }

  // #region destroy
  /**
   * Kill whatever is left in the container's cgroups and remove them.
   * Throws when one could not be removed, after trying them all.
   */
  async destroy(): Promise<void> {
    const existing = this.created.filter((d) => this.fs.exists(d));
    await killAll(this.fs, this.plan, existing, this.log);
    const failures: string[] = [];
    for (const dir of [...existing].reverse()) {
      try {
        await rmdirWithRetries(this.fs, dir);
        this.log.debug(`rmdir ${dir}`);
      } catch (err) {
        failures.push(messageOf(err));
      }
    }
    this.created.length = 0;
    if (this.plan.v2Shared)
      removeSharedIfEmpty(this.fs, this.plan.v2Shared.shared, this.log);
    if (failures.length > 0) throw new RuntimeError(failures.join('; '));
  }
  // #endregion destroy

  /** Whether create() made the shared v2 parent (for tests). */
  get madeShared(): boolean {
    return this.sharedCreated;
  }
}

/** Kill every process in the container's cgroups, `dirs` being those. */
async function killAll(
  fs: CgroupFs,
  plan: CgroupPlan,
  dirs: readonly string[],
  log: Logger,
): Promise<void> {
  const debug = (t: string): void => log.debug(t);
  const v2 = plan.dirs.find((d) => d.version === 2 && dirs.includes(d.path));
  const v1 = plan.dirs.filter((d) => d.version === 1 && dirs.includes(d.path));
  const freezer = v1.find((d) => d.controllers.includes('freezer'));
  // A process that was forking while we killed can leave a child behind:
  // repeat until every cgroup reads empty.
  for (let round = 0; round < 50; round++) {
    const left = dirs.flatMap((d) =>
      parseProcs(readOptional(fs, path.join(d, 'cgroup.procs')) ?? ''),
    );
    if (left.length === 0) return;
    if (v2) await v2Kill(fs, v2.path, debug);
    const first = v1[0];
    if (first)
      await v1Kill(fs, freezer?.path, freezer?.path ?? first.path, debug);
    await delay(round < 5 ? 10 : 50);
  }
  throw new RuntimeError(
    `processes are still alive in ${dirs.join(' ')} after SIGKILL`,
  );
}

/**
 * rmdir a cgroup, retrying while it is busy: processes just killed leave
 * it only once the kernel has finished their exit.
 */
export async function rmdirWithRetries(
  fs: CgroupFs,
  dir: string,
  attempts = 100,
): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      fs.rmdir(dir);
      return;
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ENOENT') return;
      const busy = err instanceof SyscallError && err.code === 'EBUSY';
      if (!busy || i >= attempts) throw err;
      await delay(i < 10 ? 5 : 20);
    }
  }
}

function removeSharedIfEmpty(fs: CgroupFs, shared: string, log: Logger): void {
  try {
    if (fs.subdirs(shared).length > 0) return;
    fs.rmdir(shared);
    log.debug(`rmdir ${shared}`);
  } catch (err) {
    // Another container arrived, or another tincan removed it first.
    log.debug(`kept ${shared}: ${messageOf(err)}`);
  }
}
