import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeBlocks } from './blocks';
import { checkRegions, REPO_ROOT, renderDocs, stepPackages } from './repo';
import { typecheckBlocks } from './typecheck';

let root: string;

function write(file: string, text: string): void {
  const full = path.join(root, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tincan-docs-test-'));
  copyFileSync(
    path.join(REPO_ROOT, 'tsconfig.base.json'),
    path.join(root, 'tsconfig.base.json'),
  );
  write('packages/demo/package.json', '{"name": "@tincan/demo"}');
  write(
    'packages/demo/src/index.ts',
    [
      '// #region shown',
      'export const a = 1;',
      '// #endregion shown',
      '// #region spare (unused)',
      'export const b = 2;',
      '// #endregion spare',
    ].join('\n'),
  );
  write('docs/overview.md', '# Overview\n');
  write(
    'steps/01-demo/README.md',
    '# Demo\n\n<!-- region: packages/demo/src/index.ts#shown -->\n',
  );
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

test('discovers packages, and renders lessons with their regions', () => {
  expect(stepPackages(root)).toEqual([
    { dir: 'demo', name: '@tincan/demo', entry: 'packages/demo/src/index.ts' },
  ]);
  const docs = renderDocs(root);
  expect(docs.map((d) => d.file)).toEqual([
    'docs/overview.md',
    'steps/01-demo/README.md',
  ]);
  expect(docs[1]?.rendered).toContain('export const a = 1;');
  expect(checkRegions(root).errors).toEqual([]);
});

test('a region no lesson shows, untagged, is an error', () => {
  write(
    'packages/demo/src/extra.ts',
    '// #region forgotten\nexport {};\n// #endregion forgotten\n',
  );
  expect(checkRegions(root).errors).toEqual([
    expect.stringMatching(
      /^packages\/demo\/src\/extra.ts:1: region forgotten is shown by no lesson/,
    ),
  ]);
});

test('a region tagged unused that a lesson shows is an error', () => {
  write(
    'docs/glossary.md',
    '<!-- region: packages/demo/src/index.ts#spare -->\n',
  );
  expect(checkRegions(root).errors).toEqual([
    expect.stringMatching(
      /region spare is tagged unused but docs\/glossary.md:1/,
    ),
  ]);
});

test('a missing region or file fails the render and the check', () => {
  write(
    'steps/02-more/README.md',
    'x\n<!-- region: packages/demo/src/moved.ts#shown -->\n',
  );
  expect(() => renderDocs(root)).toThrow(
    'steps/02-more/README.md:2: region packages/demo/src/moved.ts#shown: no such file',
  );
  expect(checkRegions(root).errors).toHaveLength(1);
});

test('a TypeScript block with a type error is reported at its line', () => {
  const md =
    '# X\n\n```ts\nconst ok: number = 1;\nconst bad: string = ok;\n```\n';
  const diagnostics = typecheckBlocks(
    codeBlocks('steps/01-demo/README.md', md),
    root,
  );
  expect(diagnostics).toEqual([
    {
      where: 'steps/01-demo/README.md:5',
      message: "Type 'number' is not assignable to type 'string'.",
    },
  ]);
});

test('blocks are modules of their own: the same name twice is fine', () => {
  const md =
    '```ts\nconst a = 1;\nvoid a;\n```\n\n```ts\nconst a = 2;\nvoid a;\n```\n';
  expect(typecheckBlocks(codeBlocks('l.md', md), root)).toEqual([]);
});
