// @tincan/namespaces: step 2 of the tutorial. The container gets its own
// user, mount, pid, uts, ipc, net and cgroup namespaces.

export * from './clone-flags';
export * from './credentials';
export * from './hostname';
export * from './id-map';
export * from './layer';
export * from './loopback';
export * from './reachable';
export * from './rootless';
export * from './runtime';
export * from './section';
export * from './sethostname';
