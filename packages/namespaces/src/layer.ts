// Step 2's layer on the parent's side: the namespace clone flags, the
// native chain's setres*id(0) links, the uid/gid maps written after clone,
// and the flags that choose ids and the hostname.

import { existsSync, readFileSync } from 'node:fs';
import {
  initLaunch,
  KOFFI_FILE,
  RuntimeError,
  addressOf,
  clone,
  dlsym,
  free,
  malloc,
  messageOf,
  q,
  SIGCHLD,
  UsageError,
  waitpid,
  withContext,
  type CheckLine,
  type ContainerConfig,
  type Layer,
  type RawOptions,
} from '@tincan/cli';
import { Option, type Command } from 'commander';
import { NAMESPACE_CLONE_FLAGS, NAMESPACE_TYPES } from './clone-flags';
import { generateHostname, validateHostname } from './hostname';
import {
  findInPath,
  isRootless,
  rootlessPlan,
  singleIdReason,
  writeRootlessMaps,
  type MappingStrategy,
} from './rootless';
import { firstUnreachable } from './reachable';
import { namespacesSection, type NamespacesConfig } from './section';
import {
  defaultIdMap,
  formatIdMap,
  isMapped,
  outsideId,
  parseIdMap,
  subordinateRange,
  validateIdMap,
  writeIdMaps,
} from './id-map';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parse a container uid or gid given to `flag`. */
export function parseId(flag: string, value: unknown): number {
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) >= 2 ** 32 - 1) {
    throw new UsageError(`${flag} ${text}`, 'not a valid id (0 to 4294967294)');
  }
  return Number(text);
}

/** Build step 2's config from the parsed flags. Creates nothing. */
export function configureNamespaces(
  options: RawOptions,
  config: ContainerConfig,
): NamespacesConfig {
  const given = (flag: 'uidmap' | 'gidmap') =>
    (options[flag] as string[] | undefined)?.map((m) =>
      parseIdMap(`--${flag}`, m),
    );
  let uidMap = given('uidmap') ?? defaultIdMap('/etc/subuid');
  let gidMap = given('gidmap') ?? defaultIdMap('/etc/subgid');
  let mapping: MappingStrategy = 'root';
  if (isRootless()) {
    if (options.uidmap !== undefined || options.gidmap !== undefined) {
      throw new UsageError(
        options.uidmap !== undefined ? '--uidmap' : '--gidmap',
        'rootless mode maps what /etc/subuid and /etc/subgid grant you; ' +
          'run as root to choose other ranges',
      );
    }
    const plan = rootlessPlan();
    ({ uidMap, gidMap } = plan);
    mapping = plan.strategy;
  } else {
    validateIdMap('--uidmap', uidMap);
    validateIdMap('--gidmap', gidMap);
  }

  const uid = parseId('--uid', options.uid ?? 0);
  const gid = parseId('--gid', options.gid ?? uid);
  if (!isMapped(uidMap, 0) || !isMapped(gidMap, 0)) {
    throw new UsageError(
      '--uidmap',
      'container id 0 must be mapped: the init runs as root first',
    );
  }
  if (mapping === 'single' && (uid !== 0 || gid !== 0)) {
    throw new UsageError(
      uid !== 0 ? `--uid ${uid}` : `--gid ${gid}`,
      `rootless with one id maps only id 0: ${singleIdReason()}`,
    );
  }
  if (!isMapped(uidMap, uid)) {
    throw new UsageError(
      `--uid ${uid}`,
      `outside the uid map (${formatIdMap(uidMap).trim()})`,
    );
  }
  if (!isMapped(gidMap, gid)) {
    throw new UsageError(
      `--gid ${gid}`,
      `outside the gid map (${formatIdMap(gidMap).trim()})`,
    );
  }

  const hostname =
    options.hostname === undefined
      ? generateHostname()
      : validateHostname(options.hostname as string);

  // HOSTNAME as docker sets it; HOME for a non-root user unless given.
  const userSet = new Set(
    ((options.env as string[] | undefined) ?? []).map((e) => e.split('=')[0]),
  );
  config.env.push(`HOSTNAME=${hostname}`);
  if (uid !== 0 && !userSet.has('HOME')) {
    config.env = config.env.map((e) => (e.startsWith('HOME=') ? 'HOME=/' : e));
  }
  return { uidMap, gidMap, uid, gid, hostname, mapping };
}

/** What rootless mode gives the current user (or would give others). */
export function rootlessCheck(): CheckLine {
  const helpers = findInPath('newuidmap') && findInPath('newgidmap');
  if (!isRootless()) {
    return {
      what: 'rootless',
      verdict: 'info',
      detail: `running as root; users without root get one-id maps${helpers ? ', or their /etc/subuid ranges through newuidmap' : ' (install uidmap for subuid ranges)'}; cgroup limits need a delegated cgroup v2 subtree`,
    };
  }
  const plan = rootlessPlan();
  return {
    what: 'rootless',
    verdict: plan.strategy === 'single' ? 'warn' : 'ok',
    detail:
      plan.strategy === 'single'
        ? `one id (your uid as 0): ${singleIdReason()}; --uid other than 0 will be refused`
        : `newuidmap maps ${formatIdMap(plan.uidMap).trim().replace(/\n/g, ', ')}`,
  };
}

/** The numbers of the id system calls the chain makes raw. */
export const SYS =
  process.arch === 'arm64'
    ? { setresuid: 147, setresgid: 149 }
    : { setresuid: 117, setresgid: 119 };

/**
 * Whether this process can create the namespace of `flag`: clone a child
 * whose function is _exit itself (it exits 0 with its NULL argument), so
 * no chain is needed to ask the kernel.
 */
export function canCreateNamespace(flag: number): string | undefined {
  const size = 16 * 1024;
  const stack = malloc(size);
  try {
    const top = addressOf(stack) + size;
    const pid = clone(dlsym('_exit'), top, flag | SIGCHLD, null);
    const [, status] = waitpid(pid);
    return status.kind === 'exited' && status.code === 0
      ? undefined
      : `the probe child ended with ${JSON.stringify(status)}`;
  } catch (err) {
    return messageOf(err);
  } finally {
    free(stack);
  }
}

// #region namespaces-layer
/** Step 2's layer. */
export const namespacesLayer: Layer = {
  name: 'namespaces',
  initModule: require.resolve('./init'),

  options(run: Command) {
    run
      .option('-u, --uid <uid>', 'the uid the command runs as, inside', '0')
      .option(
        '--gid <gid>',
        'the gid the command runs as, inside (default: the uid)',
      )
      .option(
        '--uidmap <inside:outside:count>',
        "map container uids to host uids (repeatable; default: root's " +
          'range in /etc/subuid, else 0:100000:65536)',
        collect,
      )
      .option(
        '--gidmap <inside:outside:count>',
        'map container gids to host gids (repeatable; default: /etc/subgid, ' +
          'else 0:100000:65536)',
        collect,
      )
      .addOption(
        new Option(
          '--hostname <name>',
          "the container's hostname (default: a generated adjective-noun-number)",
        ),
      );
  },

  configure(options, config) {
    namespacesSection.set(config, configureNamespaces(options, config));
  },

  cloneFlags: () => NAMESPACE_CLONE_FLAGS,

  // The chain must become root of the new namespace before execve: a
  // process that execs as an unmapped uid loses every capability.
  // The id changes are raw system calls: glibc's setresuid() would try
  // to change every thread it knows of, and the child has inherited the
  // list of Node's threads but none of the threads - it can hang there.
  chain: () => [
    {
      fn: 'syscall',
      args: [SYS.setresgid, 0, 0, 0],
      show: 'syscall(SYS_setresgid, 0, 0, 0)',
    },
    {
      fn: 'syscall',
      args: [SYS.setresuid, 0, 0, 0],
      show: 'syscall(SYS_setresuid, 0, 0, 0)',
    },
  ],

  prepare(ctx) {
    const { uidMap, gidMap } = namespacesSection.get(ctx.config);
    const who = {
      uid: outsideId(uidMap, 0) ?? 0,
      gid: outsideId(gidMap, 0) ?? 0,
    };
    const files = [
      ...initLaunch().files,
      KOFFI_FILE,
      ...ctx.config.initModules,
    ];
    for (const file of files) {
      const blocked = firstUnreachable(file, who);
      if (!blocked) continue;
      const mode = (blocked.mode & 0o7777).toString(8);
      throw new RuntimeError(
        `namespaces: the init runs as host uid ${who.uid} and cannot reach ` +
          `${file}: ${blocked.path} has mode ${mode}; make the directories ` +
          `above tincan searchable (chmod o+x ${blocked.path}) or install ` +
          'tincan where every user may read it',
      );
    }
  },

  attach(ctx) {
    const { uidMap, gidMap, mapping } = namespacesSection.get(ctx.config);
    const pid = ctx.pid ?? 0;
    withContext('namespaces', () =>
      mapping === 'root'
        ? writeIdMaps(pid, uidMap, gidMap)
        : writeRootlessMaps(pid, { strategy: mapping, uidMap, gidMap }),
    );
    ctx.log.debug(
      `${mapping === 'root' ? 'wrote' : `rootless (${mapping}) wrote`} /proc/${pid}/uid_map ${q(formatIdMap(uidMap))} and gid_map ${q(formatIdMap(gidMap))}`,
    );
  },

  check(): CheckLine[] {
    const lines: CheckLine[] = NAMESPACE_TYPES.map(({ name, flag }) => {
      // Without root, the other namespaces come only inside a new user
      // namespace, as tincan creates them.
      const userFlag = NAMESPACE_TYPES[0]?.flag ?? 0;
      const problem = canCreateNamespace(isRootless() ? flag | userFlag : flag);
      return {
        what: `${name} namespace`,
        verdict: problem ? 'fail' : 'ok',
        detail: problem ?? 'can be created',
      };
    });
    const ranges = ['/etc/subuid', '/etc/subgid'].map((file) => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const map = defaultIdMap(file as '/etc/subuid');
      const own = subordinateRange(text, 'root', 0) !== undefined;
      return `${file}: ${own ? "root's range" : 'no range for root, default'} ${formatIdMap(map).trim()}`;
    });
    lines.push(rootlessCheck());
    // Rootless, the rootless line above says which ids the container gets.
    if (!isRootless())
      lines.push({
        what: 'id ranges',
        verdict: 'info',
        detail: ranges.join('; '),
      });
    return lines;
  },
};
// #endregion namespaces-layer
