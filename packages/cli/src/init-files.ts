// The files the init runs from, and whether it runs from the init bundle.
// The parent decides once, before clone; the init learns it from its argv.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleStaleness, codeCacheFile } from './bundle';

/** The script the native stage execs in the new namespaces. */
export const INIT_ENTRY = path.join(__dirname, 'init-entry.js');

/** The argument that tells the init entry to run the init bundle. */
export const INIT_BUNDLE_FLAG = '--bundle';

/** The init bundle `npm run build` writes next to the init's modules. */
export function initBundleFile(): string {
  return path.join(__dirname, 'init.bundle.js');
}

/** How the init will load its code. */
export interface InitLaunch {
  /** the arguments after the socket's fd in the init's argv */
  args: string[];
  /** the files the init reads before it runs any layer */
  files: string[];
  /** why the init does not run from the bundle, when it does not */
  unbundled?: string;
}

let launch: InitLaunch | undefined;

/** Decide (once per process) how the init will load its code. */
export function initLaunch(): InitLaunch {
  if (launch) return launch;
  const bundle = initBundleFile();
  const stale = process.env.TINCAN_NO_BUNDLE
    ? 'TINCAN_NO_BUNDLE is set'
    : bundleStaleness(bundle);
  launch =
    stale === undefined
      ? {
          args: [INIT_BUNDLE_FLAG],
          files: [INIT_ENTRY, bundle, codeCacheFile(bundle)].filter((f) =>
            existsSync(f),
          ),
        }
      : { args: [], files: [INIT_ENTRY], unbundled: stale };
  return launch;
}
