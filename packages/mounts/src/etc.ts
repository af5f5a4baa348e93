// The generated /etc of the default root (and of `tincan rootfs create`):
// just enough for programs to name their user and resolve localhost,
// and nothing of the host's own /etc (no shadow, no keys, no sudoers).

/** Who runs in the container and what it is called. */
export interface EtcInput {
  hostname: string;
  /** the command's uid and gid inside the container */
  uid: number;
  gid: number;
  /** the host's resolv.conf, copied as is; undefined when it has none */
  resolvConf?: string;
}

// #region etc-files
/** The files of the generated /etc, by name. */
export function etcFiles(input: EtcInput): Record<string, string> {
  const passwd = ['root:x:0:0:root:/root:/bin/sh'];
  const group = ['root:x:0:', 'tty:x:5:'];
  if (input.uid !== 0) {
    passwd.push(`user:x:${input.uid}:${input.gid}:user:/:/bin/sh`);
  }
  if (input.gid !== 0 && input.gid !== 5) {
    group.push(`user:x:${input.gid}:`);
  }
  passwd.push('nobody:x:65534:65534:nobody:/nonexistent:/bin/false');
  group.push('nogroup:x:65534:');
  const files: Record<string, string> = {
    passwd: lines(passwd),
    group: lines(group),
    hostname: lines([input.hostname]),
    hosts: lines([
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      `127.0.1.1\t${input.hostname}`,
    ]),
    'nsswitch.conf': lines([
      'passwd: files',
      'group: files',
      'hosts: files dns',
    ]),
  };
  if (input.resolvConf !== undefined) files['resolv.conf'] = input.resolvConf;
  return files;
}
// #endregion etc-files

function lines(items: readonly string[]): string {
  return `${items.join('\n')}\n`;
}
