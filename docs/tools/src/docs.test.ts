// The repository's own documents: every region they include exists, every
// region of the code is shown (or tagged unused), and every TypeScript
// block type-checks against the built packages. `npm test` runs this after
// the build, so a moved region fails the suite.

import { checkRegions, loadDocs, renderDocs } from './repo';
import { typecheckDocs } from './typecheck';

test('every lesson renders with all its regions', () => {
  expect(() => renderDocs()).not.toThrow();
});

test('regions and lessons agree both ways', () => {
  expect(checkRegions().errors).toEqual([]);
});

test('every TypeScript block in a lesson type-checks', () => {
  expect(typecheckDocs(loadDocs())).toEqual([]);
});
