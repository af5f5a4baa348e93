// A new network namespace has one interface, lo, and it is down. The init
// brings it up with the SIOCSIFFLAGS ioctl so that 127.0.0.1 works inside.
// See netdevice(7).

import { closeSync } from 'node:fs';
import { check, libc } from '@tincan/cli';

const socketC = libc.func('int socket(int domain, int type, int protocol)');
const ioctlC = libc.func(
  'int ioctl(int fd, unsigned long request, uint8_t *arg)',
);

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
/** struct ifreq: a 16-byte name, then a union whose first field is flags. */
const IFREQ_SIZE = 40;
const IFR_FLAGS = 16;

// #region loopback-up (lab)
/** Bring the interface `name` up: read its flags, add IFF_UP, write. */
export function interfaceUp(name: string): void {
  const fd = check('socket', ['AF_INET', 'SOCK_DGRAM'], () =>
    Number(socketC(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
  );
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(name, 0, 15, 'ascii');
    check('ioctl', [String(fd), 'SIOCGIFFLAGS', name], () =>
      Number(ioctlC(fd, SIOCGIFFLAGS, ifr)),
    );
    ifr.writeUInt16LE(ifr.readUInt16LE(IFR_FLAGS) | IFF_UP, IFR_FLAGS);
    check('ioctl', [String(fd), 'SIOCSIFFLAGS', `${name} IFF_UP`], () =>
      Number(ioctlC(fd, SIOCSIFFLAGS, ifr)),
    );
  } finally {
    closeSync(fd);
  }
}
// #endregion loopback-up
