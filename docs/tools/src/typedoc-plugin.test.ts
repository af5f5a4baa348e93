import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommentDisplayPart, DocumentReflection } from 'typedoc' with {
  'resolution-mode': 'import',
};
import { RegionIndex } from './repo';
import { fillParts, nameDocument } from './typedoc-plugin';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tincan-plugin-test-'));
  mkdirSync(path.join(root, 'src'));
  writeFileSync(
    path.join(root, 'src/a.ts'),
    '// #region hello\nexport const hello = 1;\n// #endregion hello\n',
  );
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

test('fillParts turns a reference line into a code part', () => {
  const errors: string[] = [];
  const parts: CommentDisplayPart[] = [
    { kind: 'text', text: 'Before\n<!-- region: src/a.ts#hello -->\nAfter' },
    { kind: 'code', text: '```ts\n<!-- region: src/a.ts#hello -->\n```' },
  ];
  const out = fillParts('l.md', parts, new RegionIndex(root), (m) =>
    errors.push(m),
  );
  expect(errors).toEqual([]);
  expect(out.map((p) => p.kind)).toEqual(['text', 'code', 'text', 'code']);
  expect(out[1]?.text).toBe(
    '```ts\n// src/a.ts#hello (lines 2-2)\nexport const hello = 1;\n```',
  );
  expect(out[3]).toBe(parts[1]);
});

test('fillParts reports a missing region and keeps the line', () => {
  const errors: string[] = [];
  const parts: CommentDisplayPart[] = [
    { kind: 'text', text: '<!-- region: src/a.ts#gone -->' },
  ];
  const out = fillParts('l.md', parts, new RegionIndex(root), (m) =>
    errors.push(m),
  );
  expect(errors).toEqual([
    'l.md: region src/a.ts#gone: no such region (the file has: hello)',
  ]);
  expect(out).toEqual(parts);
});

test('nameDocument titles from the first heading and groups by place', () => {
  const doc = {
    name: 'README',
    frontmatter: {},
    content: [{ kind: 'text', text: 'x\n# Step 3 — `mounts`\n\n## Later' }],
  } as unknown as DocumentReflection;
  nameDocument('steps/03-mounts/README.md', doc);
  expect(doc.name).toBe('Step 3 — mounts');
  expect(doc.frontmatter.group).toBe('Lessons');
  const guide = {
    name: 'glossary',
    frontmatter: { title: 'Words', group: 'Reference' },
    content: [{ kind: 'text', text: '# Glossary' }],
  } as unknown as DocumentReflection;
  nameDocument('docs/glossary.md', guide);
  expect(guide.name).toBe('glossary');
  expect(guide.frontmatter.group).toBe('Reference');
});
