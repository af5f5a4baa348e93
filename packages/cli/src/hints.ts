// Remedies for the traps learners hit most, added under an error as a
// second line. Each hint names the setting at fault and how to change it.

import { readFileSync } from 'node:fs';
import { SyscallError } from './libc';

function sysctl(file: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The remedy for `err`, when it is one of the known traps. */
export function hintFor(
  err: unknown,
  read: (file: string) => string | undefined = sysctl,
  rootless = (process.geteuid?.() ?? 0) !== 0,
): string | undefined {
  const syscall = err instanceof SyscallError ? err.syscall : undefined;
  const code = err instanceof SyscallError ? err.code : undefined;
  if (syscall === 'clone' && code !== undefined) {
    if (read('user/max_user_namespaces') === '0') {
      return 'user namespaces are disabled: sysctl -w user.max_user_namespaces=15000';
    }
    if (rootless && read('kernel/unprivileged_userns_clone') === '0') {
      return 'unprivileged user namespaces are disabled: sysctl -w kernel.unprivileged_userns_clone=1';
    }
    if (
      rootless &&
      read('kernel/apparmor_restrict_unprivileged_userns') === '1'
    ) {
      return (
        "Ubuntu's AppArmor forbids unprivileged user namespaces: " +
        'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give ' +
        'node an AppArmor profile that allows `userns,`'
      );
    }
    if (code === 'ENOSPC' || code === 'EUSERS') {
      return 'too many user namespaces: raise user.max_user_namespaces';
    }
  }
  if (code === 'EINVAL' && (syscall === 'unshare' || syscall === 'setns')) {
    return 'a multi-threaded process (Node always is) cannot enter a new user or mount namespace: see steps/01-cli';
  }
  if (code === 'EROFS') {
    return 'the file system is read-only here (a read-only /sys or /proc?)';
  }
  return undefined;
}
