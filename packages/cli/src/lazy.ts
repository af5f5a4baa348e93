// Node modules that only some commands need, loaded when first used. Every
// module a container start loads costs CPU in both of its Node processes,
// so the ones that only a rarer path uses wait until that path runs.

/**
 * node:child_process, which loads node:net and the stream machinery with it
 * (about 4 ms of CPU). Only commands that spawn a program need it: `tincan
 * check --container`, building a root filesystem, newuidmap in rootless
 * mode.
 */
export function childProcess(): typeof import('node:child_process') {
  return require('node:child_process') as typeof import('node:child_process');
}
