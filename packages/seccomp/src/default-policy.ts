// tincan's default filter: everything is allowed except the calls below.
// A deny list (the seed's design), where Docker's profile is an allow
// list; see the lesson for what each choice costs.

import { constants } from 'node:os';
import { ALLOW, ERRNO, type ArgCondition, type Policy } from './policy';

const { EPERM, ENOSYS } = constants.errno;

/** Bits of a file mode and of clone/unshare flags the rules test. */
export const S_ISUID = 0o4000;
/** set-group-ID on execution */
export const S_ISGID = 0o2000;
/** clone and unshare: a new user namespace */
export const CLONE_NEWUSER = 0x10000000;
/** ioctl: push a byte into a terminal's input queue */
export const TIOCSTI = 0x5412;
/** ioctl: the Linux console's grab bag (selection paste among others) */
export const TIOCLINUX = 0x541c;
/** socket(2) family of virtual machine sockets */
export const AF_VSOCK = 40;

const bitSet = (index: number, bit: number): ArgCondition[] => [
  { index, op: 'MASKED_EQ', mask: BigInt(bit), value: BigInt(bit) },
];
const equals = (index: number, value: number): ArgCondition[] => [
  { index, op: 'EQ', value: BigInt(value) },
];

// #region default-policy
/** The default policy of every container, unless `--seccomp` says else. */
export const DEFAULT_POLICY: Policy = {
  defaultAction: ALLOW,
  rules: [
    {
      // The seed's list. Keyrings are not namespaced; the NUMA calls move
      // the host's memory around; userfaultfd and perf_event_open are the
      // favourite tools of kernel exploits.
      syscalls: [
        'keyctl',
        'add_key',
        'request_key',
        'mbind',
        'migrate_pages',
        'move_pages',
        'set_mempolicy',
        'set_mempolicy_home_node',
        'userfaultfd',
        'perf_event_open',
      ],
      action: ERRNO(EPERM),
    },
    {
      // A file handle opens any inode of a filesystem without a path, so
      // it walks past every mount and chroot boundary (Docker's
      // "shocker" escape). name_to_handle_at needs no privilege at all.
      syscalls: ['name_to_handle_at', 'open_by_handle_at'],
      action: ERRNO(EPERM),
    },
    {
      // io_uring performs file and network work outside the syscalls this
      // filter sees, and has been a steady source of kernel bugs.
      syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'],
      action: ERRNO(EPERM),
    },
    // vsock reaches the hypervisor host, outside every network namespace.
    {
      syscalls: ['socket'],
      action: ERRNO(EPERM),
      conditions: equals(0, AF_VSOCK),
    },
    ...['chmod', 'fchmod'].flatMap((name) => [
      {
        syscalls: [name],
        action: ERRNO(EPERM),
        conditions: bitSet(1, S_ISUID),
      },
      {
        syscalls: [name],
        action: ERRNO(EPERM),
        conditions: bitSet(1, S_ISGID),
      },
    ]),
    ...['fchmodat', 'fchmodat2'].flatMap((name) => [
      {
        syscalls: [name],
        action: ERRNO(EPERM),
        conditions: bitSet(2, S_ISUID),
      },
      {
        syscalls: [name],
        action: ERRNO(EPERM),
        conditions: bitSet(2, S_ISGID),
      },
    ]),
    {
      syscalls: ['unshare', 'clone'],
      action: ERRNO(EPERM),
      conditions: bitSet(0, CLONE_NEWUSER),
    },
    {
      syscalls: ['ioctl'],
      action: ERRNO(EPERM),
      conditions: equals(1, TIOCSTI),
    },
    {
      syscalls: ['ioctl'],
      action: ERRNO(EPERM),
      conditions: equals(1, TIOCLINUX),
    },
    // clone3 passes its flags in memory the filter cannot read. ENOSYS
    // (not EPERM) makes glibc fall back to clone, whose flags it can.
    { syscalls: ['clone3'], action: ERRNO(ENOSYS) },
  ],
};
// #endregion default-policy
