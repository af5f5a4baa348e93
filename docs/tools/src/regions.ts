// Named regions of source code and the lesson lines that include them.
// A region is marked in code with `// #region NAME (TAGS)` and
// `// #endregion NAME`; a lesson includes it with a line of its own:
// `<!-- region: packages/cli/src/native-stage.ts#spawn-native -->`.

/** Tags a region may carry after its name, in parentheses. */
export const REGION_TAGS = ['unused', 'lab'] as const;

/** One tag: `unused` (no lesson shows it, on purpose), `lab` (stubbed). */
export type RegionTag = (typeof REGION_TAGS)[number];

/** A region marked in a source file. */
export interface Region {
  /** the file, relative to the repository root, with forward slashes */
  file: string;
  /** the region's name, kebab-case */
  name: string;
  /** its tags, e.g. `['lab']` */
  tags: RegionTag[];
  /** line number (from 1) of the `#region` marker */
  start: number;
  /** line number (from 1) of the `#endregion` marker */
  end: number;
  /** the lines between the markers, nested markers removed, dedented */
  text: string;
}

/** A problem found in a file, with where it is. */
export class DocsError extends Error {
  constructor(
    /** the file, relative to the repository root */
    readonly file: string,
    /** the line number, from 1 */
    readonly line: number,
    /** what is wrong */
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'DocsError';
  }
}

const NAME = '[a-z0-9][a-z0-9-]*';
const START = new RegExp(
  `^\\s*//\\s*#region\\s+(${NAME})(?:\\s*\\(([^)]*)\\))?\\s*$`,
);
const END = new RegExp(`^\\s*//\\s*#endregion\\s+(${NAME})\\s*$`);
const ANY_MARKER = /^\s*\/\/\s*#(end)?region\b/;

/** Remove the common leading whitespace of `lines` (blank lines ignored). */
export function dedent(lines: readonly string[]): string[] {
  const indents = lines
    .filter((l) => l.trim() !== '')
    .map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut));
}

/**
 * Find every region in the text of one source file. Throws DocsError on a
 * malformed marker, an unknown tag, a duplicate name, an `#endregion`
 * without its `#region`, or a region left open.
 */
export function parseRegions(file: string, source: string): Region[] {
  const lines = source.split('\n');
  const open: { name: string; tags: RegionTag[]; start: number }[] = [];
  const regions: Region[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    const start = START.exec(line);
    const end = END.exec(line);
    if (start) {
      const name = start[1] ?? '';
      const tags = parseTags(file, lineNo, start[2]);
      if (seen.has(name)) {
        throw new DocsError(file, lineNo, `region ${name} is defined twice`);
      }
      seen.add(name);
      open.push({ name, tags, start: lineNo });
    } else if (end) {
      const name = end[1] ?? '';
      const top = open.pop();
      if (!top || top.name !== name) {
        throw new DocsError(
          file,
          lineNo,
          top
            ? `#endregion ${name} closes region ${top.name} (opened at line ${top.start})`
            : `#endregion ${name} without #region`,
        );
      }
      const body = lines
        .slice(top.start, lineNo - 1)
        .filter((l) => !ANY_MARKER.test(l));
      regions.push({
        file,
        name,
        tags: top.tags,
        start: top.start,
        end: lineNo,
        text: trimBlank(dedent(body)).join('\n'),
      });
    } else if (ANY_MARKER.test(line)) {
      throw new DocsError(
        file,
        lineNo,
        `malformed region marker: ${line.trim()} (expected "// #region name" or "// #endregion name")`,
      );
    }
  });
  const left = open.pop();
  if (left) {
    throw new DocsError(
      file,
      left.start,
      `region ${left.name} is never closed`,
    );
  }
  return regions.sort((a, b) => a.start - b.start);
}

function parseTags(file: string, line: number, text?: string): RegionTag[] {
  if (text === undefined) return [];
  const tags = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const tag of tags) {
    if (!(REGION_TAGS as readonly string[]).includes(tag)) {
      throw new DocsError(
        file,
        line,
        `unknown region tag "${tag}" (known: ${REGION_TAGS.join(', ')})`,
      );
    }
  }
  return tags as RegionTag[];
}

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a]?.trim() === '') a++;
  while (b > a && lines[b - 1]?.trim() === '') b--;
  return lines.slice(a, b);
}

/** A lesson's line that includes a region. */
export interface RegionRef {
  /** the lesson file, relative to the repository root */
  doc: string;
  /** the line of the reference, from 1 */
  line: number;
  /** the source file named, relative to the repository root */
  file: string;
  /** the region's name */
  name: string;
  /** the nearest heading above the reference (the lesson's section) */
  section: string;
}

/** The reference syntax: an HTML comment alone on its line. */
export const REF = /^<!--\s*region:\s*([^#\s]+)#([a-z0-9-]+)\s*-->\s*$/;
const LOOSE_REF = /<!--\s*region\b/;

/**
 * Find the region references of a markdown document. A reference that
 * is not alone on its line, or misspelt, is an error rather than text that
 * silently stays a comment; one quoted in inline code is just text.
 */
export function parseRefs(doc: string, markdown: string): RegionRef[] {
  const refs: RegionRef[] = [];
  let section = '';
  let fence: string | undefined;
  markdown.split('\n').forEach((line, i) => {
    const fenceMark = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (fenceMark) {
      if (fence === undefined) fence = fenceMark;
      else if (fenceMark.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) section = heading[1] ?? '';
    const ref = REF.exec(line.trim());
    if (ref) {
      refs.push({
        doc,
        line: i + 1,
        file: ref[1] ?? '',
        name: ref[2] ?? '',
        section,
      });
    } else if (LOOSE_REF.test(line.replace(/`[^`]*`/g, ''))) {
      throw new DocsError(
        doc,
        i + 1,
        `malformed region reference: ${line.trim()} (expected "<!-- region: path/to/file.ts#name -->" on a line of its own)`,
      );
    }
  });
  return refs;
}

/** Looks up the regions of a source file; undefined when it does not exist. */
export type RegionSource = (file: string) => Region[] | undefined;

/** The fenced block a reference renders to. */
export function renderRegion(region: Region): string {
  const lang = /\.(c|m)?tsx?$/.test(region.file) ? 'ts' : 'text';
  return [
    `\`\`\`${lang}`,
    `// ${region.file}#${region.name} (lines ${region.start + 1}-${region.end - 1})`,
    region.text,
    '```',
  ].join('\n');
}

/**
 * Replace every reference in `markdown` with the region's code. Throws
 * DocsError on a file or region that does not exist.
 */
export function fillRegions(
  doc: string,
  markdown: string,
  lookup: RegionSource,
): string {
  const lines = markdown.split('\n');
  for (const ref of parseRefs(doc, markdown)) {
    const region = resolveRef(ref, lookup);
    lines[ref.line - 1] = renderRegion(region);
  }
  return lines.join('\n');
}

/** The region a reference names; throws DocsError when it is missing. */
export function resolveRef(ref: RegionRef, lookup: RegionSource): Region {
  const regions = lookup(ref.file);
  if (!regions) {
    throw new DocsError(
      ref.doc,
      ref.line,
      `region ${ref.file}#${ref.name}: no such file`,
    );
  }
  const region = regions.find((r) => r.name === ref.name);
  if (!region) {
    const known = regions.map((r) => r.name).join(', ') || 'none';
    throw new DocsError(
      ref.doc,
      ref.line,
      `region ${ref.file}#${ref.name}: no such region (the file has: ${known})`,
    );
  }
  return region;
}
