// The fenced code blocks of a lesson: TypeScript blocks are type-checked,
// `sh runnable` blocks are run and their output compared.

/** A fenced code block in a markdown document. */
export interface CodeBlock {
  /** the document, relative to the repository root */
  doc: string;
  /** the line of the first line of code (after the opening fence), from 1 */
  line: number;
  /** the first word of the info string, e.g. `ts` */
  lang: string;
  /** the words after it, e.g. `['runnable']` */
  flags: string[];
  /** the code, without the fences */
  code: string;
}

/** Every fenced block of `markdown`, in order. */
export function codeBlocks(doc: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  let open:
    { fence: string; lang: string; flags: string[]; line: number } | undefined;
  let body: string[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*(```+|~~~+)\s*(.*)$/.exec(line);
    if (!open) {
      if (!m) return;
      const [lang = '', ...flags] = (m[2] ?? '').trim().split(/\s+/);
      open = { fence: m[1] ?? '```', lang, flags, line: i + 2 };
      body = [];
      return;
    }
    if (m && (m[1] ?? '').startsWith(open.fence) && (m[2] ?? '') === '') {
      blocks.push({
        doc,
        line: open.line,
        lang: open.lang,
        flags: open.flags.filter(Boolean),
        code: body.join('\n'),
      });
      open = undefined;
      return;
    }
    body.push(line);
  });
  return blocks;
}

/** Whether a block is TypeScript that must type-check. */
export function isTypeScript(block: CodeBlock): boolean {
  return ['ts', 'typescript'].includes(block.lang);
}

/** One command of a runnable block and the output it must print. */
export interface Expectation {
  /** the command after `$ ` (continuation lines joined) */
  command: string;
  /** the expected output lines; a line `...` stands for any lines */
  expected: string[];
  /** the line of the command in the document, from 1 */
  line: number;
}

/** Whether a block is a shell session the lesson test runs. */
export function isRunnable(block: CodeBlock): boolean {
  return block.flags.includes('runnable');
}

/**
 * Split a runnable block into commands and their expected output. A
 * command line starts with `$ `; it goes on over the following lines that
 * start with `> ` (the shell's continuation prompt), and over the line after
 * a trailing backslash; every other line is output of the command above
 * it.
 */
export function parseSession(block: CodeBlock): Expectation[] {
  const result: Expectation[] = [];
  const lines = block.code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('$ ')) {
      let command = line.slice(2);
      const at = block.line + i;
      for (;;) {
        const next = lines[i + 1];
        if (next === undefined) break;
        if (next.startsWith('> ') || next === '>') {
          command = `${command}\n${next.slice(2)}`;
        } else if (command.endsWith('\\')) {
          command = `${command}\n${next}`;
        } else break;
        i++;
      }
      result.push({ command, expected: [], line: at });
    } else {
      const last = result[result.length - 1];
      if (!last) {
        throw new Error(
          `${block.doc}:${block.line + i}: output before the first "$ " command`,
        );
      }
      last.expected.push(line);
    }
  }
  for (const e of result) {
    while (e.expected.length > 0 && e.expected[e.expected.length - 1] === '') {
      e.expected.pop();
    }
  }
  return result;
}

/**
 * Compare actual output with the expected lines. Trailing spaces are
 * ignored; a line `...` matches any number of lines (none included).
 */
export function outputMatches(expected: string[], actual: string): boolean {
  const got = actual.replace(/\n$/, '').split('\n');
  if (actual === '') got.length = 0;
  const want = expected.map((l) => l.trimEnd());
  const have = got.map((l) => l.trimEnd());
  const match = (w: number, h: number): boolean => {
    if (w === want.length) return h === have.length;
    if (want[w] === '...') {
      for (let k = h; k <= have.length; k++) if (match(w + 1, k)) return true;
      return false;
    }
    return h < have.length && want[w] === have[h] && match(w + 1, h + 1);
  };
  return match(0, 0);
}
