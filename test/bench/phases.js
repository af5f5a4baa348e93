// @ts-check
// Section 2: where the time goes. Runs `tincan run --debug /bin/true`
// several times and tables its debug lines: each line's time since tincan
// started and the time since the line before, as medians over the runs.
// The init's first debug lines (node started, entry script runs, init code
// loaded) show its Node start and the loading of its code.

'use strict';

const path = require('node:path');
const {
  ROOT,
  TINCAN_BIN,
  timeRun,
  summarize,
  table,
  fix,
  verdict,
} = require('./lib');

const LINE = /^tincan\[([^\]]+)\] \+\s*([\d.]+)ms (.*)$/;

/**
 * A debug line's text with the values that change between runs removed,
 * so the same action gets the same key in every run.
 * @param {string} text
 */
function shape(text) {
  return text
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\/tincan-[A-Za-z0-9]+/g, '/tincan-…')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/: prctl\(.*$/, ': chain')
    .slice(0, 64);
}

/**
 * CPU time of loading each module group of the parent and the init, each
 * in a fresh Node process, `runs` times (modules-cpu.js).
 * @param {number} runs
 */
function measureModules(runs) {
  /** @type {Record<string, Record<string, number[]>>} */
  const raw = {
    'parent bundle': {},
    'init bundle': {},
    'parent dist': {},
    'init dist': {},
  };
  for (let i = 0; i < runs; i++) {
    for (const key of Object.keys(raw)) {
      const [side, mode] = key.split(' ');
      const { stdout } = timeRun(
        [
          process.execPath,
          path.join(__dirname, 'modules-cpu.js'),
          side ?? '',
          mode ?? '',
        ],
        { capture: true },
      );
      const got = /** @type {Record<string, number>} */ (JSON.parse(stdout));
      const into = raw[key] ?? {};
      for (const [name, ms] of Object.entries(got)) {
        (into[name] ??= []).push(ms);
      }
    }
  }
  return Object.entries(raw).flatMap(([side, groups]) =>
    Object.entries(groups).map(([name, values]) => ({
      side,
      name,
      ...summarize(values),
    })),
  );
}

/** Tags whose lines are milestones of their own, never merged. */
const MILESTONE_TAGS = new Set(['init', 'parent:cli']);

/**
 * Parse one run's stderr into events in order. Consecutive lines of one
 * layer merge into one event (a stretch of that layer's work, e.g. its
 * filesystem phase); the init's and the parent's own lines stay single.
 * An event's time is its last line's.
 * @param {string} stderr
 */
function parseRun(stderr) {
  /** @type {{ key: string, tag: string, text: string, t: number, lines: number }[]} */
  const events = [];
  /** @type {Map<string, number>} */
  const seen = new Map();
  for (const raw of stderr.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const [, tag = '', t = '0', text = ''] = m;
    const last = events[events.length - 1];
    if (last && last.tag === tag && !MILESTONE_TAGS.has(tag)) {
      last.t = Number(t);
      last.lines++;
      continue;
    }
    let key = MILESTONE_TAGS.has(tag) ? `${tag} ${shape(text)}` : tag;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count > 1) key += ` #${count}`;
    events.push({ key, tag, text, t: Number(t), lines: 1 });
  }
  return events;
}

/**
 * Run the debug command `runs` times and collect the events.
 * @param {number} runs
 * @param {string[]} extraArgs
 */
function measurePhases(runs, extraArgs = []) {
  const argv = [
    process.execPath,
    TINCAN_BIN,
    'run',
    '--debug',
    ...extraArgs,
    '/bin/true',
  ];
  /** @type {ReturnType<typeof parseRun>[]} */
  const all = [];
  /** @type {number[]} */
  const walls = [];
  try {
    timeRun(argv, { capture: true });
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  for (let i = 0; i < runs; i++) {
    const { ms, stderr } = timeRun(argv, { capture: true });
    walls.push(ms);
    all.push(parseRun(stderr));
  }

  // The keys in the order of the first run; keys missing from some runs
  // are still tabled over the runs that have them.
  /** @type {string[]} */
  const order = [];
  for (const run of all) {
    for (const e of run) if (!order.includes(e.key)) order.push(e.key);
  }
  const rows = order.map((key) => {
    /** @type {number[]} */
    const at = [];
    /** @type {number[]} */
    const delta = [];
    /** @type {string} */
    let text = '';
    for (const run of all) {
      const i = run.findIndex((e) => e.key === key);
      if (i < 0) continue;
      const e = run[i];
      if (!e) continue;
      if (!text) {
        const first = e.text.length > 60 ? `${e.text.slice(0, 57)}...` : e.text;
        text = e.lines > 1 ? `${first} (+${e.lines - 1} lines)` : first;
      }
      at.push(e.t);
      delta.push(e.t - (run[i - 1]?.t ?? 0));
    }
    const tag =
      all.flatMap((run) => run.filter((e) => e.key === key))[0]?.tag ?? '';
    return {
      key,
      tag,
      text,
      at: summarize(at),
      delta: summarize(delta),
    };
  });

  /**
   * Median over runs of the time between two events found by test.
   * @param {(e: {key: string, tag: string, text: string}) => boolean} from
   * @param {(e: {key: string, tag: string, text: string}) => boolean} to
   */
  const span = (from, to) => {
    /** @type {number[]} */
    const values = [];
    for (const run of all) {
      const a = run.find(from);
      const b = [...run].reverse().find(to);
      if (a && b) values.push(b.t - a.t);
    }
    return summarize(values);
  };
  const isExec = (/** @type {{tag: string, text: string}} */ e) =>
    e.tag === 'init' && e.text.startsWith('execve(');
  const isNodeStart = (/** @type {{tag: string, text: string}} */ e) =>
    e.tag === 'init' && e.text === 'node started';
  const isEntry = (/** @type {{tag: string, text: string}} */ e) =>
    e.tag === 'init' && e.text.startsWith('entry script runs');
  const isLoaded = (/** @type {{tag: string, text: string}} */ e) =>
    e.tag === 'init' && e.text.startsWith('init code loaded');
  const isConfig = (/** @type {{tag: string, text: string}} */ e) =>
    e.tag === 'init' && e.text.endsWith('read the config');
  const spans = {
    nodeBoot: span(isNodeStart, isEntry),
    entryToExec: span(isEntry, isExec),
    moduleLoading: span(isEntry, isLoaded),
    waitForConfig: span(isLoaded, isConfig),
    nodeStartToExec: span(isNodeStart, isExec),
    configToExec: span(isConfig, isExec),
    execToReaped: span(
      isExec,
      (e) => / ended: /.test(e.text) && e.tag === 'parent:cli',
    ),
    goToNodeStart: span(
      (e) => e.tag === 'parent:cli' && e.text === 'sending the go byte',
      isNodeStart,
    ),
  };

  /** @type {Map<string, number[]>} */
  const perTag = new Map();
  for (const run of all) {
    /** @type {Map<string, number>} */
    const sums = new Map();
    run.forEach((e, i) => {
      if (!e.tag.startsWith('init:')) return;
      sums.set(e.tag, (sums.get(e.tag) ?? 0) + e.t - (run[i - 1]?.t ?? 0));
    });
    for (const [tag, v] of sums)
      perTag.set(tag, [...(perTag.get(tag) ?? []), v]);
  }
  const layers = [...perTag].map(([tag, v]) => ({ tag, ...summarize(v) }));

  return {
    runs,
    modules: measureModules(7),
    argv: argv.slice(1),
    rows,
    spans,
    layers,
    wall: summarize(walls),
  };
}

/**
 * Print section 2 and return its targets.
 * @param {ReturnType<typeof measurePhases>} phases
 */
function reportPhases(phases) {
  console.log(
    `\n2. Where the time goes: tincan run --debug /bin/true, ${phases.runs ?? 0} runs (ms since tincan's main() started; medians)\n`,
  );
  /** @type {{ key: string, name: string, target: string, value: string, ok: boolean }[]} */
  const targets = [];
  if (!phases.rows) {
    console.log(`  failed: ${phases.error}`);
    return targets;
  }
  console.log(
    table(
      ['at', '+delta', 'p90 delta', 'stage', 'debug line'],
      phases.rows.map((r) => [
        fix(r.at.median),
        fix(r.delta.median),
        fix(r.delta.p90),
        r.tag,
        r.text,
      ]),
    ),
  );
  const s = phases.spans;
  console.log('');
  console.log(
    table(
      ['span', 'median', 'p10', 'p90'],
      [
        ['go byte sent -> init Node process started', s.goToNodeStart],
        ['init Node bootstrap (timeOrigin -> entry script)', s.nodeBoot],
        ['init JS: entry script -> execve', s.entryToExec],
        ['  of which loading its code (init code loaded)', s.moduleLoading],
        ['  of which waiting for the config', s.waitForConfig],
        ['  of which setup: config received -> execve', s.configToExec],
        ...phases.layers.map(
          (l) =>
            /** @type {[string, ReturnType<typeof summarize>]} */ ([
              `    of which ${l.tag}`,
              l,
            ]),
        ),
        [
          'execve -> parent sees the init end (command + teardown)',
          s.execToReaped,
        ],
        ['whole run, wall (bench spawn -> exit)', phases.wall],
      ].map(([name, v]) => {
        const st = /** @type {ReturnType<typeof summarize>} */ (v);
        return [String(name), fix(st.median), fix(st.p10), fix(st.p90)];
      }),
    ),
  );
  console.log(
    '\n  Code loading, CPU ms (each side in a fresh Node, 7 times; a group excludes what earlier groups loaded).\n  bundle: as tincan runs after npm run build; dist: the modules one by one (TINCAN_NO_BUNDLE=1)\n',
  );
  console.log(
    table(
      ['side', 'modules', 'min', 'median'],
      phases.modules.map((m) => [m.side, m.name, fix(m.min), fix(m.median)]),
    ),
  );
  // The init's own work: loading its code, then config -> execve. Time it
  // spends waiting for the config (the parent still moving it into its
  // cgroups) is the parent's, not the init's.
  const loadAndSetup = {
    ...s.configToExec,
    median: s.moduleLoading.median + s.configToExec.median,
  };
  const work = s.moduleLoading.n > 0 ? loadAndSetup : s.configToExec;
  const label =
    s.moduleLoading.n > 0
      ? 'entry script -> code loaded, + config -> execve'
      : 'config -> execve';
  targets.push({
    key: 'init',
    name: `init work (${label})`,
    target: '< 5 ms',
    value: fix(work.median),
    ok: work.median < 5,
  });
  console.log(
    `\n  target: init work start-to-execve < 5 ms (${label}): ${fix(work.median)} ms  ${verdict(work.median < 5)}`,
  );
  return targets;
}

module.exports = { measurePhases, reportPhases, parseRun };
