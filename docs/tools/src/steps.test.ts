import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeStepBranches } from './steps-branches';
import {
  discoverSteps,
  findStep,
  testOwner,
  trimLockfile,
  trimReadme,
} from './steps';

let root: string;

function write(file: string, text: string): void {
  const full = path.join(root, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
}

function pkg(name: string, dep?: string): void {
  write(
    `packages/${name}/package.json`,
    JSON.stringify({
      name: `@tincan/${name}`,
      dependencies: dep ? { [`@tincan/${dep}`]: '0.1.0' } : {},
    }),
  );
  write(`packages/${name}/src/index.ts`, `export const ${name} = 1;\n`);
  write(`test/integration/${name}.test.ts`, `// ${name}\n`);
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tincan-steps-test-'));
  // Deliberately out of alphabetical order: the dependencies decide.
  pkg('cli');
  pkg('zeta', 'cli');
  pkg('alpha', 'zeta');
  write(
    'test/integration/extra.test.ts',
    "describe.each(stepsFrom('zeta'))('%s', () => {});\n",
  );
  write('steps/01-cli/README.md', '# cli\n');
  write('steps/02-zeta/README.md', '# zeta\n');
  write('steps/03-alpha/README.md', '# alpha\n');
  write(
    'README.md',
    '# x\n<!-- step:zeta -->\nzeta line\n<!-- /step:zeta -->\nend\n',
  );
  write(
    'package-lock.json',
    `${JSON.stringify(
      {
        packages: {
          '': {},
          'packages/cli': {},
          'packages/zeta': {},
          'node_modules/@tincan/zeta': { link: true },
          'packages/alpha': {},
          'node_modules/@tincan/alpha': { link: true },
        },
      },
      null,
      2,
    )}\n`,
  );
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  execFileSync('git', ['commit', '-q', '-m', 'all steps'], {
    cwd: root,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    },
  });
  write('untracked.txt', 'mine\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

test('steps are ordered by their dependencies and found by name or number', () => {
  const steps = discoverSteps(root);
  expect(steps.map((s) => [s.number, s.name, s.lesson])).toEqual([
    [1, 'cli', 'steps/01-cli'],
    [2, 'zeta', 'steps/02-zeta'],
    [3, 'alpha', 'steps/03-alpha'],
  ]);
  expect(findStep(steps, '2').name).toBe('zeta');
  expect(findStep(steps, 'alpha').number).toBe(3);
  expect(() => findStep(steps, 'nope')).toThrow(
    'nope: unknown step; known steps: 1/cli, 2/zeta, 3/alpha',
  );
});

test('a test belongs to the step it is named after or first runs from', () => {
  const steps = discoverSteps(root);
  const owner = (file: string, text: string): string | undefined =>
    testOwner(file, text, steps)?.name;
  expect(owner('test/integration/zeta.test.ts', '')).toBe('zeta');
  expect(
    owner(
      'test/integration/rootless.test.ts',
      "describe.each(stepsFrom('alpha'))('x', () => {});\nstepsFrom('zeta')",
    ),
  ).toBe('zeta');
  expect(owner('test/integration/lessons.test.ts', 'no steps')).toBeUndefined();
});

test('a step numbers itself after its lesson, even with a gap', () => {
  rmSync(path.join(root, 'steps/02-zeta'), { recursive: true });
  rmSync(path.join(root, 'steps/03-alpha'), { recursive: true });
  write('steps/04-alpha/README.md', '# alpha\n');
  expect(discoverSteps(root).map((s) => [s.number, s.name])).toEqual([
    [1, 'cli'],
    [2, 'zeta'],
    [4, 'alpha'],
  ]);
});

test('trimReadme and trimLockfile drop the later steps only', () => {
  const [, zeta] = discoverSteps(root);
  expect(
    trimReadme('a\n<!-- step:zeta -->\nz\n<!-- /step:zeta -->\nb', [zeta]),
  ).toBe('a\nb');
  const lock = JSON.parse(
    trimLockfile(readFileSync(path.join(root, 'package-lock.json'), 'utf8'), [
      zeta,
    ]),
  ) as { packages: Record<string, unknown> };
  expect(Object.keys(lock.packages)).toEqual([
    '',
    'packages/cli',
    'packages/alpha',
    'node_modules/@tincan/alpha',
  ]);
});

test('step branches hold each step and nothing after it', () => {
  const head = git('rev-parse', 'HEAD');
  const status = git('status', '--porcelain');
  const made = makeStepBranches(root);
  expect(made.map((b) => b.branch)).toEqual([
    'step/1-cli',
    'step/2-zeta',
    'step/3-alpha',
  ]);

  const files = (ref: string): string[] =>
    git('ls-tree', '-r', '--name-only', ref).split('\n');
  expect(files('step/1-cli')).toEqual([
    'README.md',
    'package-lock.json',
    'packages/cli/package.json',
    'packages/cli/src/index.ts',
    'steps/01-cli/README.md',
    'test/integration/cli.test.ts',
  ]);
  expect(files('step/2-zeta')).toContain('test/integration/extra.test.ts');
  expect(git('show', 'step/1-cli:README.md')).toBe('# x\nend');
  expect(git('show', 'step/2-zeta:README.md')).toContain('zeta line');
  // The last step is the source commit's tree, and the history is a line.
  expect(git('rev-parse', 'step/3-alpha^{tree}')).toBe(
    git('rev-parse', 'HEAD^{tree}'),
  );
  expect(git('rev-parse', 'step/3-alpha^')).toBe(
    git('rev-parse', 'step/2-zeta'),
  );
  expect(
    git('diff', '--name-only', 'step/1-cli', 'step/2-zeta').split('\n'),
  ).toEqual([
    'README.md',
    'package-lock.json',
    'packages/zeta/package.json',
    'packages/zeta/src/index.ts',
    'steps/02-zeta/README.md',
    'test/integration/extra.test.ts',
    'test/integration/zeta.test.ts',
  ]);

  // Nothing of the checkout changed.
  expect(git('rev-parse', 'HEAD')).toBe(head);
  expect(git('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
  expect(git('status', '--porcelain')).toBe(status);

  // Existing branches are kept unless forced; the same commit gives the
  // same branches.
  expect(() => makeStepBranches(root)).toThrow(
    'branches exist already: step/1-cli, step/2-zeta, step/3-alpha (use --force to replace them)',
  );
  expect(makeStepBranches(root, { force: true })).toEqual(made);
});
