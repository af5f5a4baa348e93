// @ts-check
// Run in a fresh Node by phases.js: load the modules one side of tincan
// loads, in its order, and print the CPU time each one added (JSON). CPU
// time, not wall time: a busy machine hardly changes it. `parent` loads
// what `tincan run` loads before it clones; `init` what the init loads.

'use strict';

const { existsSync } = require('node:fs');
const path = require('node:path');

const side = process.argv[2] === 'init' ? 'init' : 'parent';
const packages = path.resolve(__dirname, '../../packages');
const cliDist = path.join(packages, 'cli/dist');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** @type {[string, string][]} */
const plan = [
  ['koffi', require.resolve('koffi', { paths: [cliDist] })],
  side === 'init'
    ? ['cli init.js', path.join(cliDist, 'init.js')]
    : ['cli main.js', path.join(cliDist, 'main.js')],
];
for (const step of [
  'namespaces',
  'mounts',
  'capabilities',
  'seccomp',
  'resources',
]) {
  const file = path.join(
    packages,
    step,
    'dist',
    side === 'init' ? 'init.js' : 'index.js',
  );
  if (existsSync(file)) plan.push([`${step} ${path.basename(file)}`, file]);
}
if (side === 'parent') {
  plan.push(['commander', require.resolve('commander', { paths: [cliDist] })]);
}

/** @type {Record<string, number>} */
const out = {};
for (const [name, file] of plan) {
  const before = cpu();
  require(file);
  out[name] = cpu() - before;
}
process.stdout.write(JSON.stringify(out));
