// koffi, the FFI every libc binding goes through, loaded the short way.
//
// `require('koffi')` runs a JavaScript wrapper that reads Node's own ELF
// header to tell a glibc system from a musl one, then picks the matching
// prebuilt native module and adds deprecation shims around it. That costs
// about 5 ms of CPU, and tincan pays it twice per container: once in the
// parent and once in the init. tincan needs glibc anyway (the native stage
// is made of glibc's ucontext functions), so it loads the glibc build of
// the native module itself. The API is the same: the wrapper only forwards.
// When the layout is not the one expected (another platform, another way of
// installing), it falls back to the package.

/** The koffi module's type, as its package declares it. */
export type Koffi = typeof import('koffi');

function loadKoffi(): { module: Koffi; file: string } {
  const { platform, arch } = process;
  let file: string;
  try {
    file = require.resolve(
      `@koromix/koffi-${platform}-${arch}/${platform}_${arch}/koffi.node`,
    );
  } catch {
    file = require.resolve('koffi');
  }
  return { module: require(file) as Koffi, file };
}

const loaded = loadKoffi();

/** koffi's native module, loaded once per process. */
export const koffi: Koffi = loaded.module;

/**
 * The file koffi came from. The init loads it too, so the init's uid must
 * be able to reach it.
 */
export const KOFFI_FILE: string = loaded.file;
