import {
  formatIdMap,
  isMapped,
  outsideId,
  parseIdMap,
  subordinateRange,
  validateIdMap,
} from './id-map';

describe('id maps', () => {
  test('parse both podman forms', () => {
    expect(parseIdMap('--uidmap', '0:100000:65536')).toEqual({
      inside: 0,
      outside: 100000,
      count: 65536,
    });
    expect(parseIdMap('--uidmap', '200000:10')).toEqual({
      inside: 0,
      outside: 200000,
      count: 10,
    });
    expect(() => parseIdMap('--uidmap', '1:2:3:4')).toThrow(/expected/);
    expect(() => parseIdMap('--uidmap', '-1:2')).toThrow(/expected/);
  });

  test('reject host root, empty, too wide and overlapping maps', () => {
    const v = (m: string[]) => () =>
      validateIdMap(
        '--uidmap',
        m.map((t) => parseIdMap('--uidmap', t)),
      );
    expect(v(['0:100000:65536'])).not.toThrow();
    expect(v(['0:0:1'])).toThrow(/host id 0/);
    expect(v(['0:1:0'])).toThrow(/count is zero/);
    expect(v(['0:4294967000:1000'])).toThrow(/past 2\^32-1/);
    expect(v(['0:100000:10', '5:200000:10'])).toThrow(/overlap inside/);
    expect(v(['0:100000:10', '10:100005:10'])).toThrow(/overlap outside/);
    expect(v([])).toThrow(/empty/);
  });

  test('format one line a range, as the kernel wants', () => {
    expect(
      formatIdMap([
        { inside: 0, outside: 100000, count: 65536 },
        { inside: 70000, outside: 300000, count: 1 },
      ]),
    ).toBe('0 100000 65536\n70000 300000 1\n');
  });

  test('look ids up', () => {
    const map = [{ inside: 0, outside: 100000, count: 10 }];
    expect(isMapped(map, 9)).toBe(true);
    expect(isMapped(map, 10)).toBe(false);
    expect(outsideId(map, 3)).toBe(100003);
    expect(outsideId(map, 11)).toBeUndefined();
  });

  test('read subuid(5) lines by name or uid', () => {
    const text = '# comment\nalice:100000:65536\nroot:300000:65536\n';
    expect(subordinateRange(text, 'root', 0)).toEqual({
      outside: 300000,
      count: 65536,
    });
    expect(subordinateRange('0:400000:10\n', 'root', 0)).toEqual({
      outside: 400000,
      count: 10,
    });
    expect(subordinateRange(text, 'bob', 1000)).toBeUndefined();
  });
});
