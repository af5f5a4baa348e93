// @tincan/seccomp: step 5 of the tutorial. A policy compiler to classic
// BPF, an interpreter to test it, Docker profiles, and the layer that
// loads the filter as the init's last act before execve.

export * from './assemble';
export * from './bpf';
export * from './compile';
export * from './default-policy';
export * from './dump';
export * from './interpret';
export * from './policy';
export * from './syscalls';
export * from './config';
export * from './layer';
export * from './profile';
export * from './runtime';
export * from './seccomp';
