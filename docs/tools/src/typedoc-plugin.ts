// A typedoc plugin that fills the region references of the project
// documents (the lessons and guides) with the code they name, so the site
// shows the real source. A missing region is an error, and typedoc fails.

import path from 'node:path';
import type {
  Application,
  CommentDisplayPart,
  DocumentReflection,
  ProjectReflection,
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

/** typedoc's entry point for plugins. */
export function load(app: Application): void {
  const index = new RegionIndex(REPO_ROOT);
  // Converter.EVENT_RESOLVE_BEGIN
  app.converter.on('resolveBegin', (context: { project: ProjectReflection }) =>
    nameModules(context.project),
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
    },
  );
}
