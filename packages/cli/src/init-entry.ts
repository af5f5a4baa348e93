// The init's entry point: the first JavaScript that runs inside the
// container's namespaces. The native stage execs `node init-entry.js FD`.
// Keep this module's imports small: every millisecond here is paid on
// every container start.

import { runInit } from './init';

runInit(Number(process.argv[2]));
