import {
  commandFrom,
  environmentFrom,
  splitCommandLine,
  unclosedQuote,
} from './config';

describe('command lines', () => {
  test('split like a shell, quotes respected', () => {
    expect(splitCommandLine(`sh -c 'echo "a b"; exit 3'`)).toEqual([
      'sh',
      '-c',
      'echo "a b"; exit 3',
    ]);
    expect(splitCommandLine('ls  -l "my dir"')).toEqual(['ls', '-l', 'my dir']);
    expect(splitCommandLine('echo $HOME')).toEqual(['echo', '$HOME']);
  });

  test('refuse empty lines and shell operators', () => {
    expect(() => splitCommandLine('  ')).toThrow(/empty/);
    expect(() => splitCommandLine('ls | wc')).toThrow(/shell syntax "\|"/);
    expect(() => splitCommandLine('a > b')).toThrow(/shell syntax/);
  });

  test('refuse a quote that is never closed, as a shell would', () => {
    expect(() => splitCommandLine("echo 'unterminated")).toThrow(
      "--command: the ' quote is never closed",
    );
    expect(() => splitCommandLine('echo "a b')).toThrow(
      '--command: the " quote is never closed',
    );
    expect(unclosedQuote(`echo "it's" 'say "hi"'`)).toBeUndefined();
    expect(unclosedQuote('echo \\"')).toBeUndefined();
    expect(unclosedQuote('echo "a \\" b')).toBe('"');
    expect(unclosedQuote("echo 'a \\' b")).toBeUndefined();
    expect(splitCommandLine(`echo "it's"`)).toEqual(['echo', "it's"]);
  });

  test('the command comes from -c or the arguments, not both', () => {
    expect(commandFrom({ command: 'ls -l' }, [])).toEqual(['ls', '-l']);
    expect(commandFrom({}, ['ls', '-l'])).toEqual(['ls', '-l']);
    expect(() => commandFrom({ command: 'ls' }, ['ls'])).toThrow(/not both/);
    expect(() => commandFrom({}, [])).toThrow(/missing/);
  });
});

describe('the environment', () => {
  test('defaults, then --env in order', () => {
    expect(
      environmentFrom(['A=1', 'PATH=/x', 'A=2', 'EMPTY='], 'xterm'),
    ).toEqual(['PATH=/x', 'HOME=/root', 'TERM=xterm', 'A=2', 'EMPTY=']);
    expect(environmentFrom([], undefined)).toHaveLength(2);
  });

  test('bad entries are named', () => {
    expect(() => environmentFrom(['FOO'], undefined)).toThrow(
      /--env FOO: expected KEY=VALUE/,
    );
    expect(() => environmentFrom(['1A=x'], undefined)).toThrow(
      /not a valid variable name/,
    );
    expect(() => environmentFrom(['=x'], undefined)).toThrow(
      /not a valid variable name/,
    );
  });
});
