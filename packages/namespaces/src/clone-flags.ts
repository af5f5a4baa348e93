// The namespaces a container gets, as clone(2) flags. See namespaces(7).

import { CLONE_FLAGS } from '@tincan/cli';

/**
 * The namespaces the init is cloned into. The cgroup namespace is not
 * here: the init makes it once it has the config, which the parent sends
 * only after it has moved the init into its cgroup, so that the container
 * sees that cgroup as `/`.
 */
export const NAMESPACE_CLONE_FLAGS =
  (CLONE_FLAGS.CLONE_NEWUSER ?? 0) |
  (CLONE_FLAGS.CLONE_NEWNS ?? 0) |
  (CLONE_FLAGS.CLONE_NEWPID ?? 0) |
  (CLONE_FLAGS.CLONE_NEWUTS ?? 0) |
  (CLONE_FLAGS.CLONE_NEWIPC ?? 0) |
  (CLONE_FLAGS.CLONE_NEWNET ?? 0);

/** CLONE_NEWCGROUP, for unshare(2) in the init. */
export const CLONE_NEWCGROUP = CLONE_FLAGS.CLONE_NEWCGROUP ?? 0x02000000;

/** Every namespace type, its clone flag and its /proc/PID/ns name. */
export const NAMESPACE_TYPES: readonly { name: string; flag: number }[] = [
  { name: 'user', flag: CLONE_FLAGS.CLONE_NEWUSER ?? 0 },
  { name: 'mnt', flag: CLONE_FLAGS.CLONE_NEWNS ?? 0 },
  { name: 'pid', flag: CLONE_FLAGS.CLONE_NEWPID ?? 0 },
  { name: 'uts', flag: CLONE_FLAGS.CLONE_NEWUTS ?? 0 },
  { name: 'ipc', flag: CLONE_FLAGS.CLONE_NEWIPC ?? 0 },
  { name: 'net', flag: CLONE_FLAGS.CLONE_NEWNET ?? 0 },
  { name: 'cgroup', flag: CLONE_NEWCGROUP },
];
