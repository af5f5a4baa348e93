// The lessons' "try it" sessions, run for real: every ```sh runnable block
// of every lesson and guide, each `$ ` command run by bash from the
// repository root with `tincan` on PATH, stderr merged into stdout, and
// the output compared line by line (`...` stands for any lines).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  codeBlocks,
  isRunnable,
  outputMatches,
  parseSession,
  type Expectation,
} from '../../docs/tools/src/blocks';
import { loadDocs } from '../../docs/tools/src/repo';
import { requireRoot, ROOT } from '../helpers/tincan';

beforeAll(requireRoot);

const sessions: [string, Expectation][] = loadDocs().flatMap((doc) =>
  codeBlocks(doc.file, doc.markdown)
    .filter(isRunnable)
    .flatMap(parseSession)
    .map((e): [string, Expectation] => [`${doc.file}:${e.line}`, e]),
);

test('the lessons have runnable sessions', () => {
  expect(sessions.length).toBeGreaterThan(0);
});

test.each(sessions)('%s', (_where, { command, expected }) => {
  const run = spawnSync('bash', ['-c', `exec 2>&1\n${command}`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      TERM: 'dumb',
    },
  });
  const output = run.stdout;
  if (!outputMatches(expected, output)) {
    // Show the whole difference, not just "false".
    expect(output.replace(/\n$/, '')).toEqual(expected.join('\n'));
  }
  expect(outputMatches(expected, output)).toBe(true);
});
