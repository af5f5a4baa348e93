// The native stage: the few libc calls the new process makes before it can
// run JavaScript again. Node cannot fork and keep running JavaScript (V8
// marks its heap MADV_DONTFORK) and cannot enter a user namespace (it is
// always multi-threaded), so the child runs a chain of ucontext_t's made
// with getcontext/makecontext, each calling one libc function and moving to
// the next through uc_link, ending in execve of a fresh Node: the init.

import {
  addressOf,
  clone,
  dlsym,
  getcontext,
  makecontext,
  malloc,
  nativeString,
  nativeStringArray,
  pokePointer,
  pokeU64,
  PR,
  SIGCHLD,
  type NativePointer,
  type VarArg,
} from './libc';

/**
 * One link of the chain: a libc function (looked up with dlsym) and its
 * arguments. Strings are copied into native memory by spawnNative.
 */
export interface ChainLink {
  /** the libc function, e.g. `setresuid` */
  fn: string;
  /** its arguments: numbers, or strings passed as `char *` */
  args: (number | string)[];
}

/** What the new process does, link by link, as data. *
 * @see [Lesson 1: the native stage](../../../steps/01-cli/README.md#the-native-stage)
 */
export interface ChainPlan {
  /** the fd the child reads the go byte from */
  syncFd: number;
  /** links between the go byte and execve (step 2 adds setres*id(0)) */
  links: ChainLink[];
  /** the program to execve */
  path: string;
  /** its argv */
  argv: string[];
  /** its environment */
  env: string[];
}

/** The signal that kills the child when the thread that made it exits. */
const SIGKILL = 9;

/**
 * The chain as the child runs it: arm the parent-death signal, wait for
 * the go byte, run the layers' links, arm the parent-death signal again
 * (a credential change clears it), execve, and _exit(127) should execve
 * fail.
 */
export function describeChain(plan: ChainPlan): ChainLink[] {
  const pdeathsig = {
    fn: 'prctl',
    args: [PR.SET_PDEATHSIG, SIGKILL, 0, 0, 0],
  };
  return [
    pdeathsig,
    { fn: 'read', args: [plan.syncFd, '\0', 1] },
    ...plan.links,
    ...(plan.links.length > 0 ? [pdeathsig] : []),
    { fn: 'execve', args: [plan.path, '\0argv', '\0envp'] },
    { fn: '_exit', args: [127] },
  ];
}

/** A readable form of the chain, for --debug and the lesson. */
export function formatChain(plan: ChainPlan): string {
  return describeChain(plan)
    .map(({ fn, args }) => {
      const shown = args.map((a) =>
        a === '\0'
          ? 'buf'
          : a === '\0argv'
            ? 'argv'
            : a === '\0envp'
              ? 'envp'
              : typeof a === 'string'
                ? JSON.stringify(a)
                : String(a),
      );
      return `${fn}(${shown.join(', ')})`;
    })
    .join(' -> ');
}

// Sizes in the native memory the child uses. sizeof(ucontext_t) is 968 on
// x86_64 glibc; 1 KiB leaves room. makecontext writes the first frame onto
// each context's own stack; a libc call needs little more.
const UCONTEXT_SIZE = 1024;
const CONTEXT_STACK_SIZE = 16 * 1024;
const CLONE_STACK_SIZE = 64 * 1024;

// Field offsets in glibc's ucontext_t, the same on x86_64 and aarch64.
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_SIZE = 32;

/**
 * Native memory that must outlive the child's execve. It is never freed:
 * tincan starts one container per process, and a few KiB are the price of
 * not racing the child.
 */
const keepAlive: NativePointer[] = [];

// #region spawn-native (lab)
/**
 * Clone a child that runs the chain of `plan` in the namespaces of
 * `flags`, and return its pid. Call it from the main thread: the
 * parent-death signal follows the thread that created the child.
 *
 * @see [Lesson 1: the native stage](../../../steps/01-cli/README.md#the-native-stage)
 */
export function spawnNative(plan: ChainPlan, flags: number): number {
  const links = describeChain(plan);
  const goByte = malloc(8);
  const argv = nativeStringArray(plan.argv);
  const envp = nativeStringArray(plan.env);
  keepAlive.push(goByte, argv, envp);

  const contexts = links.map(() => malloc(UCONTEXT_SIZE));
  keepAlive.push(...contexts);

  links.forEach((link, i) => {
    const ucp = contexts[i];
    getcontext(ucp);

    const stack = malloc(CONTEXT_STACK_SIZE);
    keepAlive.push(stack);
    pokePointer(ucp, UC_STACK_SP, stack);
    pokeU64(ucp, UC_STACK_SIZE, CONTEXT_STACK_SIZE);
    pokePointer(ucp, UC_LINK, contexts[i + 1] ?? null);

    const args: VarArg[] = link.args.map((arg) => {
      if (arg === '\0') return ['void *', goByte];
      if (arg === '\0argv') return ['void *', argv];
      if (arg === '\0envp') return ['void *', envp];
      if (typeof arg === 'string') {
        const str = nativeString(arg);
        keepAlive.push(str);
        return ['void *', str];
      }
      return ['long', arg];
    });
    makecontext(ucp, dlsym(link.fn), args);
  });

  const cloneStack = malloc(CLONE_STACK_SIZE);
  keepAlive.push(cloneStack);
  const stackTop = addressOf(cloneStack) + CLONE_STACK_SIZE;

  return clone(dlsym('setcontext'), stackTop, flags | SIGCHLD, contexts[0]);
}
// #endregion spawn-native
