// capget(2) and capset(2): read and write the calling thread's effective,
// permitted and inheritable sets. glibc exports both calls; libcap's
// cap_set_proc is a wrapper around the second.

import { check, libc } from '@tincan/cli';
import { formatCapSet, type CapSet } from './capability';

// #region capset
/**
 * _LINUX_CAPABILITY_VERSION_3 (Linux 2.6.26): the header version whose
 * data is two 32-bit words per set, so capabilities 0-63 fit. Version 1
 * has one word and cannot reach CAP_SETFCAP (31) and above.
 */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

// struct __user_cap_header_struct { __u32 version; int pid; } and
// struct __user_cap_data_struct { __u32 effective, permitted, inheritable; }
// times two (low words, then high words): both are plain 32-bit words, so
// a Uint32Array is the whole layout.
const capgetC = libc.func(
  'int capget(uint32_t *hdrp, _Inout_ uint32_t *datap)',
);
const capsetC = libc.func('int capset(uint32_t *hdrp, const uint32_t *datap)');
const gettidC = libc.func('int gettid(void)');

/** gettid(2): the calling thread's id; equal to the pid on the main one. */
export function gettid(): number {
  return Number(gettidC());
}

/** The three sets capset(2) writes. */
export interface ThreadCaps {
  effective: CapSet;
  permitted: CapSet;
  inheritable: CapSet;
}

function header(): Uint32Array {
  // pid 0: the calling thread. The sets belong to one thread, not to the
  // process: another thread of the same process keeps its own.
  return Uint32Array.of(LINUX_CAPABILITY_VERSION_3, 0);
}

const low = (set: CapSet): number => Number(set & 0xffffffffn);
const high = (set: CapSet): number => Number((set >> 32n) & 0xffffffffn);
const join = (lo = 0, hi = 0): CapSet => (BigInt(hi) << 32n) | BigInt(lo);

/** capget(2) for the calling thread. */
export function capget(): ThreadCaps {
  const data = new Uint32Array(6);
  check('capget', ['{_LINUX_CAPABILITY_VERSION_3, 0}'], () =>
    Number(capgetC(header(), data)),
  );
  return {
    effective: join(data[0], data[3]),
    permitted: join(data[1], data[4]),
    inheritable: join(data[2], data[5]),
  };
}

/**
 * capset(2) for the calling thread. The kernel refuses (EPERM) a
 * permitted set larger than the current one, an effective set outside the
 * new permitted one, and an inheritable set outside the bounding set.
 */
export function capset(caps: ThreadCaps): void {
  const { effective: e, permitted: p, inheritable: i } = caps;
  const data = Uint32Array.of(
    low(e),
    low(p),
    low(i),
    high(e),
    high(p),
    high(i),
  );
  check(
    'capset',
    [
      '{_LINUX_CAPABILITY_VERSION_3, 0}',
      `{effective=${formatCapSet(e)}, permitted=${formatCapSet(p)}, ` +
        `inheritable=${formatCapSet(i)}}`,
    ],
    () => Number(capsetC(header(), data)),
  );
}
// #endregion capset
