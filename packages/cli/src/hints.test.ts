import { hintFor } from './hints';
import { SyscallError } from './libc';

describe('hints', () => {
  const clone = new SyscallError('clone', 1, ['CLONE_NEWUSER']);
  const sysctls =
    (values: Record<string, string>) =>
    (file: string): string | undefined =>
      values[file];

  test('user namespaces disabled by a sysctl', () => {
    expect(
      hintFor(clone, sysctls({ 'user/max_user_namespaces': '0' }), true),
    ).toMatch(/user.max_user_namespaces=15000/);
    expect(
      hintFor(
        clone,
        sysctls({ 'kernel/unprivileged_userns_clone': '0' }),
        true,
      ),
    ).toMatch(/kernel.unprivileged_userns_clone=1/);
    expect(
      hintFor(
        clone,
        sysctls({ 'kernel/apparmor_restrict_unprivileged_userns': '1' }),
        true,
      ),
    ).toMatch(/AppArmor.*userns,/);
  });

  test('no hint for an unrelated error', () => {
    expect(hintFor(new Error('x'), sysctls({}), true)).toBeUndefined();
    expect(hintFor(clone, sysctls({}), false)).toBeUndefined();
  });

  test('EINVAL from unshare names the multi-threaded trap', () => {
    expect(
      hintFor(new SyscallError('unshare', 22), sysctls({}), false),
    ).toMatch(/multi-threaded/);
  });
});
