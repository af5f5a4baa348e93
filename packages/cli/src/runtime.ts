// Step 1's layer and runtime: a plain process, started through the native
// stage and a fresh init, with no isolation at all yet.

import { extendRuntime, type Layer, type Runtime } from './layer';

/** Step 1's layer: the command line itself adds no kernel state. */
export const cliLayer: Layer = {
  name: 'cli',
};

/** The step-1 runtime. */
export const runtime: Runtime = extendRuntime(undefined, cliLayer, 1);
