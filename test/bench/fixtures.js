// @ts-check
// What the benchmark builds in a temp dir: a busybox root filesystem for
// the peers (runc, bwrap, unshare), an OCI bundle for runc, and the getpid
// loop, compiled static so it runs in any root.

'use strict';

const { spawnSync } = require('node:child_process');
const {
  copyFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { which } = require('./lib');

/** A temp dir the benchmark owns; `cleanup()` removes it. */
function workDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tincan-bench-'));
  chmodSync(dir, 0o755);
  return {
    dir,
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether the ELF file names a program interpreter (PT_INTERP), i.e. is
 * dynamically linked. 64-bit little-endian only, which is all this runs on.
 * @param {string} file
 */
function isDynamic(file) {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return true;
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  }
  return false;
}

/** The static busybox binary, if Debian's busybox-static is installed. */
function staticBusybox() {
  const file = which('busybox');
  // A dynamic busybox (Debian's `busybox` package) would need its
  // libraries in the root; only the static one is usable as is.
  if (!file || isDynamic(file)) return undefined;
  return file;
}

/**
 * A minimal root filesystem: a static busybox with the applets the
 * benchmark runs, and the directories runtimes mount over.
 * @param {string} dir
 * @param {string} busybox
 */
function busyboxRoot(dir, busybox) {
  for (const sub of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  copyFileSync(busybox, path.join(dir, 'bin/busybox'));
  chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of ['true', 'sh', 'cat', 'grep']) {
    symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  return dir;
}

/**
 * An OCI bundle for `runc run`: `runc spec`'s default config, no
 * terminal, `/bin/true`, and a cgroup path relative to runc's own cgroup
 * so that runc creates its cgroups beneath the one the benchmark runs in.
 * @param {string} runc
 * @param {string} bundle
 * @param {string} rootfs
 */
function runcBundle(runc, bundle, rootfs) {
  mkdirSync(bundle, { recursive: true });
  const spec = spawnSync(runc, ['spec', '--bundle', bundle], {
    encoding: 'utf8',
  });
  if (spec.status !== 0) {
    throw new Error(`runc spec: ${spec.stderr.trim()}`);
  }
  const configFile = path.join(bundle, 'config.json');
  /** @type {any} */
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  config.root = { path: rootfs, readonly: true };
  config.hostname = 'bench';
  config.linux.cgroupsPath = `tincan-bench-${process.pid}-runc`;
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return bundle;
}

/**
 * Compile the getpid loop as a static binary.
 * @param {string} out
 */
function compileGetpid(out) {
  const gcc = which('gcc');
  if (!gcc) return { error: 'gcc is not installed' };
  const res = spawnSync(
    gcc,
    ['-O2', '-static', '-o', out, path.join(__dirname, 'getpid-loop.c')],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) {
    return { error: `gcc -static failed: ${res.stderr.trim().split('\n')[0]}` };
  }
  return { file: out };
}

module.exports = {
  workDir,
  staticBusybox,
  busyboxRoot,
  runcBundle,
  compileGetpid,
};
