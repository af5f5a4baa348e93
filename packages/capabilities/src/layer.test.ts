import { buildConfig, UsageError } from '@tincan/cli';
import { capabilitiesSection } from './config';
import { capabilitiesLayer } from './layer';
import { runtime } from './runtime';
import { capabilityTable, formatCapSet, ownCapSets } from './capability';

const configure = (options: Record<string, unknown>) =>
  capabilitiesSection.get(buildConfig(runtime, options, ['true']));

describe('the capabilities layer', () => {
  test("configures Docker's default set and no_new_privs", () => {
    expect(configure({})).toEqual({
      lastCap: capabilityTable().lastCap,
      set: '00000000a80425fb',
      unavailable: '0000000000000000',
      noNewPrivs: true,
    });
  });

  test('reads --cap-add, --cap-drop and --no-new-privileges', () => {
    const section = configure({
      capAdd: ['sys_admin'],
      capDrop: ['CAP_CHOWN'],
      newPrivileges: 'false',
    });
    expect(section.set).toBe('00000000a82425fa');
    expect(section.noNewPrivs).toBe(false);
  });

  test('bad input is a UsageError before anything exists', () => {
    expect(() => configure({ capAdd: ['nope'] })).toThrow(UsageError);
    expect(() => configure({ newPrivileges: 'maybe' })).toThrow(UsageError);
  });

  test('is the last layer of the step-4 runtime', () => {
    expect(runtime.step).toBe(4);
    expect(runtime.layers.at(-1)).toBe(capabilitiesLayer);
    expect(runtime.layers.map((l) => l.name)).toContain('cli');
  });

  test("check reports this process's bounding set", async () => {
    const lines = (await capabilitiesLayer.check?.()) ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]?.what).toBe('capabilities');
    expect(lines[0]?.detail).toContain(
      `bounding set ${formatCapSet(ownCapSets().bounding)}`,
    );
  });
});
