// `tincan check --container`: start a real container with the default
// settings of the chosen runtime, read what the kernel says about it from
// the inside, and compare that with what each step promises. Like youki's
// runtimetest, but a shell script: the default root has the host's /bin.

import path from 'node:path';
import type { CheckLine, Runtime } from './layer';
import { childProcess } from './lazy';

/** What the probe prints: one `key value` line each. */
const PROBE = [
  'echo "pid $$"',
  'grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | tr -d ":"',
  'echo "uidmap $(head -n1 /proc/self/uid_map | tr -s " " | sed "s/^ //")"',
  'echo "fds $(ls /proc/self/fd | tr "\\n" " ")"',
  'echo "nofile $(ulimit -n)"',
  'echo "kcore $(wc -c < /proc/kcore 2>/dev/null || echo denied)"',
  'echo "mounts $(grep -c . /proc/self/mountinfo)"',
  'echo "cgroup $(head -n1 /proc/self/cgroup | cut -d: -f3)"',
].join('; ');

/** Parse the probe's `key value` lines. */
export function parseProbe(text: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line.trim());
    if (m?.[1]) facts.set(m[1], (m[2] ?? '').trim());
  }
  return facts;
}

/** One promise a step makes about the inside of its containers. */
interface Expectation {
  step: string;
  what: string;
  holds: (facts: Map<string, string>) => boolean;
  shows: (facts: Map<string, string>) => string;
}

const show =
  (...keys: string[]) =>
  (f: Map<string, string>): string =>
    keys.map((k) => `${k} ${f.get(k) ?? '?'}`).join(', ');

/** What each step promises, checked only when its layer is in the runtime. */
export const EXPECTATIONS: readonly Expectation[] = [
  {
    step: 'cli',
    what: 'only fds 0-2 reach the command',
    holds: (f) => /^0 1 2 \d+\s*$/.test(f.get('fds') ?? ''),
    shows: show('fds'),
  },
  {
    step: 'namespaces',
    what: 'PID 1 of its own pid namespace',
    holds: (f) => f.get('pid') === '1',
    shows: show('pid'),
  },
  {
    step: 'namespaces',
    what: 'root inside is not root outside',
    holds: (f) => {
      const [inside, outside] = (f.get('uidmap') ?? '').split(' ');
      return inside === '0' && outside !== undefined && outside !== '0';
    },
    shows: show('uidmap'),
  },
  {
    step: 'namespaces',
    what: 'no supplementary groups',
    holds: (f) => (f.get('Groups') ?? '') === '',
    shows: show('Groups'),
  },
  {
    step: 'namespaces',
    what: 'its own cgroup is /',
    holds: (f) => f.get('cgroup') === '/',
    shows: show('cgroup'),
  },
  {
    step: 'mounts',
    what: '/proc/kcore is masked',
    holds: (f) => ['0', 'denied'].includes(f.get('kcore') ?? ''),
    shows: show('kcore'),
  },
  {
    step: 'capabilities',
    what: "Docker's fourteen capabilities, nothing inherited",
    holds: (f) =>
      ['CapPrm', 'CapEff', 'CapBnd'].every(
        (k) => f.get(k) === '00000000a80425fb',
      ) &&
      f.get('CapInh') === '0000000000000000' &&
      f.get('CapAmb') === '0000000000000000',
    shows: show('CapEff', 'CapBnd', 'CapInh', 'CapAmb'),
  },
  {
    step: 'capabilities',
    what: 'no_new_privs',
    holds: (f) => f.get('NoNewPrivs') === '1',
    shows: show('NoNewPrivs'),
  },
  {
    step: 'seccomp',
    what: 'a seccomp filter',
    holds: (f) => f.get('Seccomp') === '2',
    shows: show('Seccomp'),
  },
  {
    step: 'resources',
    what: 'NOFILE 64',
    holds: (f) => f.get('nofile') === '64',
    shows: show('nofile'),
  },
];

/**
 * Run the probe in a container of `runtime` (through this same tincan
 * command) and judge every promise of the steps it includes.
 */
export function containerChecks(runtime: Runtime): CheckLine[] {
  const bin = path.join(__dirname, '..', 'bin', 'tincan.js');
  const run = childProcess().spawnSync(
    process.execPath,
    [bin, '--step', runtime.name, 'run', '--', '/bin/sh', '-c', PROBE],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.status !== 0) {
    return [
      {
        what: 'container',
        verdict: 'fail',
        detail: `the probe container failed (exit ${run.status}): ${run.stderr.trim()}`,
      },
    ];
  }
  const facts = parseProbe(run.stdout);
  const steps = new Set(runtime.layers.map((l) => l.name));
  return EXPECTATIONS.filter((e) => steps.has(e.step)).map((e) => ({
    what: `inside: ${e.what}`,
    verdict: e.holds(facts) ? 'ok' : 'fail',
    detail: `${e.shows(facts)} (step ${e.step})`,
  }));
}
