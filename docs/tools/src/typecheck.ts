// Type-check the TypeScript blocks of the documents against the built
// packages: each block is compiled as a module of its own, as if it were a
// file in docs/, importing `@tincan/NAME` like a user of the packages.

import path from 'node:path';
import ts from 'typescript';
import { codeBlocks, isTypeScript, type CodeBlock } from './blocks';
import { REPO_ROOT, type Doc } from './repo';

/** One type error, placed in the document. */
export interface BlockDiagnostic {
  /** `steps/01-cli/README.md:42` */
  where: string;
  /** the compiler's message */
  message: string;
}

/** The compiler options blocks are checked with: the packages' own. */
export function blockCompilerOptions(root = REPO_ROOT): ts.CompilerOptions {
  const file = path.join(root, 'tsconfig.base.json');
  const read = ts.readConfigFile(file, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(
    read.config as object,
    ts.sys,
    root,
  );
  return {
    ...parsed.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    incremental: false,
    noUnusedLocals: false,
    noUnusedParameters: false,
  };
}

/** The file name a block is compiled under. */
function blockFileName(root: string, block: CodeBlock): string {
  const slug = block.doc.replace(/[^A-Za-z0-9]+/g, '-');
  return path.join(root, 'docs', `.block-${slug}-${block.line}.ts`);
}

/** Type-check every TypeScript block of `docs`. */
export function typecheckDocs(
  docs: readonly Doc[],
  root = REPO_ROOT,
): BlockDiagnostic[] {
  const blocks = docs
    .flatMap((d) => codeBlocks(d.file, d.markdown))
    .filter(isTypeScript);
  return typecheckBlocks(blocks, root);
}

/** Type-check `blocks`, each a module of its own. */
export function typecheckBlocks(
  blocks: readonly CodeBlock[],
  root = REPO_ROOT,
): BlockDiagnostic[] {
  if (blocks.length === 0) return [];
  const options = blockCompilerOptions(root);
  const virtual = new Map<string, CodeBlock>();
  for (const block of blocks) virtual.set(blockFileName(root, block), block);
  const host = ts.createCompilerHost(options, true);
  const text = (file: string): string | undefined => {
    const block = virtual.get(path.resolve(file));
    // `export {}` keeps each block in a scope of its own.
    return block ? `${block.code}\nexport {};\n` : undefined;
  };
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    const code = text(file);
    return code !== undefined
      ? ts.createSourceFile(file, code, language, true)
      : getSourceFile(file, language, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => text(file) !== undefined || fileExists(file);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => text(file) ?? readFile(file);

  const program = ts.createProgram([...virtual.keys()], options, host);
  const out: BlockDiagnostic[] = [];
  for (const [file, block] of virtual) {
    const source = program.getSourceFile(file);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const d of diagnostics) {
      const line =
        d.file && d.start !== undefined
          ? d.file.getLineAndCharacterOfPosition(d.start).line
          : 0;
      out.push({
        where: `${block.doc}:${block.line + line}`,
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      });
    }
  }
  return out;
}
