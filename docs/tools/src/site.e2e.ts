// The built site in a real browser: serve docs/site on loopback, load every
// page in Debian's headless Chromium, and fail on a console error, a page
// error, a broken internal link or anchor, a request that leaves the
// server, or a lesson whose regions were not filled in. Keeps one
// screenshot per lesson and guide under docs/build/artifacts/screenshots.
// Run `npm run docs` first.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { parseRefs } from './regions';
import { loadDocs, REPO_ROOT } from './repo';

const SITE = path.join(REPO_ROOT, 'docs', 'site');
const SHOTS = path.join(REPO_ROOT, 'docs', 'build', 'artifacts', 'screenshots');

/** Chromium's own traffic switched off: the test talks to loopback only. */
export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--no-pings',
  '--metrics-recording-only',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

function htmlFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return htmlFiles(full, base);
    return e.name.endsWith('.html') ? [path.relative(base, full)] : [];
  });
}

/** A static file server for `root` on 127.0.0.1, on a free port. */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (
      path.relative(root, file).startsWith('..') ||
      !existsSync(file) ||
      !file.includes('.')
    ) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server)),
  );
}

/** The ids and names an anchor can point at, per page. */
function anchorsOf(html: string): Set<string> {
  const ids = new Set<string>();
  for (const m of html.matchAll(/\s(?:id|name)="([^"]+)"/g)) {
    if (m[1]) ids.add(m[1]);
  }
  return ids;
}

let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!existsSync(path.join(SITE, 'index.html'))) {
    throw new Error('docs/site is not built: run `npm run docs` first');
  }
  server = await serve(SITE);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test('every page loads without errors, and every internal link resolves', async () => {
  const pages = htmlFiles(SITE).sort();
  const anchors = new Map(
    pages.map((p) => [p, anchorsOf(readFileSync(path.join(SITE, p), 'utf8'))]),
  );
  const problems: string[] = [];
  const context = await browser.newContext({ serviceWorkers: 'block' });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) {
      return route.continue();
    }
    problems.push(`request outside the site: ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  let current = '';
  page.on('console', (msg) => {
    if (msg.type() === 'error')
      problems.push(`${current}: console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${current}: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (req.url().startsWith(origin)) {
      problems.push(`${current}: failed to load ${req.url()}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400)
      problems.push(`${current}: ${res.status()} ${res.url()}`);
  });

  for (const file of pages) {
    current = file;
    await page.goto(`${origin}/${file}`, { waitUntil: 'load' });
    const hrefs = await page.$$eval('a[href]', (as) =>
      as.map((a) => (a as unknown as { href: string }).href),
    );
    for (const href of hrefs) {
      if (!href.startsWith(`${origin}/`)) continue;
      const url = new URL(href);
      const target = decodeURIComponent(url.pathname.slice(1)) || 'index.html';
      const ids = anchors.get(target);
      if (!ids) {
        problems.push(`${file}: broken link to ${target}`);
      } else if (
        url.hash.length > 1 &&
        !ids.has(decodeURIComponent(url.hash.slice(1)))
      ) {
        problems.push(`${file}: broken anchor ${target}${url.hash}`);
      }
    }
    if (file.startsWith('documents/') || file === 'index.html') {
      const html = await page.content();
      if (/<!--\s*region:/.test(html)) {
        problems.push(`${file}: a region reference was not filled in`);
      }
      const name = file.replace(/^documents\//, '').replace(/\.html$/, '');
      await page.screenshot({
        path: path.join(SHOTS, `${name}.png`),
        fullPage: true,
      });
    }
  }
  await context.close();
  expect([...new Set(problems)]).toEqual([]);
  expect(pages.length).toBeGreaterThan(1);
}, 300_000);

test('every region reference is shown as code on the site', () => {
  const expected = loadDocs()
    .flatMap((d) => parseRefs(d.file, d.markdown))
    .map((r) => `// ${r.file}#${r.name} (lines`)
    .sort();
  // A filled region starts with its `// FILE#NAME (lines …)` caption;
  // typedoc highlights it, so read the text without tags.
  const shown = htmlFiles(SITE)
    .filter((f) => f.startsWith('documents/') || f === 'index.html')
    .flatMap((f) => {
      const text = readFileSync(path.join(SITE, f), 'utf8').replace(
        /<[^>]+>/g,
        '',
      );
      return text.match(/\/\/ [^\s#]+#[a-z0-9-]+ \(lines/g) ?? [];
    })
    .sort();
  expect(shown).toEqual(expected);
});
