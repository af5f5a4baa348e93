// @tincan/mounts: step 3 of the tutorial. The container gets its own root
// filesystem: pivot_root, /proc, /sys and /dev, bind mounts, masked paths,
// and a default root that needs no setup.

export * from './etc';
export * from './layer';
export * from './mount';
export * from './mount-plan';
export * from './openat2';
export * from './pivot-root';
export * from './resolve';
export * from './rootfs';
export * from './runtime';
