// capget needs no privilege: it reads the calling thread's own sets, which
// must agree with what the kernel shows in /proc/self/status.

import { ownCapSets } from './capability';
import { capget, capset, gettid } from './capset';

describe('capget and capset', () => {
  test('capget reads the sets /proc/self/status shows', () => {
    const own = ownCapSets();
    expect(capget()).toEqual({
      effective: own.effective,
      permitted: own.permitted,
      inheritable: own.inheritable,
    });
  });

  test('capset of the current sets changes nothing', () => {
    const before = capget();
    capset(before);
    expect(capget()).toEqual(before);
  });

  test('a refused capset fails like the call and changes nothing', () => {
    const before = capget();
    // An effective set outside the new permitted set is always refused.
    expect(() =>
      capset({ effective: 1n, permitted: 0n, inheritable: 0n }),
    ).toThrow(
      /^capset\(\{_LINUX_CAPABILITY_VERSION_3, 0\}, \{effective=0000000000000001, permitted=0000000000000000, inheritable=0000000000000000\}\): EPERM \(Operation not permitted\)$/,
    );
    expect(capget()).toEqual(before);
  });
});

describe('gettid', () => {
  test('is the pid on the main thread', () => {
    expect(gettid()).toBe(process.pid);
  });
});
