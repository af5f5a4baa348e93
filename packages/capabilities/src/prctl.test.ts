// The read-only prctls need no privilege; the ones that change state are
// exercised for real by the integration tests, inside a container.

import { capabilityTable, hasCapability, ownCapSets } from './capability';
import { capbsetRead, getNoNewPrivs } from './prctl';

describe('prctl', () => {
  test('PR_CAPBSET_READ agrees with CapBnd', () => {
    const table = capabilityTable();
    const { bounding } = ownCapSets();
    for (let cap = 0; cap <= table.lastCap; cap++) {
      expect(capbsetRead(cap, table.names[cap] ?? '')).toBe(
        hasCapability(bounding, cap),
      );
    }
  });

  test('PR_CAPBSET_READ beyond cap_last_cap fails like the call', () => {
    const table = capabilityTable();
    expect(() => capbsetRead(table.lastCap + 1, 'CAP_NEXT')).toThrow(
      /^prctl\(PR_CAPBSET_READ, CAP_NEXT\): EINVAL/,
    );
  });

  test('PR_GET_NO_NEW_PRIVS reports the status line', () => {
    const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
    expect(getNoNewPrivs()).toBe(/^NoNewPrivs:\s+1$/m.test(status));
  });
});
