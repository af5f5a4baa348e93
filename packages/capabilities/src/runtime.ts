// Step 4's runtime: the previous step's runtime plus the capabilities
// layer.

import { extendRuntime, type Runtime } from '@tincan/cli';
import { runtime as previous } from '@tincan/mounts';
import { capabilitiesLayer } from './layer';

/** The step-4 runtime. */
export const runtime: Runtime = extendRuntime(previous, capabilitiesLayer, 4);
