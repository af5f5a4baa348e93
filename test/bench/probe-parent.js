// @ts-check
// Preloaded (`node -r`) into tincan by the benchmark's phase runs only:
// points the native stage at probe-init.js, which records when the init's
// Node process started and how long its modules took to load, then runs
// the real init. tincan's own code is unchanged.

'use strict';

const path = require('node:path');
const { ROOT } = require('./lib');

const container = require(path.join(ROOT, 'packages/cli/dist/container.js'));
container.INIT_ENTRY = path.join(__dirname, 'probe-init.js');
