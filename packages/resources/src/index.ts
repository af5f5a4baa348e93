// @tincan/resources: step 6 of the tutorial. cgroup limits on v1 and v2,
// rlimits, usage stats, and nothing left behind.

export * from './cgroup-fs';
export * from './cgroup-limits';
export * from './cgroup-mode';
export * from './cgroup-v1';
export * from './cgroup-v2';
export * from './cgroups';
export * from './gc';
export { initLayer } from './init';
export * from './layer';
export * from './layer-config';
export * from './limits';
export * from './rlimit';
export * from './runtime';
export * from './stats';
