import { etcFiles } from './etc';

describe('etcFiles', () => {
  test('root only, with the host name and resolv.conf', () => {
    const files = etcFiles({
      hostname: 'box',
      uid: 0,
      gid: 0,
      resolvConf: 'nameserver 10.0.0.1\n',
    });
    expect(Object.keys(files).sort()).toEqual([
      'group',
      'hostname',
      'hosts',
      'nsswitch.conf',
      'passwd',
      'resolv.conf',
    ]);
    expect(files.passwd).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\n/);
    expect(files.passwd).not.toMatch(/^user:/m);
    expect(files.hostname).toBe('box\n');
    expect(files.hosts).toContain('127.0.1.1\tbox');
    expect(files['resolv.conf']).toBe('nameserver 10.0.0.1\n');
  });

  test('a container user gets a passwd and group line', () => {
    const files = etcFiles({ hostname: 'box', uid: 1000, gid: 1000 });
    expect(files.passwd).toMatch(/^user:x:1000:1000:/m);
    expect(files.group).toMatch(/^user:x:1000:$/m);
    expect(files['resolv.conf']).toBeUndefined();
  });
});
