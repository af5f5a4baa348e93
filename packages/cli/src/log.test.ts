import { printable } from './log';

describe('printable', () => {
  it('escapes what could drive a terminal or forge a line', () => {
    expect(printable('x\x1b[2J\x1b]0;PWNED\x07\ntincan: fake')).toBe(
      'x\\x1b[2J\\x1b]0;PWNED\\x07\\x0atincan: fake',
    );
    expect(printable('a\x9bb\x7f')).toBe('a\\x9bb\\x7f');
  });

  it('leaves text, tabs and non-ASCII letters alone', () => {
    expect(printable('mount("/tmp/é", "x")\tok')).toBe(
      'mount("/tmp/é", "x")\tok',
    );
  });
});
