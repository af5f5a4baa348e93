// Step 6 inside the container: set the rlimits, after the credentials are
// final and before no_new_privs and seccomp.

import { configSection, type InitLayer } from '@tincan/cli';
import type { ResourcesConfig } from './layer-config';
import { rlimitOf, setrlimit } from './rlimit';

const section = configSection<ResourcesConfig>('resources');

// #region init-rlimits
/** The init's part of step 6. */
export const initLayer: InitLayer = {
  name: 'resources',
  phases: {
    rlimits(ctx) {
      for (const setting of section.get(ctx.config).rlimits) {
        setrlimit(setting.name, rlimitOf(setting));
        ctx.log.debug(
          `prlimit(0, RLIMIT_${setting.name}, {${setting.soft}, ${setting.hard}})`,
        );
      }
    },
  },
};
// #endregion init-rlimits
