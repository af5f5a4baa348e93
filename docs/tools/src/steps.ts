// The steps of the tutorial as the repository holds them: each package
// under packages/ with its lesson (steps/NN-name) and its black-box test
// (test/integration/NAME.test.ts). The order comes from the packages
// themselves: a step depends on the step before it, so the step is its
// place in the chain of `@tincan/*` dependencies.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './repo';

/** A step of the tutorial present in a checkout. */
export interface Step {
  /** its number, from 1 */
  number: number;
  /** its name, the package directory: `cli`, `namespaces`… */
  name: string;
  /** the npm package, `@tincan/NAME` */
  packageName: string;
  /** the lesson directory, e.g. `steps/01-cli`, when present */
  lesson?: string;
}

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** The steps present under `root`, first to last. */
export function discoverSteps(root = REPO_ROOT): Step[] {
  const dir = path.join(root, 'packages');
  if (!existsSync(dir)) return [];
  const pkgs = new Map<string, { dir: string; deps: string[] }>();
  for (const d of readdirSync(dir).sort()) {
    const file = path.join(dir, d, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    pkgs.set(pkg.name, {
      dir: d,
      deps: deps.filter((n) => n.startsWith('@tincan/')),
    });
  }
  const depth = (name: string, seen: string[] = []): number => {
    if (seen.includes(name)) {
      throw new Error(
        `packages depend on each other in a cycle: ${seen.join(' -> ')}`,
      );
    }
    const deps = (pkgs.get(name)?.deps ?? []).filter((d) => pkgs.has(d));
    return deps.length === 0
      ? 0
      : 1 + Math.max(...deps.map((d) => depth(d, [...seen, name])));
  };
  const lessons = existsSync(path.join(root, 'steps'))
    ? readdirSync(path.join(root, 'steps'))
    : [];
  // The number is the lesson's (steps/04-capabilities is step 4 even
  // while step 3 is missing); a step without a lesson follows the one
  // before it.
  let last = 0;
  return [...pkgs.entries()]
    .map(([packageName, p]) => ({
      packageName,
      dir: p.dir,
      depth: depth(packageName),
    }))
    .sort((a, b) => a.depth - b.depth || a.dir.localeCompare(b.dir))
    .map((p) => {
      const lesson = lessons.find((l) => l.replace(/^\d+-/, '') === p.dir);
      const fromLesson = lesson ? Number(/^\d+/.exec(lesson)?.[0]) : 0;
      last = fromLesson > last ? fromLesson : last + 1;
      return {
        number: last,
        name: p.dir,
        packageName: p.packageName,
        ...(lesson ? { lesson: `steps/${lesson}` } : {}),
      };
    });
}

/** Find a step by name or number; throws with the known steps. */
export function findStep(steps: readonly Step[], wanted: string): Step {
  const step = steps.find(
    (s) => s.name === wanted.toLowerCase() || String(s.number) === wanted,
  );
  if (!step) {
    const known = steps.map((s) => `${s.number}/${s.name}`).join(', ');
    throw new Error(`${wanted}: unknown step; known steps: ${known}`);
  }
  return step;
}

/** The branch name of a step: `step/3-mounts`. */
export function branchName(step: Step): string {
  return `step/${step.number}-${step.name}`;
}

/**
 * The paths that belong to `step` alone: its package, its lesson and its
 * black-box test. A step branch removes these for every later step.
 */
export function stepPaths(step: Step): string[] {
  return [
    `packages/${step.name}`,
    ...(step.lesson ? [step.lesson] : []),
    `test/integration/${step.name}.test.ts`,
  ];
}

/**
 * The step a test file under test/ belongs to: the step it is named after
 * (`test/integration/seccomp.test.ts`), else the earliest step it runs
 * from (`stepsFrom('namespaces')`); undefined for a file every step keeps.
 */
export function testOwner(
  file: string,
  text: string,
  steps: readonly Step[],
): Step | undefined {
  const base = path.basename(file).replace(/\.test\.ts$/, '');
  const named = steps.find((s) => s.name === base);
  if (named) return named;
  const used = [...text.matchAll(/stepsFrom\(\s*['"]([a-z0-9-]+)['"]/g)]
    .map((m) => steps.find((s) => s.name === m[1]))
    .filter((s): s is Step => s !== undefined)
    .sort((a, b) => a.number - b.number);
  return used[0];
}

/**
 * Remove the README sections of the steps in `later`: lines from
 * `<!-- step:NAME -->` to `<!-- /step:NAME -->`, both included.
 */
export function trimReadme(text: string, later: readonly Step[]): string {
  const names = new Set(later.map((s) => s.name));
  const out: string[] = [];
  let skipping: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^\s*<!--\s*step:([a-z0-9-]+)\s*-->\s*$/.exec(line)?.[1];
    const close = /^\s*<!--\s*\/step:([a-z0-9-]+)\s*-->\s*$/.exec(line)?.[1];
    if (skipping === undefined && open && names.has(open)) {
      skipping = open;
      continue;
    }
    if (skipping !== undefined) {
      if (close === skipping) skipping = undefined;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** Drop the workspace entries of the steps in `later` from a lockfile. */
export function trimLockfile(text: string, later: readonly Step[]): string {
  const lock = JSON.parse(text) as { packages?: Record<string, unknown> };
  for (const step of later) {
    delete lock.packages?.[`packages/${step.name}`];
    delete lock.packages?.[`node_modules/${step.packageName}`];
  }
  return `${JSON.stringify(lock, null, 2)}\n`;
}
