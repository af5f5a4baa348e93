// @tincan/capabilities: step 4 of the tutorial. Docker's default
// capability set as an allowlist, nothing inheritable or ambient, and
// no_new_privs, on top of the previous steps.

export * from './capability';
export * from './capset';
export * from './config';
export * from './init';
export * from './layer';
export * from './prctl';
export * from './runtime';
