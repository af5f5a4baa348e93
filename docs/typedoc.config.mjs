// typedoc for the whole tutorial: the API of every step package present
// (discovered, so a step that lands later is included) and the lessons
// and guides as project documents, their regions filled in by the plugin.
// Warnings are errors: a symbol without TSDoc, a broken {@link} or a
// missing region fails the build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const rel = (...parts) => path.join(root, ...parts);

const entryPoints = readdirSync(rel('packages'))
  .sort()
  .map((dir) => rel('packages', dir, 'src', 'index.ts'))
  .filter((file) => existsSync(file));

const lessons = existsSync(rel('steps'))
  ? readdirSync(rel('steps'))
      .filter(
        (d) => /^\d\d-/.test(d) && existsSync(rel('steps', d, 'README.md')),
      )
      .sort()
      .map((d) => rel('steps', d, 'README.md'))
  : [];
const guides = readdirSync(here)
  .filter((f) => f.endsWith('.md') && statSync(path.join(here, f)).isFile())
  // The overview is the site's front page (readme), not a document.
  .filter((f) => f !== 'overview.md')
  .sort()
  .map((f) => path.join(here, f));

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'tincan',
  entryPoints,
  entryPointStrategy: 'resolve',
  tsconfig: path.join(here, 'tsconfig.typedoc.json'),
  projectDocuments: [...guides, ...lessons],
  readme: path.join(here, 'overview.md'),
  out: path.join(here, 'site'),
  plugin: [path.join(here, 'tools', 'dist', 'typedoc-plugin.js')],
  treatWarningsAsErrors: true,
  excludePrivate: true,
  excludeInternal: true,
  githubPages: false,
  hideGenerator: true,
  sourceLinkExternal: false,
  disableSources: true,
  alwaysCreateEntryPointModule: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  requiredToBeDocumented: [
    'Enum',
    'EnumMember',
    'Variable',
    'Function',
    'Class',
    'Interface',
    'Property',
    'Method',
    'Accessor',
    'TypeAlias',
  ],
  navigation: { includeGroups: true },
  groupOrder: ['Guides', 'Lessons', '*'],
  highlightLanguages: [
    'typescript',
    'ts',
    'javascript',
    'js',
    'sh',
    'bash',
    'text',
    'json',
    'c',
  ],
};
