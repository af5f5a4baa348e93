import { fullCapabilitySet, identityProblem, parseStatus } from './credentials';

const status = (uid: string, gid: string, capEff: string): string =>
  `Name:\tnode\nUid:\t${uid}\nGid:\t${gid}\nGroups:\t\nCapEff:\t${capEff}\n`;

describe('the init checks its identity', () => {
  const full = fullCapabilitySet(40);

  test('full set for cap_last_cap 40', () => {
    expect(full.toString(16)).toBe('1ffffffffff');
  });

  test('root with every capability is fine', () => {
    expect(
      identityProblem(
        parseStatus(status('0\t0\t0\t0', '0\t0\t0\t0', '000001ffffffffff')),
        full,
      ),
    ).toBeUndefined();
  });

  test('an unmapped uid names the missing uid_map', () => {
    const s = parseStatus(
      status('65534\t65534\t65534\t65534', '0\t0\t0\t0', '000001ffffffffff'),
    );
    expect(identityProblem(s, full)).toMatch(/never wrote uid_map/);
  });

  test('an unmapped gid names the missing gid_map', () => {
    const s = parseStatus(
      status('0\t0\t0\t0', '65534\t65534\t65534\t65534', '000001ffffffffff'),
    );
    expect(identityProblem(s, full)).toMatch(/never wrote gid_map/);
  });

  test('missing capabilities are reported', () => {
    const s = parseStatus(
      status('0\t0\t0\t0', '0\t0\t0\t0', '00000000a80425fb'),
    );
    expect(identityProblem(s, full)).toMatch(/lacks capabilities/);
  });
});
