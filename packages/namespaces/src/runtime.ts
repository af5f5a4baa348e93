// The step-2 runtime: step 1's plus the namespaces layer.

import { extendRuntime, runtime as previous } from '@tincan/cli';
import { namespacesLayer } from './layer';

/** The step-2 runtime. */
export const runtime = extendRuntime(previous, namespacesLayer, 2);
