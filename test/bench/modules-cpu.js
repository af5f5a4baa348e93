// @ts-check
// Run in a fresh Node by phases.js: load the code one side of tincan loads,
// in its order, and print the CPU time each group added (JSON). CPU time,
// not wall time: a busy machine hardly changes it. `parent` is what
// `tincan run` loads before it clones, `init` what the init loads; `bundle`
// loads them as tincan does after `npm run build` (the bundles and their
// code caches), `dist` as with TINCAN_NO_BUNDLE=1 (the modules one by one).

'use strict';

const { existsSync } = require('node:fs');
const path = require('node:path');

const side = process.argv[2] === 'init' ? 'init' : 'parent';
const mode = process.argv[3] === 'dist' ? 'dist' : 'bundle';
const packages = path.resolve(__dirname, '../../packages');
const cliDist = path.join(packages, 'cli/dist');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** @type {[string, () => unknown][]} */
const plan = [];
if (mode === 'bundle') {
  const bundle = path.join(
    cliDist,
    `${side === 'init' ? 'init' : 'tincan'}.bundle.js`,
  );
  /** @type {{ loadAll(): void }} */
  let exports = { loadAll() {} };
  plan.push([
    'bundle.js (the loader)',
    () => require(path.join(cliDist, 'bundle.js')),
  ]);
  plan.push([
    `${path.basename(bundle)} (code cache)`,
    () => {
      const { loadBundle } = require(path.join(cliDist, 'bundle.js'));
      exports = loadBundle(bundle);
    },
  ]);
  plan.push([
    side === 'init' ? "every step's init module" : 'every step, commander',
    () => exports.loadAll(),
  ]);
} else {
  plan.push(['koffi', () => require(path.join(cliDist, 'koffi.js'))]);
  plan.push(
    side === 'init'
      ? ['cli init.js', () => require(path.join(cliDist, 'init.js'))]
      : ['cli main.js', () => require(path.join(cliDist, 'main.js'))],
  );
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
    if (existsSync(file))
      plan.push([`${step} ${path.basename(file)}`, () => require(file)]);
  }
  if (side === 'parent') {
    const commander = require.resolve('commander', { paths: [cliDist] });
    plan.push(['commander', () => require(commander)]);
  }
}

/** @type {Record<string, number>} */
const out = {};
for (const [name, load] of plan) {
  const before = cpu();
  load();
  out[name] = cpu() - before;
}
process.stdout.write(JSON.stringify(out));
