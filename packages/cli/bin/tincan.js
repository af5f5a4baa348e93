#!/usr/bin/env node
'use strict';
// The `tincan` command. The work is in @tincan/cli's main(), run from the
// bundle `npm run build` makes while it matches dist/ (see src/bundle.ts),
// else from dist/ itself. TINCAN_NO_BUNDLE=1 always runs dist/, for example
// to read stack traces against the compiled modules.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');

function loadMain() {
  const { bundleStaleness, loadBundle, setParentUnbundled } = require(
    path.join(dist, 'bundle.js'),
  );
  const bundle = path.join(dist, 'tincan.bundle.js');
  let why = process.env.TINCAN_NO_BUNDLE
    ? 'TINCAN_NO_BUNDLE is set'
    : bundleStaleness(bundle);
  if (why === undefined) {
    try {
      return loadBundle(bundle);
    } catch (err) {
      // it changed since the check: run dist/, the truth
      why = `${bundle} does not load: ${err instanceof Error ? err.message : err}`;
    }
  }
  // --debug says why (dist/'s main.js shares this bundle.js module)
  setParentUnbundled(why);
  return require(path.join(dist, 'main.js'));
}

loadMain()
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
