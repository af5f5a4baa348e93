// sethostname(2): the name the UTS namespace reports to uname(2).

import { check, libc, q } from '@tincan/cli';

const sethostnameC = libc.func('int sethostname(const char *name, size_t len)');

/** sethostname(2). */
export function sethostname(name: string): void {
  check('sethostname', [q(name)], () =>
    Number(sethostnameC(name, Buffer.byteLength(name))),
  );
}
