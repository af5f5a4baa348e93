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
      if (t.status === 'passed') {
        this.passed += 1;
        process.stdout.write(`PASS ${name}\n`);
      } else if (t.status === 'failed') {
        this.failed += 1;
        const why = firstLine(t.failureMessages.join('\n'));
        this.failures.push(`${name}\n    ${why}`);
        process.stdout.write(`FAIL ${name}\n    ${why}\n`);
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

// The first meaningful line of a jest failure, without colour codes.
function firstLine(text) {
  const plain = String(text).replace(/\u001b\[[0-9;]*m/g, '');
  const lines = plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at ') && l !== 'Error:');
  const expectLine = lines.find((l) => /^(Expected|Received)/.test(l));
  const head = lines[0] ?? 'failed';
  return expectLine && head.startsWith('expect(')
    ? `${head} ${lines.slice(1, 4).join(' ')}`.slice(0, 300)
    : head.slice(0, 300);
}

module.exports = SecurityReporter;
