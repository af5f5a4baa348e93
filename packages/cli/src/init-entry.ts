// The init's entry point: the first JavaScript that runs inside the
// container's namespaces. The native stage execs `node init-entry.js FD`,
// or `node init-entry.js FD --bundle` when the parent found the init bundle
// fresh (see bundle.ts). Keep this module's imports small: every
// millisecond here is paid on every container start.

import { INIT_BUNDLE_FLAG, initBundleFile } from './init-files';
import { loadBundle } from './bundle';

type InitModule = typeof import('./init');

const fd = Number(process.argv[2]);
const init =
  process.argv[3] === INIT_BUNDLE_FLAG
    ? (loadBundle(initBundleFile()) as InitModule)
    : (require('./init') as InitModule);
init.runInit(fd);
