// unshare(2): move the calling thread into new namespaces.

import { check, flagNames, libc, CLONE_FLAGS } from '@tincan/cli';

const unshareC = libc.func('int unshare(int flags)');

/**
 * unshare(2). In the multi-threaded init it applies to the calling thread
 * alone; that is the thread that later execs the command, and execve ends
 * the others.
 */
export function unshare(flags: number): void {
  check('unshare', [flagNames(flags, CLONE_FLAGS)], () =>
    Number(unshareC(flags)),
  );
}
