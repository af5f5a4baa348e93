#!/usr/bin/env node
// @ts-check
// Build tincan's two bundles in packages/cli/dist: tincan.bundle.js (the
// command: the cli and every installed step) and init.bundle.js (the init:
// the cli's init and every step's init module). Each comes with V8's code
// cache for it (.cache) and a manifest of the files it was made from
// (.json). `npm run build` runs this after every step has been compiled;
// src/bundle.ts says why the bundles exist and when tincan uses them.
//
// Every module keeps its own scope in a bundle and runs when first
// required, as it would from dist/: `--step cli` still loads only step 1.

'use strict';

const { execFileSync } = require('node:child_process');
const {
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const dist = path.join(__dirname, '..', 'dist');
const { codeCacheFile, manifestFile, runBundle } = require(
  path.join(dist, 'bundle.js'),
);
const { availableSteps } = require(path.join(dist, 'steps.js'));

/** @typedef {{ name: string, packageName: string }} Step */

/** The installed steps after the cli. */
function laterSteps() {
  return availableSteps().filter((/** @type {Step} */ s) => s.name !== 'cli');
}

/** @param {string} file */
const literal = (file) => JSON.stringify(file);

/**
 * The bundles. `entry` is the source of each one's entry module, `warm`
 * runs in a fresh Node before its code cache is written, so that the
 * functions it compiles are in the cache too.
 */
const BUNDLES = {
  // The parent, with every step package. bin/tincan.js runs main() from it.
  tincan: {
    entry() {
      const loads = laterSteps().map(
        (/** @type {Step} */ s) =>
          `  ${literal(s.packageName)}: () => require(${literal(s.packageName)}),`,
      );
      return [
        "const steps = require('./steps.js');",
        'const runtimes = {',
        ...loads,
        '};',
        'steps.bundledRuntimes.register(runtimes);',
        "module.exports = require('./main.js');",
        'module.exports.loadAll = () => {',
        '  for (const load of Object.values(runtimes)) load();',
        "  require('commander');",
        "  require('shell-quote');",
        '};',
        'module.exports.warmBundle = () => {',
        '  module.exports.loadAll();',
        '  module.exports.rehearseRun();',
        '};',
      ].join('\n');
    },
  },
  // The init, with every step's init module, keyed by the path the parent
  // puts in the config (require.resolve of each step's ./init), rebuilt
  // from the bundle's own directory at run time.
  init: {
    entry() {
      const modules = laterSteps().map((/** @type {Step} */ s) =>
        require.resolve(`${s.packageName}/dist/init.js`, { paths: [dist] }),
      );
      const loads = modules.map((file) => {
        const rel = literal(path.relative(dist, file));
        return `  [path.resolve(__dirname, ${rel})]: () => require(${literal(file)}),`;
      });
      return [
        "const path = require('node:path');",
        "const init = require('./init.js');",
        'const modules = {',
        ...loads,
        '};',
        'init.bundledInitModules.register(modules);',
        'module.exports = init;',
        'module.exports.loadAll = () => {',
        '  for (const load of Object.values(modules)) load();',
        '};',
        'module.exports.warmBundle = module.exports.loadAll;',
      ].join('\n');
    },
  },
};

/**
 * In a bundle every module's `__dirname` would be the bundle's directory.
 * Rewrite it, and `require.resolve('./x')`, to name the module's own
 * directory in dist/, relative to the bundle so that a moved checkout still
 * works.
 * @type {import('esbuild').Plugin}
 */
const keepDirname = {
  name: 'keep-dirname',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ },
      (args) => {
        const dir = literal(
          path.relative(dist, path.dirname(args.path)) || '.',
        );
        const source = readFileSync(args.path, 'utf8');
        // after tsc's "use strict", which must stay the module's first line
        const strict = source.startsWith('"use strict";')
          ? '"use strict";'
          : '';
        const contents =
          `${strict}var __moduleDir = require('node:path').join(__dirname, ${dir});` +
          source
            .slice(strict.length)
            .replace(
              /\brequire\.resolve\('(\.{1,2}\/[^']+)'\)/g,
              (_, rel) =>
                `require.resolve(require('node:path').join(__moduleDir, ${literal(rel)}))`,
            )
            .replace(/\b__dirname\b/g, '__moduleDir');
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * commander requires node:child_process at its top, and with it node:net,
 * node:dgram and the stream machinery (~3 ms of CPU in every `tincan`
 * process), only to spawn external subcommands, which tincan has none of.
 * In the bundle, commander gets a stand-in that loads the real module the
 * first time anything is taken from it.
 * @type {import('esbuild').Plugin}
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy-builtin' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: [
        'let real;',
        'module.exports = new Proxy({}, {',
        "  get: (_, key) => (real ??= require('node:child_process'))[key],",
        '});',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * A file as the manifest records it (bundle.ts checks it at every start).
 * @param {string} file relative to dist/
 */
function recordOf(file) {
  const st = statSync(path.resolve(dist, file));
  return { file, size: st.size, mtimeMs: st.mtimeMs };
}

/** @param {string} file */
function removeIfThere(file) {
  try {
    unlinkSync(file);
  } catch {
    // there was none
  }
}

/** @param {keyof typeof BUNDLES} name */
async function build(name) {
  const bundle = path.join(dist, `${name}.bundle.js`);
  const entryName = `${name}.bundle-entry.js`;
  // No manifest, no bundle (bundle.ts): if this build fails halfway,
  // tincan runs dist/ rather than a bundle that does not match it.
  removeIfThere(manifestFile(bundle));
  const result = await esbuild.build({
    stdin: {
      contents: BUNDLES[name].entry(),
      resolveDir: dist,
      sourcefile: entryName,
    },
    absWorkingDir: dist,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: bundle,
    // koffi's native module is found at run time (koffi.ts); the package
    // itself is only a fallback.
    external: ['koffi', '*.node'],
    plugins: [keepDirname, lazyChildProcessForCommander],
    metafile: true,
    logLevel: 'warning',
    // require() of a computed name stays a run-time call: expected.
    logOverride: { 'unsupported-require-call': 'silent' },
  });

  // The metafile names inputs relative to absWorkingDir, that is dist/.
  const inputs = Object.keys(result.metafile.inputs)
    // (and names made-up modules "namespace:name": no file to record)
    .filter((file) => file !== entryName && !/^[\w-]+:/.test(file))
    .map(recordOf);

  // The code cache is made by a fresh Node with no flags, as tincan and
  // its init run: V8 accepts a cache only from the same version and flags.
  removeIfThere(codeCacheFile(bundle));
  // Output only on failure: the rehearsal may warn about this machine.
  execFileSync(process.execPath, [__filename, '--code-cache', bundle], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  // Last: the manifest is what makes the bundle usable.
  const outputs = [bundle, codeCacheFile(bundle)].map((file) =>
    recordOf(path.relative(dist, file)),
  );
  writeFileSync(
    manifestFile(bundle),
    `${JSON.stringify({ inputs, outputs })}\n`,
  );
}

/** In the fresh Node: run the bundle, warm it, write its code cache. */
function writeCodeCache(/** @type {string} */ bundle) {
  const { script, exports } = runBundle(bundle);
  try {
    exports.warmBundle();
  } catch (err) {
    // A step that does not load yet (a lab's stub, say) fails at run time
    // with its own message; the cache just holds less.
    console.error(`bundle: warming ${path.basename(bundle)}: ${err}`);
  }
  writeFileSync(codeCacheFile(bundle), script.createCachedData());
}

if (process.argv[2] === '--code-cache') {
  writeCodeCache(process.argv[3] ?? '');
} else {
  Promise.all([build('tincan'), build('init')]).catch((err) => {
    console.error(`bundle: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
