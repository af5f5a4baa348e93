// `npm run steps:branches` into a temporary clone: every step branch must
// install, build, pass its own unit tests and run a smoke container. The
// full integration suite per branch would take too long for CI; the unit
// tests plus one real container per branch are the time box.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverSteps } from '../../docs/tools/src/steps';
import { requireRoot, ROOT } from '../helpers/tincan';

beforeAll(requireRoot);

const TOOL = path.join(ROOT, 'docs', 'tools', 'dist', 'steps-branches.js');
let tmp: string;
let clone: string;

beforeAll(() => {
  // The tool runs as built JavaScript; build it from this checkout.
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'docs/tools/tsconfig.json'],
    { cwd: ROOT },
  );
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tincan-branches-'));
  clone = path.join(tmp, 'repo');
  execFileSync('git', ['clone', '-q', ROOT, clone]);
  execFileSync(process.execPath, [TOOL], { cwd: clone });
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sh(cwd: string, command: string, args: string[]): string {
  const run = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  if (run.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} in ${cwd} exited ${run.status}:\n${run.stdout}\n${run.stderr}`,
    );
  }
  return run.stdout;
}

const steps = discoverSteps(ROOT);

test('the command refuses to overwrite the branches without --force', () => {
  const again = spawnSync(process.execPath, [TOOL], {
    cwd: clone,
    encoding: 'utf8',
  });
  expect(again.status).toBe(1);
  expect(again.stderr).toMatch(/branches exist already: step\/1-cli/);
});

test.each(steps.map((s) => [`step/${s.number}-${s.name}`, s.name]))(
  '%s installs, builds, passes its unit tests and runs a container',
  (branch, name) => {
    const dir = path.join(tmp, name);
    execFileSync('git', ['clone', '-q', '-b', branch, clone, dir]);
    sh(dir, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    sh(dir, 'npm', ['run', 'build']);
    sh(dir, 'npx', ['jest', '--selectProjects', 'unit']);
    const smoke = spawnSync(
      process.execPath,
      ['packages/cli/bin/tincan.js', 'run', '--', 'sh', '-c', 'exit 3'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(smoke.stderr).toBe('');
    expect(smoke.status).toBe(3);
    const listed = sh(dir, process.execPath, [
      'packages/cli/bin/tincan.js',
      'steps',
    ]);
    expect(listed.trim().split('\n').pop()).toMatch(
      new RegExp(`^\\* \\d+ ${name}$`),
    );
    rmSync(dir, { recursive: true, force: true });
  },
  600_000,
);
