#!/usr/bin/env node
'use strict';
// The `tincan` command. The work is in @tincan/cli's main(), run from the
// bundle `npm run build` makes while it matches dist/ (see src/bundle.ts),
// else from dist/ itself. TINCAN_NO_BUNDLE=1 always runs dist/, for example
// to read stack traces against the compiled modules.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');

function loadMain() {
  if (!process.env.TINCAN_NO_BUNDLE) {
    const { bundleStaleness, loadBundle } = require(
      path.join(dist, 'bundle.js'),
    );
    const bundle = path.join(dist, 'tincan.bundle.js');
    if (bundleStaleness(bundle) === undefined) return loadBundle(bundle);
  }
  return require(path.join(dist, 'main.js'));
}

loadMain()
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
