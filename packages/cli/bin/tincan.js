#!/usr/bin/env node
'use strict';
// The `tincan` command. The work is in @tincan/cli's main().
require('../dist/main.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
