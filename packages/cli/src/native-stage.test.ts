import { describeChain, formatChain } from './native-stage';

describe('the native chain', () => {
  const plan = {
    syncFd: 7,
    links: [],
    path: '/usr/bin/node',
    argv: ['/usr/bin/node', 'init.js', '7'],
    env: [],
  };

  test('step 1: pdeathsig, wait for go, execve, _exit(127)', () => {
    expect(describeChain(plan).map((l) => l.fn)).toEqual([
      'prctl',
      'read',
      'execve',
      '_exit',
    ]);
    expect(formatChain(plan)).toBe(
      'prctl(1, 9, 0, 0, 0) -> read(7, buf, 1) -> execve("/usr/bin/node", argv, envp) -> _exit(127)',
    );
  });

  test('layer links go after the go byte, and pdeathsig is armed again', () => {
    const links = [
      { fn: 'setresgid', args: [0, 0, 0] },
      { fn: 'setresuid', args: [0, 0, 0] },
    ];
    expect(describeChain({ ...plan, links }).map((l) => l.fn)).toEqual([
      'prctl',
      'read',
      'setresgid',
      'setresuid',
      'prctl',
      'execve',
      '_exit',
    ]);
  });
});
