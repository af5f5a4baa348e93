// The seccomp layer's part of the container config: the compiled program
// travels from the parent to the init as base64 of its sock_filter bytes.

import { configSection } from '@tincan/cli';

/** What the init needs to load (or skip) the filter. */
export type SeccompSettings =
  | { mode: 'unconfined' }
  | {
      mode: 'filter';
      /** where the policy came from: `default` or the profile's path */
      source: string;
      /** struct sock_filter[], base64 */
      program: string;
      /** instructions */
      length: number;
      /**
       * Load before the capability drop, as runc does when no_new_privs is
       * off: without it, only CAP_SYS_ADMIN lets the init load a filter,
       * and the container's capability set does not hold it.
       */
      early: boolean;
    };

/** The seccomp section of the config. */
export const seccompSection = configSection<SeccompSettings>('seccomp');
