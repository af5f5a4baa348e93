import { parseRegions } from './regions';
import { stubFunctions, stubMessage, testNamePattern } from './lab';
import type { Step } from './steps';

const step: Step = {
  number: 5,
  name: 'seccomp',
  packageName: '@tincan/seccomp',
  lesson: 'steps/05-seccomp',
};

const source = [
  "import { helper } from './helper';",
  '',
  '// #region compile (lab)',
  '/** Compile a filter. */',
  'export function compile(rules: string[], arch = 1): number[] {',
  '  const inner = (x: number): number => x + arch;',
  '  return rules.map((r) => inner(helper(r)));',
  '}',
  '',
  'export const load = async (fd: number): Promise<void> => {',
  '  await Promise.resolve(fd);',
  '};',
  '// #endregion compile',
  '',
  'export function untouched(): number {',
  '  return 1;',
  '}',
].join('\n');

test('stubs every function inside a lab region, keeping signatures', () => {
  const regions = parseRegions('bpf.ts', source).map((region) => ({
    region,
    message: stubMessage(step, {
      doc: 'steps/05-seccomp/README.md',
      line: 1,
      file: 'packages/seccomp/src/bpf.ts',
      name: region.name,
      section: 'Compiling the filter',
    }),
  }));
  const { text, stubbed } = stubFunctions('bpf.ts', source, regions);
  const message =
    'not implemented — see steps/05-seccomp/README.md, section "Compiling the filter"';
  expect(stubbed).toEqual([
    { name: 'compile', message },
    { name: 'load', message },
  ]);
  expect(text).toBe(
    [
      "import { helper } from './helper';",
      '',
      '// #region compile (lab)',
      '/** Compile a filter. */',
      'export function compile(rules: string[], arch = 1): number[] {',
      `  throw new Error(${JSON.stringify(message)});`,
      '}',
      '',
      'export const load = async (fd: number): Promise<void> => {',
      `  throw new Error(${JSON.stringify(message)});`,
      '};',
      '// #endregion compile',
      '',
      'export function untouched(): number {',
      '  return 1;',
      '}',
    ].join('\n'),
  );
});

test('the stub message names the lesson, and the section when known', () => {
  expect(stubMessage(step, undefined)).toBe(
    'not implemented — see steps/05-seccomp/README.md',
  );
});

test("check runs this step's runtime and the runtime-free tests only", () => {
  const pattern = new RegExp(testNamePattern(step));
  expect(pattern.test('step seccomp runtime blocks keyctl')).toBe(true);
  expect(pattern.test('bad input exits 125 with one line naming it')).toBe(
    true,
  );
  expect(pattern.test('step cli runtime exits with the command status')).toBe(
    false,
  );
  expect(pattern.test('step resources runtime limits memory')).toBe(false);
});
