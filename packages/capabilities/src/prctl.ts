// The prctl(2) options of this step: the bounding set, keepcaps, the
// ambient set and no_new_privs. Every one of them changes the calling
// thread only (see the note in init.ts).

import { check, libc, PR } from '@tincan/cli';

const prctlC = libc.func(
  'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
);

/** PR_CAP_AMBIENT's sub-operations. */
export const PR_CAP_AMBIENT = {
  IS_SET: 1,
  RAISE: 2,
  LOWER: 3,
  CLEAR_ALL: 4,
} as const;

function prctl(
  shown: readonly string[],
  option: number,
  arg2 = 0,
  arg3 = 0,
): number {
  return check('prctl', shown, () => Number(prctlC(option, arg2, arg3, 0, 0)));
}

// #region bounding
/**
 * PR_CAPBSET_DROP (Linux 2.6.25): remove capability `cap` from the
 * bounding set for good. Needs CAP_SETPCAP in the effective set. `name`
 * is used in the error.
 */
export function capbsetDrop(cap: number, name: string): void {
  prctl(['PR_CAPBSET_DROP', name], PR.CAPBSET_DROP, cap);
}

/** PR_CAPBSET_READ: whether `cap` is in the bounding set. */
export function capbsetRead(cap: number, name: string): boolean {
  return prctl(['PR_CAPBSET_READ', name], PR.CAPBSET_READ, cap) === 1;
}

/**
 * PR_SET_KEEPCAPS: whether the permitted set survives a switch of all
 * uids from 0 to non-zero (the effective set is cleared either way).
 * execve always resets it to 0.
 */
export function setKeepcaps(on: boolean): void {
  prctl(['PR_SET_KEEPCAPS', on ? '1' : '0'], PR.SET_KEEPCAPS, on ? 1 : 0);
}
// #endregion bounding

// #region ambient
/** PR_CAP_AMBIENT_CLEAR_ALL (Linux 4.3): empty the ambient set. */
export function capAmbientClearAll(): void {
  prctl(
    ['PR_CAP_AMBIENT', 'PR_CAP_AMBIENT_CLEAR_ALL'],
    PR.CAP_AMBIENT,
    PR_CAP_AMBIENT.CLEAR_ALL,
  );
}
// #endregion ambient

// #region no-new-privs
/**
 * PR_SET_NO_NEW_PRIVS (Linux 3.5): from now on, execve never grants
 * privileges: setuid and setgid bits and file capabilities are ignored.
 * It cannot be turned off again, and children and execve inherit it.
 */
export function setNoNewPrivs(): void {
  prctl(['PR_SET_NO_NEW_PRIVS', '1'], PR.SET_NO_NEW_PRIVS, 1);
}

/** PR_GET_NO_NEW_PRIVS. */
export function getNoNewPrivs(): boolean {
  return prctl(['PR_GET_NO_NEW_PRIVS'], PR.GET_NO_NEW_PRIVS) === 1;
}
// #endregion no-new-privs
