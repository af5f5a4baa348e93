import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BundledModules,
  bundleStaleness,
  codeCacheFile,
  loadBundle,
  manifestFile,
  runBundle,
  type BundleManifest,
} from './bundle';

let dir: string;
let bundle: string;
let input: string;

/** Write `bundle` made from `input`, as packages/cli/scripts/bundle.js does. */
function writeBundle(source: string): void {
  writeFileSync(input, 'exports.answer = 42;\n');
  writeFileSync(bundle, source);
  const st = statSync(input);
  const manifest: BundleManifest = {
    inputs: [{ file: 'input.js', size: st.size, mtimeMs: st.mtimeMs }],
  };
  writeFileSync(manifestFile(bundle), JSON.stringify(manifest));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tincan-bundle-test-'));
  bundle = path.join(dir, 'x.bundle.js');
  input = path.join(dir, 'input.js');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('bundleStaleness', () => {
  it('accepts a bundle whose inputs are unchanged', () => {
    writeBundle('module.exports = 1;');
    expect(bundleStaleness(bundle)).toBeUndefined();
  });

  it('rejects a missing bundle or manifest', () => {
    expect(bundleStaleness(bundle)).toMatch(/^no bundle at /);
    writeBundle('module.exports = 1;');
    rmSync(manifestFile(bundle));
    expect(bundleStaleness(bundle)).toMatch(/^no bundle at /);
  });

  it('rejects a bundle once an input changed or is gone', () => {
    writeBundle('module.exports = 1;');
    const later = new Date(Date.now() + 5000);
    utimesSync(input, later, later);
    expect(bundleStaleness(bundle)).toBe(
      `${input} changed since the bundle was built`,
    );
    writeBundle('module.exports = 1;');
    writeFileSync(input, 'exports.answer = 43; // longer\n');
    expect(bundleStaleness(bundle)).toMatch(/changed since/);
    rmSync(input);
    expect(bundleStaleness(bundle)).toBe(
      `${input} is gone since the bundle was built`,
    );
  });
});

describe('bundleStaleness of the outputs', () => {
  it('rejects a bundle replaced or cut short since its build', () => {
    writeBundle('module.exports = 1;');
    const manifest = JSON.parse(
      readFileSync(manifestFile(bundle), 'utf8'),
    ) as BundleManifest;
    const st = statSync(bundle);
    manifest.outputs = [
      { file: 'x.bundle.js', size: st.size, mtimeMs: st.mtimeMs },
    ];
    writeFileSync(manifestFile(bundle), JSON.stringify(manifest));
    expect(bundleStaleness(bundle)).toBeUndefined();
    writeFileSync(bundle, 'module.exports');
    expect(bundleStaleness(bundle)).toBe(
      `${bundle} changed since the bundle was built`,
    );
  });
});

describe('runBundle and loadBundle', () => {
  const source = [
    "const path = require('node:path');",
    'module.exports = {',
    '  dir: __dirname,',
    '  file: __filename,',
    "  join: path.join('a', 'b'),",
    "  input: require('./input.js').answer,",
    '};',
  ].join('\n');

  it('runs the bundle as a CommonJS module of its own directory', () => {
    writeBundle(source);
    expect(runBundle(bundle).exports).toEqual({
      dir,
      file: bundle,
      join: 'a/b',
      input: 42,
    });
  });

  it("uses the code cache when V8 accepts it, and the source when it doesn't", () => {
    writeBundle(source);
    const { script } = runBundle(bundle);
    writeFileSync(codeCacheFile(bundle), script.createCachedData());
    const cached = runBundle(bundle, script.createCachedData());
    expect(cached.script.cachedDataRejected).toBe(false);
    expect((loadBundle(bundle) as { input: number }).input).toBe(42);

    // A cache made for other source (an older bundle) is refused, and the
    // bundle still runs from its source.
    writeFileSync(bundle, `${source}\n// rebuilt\n`);
    const rejected = runBundle(bundle, script.createCachedData());
    expect(rejected.script.cachedDataRejected).toBe(true);
    expect((loadBundle(bundle) as { input: number }).input).toBe(42);
  });
});

describe('BundledModules', () => {
  it("loads the bundle's copy of a module it holds, and dist's otherwise", () => {
    const modules = new BundledModules();
    const copy = { from: 'bundle' };
    modules.register({ 'node:path': () => copy });
    expect(modules.has('node:path')).toBe(true);
    expect(modules.load('node:path')).toBe(copy);
    expect(modules.has('node:os')).toBe(false);
    expect(modules.load('node:os')).toBe(require('node:os'));
  });
});
