// `npm run lab -- start|check|solution STEP`: classroom labs.
//
//   start     on a new branch lab/NAME, replace the step's teaching
//             functions (the functions inside its regions tagged `lab`)
//             with stubs that throw `not implemented — see the lesson`,
//             keeping every signature; commit, and build to show the rest
//             of the runtime still compiles
//   check     build, run the step's black-box tests and print each
//             behaviour as passed or failed, then `N passed, N failed`
//   solution  bring back the reference implementation of the step's
//             sources from the commit the lab started from

import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import {
  parseRefs,
  parseRegions,
  type Region,
  type RegionRef,
} from './regions';
import { loadDocs } from './repo';
import { discoverSteps, findStep, type Step } from './steps';

/** The line a lab commit carries to find its way back to the solution. */
const BASE_TRAILER = 'lab-base:';

function git(root: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** One function a lab replaces with a stub. */
export interface Stub {
  /** the file, relative to the root */
  file: string;
  /** the function's name as the code spells it */
  name: string;
  /** the message the stub throws */
  message: string;
}

/** The message of a stub: where in the lesson the function is taught. */
export function stubMessage(step: Step, ref: RegionRef | undefined): string {
  const lesson = step.lesson
    ? `${step.lesson}/README.md`
    : `the ${step.name} lesson`;
  return ref?.section
    ? `not implemented — see ${lesson}, section "${ref.section}"`
    : `not implemented — see ${lesson}`;
}

function functionName(node: ts.Node): string {
  if (
    (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) &&
    node.name
  ) {
    return node.name.getText();
  }
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

/**
 * Replace the body of every function that starts inside one of `regions`
 * with `{ throw new Error(message) }`; nested functions go with their
 * outer one. Returns the new text and the functions stubbed.
 */
export function stubFunctions(
  file: string,
  source: string,
  regions: readonly { region: Region; message: string }[],
): { text: string; stubbed: { name: string; message: string }[] } {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const edits: {
    start: number;
    end: number;
    text: string;
    name: string;
    message: string;
  }[] = [];
  const lineOf = (pos: number): number =>
    sf.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    const isFn =
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node);
    const body = isFn ? node.body : undefined;
    if (body && ts.isBlock(body)) {
      const line = lineOf(node.getStart(sf));
      const hit = regions.find(
        (r) => line > r.region.start && line < r.region.end,
      );
      if (hit) {
        const indent =
          /^[ \t]*/.exec(
            source.slice(source.lastIndexOf('\n', node.getStart(sf)) + 1),
          )?.[0] ?? '';
        edits.push({
          start: body.getStart(sf),
          end: body.end,
          name: functionName(node),
          message: hit.message,
          text: `{\n${indent}  throw new Error(${JSON.stringify(hit.message)});\n${indent}}`,
        });
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let text = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    text = text.slice(0, e.start) + e.text + text.slice(e.end);
  }
  return {
    text,
    stubbed: edits.map(({ name, message }) => ({ name, message })),
  };
}

/** Every TypeScript source of a step's package, tests excluded. */
function stepSources(root: string, step: Step): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        out.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  };
  walk(path.join(root, 'packages', step.name, 'src'));
  return out.sort();
}

/**
 * Stub the teaching functions of `step` in the working tree of `root`.
 * Returns what was stubbed; throws when the step marks no lab region.
 */
export function applyStubs(root: string, step: Step): Stub[] {
  const refs = loadDocs(root).flatMap((d) => parseRefs(d.file, d.markdown));
  const stubs: Stub[] = [];
  for (const file of stepSources(root, step)) {
    const full = path.join(root, file);
    const source = readFileSync(full, 'utf8');
    const lab = parseRegions(file, source)
      .filter((r) => r.tags.includes('lab'))
      .map((region) => {
        const shown = refs.filter(
          (r) => r.file === file && r.name === region.name,
        );
        const ref =
          shown.find((r) => step.lesson && r.doc.startsWith(step.lesson)) ??
          shown[0];
        return { region, message: stubMessage(step, ref) };
      });
    if (lab.length === 0) continue;
    const { text, stubbed } = stubFunctions(file, source, lab);
    writeFileSync(full, text);
    stubs.push(...stubbed.map((s) => ({ file, ...s })));
  }
  if (stubs.length === 0) {
    throw new Error(
      `step ${step.name} marks no teaching function: tag its lesson's regions "// #region NAME (lab)"`,
    );
  }
  // A stub leaves helpers and parameters unused; the lab branch allows it.
  const tsconfig = path.join(root, 'packages', step.name, 'tsconfig.json');
  const config = JSON.parse(readFileSync(tsconfig, 'utf8')) as {
    compilerOptions?: Record<string, unknown>;
  };
  config.compilerOptions = {
    ...config.compilerOptions,
    noUnusedLocals: false,
    noUnusedParameters: false,
  };
  writeFileSync(tsconfig, `${JSON.stringify(config, null, 2)}\n`);
  return stubs;
}

/** The commit a lab branch started from, from its start commit. */
export function labBase(root: string, step: Step): string {
  const body = git(root, [
    'log',
    '-1',
    '--format=%B',
    `--grep=^lab: start ${step.name}$`,
  ]);
  const base = body
    .split('\n')
    .find((l) => l.startsWith(BASE_TRAILER))
    ?.slice(BASE_TRAILER.length)
    .trim();
  if (!base) {
    throw new Error(
      `no "lab: start ${step.name}" commit on this branch: run npm run lab -- start ${step.name} first`,
    );
  }
  return base;
}

function run(root: string, command: string, args: string[]): number {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

function start(root: string, step: Step, force: boolean): number {
  if (git(root, ['status', '--porcelain', '--untracked-files=no']) !== '') {
    throw new Error('the working tree has changes: commit or stash them first');
  }
  const branch = `lab/${step.name}`;
  const base = git(root, ['rev-parse', 'HEAD']);
  git(root, ['switch', force ? '-C' : '-c', branch]);
  const stubs = applyStubs(root, step);
  git(root, ['add', '-A', `packages/${step.name}`]);
  git(root, [
    'commit',
    '-q',
    '-m',
    `lab: start ${step.name}\n\nThe teaching functions of step ${step.number} are stubs.\n\n${BASE_TRAILER} ${base}`,
  ]);
  process.stdout.write(
    `On branch ${branch}, these functions are yours to write:\n`,
  );
  for (const s of stubs) {
    process.stdout.write(
      `  ${s.file}: ${s.name}  (${s.message.replace(/^not implemented — /, '')})\n`,
    );
  }
  process.stdout.write('Building the runtime with the stubs in place…\n');
  const code = run(root, 'npm', ['run', 'build', '--silent']);
  process.stdout.write(
    code === 0
      ? `It builds. Run \`npm run lab -- check ${step.name}\` to see which behaviours work.\n`
      : 'The build failed: the stubs broke the types, which is a bug of the lab tooling.\n',
  );
  return code;
}

/** A behaviour's result in `lab check`. */
export interface Behaviour {
  /** the test file, relative to the root */
  file: string;
  /** the behaviour, in the test's (and the lesson's) words */
  title: string;
  passed: boolean;
}

/** The jest name pattern: this step's runtime and the runtime-free tests. */
export function testNamePattern(step: Step): string {
  return `^(?!step (?!${step.name} )[a-z0-9-]+ runtime )`;
}

/** Run the step's black-box tests and collect each behaviour's result. */
export function runChecks(
  root: string,
  steps: readonly Step[],
  step: Step,
): Behaviour[] {
  const files = steps
    .filter((s) => s.number <= step.number)
    .map((s) => `test/integration/${s.name}.test.ts`)
    .filter((f) => existsSync(path.join(root, f)));
  if (files.length === 0) {
    throw new Error(
      `no black-box tests for step ${step.name} under test/integration`,
    );
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tincan-lab-'));
  const out = path.join(tmp, 'results.json');
  try {
    spawnSync(
      'npx',
      [
        'jest',
        '--selectProjects',
        'integration',
        '--runInBand',
        '--silent',
        '--json',
        '--outputFile',
        out,
        '--testNamePattern',
        testNamePattern(step),
        '--',
        ...files,
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    if (!existsSync(out)) throw new Error('jest wrote no results');
    const results = JSON.parse(readFileSync(out, 'utf8')) as {
      testResults: {
        name: string;
        message?: string;
        assertionResults: {
          title: string;
          ancestorTitles: string[];
          status: string;
        }[];
      }[];
    };
    return results.testResults.flatMap((r) => {
      const file = path.relative(root, r.name);
      if (r.assertionResults.length === 0) {
        return [
          {
            file,
            title: `the test file runs (${r.message?.split('\n')[0] ?? 'failed'})`,
            passed: false,
          },
        ];
      }
      return r.assertionResults
        .filter((a) => a.status === 'passed' || a.status === 'failed')
        .map((a) => ({
          file,
          title: [
            ...a.ancestorTitles.filter((t) => !/^step \S+ runtime$/.test(t)),
            a.title,
          ].join(': '),
          passed: a.status === 'passed',
        }));
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function check(root: string, steps: readonly Step[], step: Step): number {
  process.stdout.write(`Building…\n`);
  if (run(root, 'npm', ['run', 'build', '--silent']) !== 0) {
    process.stdout.write(
      'the build failed: fix the type errors above first\n0 passed, 1 failed\n',
    );
    return 1;
  }
  const behaviours = runChecks(root, steps, step);
  let file = '';
  for (const b of behaviours) {
    if (b.file !== file) {
      file = b.file;
      process.stdout.write(`\n${file}\n`);
    }
    process.stdout.write(`  ${b.passed ? 'pass' : 'FAIL'}  ${b.title}\n`);
  }
  const passed = behaviours.filter((b) => b.passed).length;
  const failed = behaviours.length - passed;
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

function solution(root: string, step: Step): number {
  const base = labBase(root, step);
  git(root, [
    'checkout',
    base,
    '--',
    `packages/${step.name}/src`,
    `packages/${step.name}/tsconfig.json`,
  ]);
  process.stdout.write(
    `Restored packages/${step.name}/src and its tsconfig.json from ${base.slice(0, 12)} (staged, not committed).\n`,
  );
  return run(root, 'npm', ['run', 'build', '--silent']);
}

function main(argv: string[]): number {
  const force = argv.includes('--force');
  const [command, wanted] = argv.filter((a) => a !== '--force');
  if (
    !command ||
    !wanted ||
    !['start', 'check', 'solution'].includes(command)
  ) {
    process.stderr.write(
      'usage: npm run lab -- start|check|solution STEP [--force]\n',
    );
    return 2;
  }
  const root = git(process.cwd(), ['rev-parse', '--show-toplevel']);
  const steps = discoverSteps(root);
  const step = findStep(steps, wanted);
  if (command === 'start') return start(root, step, force);
  if (command === 'check') return check(root, steps, step);
  return solution(root, step);
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
