// A typedoc plugin that fills the region references of the project
// documents (the lessons and guides) with the code they name, so the site
// shows the real source. A missing region is an error, and typedoc fails.

import path from 'node:path';
import type {
  Application,
  CommentDisplayPart,
  DocumentReflection,
  ProjectReflection,
  Reflection,
} from 'typedoc' with { 'resolution-mode': 'import' };
import { REF, renderRegion, resolveRef } from './regions';
import { REPO_ROOT, RegionIndex, toRel } from './repo';

/** Replace the reference lines in the text parts of `parts`. */
export function fillParts(
  doc: string,
  parts: readonly CommentDisplayPart[],
  index: RegionIndex,
  report: (message: string) => void,
): CommentDisplayPart[] {
  const out: CommentDisplayPart[] = [];
  for (const part of parts) {
    if (part.kind !== 'text' || !part.text.includes('<!--')) {
      out.push(part);
      continue;
    }
    let text: string[] = [];
    const flush = (): void => {
      if (text.length > 0) out.push({ kind: 'text', text: text.join('\n') });
      text = [];
    };
    for (const line of part.text.split('\n')) {
      const m = REF.exec(line.trim());
      if (!m) {
        text.push(line);
        continue;
      }
      const ref = {
        doc,
        line: 0,
        file: m[1] ?? '',
        name: m[2] ?? '',
        section: '',
      };
      try {
        const region = resolveRef(ref, index.lookup);
        text.push('');
        flush();
        out.push({ kind: 'code', text: renderRegion(region) });
        text.push('');
      } catch (err) {
        report((err as Error).message.replace(/^[^:]*:0: /, `${doc}: `));
        text.push(line);
      }
    }
    flush();
  }
  return out;
}

/**
 * Name each module after its package (`@tincan/cli`) instead of the path
 * of its entry point, which typedoc would show as `cli/src`.
 */
function nameModules(project: ProjectReflection): void {
  for (const child of project.children ?? []) {
    const id = project.getSymbolIdFromReflection(child);
    if (id?.packageName && id.packageName.startsWith('@tincan/')) {
      child.name = id.packageName;
    }
  }
}

/**
 * Point `{@link name}` in the documents at the one export of that name,
 * whichever package it is in. typedoc resolves a bare name from the
 * project only while there is a single package; with several, the lessons
 * would have to spell `"@tincan/cli"!name`. An ambiguous or unknown name
 * is left to typedoc, which reports it.
 */
function linkBareNames(project: ProjectReflection): void {
  const exports = new Map<string, Reflection[]>();
  for (const mod of project.children ?? []) {
    for (const child of mod.children ?? []) {
      exports.set(child.name, [...(exports.get(child.name) ?? []), child]);
    }
  }
  const docs: { content: CommentDisplayPart[] }[] = Object.values(
    project.reflections,
  ).filter(
    (r): r is DocumentReflection => 'content' in r && 'frontmatter' in r,
  );
  const parts = [...(project.readme ?? []), ...docs.flatMap((d) => d.content)];
  for (const part of parts) {
    if (part.kind !== 'inline-tag' || part.target !== undefined) continue;
    if (!['@link', '@linkcode', '@linkplain'].includes(part.tag)) continue;
    const name = part.text.trim();
    const found = exports.get(name);
    if (/^[A-Za-z_$][\w$]*$/.test(name) && found?.length === 1) {
      part.target = found[0];
    }
  }
}

/**
 * Title and group a document from where it lives, so lessons need no
 * front matter (GitHub shows it as a table): the title is the first
 * heading, the group `Lessons` under steps/ and `Guides` elsewhere. Front
 * matter, when present, wins.
 */
export function nameDocument(file: string, doc: DocumentReflection): void {
  if (doc.frontmatter.title === undefined) {
    const text = doc.content
      .filter((p) => p.kind === 'text')
      .map((p) => p.text)
      .join('');
    const heading = /^#\s+(.+?)\s*#*\s*$/m.exec(text)?.[1];
    if (heading) doc.name = heading.replace(/[`*_]/g, '');
  }
  doc.frontmatter.group ??= file.startsWith('steps/') ? 'Lessons' : 'Guides';
}

/** typedoc's entry point for plugins. */
export function load(app: Application): void {
  const index = new RegionIndex(REPO_ROOT);
  // Converter.EVENT_RESOLVE_BEGIN
  app.converter.on('resolveBegin', (context: { project: ProjectReflection }) =>
    nameModules(context.project),
  );
  // Converter.EVENT_RESOLVE_END, before typedoc's own link resolver (-300).
  app.converter.on('resolveEnd', (context: { project: ProjectReflection }) =>
    linkBareNames(context.project),
  );
  app.converter.on(
    // Converter.EVENT_CREATE_DOCUMENT; typedoc is ESM, this plugin CommonJS.
    'createDocument',
    (_context: unknown, doc: DocumentReflection) => {
      const source = app.files.getReflectionPath?.(doc);
      const file = source ? toRel(REPO_ROOT, path.resolve(source)) : doc.name;
      doc.content = fillParts(file, doc.content, index, (message) =>
        app.logger.error(message),
      );
      nameDocument(file, doc);
    },
  );
}
