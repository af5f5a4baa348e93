// The seccomp layer inside the container: the init's last act before it
// execs the command. Everything after this runs under the filter.

import { withContext, type InitContext, type InitLayer } from '@tincan/cli';
import { decodeProgram } from './bpf';
import { seccompSection } from './config';
import {
  getNoNewPrivs,
  seccompSetModeFilter,
  SECCOMP_FILTER_FLAG_TSYNC,
  setNoNewPrivs,
} from './seccomp';

/** Load the filter the parent compiled, unless it is unconfined. */
function loadFilter(ctx: InitContext): void {
  const settings = seccompSection.get(ctx.config);
  if (settings.mode === 'unconfined') {
    ctx.log.debug('no filter: --seccomp unconfined');
    return;
  }
  const program = decodeProgram(Buffer.from(settings.program, 'base64'));

  withContext('seccomp', () => {
    // Without CAP_SYS_ADMIN the kernel loads a filter only under
    // no_new_privs. Step 4 sets it in its own phase, earlier; this covers
    // runtimes without step 4. When step 4 was told to leave it off, the
    // filter is loaded early instead, while the init still holds
    // CAP_SYS_ADMIN.
    if (!settings.early && !getNoNewPrivs()) {
      setNoNewPrivs();
      ctx.log.debug('prctl(PR_SET_NO_NEW_PRIVS, 1)');
    }

    // TSYNC: Node already runs several threads, and a thread without the
    // filter would be a way around it.
    seccompSetModeFilter(program, SECCOMP_FILTER_FLAG_TSYNC);
    ctx.log.debug(
      `seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ` +
        `{len=${program.length}}) = 0 (${settings.source}` +
        `${settings.early ? ', early: no_new_privs is off' : ''})`,
    );
  });
}

function isEarly(ctx: InitContext): boolean {
  const settings = seccompSection.get(ctx.config);
  return settings.mode === 'filter' && settings.early;
}

/** Step 5's work in the init. */
export const initLayer: InitLayer = {
  name: 'seccomp',
  phases: {
    // #region load-filter
    bounding(ctx) {
      if (isEarly(ctx)) loadFilter(ctx);
    },

    seccomp(ctx) {
      if (!isEarly(ctx)) loadFilter(ctx);
    },
    // #endregion load-filter
  },
};
