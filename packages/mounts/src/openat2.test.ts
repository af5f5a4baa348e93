import {
  closeSync,
  fstatSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_PATH,
  O_WRONLY,
  openat,
  openBeneath,
  tryMkdirat,
  tryOpenatMode,
  tryOpenBeneath,
  trySymlinkat,
} from './openat2';

const ENOENT = 2;
const EEXIST = 17;
const ENOTDIR = 20;
const ELOOP = 40;
const EXDEV = 18;

// The *at calls the init builds the root with, on a plain temp dir: none
// of them needs privileges.
describe('opening and creating beneath a directory', () => {
  let dir: string;
  let rootFd: number;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tincan-openat2-'));
    mkdirSync(path.join(dir, 'etc'));
    writeFileSync(path.join(dir, 'etc/passwd'), 'x');
    symlinkSync('/', path.join(dir, 'proc'));
    symlinkSync('etc', path.join(dir, 'conf'));
    rootFd = openat(-100, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  });

  afterAll(() => {
    closeSync(rootFd);
    rmSync(dir, { recursive: true });
  });

  // Kernels before 5.6 have no openat2: the init then always walks.
  const haveOpenat2 = () => tryOpenBeneath(rootFd, '/') !== undefined;

  test('a path without symlinks opens in one call', () => {
    if (!haveOpenat2()) return;
    const fd = tryOpenBeneath(rootFd, '/etc/passwd') as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fstatSync(fd).isFile()).toBe(true);
    closeSync(fd);
  });

  test('missing, symlinked, escaping and not-a-directory paths answer -errno', () => {
    if (!haveOpenat2()) return;
    expect(tryOpenBeneath(rootFd, '/nothing/here')).toBe(-ENOENT);
    expect(tryOpenBeneath(rootFd, '/proc')).toBe(-ELOOP);
    expect(tryOpenBeneath(rootFd, '/conf/passwd')).toBe(-ELOOP);
    expect(tryOpenBeneath(rootFd, '../etc')).toBe(-EXDEV);
    expect(tryOpenBeneath(rootFd, '/etc/passwd', O_DIRECTORY)).toBe(-ENOTDIR);
  });

  test('openBeneath throws where tryOpenBeneath answers', () => {
    expect(() => openBeneath(rootFd, '/proc')).toThrow(/ELOOP|symlink/);
    closeSync(openBeneath(rootFd, '/etc'));
  });

  test('mkdirat, symlinkat and openat(O_CREAT|O_EXCL) never replace anything', () => {
    expect(tryMkdirat(rootFd, 'tmp', 0o1777)).toBe(0);
    expect(tryMkdirat(rootFd, 'tmp', 0o755)).toBe(-EEXIST);
    expect(tryMkdirat(rootFd, 'proc', 0o755)).toBe(-EEXIST);

    expect(trySymlinkat('usr/bin', rootFd, 'bin')).toBe(0);
    expect(readlinkSync(path.join(dir, 'bin'))).toBe('usr/bin');
    expect(trySymlinkat('x', rootFd, 'etc')).toBe(-EEXIST);

    const flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    const fd = tryOpenatMode(rootFd, 'new', flags, 0o600);
    expect(fd).toBeGreaterThanOrEqual(0);
    closeSync(fd);
    // O_EXCL does not follow a symlink at the end, even to a new name.
    expect(tryOpenatMode(rootFd, 'proc', flags, 0o600)).toBe(-EEXIST);
    expect(tryOpenatMode(rootFd, 'new', flags, 0o600)).toBe(-EEXIST);
  });
});
