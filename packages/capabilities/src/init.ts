// Step 4's layer inside the container: shrink the bounding set while the
// init is still root, carry the permitted set across the uid switch, set
// the final sets, and turn on no_new_privs.
//
// Capabilities, keepcaps and no_new_privs belong to a thread, not to a
// process: capset(2) and these prctl(2) options change only the thread
// that calls them. The init is a Node process with several threads (V8's
// and libuv's), and koffi makes its calls from the JavaScript thread, the
// process's main thread. That is the thread that calls execve, and execve
// gives the new program the credentials of the thread that called it,
// after killing all the others; so the main thread's sets are the ones the
// command gets, and the other threads' sets die with them. (setresuid is
// the exception: glibc makes every thread switch uid, as POSIX wants.)

import { withContext, type InitContext, type InitLayer } from '@tincan/cli';
import {
  capabilityTable,
  capNames,
  EMPTY,
  formatCapSet,
  hasCapability,
  parseCapSet,
  type CapabilityTable,
  type CapSet,
} from './capability';
import { capget, capset, gettid, type ThreadCaps } from './capset';
import { capabilitiesSection } from './config';
import {
  capAmbientClearAll,
  capbsetDrop,
  capbsetRead,
  getNoNewPrivs,
  setKeepcaps,
  setNoNewPrivs,
} from './prctl';

/**
 * Fail unless this runs on the process's main thread, the one that will
 * call execve: sets changed on any other thread would die with it.
 */
function onMainThread(): void {
  const tid = gettid();
  if (tid !== process.pid) {
    throw new Error(
      `capabilities must be set on the main thread (${process.pid}), ` +
        `not on thread ${tid}`,
    );
  }
}

function settings(ctx: InitContext): { table: CapabilityTable; set: CapSet } {
  const section = capabilitiesSection.get(ctx.config);
  return {
    // The parent read cap_last_cap: after pivot_root the init's /proc is
    // the container's, and this step should not depend on it being there.
    table: capabilityTable(section.lastCap),
    set: parseCapSet(section.set),
  };
}

// #region drop-bounding-set (lab)
/**
 * Take every capability outside the container's set out of the bounding
 * set, which caps what any later execve can grant. It needs CAP_SETPCAP,
 * so it runs before the credentials phase gives up root; PR_SET_KEEPCAPS
 * keeps the permitted set across that switch, for the capabilities phase.
 */
export function dropBoundingSet(ctx: InitContext): void {
  const { table, set } = settings(ctx);
  const dropped: string[] = [];
  onMainThread();

  for (let cap = 0; cap <= table.lastCap; cap++) {
    if (hasCapability(set, cap)) continue;
    const name = table.names[cap] ?? `CAP_${cap}`;
    capbsetDrop(cap, name);
    dropped.push(name);
  }
  ctx.log.debug(
    `prctl(PR_CAPBSET_DROP) x${dropped.length}: ${dropped.join(' ')}`,
  );

  for (let cap = 0; cap <= table.lastCap; cap++) {
    const name = table.names[cap] ?? `CAP_${cap}`;
    if (capbsetRead(cap, name) !== hasCapability(set, cap)) {
      throw new Error(
        `prctl(PR_CAPBSET_READ, ${name}) disagrees with the set ` +
          `${formatCapSet(set)} after the drops`,
      );
    }
  }

  setKeepcaps(true);
  ctx.log.debug('prctl(PR_SET_KEEPCAPS, 1)');
}
// #endregion drop-bounding-set

// #region set-capabilities (lab)
/**
 * Set the final sets, after the credentials phase switched uid: root in
 * the container gets the set as permitted and effective, any other uid
 * gets nothing (what Docker does); inheritable and ambient are empty for
 * everyone, so no capability reaches a program through execve except the
 * ones root gets back from the bounding set.
 */
export function setCapabilities(ctx: InitContext): void {
  const { table, set } = settings(ctx);
  const root = process.geteuid?.() === 0;
  onMainThread();

  capAmbientClearAll();
  ctx.log.debug('prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)');

  const wanted: ThreadCaps = {
    effective: root ? set : EMPTY,
    permitted: root ? set : EMPTY,
    inheritable: EMPTY,
  };
  capset(wanted);
  ctx.log.debug(
    `capset(effective=permitted=${formatCapSet(wanted.permitted)}, ` +
      `inheritable=0) as uid ${process.geteuid?.()}: ` +
      `${capNames(table, wanted.permitted).join(' ') || '(none)'}`,
  );

  // Keepcaps has done its job; a later setuid in the init must not keep
  // anything (execve would clear it anyway).
  setKeepcaps(false);
  ctx.log.debug('prctl(PR_SET_KEEPCAPS, 0)');

  const got = capget();
  for (const key of ['effective', 'permitted', 'inheritable'] as const) {
    if (got[key] !== wanted[key]) {
      throw new Error(
        `capget: ${key} is ${formatCapSet(got[key])} after capset ` +
          `asked for ${formatCapSet(wanted[key])}`,
      );
    }
  }
}
// #endregion set-capabilities

// #region no-new-privs
/**
 * Set no_new_privs unless --no-new-privileges=false: the command and
 * everything it starts can never gain privileges through execve. It is
 * also what lets step 5 load a seccomp filter without CAP_SYS_ADMIN.
 */
export function noNewPrivs(ctx: InitContext): void {
  if (!capabilitiesSection.get(ctx.config).noNewPrivs) {
    ctx.log.debug('no_new_privs left off (--no-new-privileges=false)');
    return;
  }

  onMainThread();
  setNoNewPrivs();
  if (!getNoNewPrivs()) {
    throw new Error('prctl(PR_GET_NO_NEW_PRIVS) = 0 after setting it');
  }
  ctx.log.debug('prctl(PR_SET_NO_NEW_PRIVS, 1)');
}
// #endregion no-new-privs

/** Step 4's work in the init. */
export const initLayer: InitLayer = {
  name: 'capabilities',
  phases: {
    bounding: (ctx) => withContext('capabilities', () => dropBoundingSet(ctx)),
    capabilities: (ctx) =>
      withContext('capabilities', () => setCapabilities(ctx)),
    no_new_privs: (ctx) => withContext('no_new_privs', () => noNewPrivs(ctx)),
  },
};
