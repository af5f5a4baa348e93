import { UsageError } from '@tincan/cli';
import {
  allCapabilities,
  CAPABILITY_NAMES,
  capabilityNumber,
  capabilityTable,
  capNames,
  capNumbers,
  capSetOf,
  DEFAULT_CAPABILITIES,
  formatCapSet,
  parseCapSet,
  readLastCap,
  resolveCapabilities,
  statusCapSets,
} from './capability';

const table = capabilityTable(40);
const everything = allCapabilities(table);
const DOCKER = 0xa80425fbn;
const SYS_ADMIN = 21;
const SYS_RESOURCE = 24;
/** A runtime like this machine's: every capability but CAP_SYS_RESOURCE. */
const lacksResource = everything & ~(1n << BigInt(SYS_RESOURCE));

describe('the capability table', () => {
  test('numbers every capability up to cap_last_cap', () => {
    expect(table.names).toHaveLength(41);
    expect(table.names[0]).toBe('CAP_CHOWN');
    expect(table.names[21]).toBe('CAP_SYS_ADMIN');
    expect(table.names[31]).toBe('CAP_SETFCAP');
    expect(table.names[40]).toBe('CAP_CHECKPOINT_RESTORE');
  });

  test('a newer kernel adds capabilities named by number', () => {
    const newer = capabilityTable(42);
    expect(newer.names.slice(40)).toEqual([
      'CAP_CHECKPOINT_RESTORE',
      'CAP_41',
      'CAP_42',
    ]);
    expect(capabilityNumber(newer, 'cap_42')).toBe(42);
    expect(allCapabilities(newer)).toBe(0x7ffffffffffn);
  });

  test('an older kernel knows fewer', () => {
    const older = capabilityTable(37);
    expect(older.names).toHaveLength(38);
    expect(capabilityNumber(older, 'BPF')).toBeUndefined();
  });

  test('the running kernel reports its last capability', () => {
    const lastCap = readLastCap();
    expect(lastCap).toBeGreaterThanOrEqual(CAPABILITY_NAMES.length - 5);
    expect(capabilityTable().lastCap).toBe(lastCap);
  });

  test.each([
    ['CAP_SYS_ADMIN', SYS_ADMIN],
    ['SYS_ADMIN', SYS_ADMIN],
    ['sys_admin', SYS_ADMIN],
    ['cap_Sys_Admin', SYS_ADMIN],
    [' chown ', 0],
    ['CAP_CHECKPOINT_RESTORE', 40],
  ])('%j is capability %d', (name, n) => {
    expect(capabilityNumber(table, name)).toBe(n);
  });

  test.each(['', 'CAP_', 'SYS_ADMN', 'CAP_CAP_CHOWN', 'ALL', '21', 'CAP_41'])(
    '%j is no capability',
    (name) => {
      expect(capabilityNumber(table, name)).toBeUndefined();
    },
  );
});

describe('sets', () => {
  test("Docker's default set is 00000000a80425fb", () => {
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    const set = capSetOf(
      DEFAULT_CAPABILITIES.map((name) => capabilityNumber(table, name) ?? -1),
    );
    expect(formatCapSet(set)).toBe('00000000a80425fb');
  });

  test('masks print and parse like /proc/PID/status', () => {
    expect(formatCapSet(0n)).toBe('0000000000000000');
    expect(formatCapSet(everything)).toBe('000001ffffffffff');
    expect(parseCapSet('000001fffeffffff')).toBe(lacksResource);
    expect(parseCapSet('0x3')).toBe(3n);
    expect(() => parseCapSet('xyz')).toThrow(/not a capability mask/);
    expect(() => parseCapSet('1'.repeat(17))).toThrow();
  });

  test('numbers and names come out lowest first', () => {
    expect(capNumbers(0n)).toEqual([]);
    expect(capNumbers((1n << 40n) | 5n)).toEqual([0, 2, 40]);
    expect(capNames(table, 0x200001n)).toEqual(['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  });

  test('the five sets are read from a status text', () => {
    const status = [
      'Name:\tcat',
      'CapInh:\t0000000000000000',
      'CapPrm:\t00000000a80425fb',
      'CapEff:\t00000000a80425fb',
      'CapBnd:\t000001fffeffffff',
      'CapAmb:\t0000000000000000',
      'NoNewPrivs:\t1',
    ].join('\n');
    expect(statusCapSets(status)).toEqual({
      inheritable: 0n,
      permitted: DOCKER,
      effective: DOCKER,
      bounding: lacksResource,
      ambient: 0n,
    });
    expect(() => statusCapSets('Name:\tcat\n')).toThrow(/no CapInh line/);
  });
});

describe('--cap-add and --cap-drop', () => {
  const resolve = (add: string[], drop: string[], available = everything) =>
    resolveCapabilities(table, add, drop, available);

  test("no flags give Docker's default", () => {
    expect(resolve([], [])).toEqual({ set: DOCKER, unavailable: 0n });
  });

  test('adds and drops adjust the default', () => {
    const { set } = resolve(['SYS_ADMIN', 'net_admin'], ['CAP_CHOWN', 'kill']);
    expect(set).toBe((DOCKER | (1n << 21n) | (1n << 12n)) & ~0x21n);
  });

  test('flags are repeatable and duplicates harmless', () => {
    expect(resolve(['SYS_ADMIN', 'sys_admin'], []).set).toBe(
      DOCKER | (1n << 21n),
    );
  });

  test('--cap-drop ALL leaves only what is added', () => {
    expect(resolve([], ['ALL']).set).toBe(0n);
    expect(resolve(['chown'], ['all']).set).toBe(1n);
  });

  test('--cap-add ALL gives everything but what is dropped', () => {
    expect(resolve(['ALL'], []).set).toBe(everything);
    expect(resolve(['all'], ['SYS_ADMIN']).set).toBe(everything & ~(1n << 21n));
  });

  test('a capability both added and dropped is added, as with docker', () => {
    expect(resolve(['chown'], ['chown']).set).toBe(DOCKER);
    expect(resolve(['SYS_ADMIN'], ['sys_admin']).set).toBe(
      DOCKER | (1n << 21n),
    );
  });

  test('--cap-add ALL gives only what the runtime holds, and says so', () => {
    expect(resolve(['ALL'], [], lacksResource)).toEqual({
      set: lacksResource,
      unavailable: 1n << 24n,
    });
  });

  test('unknown names are bad input naming the flag and value', () => {
    expect(() => resolve(['SYS_ADMN'], [])).toThrow(UsageError);
    expect(() => resolve(['SYS_ADMN'], [])).toThrow(
      /^--cap-add SYS_ADMN: unknown capability/,
    );
    expect(() => resolve([], ['nope'])).toThrow(/^--cap-drop nope: unknown/);
    expect(() => resolve([''], [])).toThrow(/^--cap-add : unknown/);
  });

  test('a capability the runtime lacks is bad input naming it', () => {
    expect(() => resolve(['sys_resource'], [], lacksResource)).toThrow(
      /^--cap-add sys_resource: tincan itself does not hold CAP_SYS_RESOURCE \(its bounding set is 000001fffeffffff\)/,
    );
    expect(() => resolve(['ALL', 'SYS_RESOURCE'], [], lacksResource)).toThrow(
      /--cap-add SYS_RESOURCE/,
    );
    expect(resolve(['SYS_ADMIN'], [], lacksResource).set).toBe(
      DOCKER | (1n << 21n),
    );
  });

  test('a default capability the runtime lacks must be dropped', () => {
    const lacksChown = everything & ~1n;
    expect(() => resolve([], [], lacksChown)).toThrow(
      /^CAP_CHOWN: part of the default set, .*--cap-drop CHOWN to run/,
    );
    expect(resolve([], ['CHOWN'], lacksChown).set).toBe(DOCKER & ~1n);
  });
});
