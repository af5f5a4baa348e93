// `node docs/tools/dist/cli.js COMMAND`: the docs machinery's command line.
//   render [DIR]  write every document with its regions filled in (default
//                 docs/build/lessons); fails on a missing file or region
//   check         render, check regions both ways, type-check the
//                 TypeScript blocks (the packages must be built)
//   regions       list every region and the documents that show it

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkRegions, REPO_ROOT, renderDocs, loadDocs } from './repo';
import { typecheckDocs } from './typecheck';

/** Where `render` writes by default (gitignored). */
export const BUILD_DIR = path.join(REPO_ROOT, 'docs', 'build', 'lessons');

/** Write the rendered documents under `dir`, keeping their paths. */
export function render(dir = BUILD_DIR): string[] {
  const docs = renderDocs();
  rmSync(dir, { recursive: true, force: true });
  for (const doc of docs) {
    const out = path.join(dir, doc.file);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, doc.rendered);
  }
  return docs.map((d) => path.join(dir, d.file));
}

/** Every problem `check` finds, one line each. */
export function check(): string[] {
  const problems: string[] = [];
  try {
    render();
  } catch (err) {
    problems.push((err as Error).message);
  }
  problems.push(...checkRegions().errors);
  for (const d of typecheckDocs(loadDocs())) {
    problems.push(`${d.where}: ${d.message}`);
  }
  return [...new Set(problems)];
}

function main(argv: string[]): number {
  const [command, arg] = argv;
  if (command === 'render') {
    for (const file of render(arg ? path.resolve(arg) : undefined)) {
      process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
    }
    return 0;
  }
  if (command === 'check') {
    const problems = check();
    for (const p of problems) process.stderr.write(`docs: ${p}\n`);
    const { regions } = checkRegions();
    process.stdout.write(
      `docs: ${loadDocs().length} documents, ${regions.length} regions, ${problems.length} problems\n`,
    );
    return problems.length === 0 ? 0 : 1;
  }
  if (command === 'regions') {
    for (const { region, refs } of checkRegions().regions) {
      const tags = region.tags.length > 0 ? ` (${region.tags.join(', ')})` : '';
      const shown = refs.map((r) => `${r.doc}:${r.line}`).join(' ') || '-';
      process.stdout.write(`${region.file}#${region.name}${tags}  ${shown}\n`);
    }
    return 0;
  }
  process.stderr.write(
    'usage: node docs/tools/dist/cli.js render [DIR] | check | regions\n',
  );
  return 2;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`docs: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
