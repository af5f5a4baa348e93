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

/** The static busybox binary, if Debian's busybox-static is installed. */
function staticBusybox() {
  const file = which('busybox');
  if (!file) return undefined;
  // A dynamic busybox (Debian's `busybox` package) would need its
  // libraries in the root; only the static one is usable as is.
  const out = spawnSync('file', ['-L', file], { encoding: 'utf8' });
  if (out.status === 0 && /dynamically linked/.test(out.stdout)) {
    return undefined;
  }
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
  const config = JSON.parse(
    require('node:fs').readFileSync(configFile, 'utf8'),
  );
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  config.root = { path: rootfs, readonly: true };
  config.hostname = 'bench';
  config.linux.cgroupsPath = `${path.basename(bundle)}-runc`;
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
