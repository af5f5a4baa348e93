import { exitCodeOf, RuntimeError, withContext } from './errors';
import { decodeWaitStatus } from './libc';

describe('exit statuses', () => {
  test("the command's own status, or 128+N for signal N", () => {
    expect(exitCodeOf(decodeWaitStatus(3 << 8))).toBe(3);
    expect(exitCodeOf(decodeWaitStatus(15))).toBe(143);
    expect(exitCodeOf(decodeWaitStatus(9 | 0x80))).toBe(137);
    expect(decodeWaitStatus(11 | 0x80)).toEqual({
      kind: 'signaled',
      signal: 11,
      coreDumped: true,
    });
  });
});

describe('error context', () => {
  test('one phrase per layer, cause kept, exit code kept', () => {
    const inner = new RuntimeError('execve("/x"): ENOENT', 127);
    let caught: unknown;
    try {
      withContext('mounts', () => {
        throw inner;
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RuntimeError);
    expect((caught as RuntimeError).message).toBe(
      'mounts: execve("/x"): ENOENT',
    );
    expect((caught as RuntimeError).exitCode).toBe(127);
    expect((caught as RuntimeError).cause).toBe(inner);
  });
});

describe('container ids', () => {
  test('12 hex digits ending in the owner pid', () => {
    const { newContainerId, containerOwnerPid } =
      require('./container') as typeof import('./container');
    const id = newContainerId(4194304);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(containerOwnerPid(id)).toBe(4194304);
  });
});
