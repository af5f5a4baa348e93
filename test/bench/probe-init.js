// @ts-check
// The init entry of the benchmark's phase runs (see probe-parent.js). It
// sends extra debug lines before the config arrives: Node's own start
// (performance.timeOrigin), this script's start, koffi loaded, the cli's
// init modules loaded, and every step's init module loaded. Loading the
// step modules here, before runInit asks for them, moves their cost out of
// the phases so that "config -> execve" is the setup work alone; the total
// is unchanged. Each line also carries the process's CPU time so far.

'use strict';

const { existsSync, writeSync } = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const now = () => performance.timeOrigin + performance.now();
const cpu = () => {
  const u = process.cpuUsage();
  return ((u.user + u.system) / 1000).toFixed(1);
};
const entered = now();
const cpuEntered = cpu();
const fd = Number(process.argv[2]);
const packages = path.resolve(__dirname, '../../packages');
const dist = path.join(packages, 'cli/dist');

const k0 = now();
require(require.resolve('koffi', { paths: [dist] }));
const k1 = now();
const cpuKoffi = cpu();
const init = require(path.join(dist, 'init.js'));
const loaded = now();
const cpuLoaded = cpu();
const steps = ['namespaces', 'mounts', 'capabilities', 'seccomp', 'resources']
  .map((s) => path.join(packages, s, 'dist/init.js'))
  .filter((f) => existsSync(f));
for (const file of steps) require(file);
const stepsLoaded = now();
const cpuSteps = cpu();

/** @param {number} time @param {string} text */
function line(time, text) {
  const record = { tag: 'init', time, text };
  const message = { type: 'log', record, level: 'debug' };
  writeSync(fd, Buffer.from(JSON.stringify(message)));
}
line(performance.timeOrigin, 'probe: node process started');
line(entered, `probe: init entry script runs (cpu ${cpuEntered} ms)`);
line(
  k1,
  `probe: koffi loaded (${(k1 - k0).toFixed(1)} ms, cpu ${cpuKoffi} ms)`,
);
line(
  loaded,
  `probe: cli init modules loaded (${(loaded - k1).toFixed(1)} ms, cpu ${cpuLoaded} ms)`,
);
line(
  stepsLoaded,
  `probe: ${steps.length} step init modules loaded (${(stepsLoaded - loaded).toFixed(1)} ms, cpu ${cpuSteps} ms)`,
);

init.runInit(fd);
