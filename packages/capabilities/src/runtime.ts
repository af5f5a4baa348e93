// Step 4's runtime: the previous step's runtime plus the capabilities
// layer.

import { extendRuntime, runtime as previous, type Runtime } from '@tincan/cli'; // MERGE: extend @tincan/namespaces once it lands
import { capabilitiesLayer } from './layer';

/** The step-4 runtime. */
export const runtime: Runtime = extendRuntime(previous, capabilitiesLayer, 4);
