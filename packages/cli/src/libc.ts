// The libc boundary: every kernel call tincan makes from JavaScript goes
// through a koffi binding declared here (or in a later step's own bindings
// module, on the same pattern). Each wrapper is named after its call, reads
// errno right after it and throws a SyscallError naming the call, the errno
// and the arguments that matter.

import { koffi } from './koffi';
import { constants } from 'node:os';

/** A raw pointer to native (malloc'd) memory, as koffi hands it out. */
export interface NativePointer {
  /** a type-only mark: no JavaScript value is a NativePointer by accident */
  readonly __brand: 'NativePointer';
}

/** glibc, loaded once per process. */
export const libc = koffi.load('libc.so.6');

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

const strerrorC = libc.func('const char *strerror(int errnum)');

/** The symbolic name of an errno value (`EPERM`), or `errno N`. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The errno value for a symbolic name, e.g. `errnoValue('EPERM') === 1`. */
export function errnoValue(name: string): number {
  const value = (constants.errno as Record<string, number>)[name];
  if (value === undefined) throw new Error(`unknown errno name ${name}`);
  return value;
}

/** The C library's text for an errno value. */
export function strerror(errno: number): string {
  return String(strerrorC(errno));
}

/**
 * A failed kernel call: its name, errno, and the arguments worth showing.
 * The message reads like the call that failed, e.g.
 * `pivot_root("/tmp/x", ".oldroot"): EINVAL (Invalid argument)`.
 */
export class SyscallError extends Error {
  /** errno name, e.g. `EPERM` */
  readonly code: string;

  constructor(
    /** the call that failed, e.g. `mount` */
    readonly syscall: string,
    /** the errno value it left */
    readonly errno: number,
    /** the arguments, already formatted for a human */
    readonly args: readonly string[] = [],
  ) {
    super(
      `${syscall}(${args.join(', ')}): ${errnoName(errno)} (${strerror(errno)})`,
    );
    this.name = 'SyscallError';
    this.code = errnoName(errno);
  }
}

/** Quote a path or string argument the way an strace line would. */
export function q(value: string): string {
  return JSON.stringify(value);
}

/** Name the bits of `flags` from `table`; unknown bits stay in hex. */
export function flagNames(
  flags: number,
  table: Readonly<Record<string, number>>,
): string {
  const names: string[] = [];
  let rest = flags >>> 0;
  for (const [name, bit] of Object.entries(table)) {
    if (bit !== 0 && (rest & bit) >>> 0 === bit >>> 0) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0 || names.length === 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/**
 * Call a libc function that returns -1 and sets errno on failure, retrying
 * on EINTR when `retry` is set, and throw a SyscallError otherwise.
 */
export function check<T extends number | bigint>(
  syscall: string,
  args: readonly string[],
  call: () => T,
  retry = false,
): T {
  for (;;) {
    const ret = call();
    if (Number(ret) !== -1) return ret;
    // Read errno before anything else runs: any JavaScript that writes to a
    // stream in between may replace it.
    const errno = koffi.errno();
    if (retry && errno === constants.errno.EINTR) continue;
    throw new SyscallError(syscall, errno, args);
  }
}

// ---- memory --------------------------------------------------------------

const mallocC = libc.func('void *malloc(size_t size)');
const freeC = libc.func('void free(void *ptr)');
const dlsymC = libc.func('void *dlsym(void *handle, const char *symbol)');

/** malloc(3): native memory that V8's heap knows nothing about. */
export function malloc(size: number): NativePointer {
  const ptr = mallocC(size) as NativePointer | null;
  if (ptr === null) throw new SyscallError('malloc', constants.errno.ENOMEM);
  return ptr;
}

/** free(3). */
export function free(ptr: NativePointer): void {
  freeC(ptr);
}

const getrandomC = libc.func(
  'long getrandom(_Out_ uint8_t *buf, size_t buflen, unsigned int flags)',
);

/**
 * getrandom(2): `size` bytes from the kernel's random pool. tincan needs a
 * few for container ids and hostnames; asking the kernel directly spares
 * the parent loading node:crypto (about 3 ms of CPU per start).
 */
export function getrandom(size: number): Buffer {
  const buf = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const rest = Buffer.alloc(size - done);
    const n = check('getrandom', [String(size - done)], () =>
      Number(getrandomC(rest, rest.length, 0)),
    );
    rest.copy(buf, done, 0, n);
    done += n;
  }
  return buf;
}

/** A random integer in [0, bound), bound at most 2^32 (getrandom-backed). */
export function randomBelow(bound: number): number {
  // The modulo bias is at most bound / 2^32: nothing for a hostname.
  return getrandom(4).readUInt32LE(0) % bound;
}

/** The address of a native pointer, as a number. */
export function addressOf(ptr: NativePointer): number {
  return Number(koffi.address(ptr));
}

/**
 * dlsym(3) with RTLD_DEFAULT: the address of a libc function, to hand to
 * code that runs where JavaScript cannot (the native stage).
 */
export function dlsym(symbol: string): NativePointer {
  const ptr = dlsymC(null, symbol) as NativePointer | null;
  if (ptr === null) {
    throw new Error(`dlsym(RTLD_DEFAULT, ${q(symbol)}): symbol not found`);
  }
  return ptr;
}

/** Write bytes into native memory at `ptr + offset`. */
export function pokeBytes(
  ptr: NativePointer,
  offset: number,
  bytes: Uint8Array,
): void {
  if (bytes.length === 0) return;
  koffi.encode(ptr, offset, koffi.array('uint8_t', bytes.length), bytes);
}

/** Write a pointer-sized value (a pointer or null) at `ptr + offset`. */
export function pokePointer(
  ptr: NativePointer,
  offset: number,
  value: NativePointer | null,
): void {
  koffi.encode(ptr, offset, 'void *', value);
}

/** Write an unsigned 64-bit value at `ptr + offset`. */
export function pokeU64(ptr: NativePointer, offset: number, value: number) {
  koffi.encode(ptr, offset, 'uint64_t', value);
}

/** Write a signed 32-bit value at `ptr + offset`. */
export function pokeI32(ptr: NativePointer, offset: number, value: number) {
  koffi.encode(ptr, offset, 'int32_t', value);
}

/** A NUL-terminated copy of `text` in native memory. */
export function nativeString(text: string): NativePointer {
  const bytes = Buffer.from(`${text}\0`, 'utf8');
  const ptr = malloc(bytes.length);
  pokeBytes(ptr, 0, bytes);
  return ptr;
}

/** A NULL-terminated array of native strings (an argv or envp). */
export function nativeStringArray(items: readonly string[]): NativePointer {
  const array = malloc(8 * (items.length + 1));
  items.forEach((item, i) => pokePointer(array, 8 * i, nativeString(item)));
  pokePointer(array, 8 * items.length, null);
  return array;
}

// ---- processes -----------------------------------------------------------

/** SIGCHLD: the signal a clone child sends its parent when it exits. */
export const SIGCHLD = constants.signals.SIGCHLD;

const cloneC = libc.func(
  'int clone(void *fn, void *stack, int flags, void *arg, ...)',
);
const getcontextC = libc.func('int getcontext(void *ucp)');
const makecontextC = libc.func(
  'void makecontext(void *ucp, void *func, int argc, ...)',
);
const waitpidC = libc.func(
  'int waitpid(int pid, _Out_ int *wstatus, int options)',
);
const killC = libc.func('int kill(int pid, int sig)');
const prctlC = libc.func(
  'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
);
const execveC = libc.func(
  'int execve(const char *path, void *argv, void *envp)',
);

/** The clone flag names used in debug lines and errors. */
export const CLONE_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  SIGCHLD,
};

/**
 * glibc clone(3): start `fn(arg)` on `stackTop` in a new process.
 * `stackTop` is the highest address of the stack: the wrapper writes below
 * the pointer it is given, in the parent, before the child exists.
 */
export function clone(
  fn: NativePointer,
  stackTop: number,
  flags: number,
  arg: NativePointer | null,
): number {
  return check('clone', [flagNames(flags, CLONE_FLAGS)], () =>
    Number(cloneC(fn, stackTop, flags, arg)),
  );
}

/** getcontext(3) into native memory. */
export function getcontext(ucp: NativePointer): void {
  check('getcontext', [], () => Number(getcontextC(ucp)));
}

/** A typed argument for a variadic call: koffi needs each type spelled. */
export type VarArg = ['int' | 'long' | 'void *', number | NativePointer];

/** makecontext(3): make `ucp` call `fn(args…)` when it is switched to. */
export function makecontext(
  ucp: NativePointer,
  fn: NativePointer,
  args: readonly VarArg[],
): void {
  makecontextC(ucp, fn, args.length, ...args.flat());
}

/** The result of waitpid(2), decoded. */
export type WaitStatus =
  | {
      /** the process called exit or returned from main */
      kind: 'exited';
      /** its exit status, 0-255 */
      code: number;
    }
  | {
      /** the process was killed by a signal */
      kind: 'signaled';
      /** the signal's number */
      signal: number;
      /** whether it left a core dump */
      coreDumped: boolean;
    };

/** Decode a wait status word (WIFEXITED, WEXITSTATUS, WTERMSIG…). */
export function decodeWaitStatus(status: number): WaitStatus {
  const signal = status & 0x7f;
  if (signal === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  return { kind: 'signaled', signal, coreDumped: (status & 0x80) !== 0 };
}

/**
 * waitpid(2) on one of libuv's worker threads, so the event loop keeps
 * forwarding signals while the container runs. Any thread of a process
 * may reap the children another thread created.
 */
export function waitpidAsync(pid: number): Promise<WaitStatus> {
  return new Promise((resolve, reject) => {
    const status = [0];
    const attempt = (): void => {
      (waitpidC.async as (...a: unknown[]) => void)(
        pid,
        status,
        0,
        (err: unknown, ret: number) => {
          if (err) return reject(asError(err));
          if (ret === -1) {
            const errno = koffi.errno();
            if (errno === constants.errno.EINTR) return attempt();
            return reject(new SyscallError('waitpid', errno, [String(pid)]));
          }
          resolve(decodeWaitStatus(status[0] ?? 0));
        },
      );
    };
    attempt();
  });
}

/** waitpid(2), blocking the calling thread. */
export function waitpid(pid: number, options = 0): [number, WaitStatus] {
  const status = [0];
  const ret = check(
    'waitpid',
    [String(pid)],
    () => Number(waitpidC(pid, status, options)),
    true,
  );
  return [ret, decodeWaitStatus(status[0] ?? 0)];
}

const setsidC = libc.func('int setsid()');

/** setsid(2): a new session with no controlling terminal. */
export function setsid(): number {
  return check('setsid', [], () => Number(setsidC()));
}

/** kill(2). */
export function kill(pid: number, signal: number): void {
  check('kill', [String(pid), String(signal)], () =>
    Number(killC(pid, signal)),
  );
}

/** prctl(2) option numbers tincan uses. */
export const PR = {
  /** the signal the caller gets when the thread that made it exits */
  SET_PDEATHSIG: 1,
  /** whether the process may dump core and be ptraced by its user */
  SET_DUMPABLE: 4,
  /** keep the permitted capabilities across a switch from uid 0 */
  SET_KEEPCAPS: 8,
  /** the thread's name, as `ps` shows it */
  SET_NAME: 15,
  /** whether a capability is in the bounding set */
  CAPBSET_READ: 23,
  /** drop a capability from the bounding set */
  CAPBSET_DROP: 24,
  /** execve may never grant privileges again (setuid bits, file caps) */
  SET_NO_NEW_PRIVS: 38,
  /** read the no_new_privs bit */
  GET_NO_NEW_PRIVS: 39,
  /** read or change the ambient capability set */
  CAP_AMBIENT: 47,
} as const;

/** prctl(2). `name` is the option's name, used in the error. */
export function prctl(
  name: string,
  option: number,
  arg2 = 0,
  arg3 = 0,
  arg4 = 0,
  arg5 = 0,
): number {
  return check(`prctl(${name})`, [arg2, arg3].map(String), () =>
    Number(prctlC(option, arg2, arg3, arg4, arg5)),
  );
}

/** execve(2): returns only by throwing. */
export function execve(
  path: string,
  argv: readonly string[],
  env: readonly string[],
): never {
  const argvC = nativeStringArray(argv);
  const envC = nativeStringArray(env);
  execveC(path, argvC, envC);
  const errno = koffi.errno();
  throw new SyscallError('execve', errno, [q(path)]);
}

// ---- file descriptors and sockets ----------------------------------------

const socketpairC = libc.func(
  'int socketpair(int domain, int type, int protocol, _Out_ int *sv)',
);
const fcntlC = libc.func('int fcntl(int fd, int cmd, ...)');
const closeRangeC = libc.func(
  'int close_range(unsigned int first, unsigned int last, int flags)',
);
const readC = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t count)');

/** Socket constants tincan uses. */
export const AF_UNIX = 1;
/** A socket that keeps message boundaries (one write, one read). */
export const SOCK_SEQPACKET = 5;
/** Close the fd on execve. */
export const SOCK_CLOEXEC = 0o2000000;

/** socketpair(2): two connected sockets. */
export function socketpair(type: number): [number, number] {
  const sv = [0, 0];
  check('socketpair', ['AF_UNIX', `type=${type}`], () =>
    Number(socketpairC(AF_UNIX, type, 0, sv)),
  );
  return [sv[0] ?? -1, sv[1] ?? -1];
}

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** fcntl(fd, F_SETFD): set or clear FD_CLOEXEC on one fd. */
export function setCloexec(fd: number, on: boolean): void {
  const flags = check('fcntl', [String(fd), 'F_GETFD'], () =>
    Number(fcntlC(fd, F_GETFD)),
  );
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  check('fcntl', [String(fd), 'F_SETFD', on ? 'FD_CLOEXEC' : '0'], () =>
    Number(fcntlC(fd, F_SETFD, 'int', next)),
  );
}

/** close_range(2) flag: mark the range close-on-exec instead of closing. */
export const CLOSE_RANGE_CLOEXEC = 4;

/** close_range(2). */
export function closeRange(first: number, last: number, flags: number): void {
  check('close_range', [String(first), String(last), String(flags)], () =>
    Number(closeRangeC(first, last >>> 0, flags)),
  );
}

/**
 * read(2) of one message on a worker thread. Resolves with the bytes read;
 * an empty buffer means end of file.
 */
export function readAsync(fd: number, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.alloc(size);
    const attempt = (): void => {
      (readC.async as (...a: unknown[]) => void)(
        fd,
        buf,
        size,
        (err: unknown, ret: number | bigint) => {
          if (err) return reject(asError(err));
          const n = Number(ret);
          if (n === -1) {
            const errno = koffi.errno();
            if (errno === constants.errno.EINTR) return attempt();
            return reject(new SyscallError('read', errno, [String(fd)]));
          }
          resolve(buf.subarray(0, n));
        },
      );
    };
    attempt();
  });
}

// ---- signals -------------------------------------------------------------

const signalC = libc.func('void *signal(int signum, void *handler)');
const sigprocmaskC = libc.func(
  'int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)',
);

/**
 * Block every signal in the calling thread; returns the mask to restore.
 * A child cloned meanwhile starts with them blocked, so none of the
 * parent's JavaScript signal handlers can run in it.
 */
export function blockAllSignals(): Buffer {
  const SIG_BLOCK = 0;
  const all = Buffer.alloc(128, 0xff);
  const old = Buffer.alloc(128);
  check('pthread_sigmask', ['SIG_BLOCK', 'all'], () =>
    Number(sigprocmaskC(SIG_BLOCK, all, old)),
  );
  return old;
}

/** Put back a mask blockAllSignals returned. */
export function restoreSignalMask(old: Buffer): void {
  const SIG_SETMASK = 2;
  check('pthread_sigmask', ['SIG_SETMASK', 'old'], () =>
    Number(sigprocmaskC(SIG_SETMASK, old, null)),
  );
}

/** The highest signal number on Linux (SIGRTMAX). */
export const SIGRTMAX = 64;

/**
 * Reset every signal to its default disposition and unblock them all.
 * Ignored signals survive execve (Node ignores SIGPIPE and SIGXFSZ), and so
 * does the calling thread's mask.
 */
export function resetSignals(): void {
  for (let sig = 1; sig <= SIGRTMAX; sig++) {
    // SIGKILL and SIGSTOP cannot be changed; 32 and 33 belong to glibc.
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue;
    signalC(sig, null);
  }
  const SIG_SETMASK = 2;
  const empty = Buffer.alloc(128);
  check('pthread_sigmask', ['SIG_SETMASK', '{}'], () =>
    Number(sigprocmaskC(SIG_SETMASK, empty, null)),
  );
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
