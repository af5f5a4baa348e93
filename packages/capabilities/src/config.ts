// Step 4's section of the container config, shared by the parent and the
// init, and the parsing of --no-new-privileges.

import { configSection, UsageError } from '@tincan/cli';

/** Step 4's section of the container config. */
export interface CapabilitiesConfig {
  /** the highest capability number the kernel knows */
  lastCap: number;
  /** the container's capability set, as a /proc/PID/status hex mask */
  set: string;
  /** ALL asked for these, and the runtime does not hold them (hex) */
  unavailable: string;
  /** set PR_SET_NO_NEW_PRIVS before the command starts */
  noNewPrivs: boolean;
}

/** The capabilities layer's section of the config. */
export const capabilitiesSection =
  configSection<CapabilitiesConfig>('capabilities');

/**
 * The value of --no-new-privileges. Commander reads a `--no-` flag as the
 * negation of `newPrivileges`: absent gives true, a bare flag false, and
 * `=VALUE` the string. Only the string `false` turns no_new_privs off.
 */
export function parseNoNewPrivileges(value: unknown): boolean {
  if (typeof value !== 'string') return true;
  const text = value.toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(
    `--no-new-privileges ${value}`,
    'expected true or false (write it as --no-new-privileges=false)',
  );
}
