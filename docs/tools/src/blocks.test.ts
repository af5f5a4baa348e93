import {
  codeBlocks,
  isRunnable,
  isTypeScript,
  outputMatches,
  parseSession,
} from './blocks';

const md = [
  'Text',
  '```ts',
  'const a = 1;',
  '```',
  '',
  '```sh runnable',
  '$ tincan run -- echo hi',
  'hi',
  '$ echo a \\',
  '  b',
  'a b',
  '$ echo "x',
  '> y"',
  'x',
  'y',
  '',
  '```',
  '````md',
  '```ts',
  'inside',
  '```',
  '````',
].join('\n');

test('codeBlocks finds blocks with language, flags and first line', () => {
  const blocks = codeBlocks('l.md', md);
  expect(blocks.map((b) => [b.lang, b.flags, b.line])).toEqual([
    ['ts', [], 3],
    ['sh', ['runnable'], 7],
    ['md', [], 19],
  ]);
  expect(blocks[2]?.code).toBe('```ts\ninside\n```');
  expect(blocks.filter(isTypeScript)).toHaveLength(1);
  expect(blocks.filter(isRunnable)).toHaveLength(1);
});

test('parseSession splits commands and output, joining continuations', () => {
  const block = codeBlocks('l.md', md)[1];
  expect(block && parseSession(block)).toEqual([
    { command: 'tincan run -- echo hi', expected: ['hi'], line: 7 },
    { command: 'echo a \\\n  b', expected: ['a b'], line: 9 },
    { command: 'echo "x\ny"', expected: ['x', 'y'], line: 12 },
  ]);
});

test('parseSession rejects output before any command', () => {
  expect(() =>
    parseSession({ doc: 'l.md', line: 5, lang: 'sh', flags: [], code: 'x' }),
  ).toThrow('l.md:5: output before the first "$ " command');
});

describe('outputMatches', () => {
  test('exact lines, trailing spaces ignored', () => {
    expect(outputMatches(['a', 'b'], 'a  \nb\n')).toBe(true);
    expect(outputMatches(['a', 'b'], 'a\nc\n')).toBe(false);
    expect(outputMatches(['a'], 'a\nb\n')).toBe(false);
    expect(outputMatches([], '')).toBe(true);
    expect(outputMatches([], 'x')).toBe(false);
  });

  test('... matches any number of lines', () => {
    expect(outputMatches(['a', '...', 'z'], 'a\nz\n')).toBe(true);
    expect(outputMatches(['a', '...', 'z'], 'a\nb\nc\nz\n')).toBe(true);
    expect(outputMatches(['...'], '')).toBe(true);
    expect(outputMatches(['a', '...', 'z'], 'a\nb\n')).toBe(false);
  });
});
