// Load (issue 9): 50 containers started at once all succeed, each with its
// own hostname (and cgroup, with the resources step), and all are cleaned
// up.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  hostTraces,
  INIT_ENTRY,
  killLeftovers,
  leftTraces,
  processesMatching,
  requireRoot,
  run,
  runHas,
  traceList,
  type RunOutput,
} from './helpers';

beforeAll(requireRoot);

function populated(dir: string): boolean {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

afterAll(() => killLeftovers([`\0${INIT_ENTRY}\0`]));

test('load: 50 containers at once succeed with distinct hostnames and cgroups, and leave nothing', async () => {
  const N = 50;
  const baseline = traceList();
  const started = Date.now();
  const cgroupNames = new Set<string>();
  const sampler = setInterval(() => {
    for (const dir of hostTraces().cgroups) {
      const name = path.basename(dir);
      if (populated(dir)) cgroupNames.add(name);
    }
  }, 250);
  const outs: RunOutput[] = await Promise.all(
    Array.from({ length: N }, () =>
      run(['--', '/bin/sh', '-c', 'hostname; sleep 2'], {
        timeoutMs: 120_000,
      }),
    ),
  ).finally(() => clearInterval(sampler));
  const elapsed = Date.now() - started;

  const failed = outs
    .filter((o) => o.code !== 0)
    .map((o) => `${String(o.code ?? o.signal)}: ${o.stderr.trim()}`);
  expect(failed).toEqual([]);
  expect(elapsed).toBeLessThan(120_000);

  const hostnames = outs.map((o) => o.stdout.split('\n')[0] ?? '');
  expect(new Set(hostnames).size).toBe(N);

  if (runHas('--pids')) {
    // Each container's cgroup, seen from the host while it ran (inside, a
    // cgroup namespace shows every container "/"): one per container.
    expect(cgroupNames.size).toBeGreaterThanOrEqual(N);
  }

  expect(await leftTraces(baseline)).toEqual([]);
  expect(processesMatching([`\0${INIT_ENTRY}\0`])).toEqual([]);
});
