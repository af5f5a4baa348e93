// Step 5's runtime: the previous step's runtime plus the seccomp layer.

import { extendRuntime, type Runtime } from '@tincan/cli';
import { runtime as previous } from '@tincan/capabilities';
import { seccompLayer } from './layer';

/** The step-5 runtime. */
export const runtime: Runtime = extendRuntime(previous, seccompLayer, 5);
