// Every cgroup file tincan touches goes through a CgroupFs, so that the
// same code runs against the host's /sys/fs/cgroup and, in unit tests,
// against a fake tree of plain files in a temp dir (no root needed).

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { errnoValue, SyscallError } from '@tincan/cli';

/**
 * The files and calls cgroup code needs. Paths are absolute host paths
 * (`/sys/fs/cgroup/pids/tincan-x/pids.max`, `/proc/self/cgroup`); an
 * implementation may map them under another root.
 */
export interface CgroupFs {
  /** the text of a file, or a SyscallError("open", ...) */
  read(file: string): string;
  /** write `text` in one write(2), as the cgroup interface files expect */
  write(file: string, text: string): void;
  /** whether the path exists */
  exists(file: string): boolean;
  /** mkdir(2) of one directory (its parent must exist) */
  mkdir(dir: string): void;
  /** rmdir(2) of one cgroup directory */
  rmdir(dir: string): void;
  /** the names of the subdirectories of `dir` */
  subdirs(dir: string): string[];
  /** seconds since `dir` was created (its ctime) */
  ageSeconds(dir: string): number;
  /** kill(2) of one process with SIGKILL; a process already gone is fine */
  killPid(pid: number): void;
}

/** The error a failed node:fs call leaves, as a SyscallError. */
function asSyscallError(
  syscall: string,
  err: unknown,
  args: string[],
): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return err;
  try {
    return new SyscallError(syscall, errnoValue(code), args);
  } catch {
    return err;
  }
}

function fsCall<T>(syscall: string, args: string[], fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asSyscallError(syscall, err, args);
  }
}

/**
 * A CgroupFs on the real filesystem under `root` (`/` on the host). With
 * another root, rmdir removes the directory's files first: in a fake tree
 * the interface files are plain files, which a real cgroup never has.
 */
export function hostCgroupFs(root = '/'): CgroupFs {
  const fake = path.resolve(root) !== '/';
  const at = (file: string): string => (fake ? path.join(root, file) : file);
  return {
    read: (file) =>
      fsCall('open', [JSON.stringify(file)], () =>
        readFileSync(at(file), 'utf8'),
      ),
    write: (file, text) =>
      fsCall('write', [JSON.stringify(file), JSON.stringify(text)], () =>
        writeFileSync(at(file), text),
      ),
    exists: (file) => existsSync(at(file)),
    mkdir: (dir) =>
      fsCall('mkdir', [JSON.stringify(dir)], () => mkdirSync(at(dir))),
    rmdir: (dir) =>
      fsCall('rmdir', [JSON.stringify(dir)], () => {
        if (!fake) return rmdirSync(at(dir));
        // A cgroup with child cgroups cannot be removed: EBUSY.
        const entries = readdirSync(at(dir), { withFileTypes: true });
        if (entries.some((e) => e.isDirectory())) {
          throw Object.assign(new Error('busy'), { code: 'EBUSY' });
        }
        rmSync(at(dir), { recursive: true });
      }),
    subdirs: (dir) =>
      fsCall('opendir', [JSON.stringify(dir)], () =>
        readdirSync(at(dir), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name),
      ),
    ageSeconds: (dir) => (Date.now() - statSync(at(dir)).ctimeMs) / 1000,
    killPid: (pid) => {
      if (fake) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') {
          throw asSyscallError('kill', err, [String(pid), 'SIGKILL']);
        }
      }
    },
  };
}

/** Read a file and trim it, or undefined when it cannot be read. */
export function readOptional(fs: CgroupFs, file: string): string | undefined {
  try {
    return fs.read(file).trim();
  } catch {
    return undefined;
  }
}

/** `key value` lines (cpu.stat, memory.events, cpuacct.stat) as a map. */
export function parseKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) {
      out.set(key, Number(value));
    }
  }
  return out;
}

/** The pids listed in a cgroup.procs file. */
export function parseProcs(text: string): number[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** Wait `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
