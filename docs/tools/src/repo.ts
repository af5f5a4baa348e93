// What the docs machinery finds in a checkout: the step packages, their
// sources and regions, and the lessons. Everything is discovered, so a
// step that lands later is picked up without touching this file.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DocsError,
  fillRegions,
  parseRefs,
  parseRegions,
  resolveRef,
  type Region,
  type RegionRef,
} from './regions';

/** The repository root (docs/tools/{src,dist}/ are two levels below). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

/** A step package found under packages/. */
export interface StepPackage {
  /** its directory name, e.g. `cli` */
  dir: string;
  /** its npm name, e.g. `@tincan/cli` */
  name: string;
  /** its entry point, relative to the root: `packages/cli/src/index.ts` */
  entry: string;
}

/** The packages under packages/ that have a src/index.ts. */
export function stepPackages(root = REPO_ROOT): StepPackage[] {
  const dir = path.join(root, 'packages');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .filter((d) => existsSync(path.join(dir, d, 'src', 'index.ts')))
    .map((d) => {
      const pkg = JSON.parse(
        readFileSync(path.join(dir, d, 'package.json'), 'utf8'),
      ) as { name: string };
      return { dir: d, name: pkg.name, entry: `packages/${d}/src/index.ts` };
    });
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
}

/** Every TypeScript source under packages/NAME/src, tests included. */
export function sourceFiles(root = REPO_ROOT): string[] {
  const out: string[] = [];
  for (const pkg of stepPackages(root)) {
    walk(path.join(root, 'packages', pkg.dir, 'src'), out);
  }
  return out
    .filter((f) => f.endsWith('.ts'))
    .map((f) => toRel(root, f))
    .sort();
}

/** A path relative to `root`, with forward slashes. */
export function toRel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** A lesson or guide: a markdown document of the site. */
export interface Doc {
  /** relative to the root, e.g. `steps/01-cli/README.md` */
  file: string;
  /** its text */
  markdown: string;
}

/** The lessons (steps/NN-name/README.md), first step first. */
export function lessonFiles(root = REPO_ROOT): string[] {
  const dir = path.join(root, 'steps');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => /^\d\d-/.test(d))
    .sort()
    .filter((d) => existsSync(path.join(dir, d, 'README.md')))
    .map((d) => `steps/${d}/README.md`);
}

/** The guides directly under docs/ (overview, glossary, instructor…). */
export function guideFiles(root = REPO_ROOT): string[] {
  const dir = path.join(root, 'docs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => `docs/${f}`);
}

/** Every document of the site: guides, then lessons. */
export function loadDocs(root = REPO_ROOT): Doc[] {
  return [...guideFiles(root), ...lessonFiles(root)].map((file) => ({
    file,
    markdown: readFileSync(path.join(root, file), 'utf8'),
  }));
}

/** Regions by file, read lazily and cached. */
export class RegionIndex {
  private readonly cache = new Map<string, Region[] | undefined>();

  constructor(private readonly root = REPO_ROOT) {}

  /** The regions of `file` (relative to the root); undefined if missing. */
  readonly lookup = (file: string): Region[] | undefined => {
    if (!this.cache.has(file)) {
      const full = path.join(this.root, file);
      const inside = !path.relative(this.root, full).startsWith('..');
      this.cache.set(
        file,
        inside && existsSync(full) && statSync(full).isFile()
          ? parseRegions(file, readFileSync(full, 'utf8'))
          : undefined,
      );
    }
    return this.cache.get(file);
  };
}

/** What the region check found. */
export interface RegionReport {
  /** errors: missing files or regions, malformed markers, unused regions */
  errors: string[];
  /** every region of the step packages, with the references to it */
  regions: { region: Region; refs: RegionRef[] }[];
}

/**
 * Check every reference of every document against the code, and every
 * region of the code against the documents: a region no document shows
 * must be tagged `unused`, and a region tagged `unused` must not be shown.
 */
export function checkRegions(root = REPO_ROOT): RegionReport {
  const errors: string[] = [];
  const index = new RegionIndex(root);
  const refs: RegionRef[] = [];
  for (const doc of loadDocs(root)) {
    try {
      refs.push(...parseRefs(doc.file, doc.markdown));
    } catch (err) {
      errors.push(String((err as Error).message));
    }
  }
  for (const ref of refs) {
    try {
      resolveRef(ref, index.lookup);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  const regions: RegionReport['regions'] = [];
  for (const file of sourceFiles(root)) {
    let found: Region[] = [];
    try {
      found = index.lookup(file) ?? [];
    } catch (err) {
      errors.push((err as Error).message);
    }
    for (const region of found) {
      const used = refs.filter(
        (r) => r.file === file && r.name === region.name,
      );
      regions.push({ region, refs: used });
      const at = `${file}:${region.start}`;
      if (used.length === 0 && !region.tags.includes('unused')) {
        errors.push(
          `${at}: region ${region.name} is shown by no lesson (include it with "<!-- region: ${file}#${region.name} -->" or tag it "// #region ${region.name} (unused)")`,
        );
      }
      if (used.length > 0 && region.tags.includes('unused')) {
        errors.push(
          `${at}: region ${region.name} is tagged unused but ${used[0]?.doc}:${used[0]?.line} shows it`,
        );
      }
    }
  }
  return { errors, regions };
}

/** A document with its regions filled in. */
export interface RenderedDoc extends Doc {
  /** the markdown with every reference replaced by its code */
  rendered: string;
}

/** Render every document; throws DocsError on the first missing region. */
export function renderDocs(root = REPO_ROOT): RenderedDoc[] {
  const index = new RegionIndex(root);
  return loadDocs(root).map((doc) => ({
    ...doc,
    rendered: fillRegions(doc.file, doc.markdown, index.lookup),
  }));
}

export { DocsError };
