// A fake cgroup tree of plain files in a temp dir, for unit tests and for
// trying the v2 code on a v1 host: a CgroupFs that behaves enough like the
// kernel (mkdir creates a cgroup's interface files, cgroup.kill and
// SIGKILL empty cgroup.procs) to exercise placement, limits and cleanup.

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostCgroupFs, type CgroupFs } from './cgroup-fs';

/** The interface files each controller adds to a new cgroup. */
const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': '9223372036854771712',
    'memory.memsw.limit_in_bytes': '9223372036854771712',
    'memory.max_usage_in_bytes': '0',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0',
  },
  cpu: {
    'cpu.cfs_period_us': '100000',
    'cpu.cfs_quota_us': '-1',
    'cpu.shares': '1024',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0',
  },
  cpuacct: { 'cpuacct.stat': 'user 0\nsystem 0' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  blkio: {},
  freezer: { 'freezer.state': 'THAWED' },
};

const V2_FILES: Record<string, Record<string, string>> = {
  '': {
    'cgroup.controllers': '',
    'cgroup.subtree_control': '',
    'cgroup.kill': '',
    'cgroup.events': 'populated 0\nfrozen 0',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0',
  },
  memory: {
    'memory.max': 'max',
    'memory.swap.max': 'max',
    'memory.peak': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0',
  },
  cpu: { 'cpu.max': 'max 100000', 'cpu.weight': '100' },
  pids: { 'pids.max': 'max', 'pids.peak': '0' },
  io: { 'io.weight': 'default 100' },
};

/** A fake host: its temp root, a CgroupFs on it, and a way to remove it. */
export interface FakeTree {
  root: string;
  fs: CgroupFs;
  /** every write, in order: [host path, text] */
  writes: [string, string][];
  /** pids the fake delivered SIGKILL to */
  killed: number[];
  /** put a file (host path) in place */
  put(file: string, text: string): void;
  /** read a file (host path) */
  get(file: string): string;
  remove(): void;
}

/** A cgroup v1 hierarchy or the v2 one, to build a fake host from. */
export interface FakeHierarchy {
  version: 1 | 2;
  /** v1: its controllers; v2: those its root offers */
  controllers: string[];
  /** the mount point */
  mount: string;
  /** this process's cgroup in it */
  current: string;
  /** v2: what the current cgroup's cgroup.subtree_control enables */
  subtreeControl?: string[];
}

/** Build a fake host with these hierarchies. */
export function fakeTree(hierarchies: FakeHierarchy[]): FakeTree {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tincan-fake-cgroups-'));
  const base = hostCgroupFs(root);
  const at = (file: string): string => path.join(root, file);
  const writes: [string, string][] = [];
  const killed: number[] = [];
  const put = (file: string, text: string): void => {
    mkdirSync(path.dirname(at(file)), { recursive: true });
    writeFileSync(at(file), text);
  };
  const versionOf = (dir: string): FakeHierarchy | undefined =>
    hierarchies.find((h) => dir.startsWith(`${h.mount}/`) || dir === h.mount);

  const populate = (dir: string): void => {
    const h = versionOf(dir);
    if (!h) return;
    put(path.join(dir, 'cgroup.procs'), '');
    if (h.version === 1) {
      for (const c of h.controllers) {
        for (const [f, v] of Object.entries(V1_FILES[c] ?? {})) {
          put(path.join(dir, f), v);
        }
      }
      return;
    }
    const parent = path.dirname(dir);
    const enabled = (
      readOptional(at(path.join(parent, 'cgroup.subtree_control'))) ?? ''
    )
      .split(/\s+/)
      .filter(Boolean);
    for (const c of ['', ...enabled]) {
      for (const [f, v] of Object.entries(V2_FILES[c] ?? {})) {
        put(path.join(dir, f), v);
      }
    }
    put(path.join(dir, 'cgroup.controllers'), enabled.join(' '));
  };

  // The host's own files: mountinfo, /proc/self/cgroup, each current
  // cgroup and the hierarchy roots.
  const mountinfo: string[] = [];
  const procCgroup: string[] = [];
  hierarchies.forEach((h, i) => {
    const type = h.version === 1 ? 'cgroup' : 'cgroup2';
    const opts = h.version === 1 ? `rw,${h.controllers.join(',')}` : 'rw';
    mountinfo.push(
      `${30 + i} 20 0:${40 + i} / ${h.mount} rw,relatime - ${type} ${type} ${opts}`,
    );
    procCgroup.push(
      h.version === 1
        ? `${i + 1}:${h.controllers.join(',')}:${h.current}`
        : `0::${h.current}`,
    );
    mkdirSync(at(h.mount), { recursive: true });
    if (h.version === 2) {
      put(path.join(h.mount, 'cgroup.controllers'), h.controllers.join(' '));
      put(path.join(h.mount, 'cgroup.subtree_control'), '');
      put(path.join(h.mount, 'cgroup.procs'), '1');
      const current = path.join(h.mount, h.current);
      mkdirSync(at(current), { recursive: true });
      if (current !== h.mount) {
        put(path.join(current, 'cgroup.procs'), '1000');
      }
      put(
        path.join(current, 'cgroup.subtree_control'),
        (h.subtreeControl ?? []).join(' '),
      );
    } else {
      mkdirSync(at(path.join(h.mount, h.current)), { recursive: true });
    }
  });
  put('/proc/self/mountinfo', `${mountinfo.join('\n')}\n`);
  put('/proc/self/cgroup', `${procCgroup.join('\n')}\n`);

  const dropPid = (pid: number): void => {
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.name === 'cgroup.procs') {
          const left = readFileSync(full, 'utf8')
            .split('\n')
            .filter((l) => l !== '' && l !== String(pid));
          writeFileSync(full, left.join('\n'));
        }
      }
    };
    walk(at('/sys'));
  };

  const fs: CgroupFs = {
    ...base,
    mkdir(dir) {
      base.mkdir(dir);
      populate(dir);
    },
    write(file, text) {
      writes.push([file, text]);
      const name = path.basename(file);
      if (name === 'cgroup.kill') {
        const procs = readOptional(
          at(path.join(path.dirname(file), 'cgroup.procs')),
        );
        for (const pid of (procs ?? '').split('\n').filter(Boolean)) {
          killed.push(Number(pid));
          dropPid(Number(pid));
        }
        return;
      }
      if (name === 'cgroup.subtree_control') {
        const now = (readOptional(at(file)) ?? '').split(/\s+/).filter(Boolean);
        for (const word of text.split(/\s+/)) {
          const c = word.slice(1);
          if (word.startsWith('+') && !now.includes(c)) now.push(c);
          if (word.startsWith('-')) now.splice(now.indexOf(c), 1);
        }
        return base.write(file, now.join(' '));
      }
      if (name === 'cgroup.procs') {
        // Moving a process appends it, as reading the kernel's file shows.
        const now = readOptional(at(file)) ?? '';
        return base.write(file, `${now}${now ? '\n' : ''}${text}`);
      }
      base.write(file, text);
    },
    killPid(pid) {
      killed.push(pid);
      dropPid(pid);
    },
  };
  return {
    root,
    fs,
    writes,
    killed,
    put,
    get: (file) => readFileSync(at(file), 'utf8'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
