// The `tincan` command line: `run`, `check`, `steps`, and the subcommands
// later steps add. The runtime is chosen before the command line is built,
// because each step adds flags of its own to `run`.

import type { Command, CommanderError } from 'commander';
import { baseChecks, formatChecks } from './check';
import { containerChecks } from './check-container';
import { configureBase } from './config';
import { newContainerId, runContainer } from './container';
import { EXIT, UsageError, messageOf } from './errors';
import type { ContainerConfig, Runtime } from './layer';
import { now, printable } from './log';
import { CONFIG_HEADROOM, MAX_MESSAGE } from './protocol';
import { availableSteps, loadRuntime } from './steps';

/** Find `--step X` among the global options, before the subcommand. */
export function preScanStep(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--step') return argv[i + 1] ?? '';
    if (arg.startsWith('--step=')) return arg.slice('--step='.length);
    if (!arg.startsWith('-')) return undefined;
  }
  return undefined;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Build the full config for `tincan run` from parsed options. */
export function buildConfig(
  runtime: Runtime,
  options: Record<string, unknown>,
  args: string[],
): ContainerConfig {
  const config: ContainerConfig = {
    step: runtime.name,
    id: newContainerId(),
    command: [],
    env: [],
    workdir: '/',
    debug: false,
    stopTimeout: 10,
    initModules: runtime.layers.flatMap((l) =>
      l.initModule ? [l.initModule] : [],
    ),
    layers: {},
  };
  configureBase(options, args, config);
  for (const layer of runtime.layers) layer.configure?.(options, config);
  // Checked here, before anything exists: the config travels to the init
  // as one message.
  const size = Buffer.byteLength(JSON.stringify(config));
  if (size > MAX_MESSAGE - CONFIG_HEADROOM) {
    throw new UsageError(
      'the command, its arguments and --env',
      `${size} bytes in all; at most ${MAX_MESSAGE - CONFIG_HEADROOM} fit`,
    );
  }
  return config;
}

/**
 * The path every `tincan run` takes before it creates anything, once for
 * every step: build the command line, parse a `run`, build its config.
 * The build runs this before it saves the bundle's code cache
 * (packages/cli/scripts/bundle.js), so that the cache holds this path
 * compiled: the default seccomp policy alone takes ~3 ms to compile its
 * compiler the first time. Nothing is created and nothing runs. A step
 * whose configure fails here (say, a machine without user namespaces) is
 * skipped: this only warms a cache.
 */
export function rehearseRun(): void {
  for (const step of availableSteps()) {
    try {
      const runtime = loadRuntime(step.name);
      const program = buildProgram(runtime, { code: 0 });
      const run = program.commands.find((c) => c.name() === 'run');
      if (!run) continue;
      run.parseOptions(['/bin/true']);
      buildConfig(runtime, run.opts(), ['/bin/true']);
    } catch {
      // a cache with less in it is still a cache
    }
  }
}

/** The command line for `runtime`; `result.code` receives the exit code. */
export function buildProgram(
  runtime: Runtime,
  result: { code: number },
): Command {
  // commander is loaded here, not at the top: the init imports this
  // package too, and every module it loads delays every container start.
  const { Command, Option } =
    require('commander') as typeof import('commander');
  const program = new Command('tincan')
    .description(
      'A Linux container runtime in TypeScript, built one step at a time.',
    )
    .version(
      (require('../package.json') as { version: string }).version,
      '-V, --version',
    )
    .option(
      '--step <name|number>',
      `run the runtime of an earlier step (${availableSteps()
        .map((s) => s.name)
        .join(', ')}); default: the last`,
    )
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride();

  const run = program
    .command('run')
    .summary('run a command in a new container')
    .description(
      `Run COMMAND in a new container with the ${runtime.name} runtime ` +
        `(step ${runtime.step}) and exit with its status: 125 when tincan ` +
        'fails, 126 when the command cannot be invoked, 127 when it is not ' +
        'found, 128+N when it dies of signal N.',
    )
    .argument('[command...]', 'the command and its arguments')
    .option(
      '-c, --command <line>',
      'the command as one line, split like a shell would (quotes respected)',
    )
    .option('-d, --debug', 'print every kernel-visible action with timing')
    .option(
      '-e, --env <KEY=VALUE>',
      "set a variable in the command's environment (repeatable); the " +
        'defaults are PATH, HOME and TERM',
      collect,
    )
    .option('-w, --workdir <dir>', 'the directory the command starts in', '/')
    .addOption(
      new Option(
        '--stop-timeout <seconds>',
        'after a forwarded SIGTERM or SIGINT, seconds to wait before SIGKILL',
      ).default('10'),
    )
    .passThroughOptions();
  for (const layer of runtime.layers) layer.options?.(run);
  run.action(async (args: string[], options: Record<string, unknown>) => {
    const start = now();
    const config = buildConfig(runtime, options, args);
    const outcome = await runContainer(runtime, config, start);
    result.code = outcome.exitCode;
  });

  program
    .command('check')
    .description(
      'report what this host offers a container runtime, one verdict a line',
    )
    .option(
      '--container',
      'also start a container and check from the inside what each step promises',
    )
    .action(async (options: { container?: boolean }) => {
      const lines = [...baseChecks()];
      for (const layer of runtime.layers) {
        if (layer.check) lines.push(...(await layer.check()));
      }
      if (options.container) lines.push(...containerChecks(runtime));
      process.stdout.write(`${formatChecks(lines)}\n`);
      result.code = lines.some((l) => l.verdict === 'fail') ? 1 : 0;
    });

  program
    .command('steps')
    .description('list the steps of the tutorial and the runtime of each')
    .action(() => {
      for (const step of availableSteps()) {
        const mark = step.name === runtime.name ? '*' : ' ';
        process.stdout.write(`${mark} ${step.number} ${step.name}\n`);
      }
      result.code = 0;
    });

  for (const layer of runtime.layers) layer.commands?.(program);
  return program;
}

/** Turn commander's complaint into `<what>: <why>`. */
export function usageFromCommander(err: CommanderError): UsageError {
  // commander adds "(Did you mean ...?)" on a line of its own: keep the
  // error on one line.
  const text = err.message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*\(Did you mean (.*)\?\)\s*$/, ' (did you mean $1?)');
  const quoted = /'([^']*)'/.exec(text);
  const what = quoted?.[1] ?? 'usage';
  const why = text.replace(/ ?'[^']*'/, '').trim();
  return new UsageError(what, why || text);
}

/**
 * Run the `tincan` command line with `argv` (without node and the script)
 * and resolve with the exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const result = { code: 0 };
  // A reader that goes away (`tincan run --debug ... | head`) must not
  // kill tincan before it cleans up: Node ignores SIGPIPE and reports EPIPE
  // as an error event, fatal when nobody listens.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => undefined);
  }
  try {
    const runtime = loadRuntime(preScanStep(argv));
    const program = buildProgram(runtime, result);
    // tincan prints commander's errors itself, as one line (see below);
    // help that commander shows unasked (`tincan` alone) still goes out.
    program.configureOutput({ outputError: () => undefined });
    for (const sub of program.commands) {
      sub.exitOverride().configureOutput({ outputError: () => undefined });
    }
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (err) {
    const { CommanderError: CommanderErrorClass } =
      require('commander') as typeof import('commander');
    if (err instanceof CommanderErrorClass) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      process.stderr.write(
        `tincan: ${printable(usageFromCommander(err).message)}\n`,
      );
      return EXIT.RUNTIME;
    }
    process.stderr.write(`tincan: ${printable(messageOf(err))}\n`);
    return EXIT.RUNTIME;
  }
}
