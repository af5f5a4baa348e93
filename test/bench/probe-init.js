// @ts-check
// The init entry of the benchmark's phase runs (see probe-parent.js). It
// sends three extra debug lines before the config arrives: Node's own
// start (performance.timeOrigin), this script's start, and the init's
// modules loaded (koffi on its own, then the rest).

'use strict';

const { writeSync } = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const now = () => performance.timeOrigin + performance.now();
const entered = now();
const fd = Number(process.argv[2]);
const dist = path.resolve(__dirname, '../../packages/cli/dist');

const k0 = now();
require(require.resolve('koffi', { paths: [dist] }));
const k1 = now();
const init = require(path.join(dist, 'init.js'));
const loaded = now();

/** @param {number} time @param {string} text */
function line(time, text) {
  const record = { tag: 'init', time, text };
  writeSync(
    fd,
    Buffer.from(JSON.stringify({ type: 'log', record, level: 'debug' })),
  );
}
line(performance.timeOrigin, 'probe: node process started');
line(entered, 'probe: init entry script runs');
line(k1, `probe: koffi loaded (${(k1 - k0).toFixed(1)} ms)`);
line(loaded, `probe: init modules loaded (${(loaded - k1).toFixed(1)} ms)`);

init.runInit(fd);
