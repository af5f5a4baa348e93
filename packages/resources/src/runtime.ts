// The step-6 runtime: every earlier step plus cgroups and rlimits. This is
// the full product, the default for `tincan run`.

import { extendRuntime, type Runtime } from '@tincan/cli';
import { runtime as previous } from '@tincan/seccomp';
import { resourcesLayer } from './layer';

/** The step-6 runtime. */
export const runtime: Runtime = extendRuntime(previous, resourcesLayer, 6);
