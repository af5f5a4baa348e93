// Step 3's layer on the parent's side: the root filesystem flags and their
// validation, the one temp dir the init assembles the root in, and the
// `tincan rootfs` command.

import {
  UsageError,
  type CheckLine,
  type ContainerConfig,
  type Layer,
  type ParentContext,
  type RawOptions,
} from '@tincan/cli';
import { isMapped, namespacesSection, outsideId } from '@tincan/namespaces';
import type { Command } from 'commander';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  type Stats,
} from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { etcFiles } from './etc';
import { hostEntries, parseAdd, type MountsSettings } from './mount-plan';
import { rootfsCommand } from './rootfs';

const settings = {
  get: (config: ContainerConfig) =>
    config.layers.mounts as MountsSettings | undefined,
  set: (config: ContainerConfig, value: MountsSettings) => {
    config.layers.mounts = value;
  },
};

/** The tty group, which owns new ptys (as on Debian and Fedora). */
const TTY_GID = 5;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Why the container's root user (host uid `uid`, gid `gid`) cannot reach
 * `file`, or undefined when it can. Every directory on the way must be
 * searchable by it: the init does its mounts as that user, and host root's
 * capabilities mean nothing inside the user namespace.
 */
export function reachProblem(
  file: string,
  uid: number,
  gid: number,
  stat: (p: string) => Stats = statSync,
): string | undefined {
  const dirs: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === '/') break;
  }
  for (const dir of dirs) {
    const st = stat(dir);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      return `${dir} is not searchable by the container's root (host uid ${uid}): chmod o+x ${dir}`;
    }
  }
  return undefined;
}

function statOrThrow(flag: string, file: string): Stats {
  try {
    return statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      flag,
      code === 'ENOENT' ? 'no such file or directory' : `cannot stat: ${code}`,
    );
  }
}

/** Turn the flags into this layer's settings. Creates nothing. */
export function configureMounts(
  options: RawOptions,
  config: ContainerConfig,
): MountsSettings {
  const ns = namespacesSection.get(config);
  const rootUid = outsideId(ns.uidMap, 0) ?? 0;
  const rootGid = outsideId(ns.gidMap, 0) ?? 0;

  const given = [options.mount, options.rootfs].filter(
    (v): v is string => typeof v === 'string',
  );
  if (given.length === 2 && given[0] !== given[1]) {
    throw new UsageError('--rootfs', 'given twice (-m and --rootfs)');
  }
  let rootfs: string | undefined;
  if (given[0] !== undefined) {
    // name the flag the user gave (-m is short for --mount)
    const name = typeof options.rootfs === 'string' ? '--rootfs' : '--mount';
    const flag = `${name} ${given[0]}`;
    rootfs = path.resolve(given[0]);
    const st = statOrThrow(flag, rootfs);
    if (!st.isDirectory()) throw new UsageError(flag, 'not a directory');
    const problem =
      reachProblem(path.join(rootfs, '.'), rootUid, rootGid) ??
      reachProblem(path.join(rootfs, 'x'), rootUid, rootGid);
    if (problem) throw new UsageError(flag, problem);
  }

  const adds = ((options.add as string[] | undefined) ?? []).map((spec) => {
    const add = parseAdd(spec);
    const st = statOrThrow(`--add ${spec}`, add.source);
    const problem = reachProblem(add.source, rootUid, rootGid);
    if (problem) throw new UsageError(`--add ${spec}`, problem);
    const kind: 'dir' | 'file' = st.isDirectory() ? 'dir' : 'file';
    return { ...add, kind };
  });

  let resolvConf: string | undefined;
  try {
    resolvConf = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    resolvConf = undefined;
  }

  return {
    ...(rootfs !== undefined ? { rootfs } : {}),
    staging: '',
    adds,
    readOnly: Boolean(options.readOnly),
    ...(isMapped(ns.gidMap, TTY_GID) ? { ptyGid: TTY_GID } : {}),
    hostEntries: rootfs === undefined ? hostEntries() : [],
    etc:
      rootfs === undefined
        ? etcFiles({
            hostname: ns.hostname,
            uid: ns.uid,
            gid: ns.gid,
            ...(resolvConf !== undefined ? { resolvConf } : {}),
          })
        : {},
  };
}

// #region mounts-layer
/**
 * The empty directory the container's root is mounted over, named after
 * the container so that `tincan gc` can tell whose it is when a killed
 * tincan leaves it behind.
 */
export function stagingDirFor(id: string): string {
  return `/tmp/tincan-${id}`;
}

/** Step 3's layer. */
export const mountsLayer: Layer = {
  name: 'mounts',
  initModule: require.resolve('./init'),

  options(run: Command) {
    run
      .option(
        '-m, --mount <dir>',
        'the root filesystem (default: a fresh tmpfs holding the host ' +
          "system directories read-only and a generated /etc); see 'tincan " +
          "rootfs create'",
      )
      .option('--rootfs <dir>', 'the same as --mount')
      .option(
        '-a, --add <host:container[:ro]>',
        'bind a host path into the container, nosuid and nodev ' +
          '(repeatable; :ro makes it read-only)',
        collect,
      )
      .option('--read-only', 'make the root filesystem read-only (/tmp stays)');
  },

  configure(options, config) {
    settings.set(config, configureMounts(options, config));
  },

  prepare(ctx: ParentContext) {
    const s = settings.get(ctx.config);
    if (!s) return;
    // The init mounts the root over this directory in its own mount
    // namespace; the host only ever sees an empty directory.
    const dir = stagingDirFor(ctx.config.id);
    mkdirSync(dir, { mode: 0o700 });
    ctx.defer(`rmdir ${dir}`, () => {
      if (existsSync(dir)) rmdirSync(dir);
    });
    s.staging = dir;
    ctx.log.debug(`mkdir ${dir} 700 (the new root's mount point)`);

    // Owned by the container's root, so that its init may remove it from
    // the sticky /tmp as soon as the old root is gone.
    const ns = namespacesSection.get(ctx.config);
    const uid = outsideId(ns.uidMap, 0) ?? 0;
    const gid = outsideId(ns.gidMap, 0) ?? 0;
    chownSync(dir, uid, gid);
    ctx.log.debug(`chown ${dir} ${uid}:${gid}`);
  },

  commands(program: Command) {
    program.addCommand(rootfsCommand());
  },

  check(): CheckLine[] {
    const [major = 0, minor = 0] = release().split('.').map(Number);
    const openat2 = major > 5 || (major === 5 && minor >= 6);
    return [
      {
        what: 'openat2',
        verdict: openat2 ? 'ok' : 'warn',
        detail: openat2
          ? 'RESOLVE_BENEATH checks every mount target'
          : 'kernel before 5.6: mount targets are checked with O_NOFOLLOW walks',
      },
      {
        what: 'default root',
        verdict: 'info',
        detail: hostEntries()
          .map((e) =>
            e.kind === 'dir' ? `/${e.name}` : `/${e.name}->${e.link}`,
          )
          .join(' '),
      },
    ];
  },
};
// #endregion mounts-layer
