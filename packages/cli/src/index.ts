// @tincan/cli: step 1 of the tutorial. The command line, the libc
// boundary, the native stage, the init, and the layer model every later
// step builds on.

export * from './check';
export * from './check-container';
export * from './config';
export * from './container';
export * from './errors';
export * from './exec';
export * from './bundle';
export * from './hints';
export * from './init-files';
export * from './koffi';
export * from './lazy';
export * from './layer';
export * from './libc';
export * from './log';
export * from './main';
export * from './native-stage';
export * from './protocol';
export * from './runtime';
export * from './steps';
