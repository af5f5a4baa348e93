// The step-3 runtime: step 2's plus the mounts layer.

import { extendRuntime } from '@tincan/cli';
import { runtime as previous } from '@tincan/namespaces';
import { mountsLayer } from './layer';

/** The step-3 runtime. */
export const runtime = extendRuntime(previous, mountsLayer, 3);
