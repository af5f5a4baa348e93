// Running a bundle: one file holding many compiled modules, plus V8's code
// cache for it. `npm run build` makes one for the init (see
// packages/cli/scripts/bundle.js). Every container start runs a fresh Node
// for the init, and loading its ~40 modules one by one (resolve, read,
// compile each) costs more CPU than the init's actual work; one file whose
// compiled code V8 can reuse costs a third of that.
//
// A bundle is a build artefact: the modules in dist/ stay the truth. A
// bundle is used only while it is fresh, that is while every file it was
// made from still has the size and modification time it had then; after a
// partial rebuild (say `tsc -b` in one package), tincan runs the modules
// themselves until the next `npm run build`.
//
// Keep this module's imports to Node built-ins: it runs before the bundle.

import { readFileSync, statSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';

/** One file a bundle was made from, as the manifest records it. */
export interface BundleInput {
  /** the file, relative to the bundle's directory */
  file: string;
  /** its size in bytes then */
  size: number;
  /** its modification time then, in ms */
  mtimeMs: number;
}

/** The manifest written next to a bundle: `<bundle>.json`. */
export interface BundleManifest {
  /** the files the bundle was made from */
  inputs: BundleInput[];
  /**
   * the bundle and its code cache as the build left them: a copy, restore
   * or partial write that changed either makes the bundle unusable (a
   * truncated bundle would not parse; V8 checks a cache against its source
   * by length only)
   */
  outputs?: BundleInput[];
}

let parentUnbundled: string | undefined;

/** bin/tincan.js records why the command runs from dist/, for --debug. */
export function setParentUnbundled(why: string): void {
  parentUnbundled = why;
}

/** Why the command runs from dist/ rather than its bundle, if it does. */
export function whyParentUnbundled(): string | undefined {
  return parentUnbundled;
}

/** The file V8's code cache for `bundle` is kept in. */
export function codeCacheFile(bundle: string): string {
  return `${bundle}.cache`;
}

/** The manifest of `bundle`. */
export function manifestFile(bundle: string): string {
  return bundle.replace(/\.js$/, '.json');
}

// #region bundle-staleness
/**
 * Why `bundle` cannot stand in for its modules, or `undefined` when it can:
 * it exists and every input still has its recorded size and mtime.
 */
export function bundleStaleness(bundle: string): string | undefined {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(
      readFileSync(manifestFile(bundle), 'utf8'),
    ) as BundleManifest;
    statSync(bundle);
  } catch {
    return `no bundle at ${bundle}`;
  }
  const dir = path.dirname(bundle);
  for (const input of [...manifest.inputs, ...(manifest.outputs ?? [])]) {
    const file = path.resolve(dir, input.file);
    try {
      const st = statSync(file);
      if (st.size !== input.size || st.mtimeMs !== input.mtimeMs) {
        return `${file} changed since the bundle was built`;
      }
    } catch {
      return `${file} is gone since the bundle was built`;
    }
  }
  return undefined;
}
// #endregion bundle-staleness

/**
 * Compile `bundle` (with `cachedData`, V8's code cache for it, when given)
 * and run it as a CommonJS module. The build uses the returned script to
 * write the code cache; tincan uses the exports.
 */
export function runBundle(
  bundle: string,
  cachedData?: Buffer,
): { script: Script; exports: unknown } {
  const source = readFileSync(bundle, 'utf8');
  const script = new Script(wrap(source), { filename: bundle, cachedData });
  const moduleWrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} as unknown };
  moduleWrapper.call(
    mod.exports,
    mod.exports,
    createRequire(bundle),
    mod,
    bundle,
    path.dirname(bundle),
  );
  return { script, exports: mod.exports };
}

/**
 * Run `bundle` and return its exports. Its compiled code comes from the
 * code cache when V8 accepts it (same V8, same flags, same source);
 * otherwise V8 compiles the source, which is slower but the same program.
 */
export function loadBundle(bundle: string): unknown {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(codeCacheFile(bundle));
  } catch {
    cachedData = undefined;
  }
  return runBundle(bundle, cachedData).exports;
}

/**
 * The modules a bundle holds, by the name code in dist/ requires them by
 * (a package name, or a file's absolute path). The bundle's entry registers
 * them; loading one then runs the bundle's copy instead of reading dist/
 * again. Two copies of a module would mean two copies of its state and its
 * classes (an error from one is no instance of the other's), and koffi
 * lets a named type be declared once per process.
 */
export class BundledModules {
  private readonly loads = new Map<string, () => unknown>();

  /** Called by the bundle's entry (packages/cli/scripts/bundle.js). */
  register(modules: Readonly<Record<string, () => unknown>>): void {
    for (const [name, load] of Object.entries(modules)) {
      this.loads.set(name, load);
    }
  }

  /** Whether the bundle holds `name`. */
  has(name: string): boolean {
    return this.loads.has(name);
  }

  /** The module `name`: the bundle's copy, or else the one in dist/. */
  load(name: string): unknown {
    const load = this.loads.get(name);
    return load ? load() : require(name);
  }
}
