// `tincan rootfs create DIR`: a minimal root filesystem made of host
// programs and the shared libraries they load (as ldd lists them), or of a
// static busybox and its applet links. Tests build their fixtures with it.

import { childProcess, DEFAULT_PATH, UsageError } from '@tincan/cli';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { etcFiles } from './etc';
import { HOST_SYSTEM_DIRS, hostEntries } from './mount-plan';

/** The programs copied when --from-host is not given. */
export const DEFAULT_PROGRAMS = [
  'sh',
  'ls',
  'cat',
  'echo',
  'env',
  'sleep',
  'yes',
  'head',
  'grep',
  'ps',
  'mkdir',
  'touch',
  'rm',
  'id',
  'wc',
  'true',
  'false',
  'readlink',
  'stat',
  'uname',
  'hostname',
  'mount',
  'umount',
];

// #region parse-ldd
/**
 * The files `ldd` says a program loads, in its output's order. Returns []
 * for a static program; throws when a library is not found.
 */
export function parseLdd(output: string): string[] {
  const files: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || /not a dynamic executable|statically linked/.test(line))
      continue;
    const arrow = /^(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      const [, name = '', where = ''] = arrow;
      if (where === 'not found') throw new Error(`${name}: not found`);
      if (where.startsWith('/')) files.push(where);
      continue;
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct?.[1]) files.push(direct[1]);
    // anything else is the vDSO (linux-vdso.so.1), which is no file
  }
  return files;
}
// #endregion parse-ldd

/** The libraries `file` needs, by running ldd on it. */
export function librariesOf(file: string): string[] {
  let output: string;
  try {
    output = childProcess().execFileSync('ldd', [file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(text)) return [];
    throw new Error(`ldd ${file}: ${text.trim() || (err as Error).message}`);
  }
  return parseLdd(output);
}

/** Find `name` in the host's PATH, as execvp would. */
export function findOnHost(name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of DEFAULT_PATH.split(':')) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Where a host file goes in the new root: through the host's merged-/usr
 * links, so that /lib/x.so lands in usr/lib when the host's /lib is a link
 * to usr/lib, and the root gets the same links.
 */
export function placeInRoot(
  file: string,
  links: ReadonlyMap<string, string>,
): string {
  const [, top = '', ...rest] = file.split('/');
  const link = links.get(top);
  if (link === undefined) return file;
  return path.posix.join('/', link.replace(/^\//, ''), ...rest);
}

/** What `tincan rootfs create` did. */
export interface RootfsReport {
  programs: string[];
  libraries: string[];
  skipped: string[];
}

/** Options of createRootfs. */
export interface RootfsOptions {
  /** host program names or paths */
  programs: string[];
  /** whether the list was given (a missing program is then an error) */
  explicit: boolean;
  /** copy a static busybox and its applet links */
  busybox: boolean;
}

// #region create-rootfs
/** Build a minimal root filesystem in `dir`, which is new or empty. */
export function createRootfs(
  dir: string,
  options: RootfsOptions,
): RootfsReport {
  const root = path.resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new UsageError(`rootfs create ${dir}`, 'the directory is not empty');
  }
  // Find everything before creating anything.
  const report: RootfsReport = { programs: [], libraries: [], skipped: [] };
  const found: string[] = [];
  for (const name of options.busybox ? [] : options.programs) {
    const file = findOnHost(name);
    if (file) found.push(file);
    else if (options.explicit) {
      throw new UsageError(`--from-host ${name}`, 'not found on this host');
    } else report.skipped.push(name);
  }
  const busybox = options.busybox ? staticBusybox() : undefined;
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);

  const links = new Map<string, string>();
  for (const entry of hostEntries()) {
    if (entry.kind === 'symlink' && entry.link !== undefined) {
      links.set(entry.name, entry.link);
    }
  }
  for (const name of HOST_SYSTEM_DIRS) {
    const link = links.get(name);
    if (link === undefined) continue;
    mkdirSync(path.join(root, placeInRoot(`/${name}`, links)), {
      recursive: true,
      mode: 0o755,
    });
    symlinkSync(link, path.join(root, name));
  }
  for (const [name, mode] of [
    ['proc', 0o755],
    ['sys', 0o755],
    ['dev', 0o755],
    ['etc', 0o755],
    ['tmp', 0o1777],
    ['root', 0o700],
    ['usr/bin', 0o755],
  ] as const) {
    mkdirSync(path.join(root, name), { recursive: true, mode });
    chmodSync(path.join(root, name), mode);
  }
  const etc = etcFiles({ hostname: 'tincan', uid: 0, gid: 0 });
  for (const [name, content] of Object.entries(etc)) {
    writeFileSync(path.join(root, 'etc', name), content, { mode: 0o644 });
  }

  const libraries = new Set<string>();
  const copy = (file: string): void => {
    const dest = path.join(root, placeInRoot(file, links));
    if (existsSync(dest)) return;
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
    copyFileSync(realpathSync(file), dest);
    chmodSync(dest, statSync(file).mode & 0o755);
  };

  for (const file of found) {
    copy(file);
    report.programs.push(file);
    for (const lib of librariesOf(file)) libraries.add(lib);
  }
  if (busybox) report.programs.push(...copyBusybox(busybox, root, links));
  for (const lib of libraries) {
    copy(lib);
    report.libraries.push(lib);
  }
  return report;
}
// #endregion create-rootfs

/** The host's busybox, which must be static to run in any root. */
function staticBusybox(): string {
  const file = findOnHost('busybox');
  if (!file) {
    throw new UsageError(
      '--busybox',
      'no busybox on this host (Debian: apt-get install busybox-static)',
    );
  }
  if (librariesOf(file).length > 0) {
    throw new UsageError(
      '--busybox',
      `${file} is linked dynamically; a static busybox is needed`,
    );
  }
  return file;
}

function copyBusybox(
  file: string,
  root: string,
  links: ReadonlyMap<string, string>,
): string[] {
  const dest = path.join(root, placeInRoot('/bin/busybox', links));
  mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  copyFileSync(realpathSync(file), dest);
  chmodSync(dest, 0o755);
  const applets = childProcess()
    .execFileSync(file, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const applet of applets) {
    const at = path.join(root, placeInRoot(`/${applet}`, links));
    if (lstatSync(at, { throwIfNoEntry: false })) continue;
    mkdirSync(path.dirname(at), { recursive: true, mode: 0o755 });
    symlinkSync(path.relative(path.dirname(at), dest), at);
  }
  return [file, ...applets.map((a) => `/${a}`)];
}

/** `tincan rootfs`: its `create` subcommand. */
export function rootfsCommand(): Command {
  const rootfs = new Command('rootfs')
    .description('build root filesystems for tincan run -m')
    .exitOverride()
    .action(() => rootfs.outputHelp());
  rootfs
    .command('create')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .description(
      'make DIR a minimal root filesystem: host programs with the shared ' +
        'libraries ldd lists for them, a generated /etc, empty /proc /sys ' +
        '/dev /tmp /root',
    )
    .argument('<dir>', 'the directory to create (new or empty)')
    .option(
      '--from-host <programs>',
      `comma-separated host programs to copy (default: ${DEFAULT_PROGRAMS.join(',')})`,
    )
    .option('--busybox', "copy the host's static busybox and its applet links")
    .action((dir: string, opts: { fromHost?: string; busybox?: boolean }) => {
      const programs =
        opts.fromHost?.split(',').filter(Boolean) ?? DEFAULT_PROGRAMS;
      const report = createRootfs(dir, {
        programs,
        explicit: opts.fromHost !== undefined,
        busybox: Boolean(opts.busybox),
      });
      process.stdout.write(
        `${path.resolve(dir)}: ${report.programs.length} programs, ` +
          `${report.libraries.length} libraries` +
          (report.skipped.length > 0
            ? ` (not on this host: ${report.skipped.join(' ')})`
            : '') +
          '\n',
      );
    });
  return rootfs;
}
