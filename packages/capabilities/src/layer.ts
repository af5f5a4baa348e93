// Step 4's layer on the parent's side: the --cap-add, --cap-drop and
// --no-new-privileges flags, resolved into one capability set before
// anything is created, and the runtime's own bounding set in `tincan check`.

import { Option, type Command } from 'commander';
import type { CheckLine, Layer, RawOptions } from '@tincan/cli';
import { namespacesSection } from '@tincan/namespaces';
import {
  capabilityTable,
  capNames,
  capSetOf,
  DEFAULT_CAPABILITIES,
  formatCapSet,
  ownCapSets,
  parseCapSet,
  resolveCapabilities,
  type CapabilityTable,
  type CapSet,
} from './capability';
import { capabilitiesSection, parseNoNewPrivileges } from './config';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Docker's default set in `table`. */
function defaultSet(table: CapabilityTable): CapSet {
  return capSetOf(
    DEFAULT_CAPABILITIES.map((name) => table.names.indexOf(name)),
  );
}

/** The capabilities this process's main thread has in its bounding set. */
function ownBoundingSet(): CapSet {
  return ownCapSets().bounding;
}

/** Step 4's layer. */
export const capabilitiesLayer: Layer = {
  name: 'capabilities',
  initModule: require.resolve('./init'),

  options(run: Command) {
    run
      .option(
        '--cap-add <capability>',
        'give the container a capability beyond the default set ' +
          '(repeatable; CAP_ prefix and case optional; ALL for every one ' +
          'tincan holds)',
        collect,
      )
      .option(
        '--cap-drop <capability>',
        'take a capability out of the default set (repeatable; ALL for ' +
          "every one); the default is Docker's: " +
          DEFAULT_CAPABILITIES.map((c) => c.slice(4)).join(', '),
        collect,
      )
      .addOption(
        new Option(
          '--no-new-privileges [bool]',
          'set no_new_privs so that setuid binaries and file capabilities ' +
            'grant nothing (default: true); --no-new-privileges=false is ' +
            'unsafe: a setuid-root binary then regains the capability set',
        ),
      );
  },

  // #region configure
  configure(options: RawOptions, config) {
    const table = capabilityTable();
    const request = resolveCapabilities(
      table,
      (options.capAdd as string[] | undefined) ?? [],
      (options.capDrop as string[] | undefined) ?? [],
      ownBoundingSet(),
    );
    capabilitiesSection.set(config, {
      lastCap: table.lastCap,
      set: formatCapSet(request.set),
      unavailable: formatCapSet(request.unavailable),
      noNewPrivs: parseNoNewPrivileges(options.newPrivileges),
    });
  },
  // #endregion configure

  prepare(ctx) {
    const section = capabilitiesSection.get(ctx.config);
    const table = capabilityTable(section.lastCap);
    const set = parseCapSet(section.set);
    ctx.log.debug(
      `capability set ${section.set}: ${capNames(table, set).join(' ') || '(none)'}`,
    );
    const unavailable = parseCapSet(section.unavailable);
    if (unavailable !== 0n) {
      ctx.log.warn(
        `--cap-add ALL: tincan itself does not hold ` +
          `${capNames(table, unavailable).join(', ')}; the container ` +
          `will not have it either`,
      );
    }
    const uid = namespacesSection.has(ctx.config)
      ? namespacesSection.get(ctx.config).uid
      : 0;
    const added = set & ~defaultSet(table);
    if (uid !== 0 && added !== 0n) {
      ctx.log.warn(
        `--uid ${uid} is not root and gets no capabilities: --cap-add ` +
          `${capNames(table, added).join(', ')} only reaches the bounding set`,
      );
    }
    if (!section.noNewPrivs) {
      ctx.log.warn(
        '--no-new-privileges=false: setuid binaries and file capabilities ' +
          'in the container can raise privileges',
      );
    }
  },

  check(): CheckLine[] {
    const table = capabilityTable();
    const bounding = ownBoundingSet();
    const all = (1n << BigInt(table.lastCap + 1)) - 1n;
    const lacking = all & ~bounding;
    const lackingDefaults = lacking & defaultSet(table);
    const detail =
      `bounding set ${formatCapSet(bounding)} of ${table.lastCap + 1} ` +
      `capabilities (cap_last_cap ${table.lastCap})` +
      (lacking === 0n
        ? ''
        : `; lacks ${capNames(table, lacking).join(', ')}, which ` +
          'no container can be given') +
      (lackingDefaults === 0n
        ? ''
        : `; the default set needs ` +
          `${capNames(table, lackingDefaults).join(', ')}`);
    return [
      {
        what: 'capabilities',
        verdict:
          lackingDefaults !== 0n ? 'fail' : lacking !== 0n ? 'warn' : 'ok',
        detail,
      },
    ];
  },
};
