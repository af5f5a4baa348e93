// Step 2's work inside the container: check the init became root of its
// user namespace, name the host, bring up lo; later, switch to the
// requested uid and gid with no supplementary groups.

import { readFileSync } from 'node:fs';
import {
  PR,
  prctl,
  RuntimeError,
  withContext,
  type InitLayer,
} from '@tincan/cli';
import {
  fullCapabilitySet,
  identityProblem,
  parseStatus,
  setgroupsEmpty,
  setresgid,
  setresuid,
} from './credentials';
import { namespacesSection } from './section';
import { interfaceUp } from './loopback';
import { sethostname } from './sethostname';
import { CLONE_NEWCGROUP } from './clone-flags';
import { unshare } from './unshare';

const SIGKILL = 9;

// #region namespaces-init
/** Step 2's init phases. */
export const initLayer: InitLayer = {
  name: 'namespaces',
  phases: {
    namespaces(ctx) {
      const { hostname } = namespacesSection.get(ctx.config);
      const status = parseStatus(readFileSync('/proc/self/status', 'utf8'));
      const problem = identityProblem(status, fullCapabilitySet());
      if (problem) throw new RuntimeError(`namespaces: ${problem}`);
      ctx.log.debug(`uid 0, gid 0, CapEff ${status.capEff.toString(16)}`);

      // A cgroup namespace is rooted where its creator stands. The parent
      // moves the init into the container's cgroup (step 6) before it
      // sends the config, so made now, the namespace shows that cgroup as
      // "/". Made before (by clone, or in the native stage), it would show
      // the cgroups tincan itself runs in.
      withContext('namespaces', () => unshare(CLONE_NEWCGROUP));
      ctx.log.debug('unshare(CLONE_NEWCGROUP)');

      withContext('namespaces', () => sethostname(hostname));
      ctx.log.debug(`sethostname(${JSON.stringify(hostname)})`);

      withContext('namespaces', () => interfaceUp('lo'));
      ctx.log.debug('ioctl(SIOCSIFFLAGS, "lo", IFF_UP)');
    },

    credentials(ctx) {
      const { uid, gid, mapping } = namespacesSection.get(ctx.config);
      withContext('namespaces', () => {
        // With one id, setgroups is denied: the user's own supplementary
        // groups stay, shown as the overflow gid (see the lesson).
        if (mapping !== 'single') setgroupsEmpty();
        setresgid(gid);
        setresuid(uid);
        // Changing credentials clears the parent-death signal.
        prctl('PR_SET_PDEATHSIG', PR.SET_PDEATHSIG, SIGKILL);
      });
      ctx.log.debug(
        `${mapping === 'single' ? 'setgroups denied, ' : 'setgroups([]), '}setresgid(${gid}), setresuid(${uid})`,
      );
    },
  },
};
// #endregion namespaces-init
