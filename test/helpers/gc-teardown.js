// jest globalTeardown: tests that SIGKILL tincan on purpose (faults,
// lifecycle) leave what a killed tincan cannot remove; `tincan gc` is the
// tool for exactly that. Its ids name their tincan, so it never touches a
// container whose tincan still runs.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function gcTeardown() {
  const bin = path.join(__dirname, '../../packages/cli/bin/tincan.js');
  // Killed containers die with their tincan's death signal a moment later.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const out = spawnSync(process.execPath, [bin, 'gc', '--min-age', '0'], {
    encoding: 'utf8',
  });
  if (out.status !== 0) {
    process.stderr.write(
      `tincan gc after the tests failed:\n${out.stdout}${out.stderr}`,
    );
  }
};
