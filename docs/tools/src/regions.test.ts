import {
  dedent,
  DocsError,
  fillRegions,
  parseRefs,
  parseRegions,
  renderRegion,
  type Region,
} from './regions';

const source = [
  'import x from "y";',
  '',
  '// #region outer',
  'export function a(): number {',
  '  // #region inner (lab)',
  '  return 1;',
  '  // #endregion inner',
  '}',
  '// #endregion outer',
  '  // #region spare (unused, lab)',
  '  const b = 2;',
  '  // #endregion spare',
].join('\n');

describe('parseRegions', () => {
  test('finds nested regions, drops inner markers and dedents', () => {
    const regions = parseRegions('a.ts', source);
    expect(regions.map((r) => [r.name, r.start, r.end, r.tags])).toEqual([
      ['outer', 3, 9, []],
      ['inner', 5, 7, ['lab']],
      ['spare', 10, 12, ['unused', 'lab']],
    ]);
    expect(regions[0]?.text).toBe(
      'export function a(): number {\n  return 1;\n}',
    );
    expect(regions[1]?.text).toBe('return 1;');
    expect(regions[2]?.text).toBe('const b = 2;');
  });

  const bad: [string, string, RegExp][] = [
    ['never closed', '// #region a\nx', /a.ts:1: region a is never closed/],
    ['closed without opening', 'x\n// #endregion a', /a.ts:2: .*without/],
    [
      'closed in the wrong order',
      '// #region a\n// #region b\n// #endregion a\n// #endregion b',
      /a.ts:3: #endregion a closes region b/,
    ],
    [
      'defined twice',
      '// #region a\n// #endregion a\n// #region a\n// #endregion a',
      /a.ts:3: region a is defined twice/,
    ],
    ['an unknown tag', '// #region a (shiny)\n// #endregion a', /tag "shiny"/],
    ['a malformed marker', '// #region Bad Name', /malformed region marker/],
  ];
  test.each(bad)('rejects a region %s', (_what, text, message) => {
    expect(() => parseRegions('a.ts', text)).toThrow(message);
    expect(() => parseRegions('a.ts', text)).toThrow(DocsError);
  });
});

describe('parseRefs', () => {
  test('finds references with their section, ignoring fenced code', () => {
    const md = [
      '# Lesson',
      '## The native stage',
      '<!-- region: packages/cli/src/a.ts#outer -->',
      '```md',
      '<!-- region: not/a.ts#reference -->',
      '```',
      '### Next',
      '  <!-- region: packages/cli/src/a.ts#inner -->  ',
    ].join('\n');
    expect(parseRefs('l.md', md)).toEqual([
      {
        doc: 'l.md',
        line: 3,
        file: 'packages/cli/src/a.ts',
        name: 'outer',
        section: 'The native stage',
      },
      {
        doc: 'l.md',
        line: 8,
        file: 'packages/cli/src/a.ts',
        name: 'inner',
        section: 'Next',
      },
    ]);
  });

  test('ignores a reference quoted in inline code', () => {
    expect(parseRefs('l.md', 'write `<!-- region: a.ts#x -->` to')).toEqual([]);
  });

  test('rejects a reference that is not alone on its line', () => {
    expect(() => parseRefs('l.md', 'see <!-- region: a.ts#x --> here')).toThrow(
      /l.md:1: malformed region reference/,
    );
    expect(() => parseRefs('l.md', '<!-- region a.ts#x -->')).toThrow(
      /malformed/,
    );
  });
});

describe('fillRegions', () => {
  const lookup = (file: string): Region[] | undefined =>
    file === 'a.ts' ? parseRegions('a.ts', source) : undefined;

  test('replaces a reference with a fenced block of the code', () => {
    const out = fillRegions(
      'l.md',
      'Before\n<!-- region: a.ts#inner -->\nAfter',
      lookup,
    );
    expect(out).toBe(
      'Before\n```ts\n// a.ts#inner (lines 6-6)\nreturn 1;\n```\nAfter',
    );
  });

  test('fails on a file that does not exist', () => {
    expect(() =>
      fillRegions('l.md', 'x\n<!-- region: b.ts#inner -->', lookup),
    ).toThrow('l.md:2: region b.ts#inner: no such file');
  });

  test('fails on a region that does not exist, naming those that do', () => {
    expect(() =>
      fillRegions('l.md', '<!-- region: a.ts#gone -->', lookup),
    ).toThrow(
      'l.md:1: region a.ts#gone: no such region (the file has: outer, inner, spare)',
    );
  });
});

test('dedent keeps relative indentation and ignores blank lines', () => {
  expect(dedent(['    a', '', '      b'])).toEqual(['a', '', '  b']);
});

test('renderRegion labels non-TypeScript files as text', () => {
  const region = parseRegions('x.sh', '// #region r\necho\n// #endregion r')[0];
  expect(region && renderRegion(region)).toMatch(/^```text\n/);
});
