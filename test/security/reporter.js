// The security suite's jest reporter: one line per case as it finishes,
// the first line of each failure's reason, and a last line
// `N passed, N failed` that CI logs and people grep for.

class SecurityReporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.failures = [];
  }

  onTestResult(test, result) {
    const file = require('node:path').basename(test.path);
    if (result.testExecError) {
      this.failed += 1;
      const why = firstLine(result.testExecError.message);
      this.failures.push(`${file}: ${why}`);
      process.stdout.write(`FAIL ${file}: could not run: ${why}\n`);
    }
    for (const t of result.testResults) {
      const name = t.fullName || t.title;
      const took =
        typeof t.duration === 'number' && t.duration >= 1000
          ? ` (${(t.duration / 1000).toFixed(1)} s)`
          : '';
      if (t.status === 'passed') {
        this.passed += 1;
        process.stdout.write(`PASS ${name}${took}\n`);
      } else if (t.status === 'failed') {
        this.failed += 1;
        const why = firstLine(t.failureMessages.join('\n'));
        this.failures.push(`${name}\n${detail(t.failureMessages.join('\n'))}`);
        process.stdout.write(`FAIL ${name}${took}\n    ${why}\n`);
      }
    }
  }

  onRunComplete() {
    if (this.failures.length > 0) {
      process.stdout.write('\nfailed cases:\n');
      for (const f of this.failures) process.stdout.write(`  ${f}\n`);
    }
    process.stdout.write(`${this.passed} passed, ${this.failed} failed\n`);
  }
}

// A failure in one line: jest's message and the start of its diff,
// without colour codes or stack frames.
function firstLine(text) {
  const plain = String(text).replace(/\u001b\[[0-9;]*m/g, '');
  const lines = [];
  for (const raw of plain.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('at ')) break;
    if (l === '' || l === 'Error:') continue;
    lines.push(l.replace(/^Error: /, ''));
  }
  return (lines.slice(0, 8).join(' | ') || 'failed').slice(0, 500);
}

// The start of a failure, stack frames left out, for the closing list.
function detail(text) {
  const plain = String(text).replace(/\u001b\[[0-9;]*m/g, '');
  return plain
    .split('\n')
    .filter((l) => !/^\s+at /.test(l) && l.trim() !== '')
    .slice(0, 30)
    .map((l) => `      ${l}`)
    .join('\n');
}

module.exports = SecurityReporter;
