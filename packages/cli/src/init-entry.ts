// The init's entry point: the first JavaScript that runs inside the
// container's namespaces. The native stage execs `node init-entry.js FD`,
// or `node init-entry.js FD --bundle` when the parent found the init bundle
// fresh (see bundle.ts). Keep this module's imports small: every
// millisecond here is paid on every container start.

import { performance } from 'node:perf_hooks';
import { INIT_BUNDLE_FLAG, initBundleFile } from './init-files';
import { loadBundle } from './bundle';

type InitModule = typeof import('./init');

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const entered = performance.now();
const cpuEntered = cpuMs();

const fd = Number(process.argv[2]);
let bundled = process.argv[3] === INIT_BUNDLE_FLAG;
let init: InitModule;
try {
  init = bundled
    ? (loadBundle(initBundleFile()) as InitModule)
    : (require('./init') as InitModule);
} catch (err) {
  // A bundle the parent found fresh but that does not load (replaced
  // between its check and now): the modules in dist/ are the truth.
  if (!bundled) throw err;
  bundled = false;
  init = require('./init') as InitModule;
}

init.runInit(fd, {
  entered: performance.timeOrigin + entered,
  cpuEntered,
  loaded: performance.timeOrigin + performance.now(),
  cpuLoaded: cpuMs(),
  from: bundled ? 'init.bundle.js' : 'its modules in dist/',
});
