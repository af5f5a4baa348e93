import { EXPECTATIONS, parseProbe } from './check-container';

describe('the in-container probe', () => {
  const facts = parseProbe(
    'pid 1\nUid\t0\t0\t0\t0\nGroups\t\nCapEff\t00000000a80425fb\nuidmap 0 100000 65536\nfds 0 1 2 3 \n',
  );

  test('lines are key and value; an empty value stays empty', () => {
    expect(facts.get('pid')).toBe('1');
    expect(facts.get('Groups')).toBe('');
    expect(facts.get('uidmap')).toBe('0 100000 65536');
  });

  test('promises are judged on the facts', () => {
    const judge = (what: string): boolean | undefined =>
      EXPECTATIONS.find((e) => e.what === what)?.holds(facts);
    expect(judge('PID 1 of its own pid namespace')).toBe(true);
    expect(judge('root inside is not root outside')).toBe(true);
    expect(judge('only fds 0-2 reach the command')).toBe(true);
    expect(
      EXPECTATIONS.find(
        (e) => e.what === 'root inside is not root outside',
      )?.holds(parseProbe('uidmap 0 0 4294967295')),
    ).toBe(false);
  });
});
