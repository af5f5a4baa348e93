// The seccomp layer inside the container: the init's last act before it
// execs the command. Everything after this runs under the filter.

import { withContext, type InitLayer } from '@tincan/cli';
import { decodeProgram } from './bpf';
import { seccompSection } from './config';
import {
  getNoNewPrivs,
  seccompSetModeFilter,
  SECCOMP_FILTER_FLAG_TSYNC,
  setNoNewPrivs,
} from './seccomp';

/** Step 5's work in the init. */
export const initLayer: InitLayer = {
  name: 'seccomp',
  phases: {
    // #region load-filter
    seccomp(ctx) {
      const settings = seccompSection.get(ctx.config);
      if (settings.mode === 'unconfined') {
        ctx.log.debug('no filter: --seccomp unconfined');
        return;
      }
      const program = decodeProgram(Buffer.from(settings.program, 'base64'));

      withContext('seccomp', () => {
        // Without CAP_SYS_ADMIN the kernel loads a filter only under
        // no_new_privs. Step 4 sets it in its own phase, earlier; this
        // covers runtimes without step 4.
        if (!getNoNewPrivs()) {
          setNoNewPrivs();
          ctx.log.debug('prctl(PR_SET_NO_NEW_PRIVS, 1)');
        }

        // TSYNC: Node already runs several threads, and a thread without
        // the filter would be a way around it.
        seccompSetModeFilter(program, SECCOMP_FILTER_FLAG_TSYNC);
        ctx.log.debug(
          `seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ` +
            `{len=${program.length}}) = 0 (${settings.source})`,
        );
      });
    },
    // #endregion load-filter
  },
};
