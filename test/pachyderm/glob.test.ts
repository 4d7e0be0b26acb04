import {
  cleanGlob,
  expandCaptures,
  globCaptures,
  globFiles,
  globToRegExp,
} from '../../src/pachyderm/glob';

const files = ['/a/1.csv', '/a/2.csv', '/a/sub/3.csv', '/b.txt', '/c/x.json'];

function paths(glob: string): Array<[string, number[]]> {
  return globFiles(files, glob).map((m) => [m.path, m.fileIndexes]);
}

describe('cleanGlob', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['.', '/'],
    ['*', '/*'],
    ['/*/', '/*'],
    ['//a//*', '/a/*'],
    ['./a/./b', '/a/b'],
  ])('%j → %j', (g, want) => expect(cleanGlob(g)).toBe(want));
});

describe('globFiles', () => {
  it('"/" is the whole commit as one datum', () => {
    expect(paths('/')).toEqual([['/', [0, 1, 2, 3, 4]]]);
  });

  it('"/" on an empty commit matches nothing', () => {
    expect(globFiles([], '/')).toEqual([]);
  });

  it('"/*" is each top-level file or directory with everything under it', () => {
    expect(paths('/*')).toEqual([
      ['/a', [0, 1, 2]],
      ['/b.txt', [3]],
      ['/c', [4]],
    ]);
    expect(globFiles(files, '/*').map((m) => m.isDir)).toEqual([true, false, true]);
  });

  it('"/*/*" is each second-level entry', () => {
    expect(paths('/*/*')).toEqual([
      ['/a/1.csv', [0]],
      ['/a/2.csv', [1]],
      ['/a/sub', [2]],
      ['/c/x.json', [4]],
    ]);
  });

  it('"/**" matches every file and directory at any depth', () => {
    expect(paths('/**').map(([p]) => p)).toEqual([
      '/a',
      '/a/1.csv',
      '/a/2.csv',
      '/a/sub',
      '/a/sub/3.csv',
      '/b.txt',
      '/c',
      '/c/x.json',
    ]);
  });

  it('literal names, "?" and character classes', () => {
    expect(paths('/b.txt')).toEqual([['/b.txt', [3]]]);
    expect(paths('/a/?.csv')).toEqual([
      ['/a/1.csv', [0]],
      ['/a/2.csv', [1]],
    ]);
    expect(paths('/a/[2-9].csv')).toEqual([['/a/2.csv', [1]]]);
    expect(paths('/a/[!2].csv')).toEqual([['/a/1.csv', [0]]]);
    expect(paths('/{b.txt,c}')).toEqual([
      ['/b.txt', [3]],
      ['/c', [4]],
    ]);
    expect(paths('/**.csv').map(([p]) => p)).toEqual(['/a/1.csv', '/a/2.csv', '/a/sub/3.csv']);
  });

  it('"*" does not cross "/" and a dot is literal', () => {
    expect(globToRegExp('/*').test('/a/b')).toBe(false);
    expect(globToRegExp('/a.b').test('/axb')).toBe(false);
  });

  it('refuses an unclosed class naming the glob', () => {
    expect(() => globFiles(files, '/[ab')).toThrow('glob "/[ab": unclosed "["');
  });
});

describe('captures for joinOn / groupBy', () => {
  it('numbers the wildcards left to right', () => {
    expect(globCaptures('/*-*.txt', '/a-1.txt')).toEqual(['a', '1']);
    expect(globCaptures('/(*)', '/x')).toBeNull();
    expect(expandCaptures('$2/$1', ['a', '1'])).toBe('1/a');
  });
});
