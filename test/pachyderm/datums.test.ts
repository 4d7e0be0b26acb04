import { createHash } from 'node:crypto';
import { computeDatums, datumId, type DatumFile } from '../../src/pachyderm/datums';
import { parsePipelineSpec } from '../../src/pachyderm/spec';
import type { Input, PfsInput } from '../../src/pachyderm/types';

/** Parse an input tree through the real spec parser (so defaults are Pachyderm's). */
function inputOf(input: unknown): Input {
  return parsePipelineSpec({ pipeline: { name: 'p' }, transform: { cmd: ['true'] }, input }).input;
}

function repos(files: Record<string, Record<string, string>>) {
  return (pfs: PfsInput) => ({
    commit: `${pfs.repo}-commit`,
    files: Object.entries(files[pfs.repo] ?? {}).map(([path, hash]): DatumFile => ({ path, hash })),
  });
}

const data = repos({
  streaming: { '/r2': 'h2', '/r1': 'h1' },
  train: { '/model.bin': 'm', '/metrics.json': 'x' },
  empty: {},
});

function shape(input: unknown, filesOf = data) {
  return computeDatums(inputOf(input), filesOf).map((d) =>
    d.inputs.map((i) => `${i.name}:${i.matchedPath}[${i.files.map((f) => f.path).join(',')}]`),
  );
}

describe('computeDatums', () => {
  it('a PFS input: one datum per glob match, files sorted', () => {
    expect(shape({ pfs: { repo: 'streaming', glob: '/*' } })).toEqual([
      ['streaming:/r1[/r1]'],
      ['streaming:/r2[/r2]'],
    ]);
    expect(shape({ pfs: { repo: 'train', glob: '/' } })).toEqual([
      ['train:/[/metrics.json,/model.bin]'],
    ]);
  });

  it('the predict cross: each request with the whole model repo', () => {
    const ds = computeDatums(
      inputOf({
        cross: [{ pfs: { repo: 'streaming', glob: '/*' } }, { pfs: { repo: 'train', glob: '/' } }],
      }),
      data,
    );
    expect(ds.map((d) => d.inputs.map((i) => `${i.name}:${i.matchedPath}`))).toEqual([
      ['streaming:/r1', 'train:/'],
      ['streaming:/r2', 'train:/'],
    ]);
    expect(ds[0].inputs[0].commit).toBe('streaming-commit');
    expect(ds[0].inputs[1].files.map((f) => f.hash)).toEqual(['x', 'm']);
  });

  it('a cross with an empty input has no datum', () => {
    expect(
      shape({
        cross: [{ pfs: { repo: 'streaming', glob: '/*' } }, { pfs: { repo: 'empty', glob: '/' } }],
      }),
    ).toEqual([]);
  });

  it('a union concatenates', () => {
    expect(
      shape({
        union: [{ pfs: { repo: 'streaming', glob: '/*' } }, { pfs: { repo: 'train', glob: '/*' } }],
      }),
    ).toEqual([
      ['streaming:/r1[/r1]'],
      ['streaming:/r2[/r2]'],
      ['train:/metrics.json[/metrics.json]'],
      ['train:/model.bin[/model.bin]'],
    ]);
  });

  const joinData = repos({
    left: { '/1.csv': 'a', '/2.csv': 'b', '/3.csv': 'c' },
    right: { '/1.json': 'd', '/2.json': 'e', '/4.json': 'f' },
  });

  it('an inner join pairs the datums whose keys agree', () => {
    const join = {
      join: [
        { pfs: { repo: 'left', glob: '/*.csv', joinOn: '$1' } },
        { pfs: { repo: 'right', glob: '/*.json', joinOn: '$1' } },
      ],
    };
    expect(shape(join, joinData)).toEqual([
      ['left:/1.csv[/1.csv]', 'right:/1.json[/1.json]'],
      ['left:/2.csv[/2.csv]', 'right:/2.json[/2.json]'],
    ]);
  });

  it('an outer join keeps the unmatched datums of the outer input', () => {
    const join = {
      join: [
        { pfs: { repo: 'left', glob: '/*.csv', joinOn: '$1', outerJoin: true } },
        { pfs: { repo: 'right', glob: '/*.json', joinOn: '$1' } },
      ],
    };
    expect(shape(join, joinData)).toEqual([
      ['left:/1.csv[/1.csv]', 'right:/1.json[/1.json]'],
      ['left:/2.csv[/2.csv]', 'right:/2.json[/2.json]'],
      ['left:/3.csv[/3.csv]'],
    ]);
  });

  it('a group merges the datums with the same key', () => {
    const g = repos({ logs: { '/a-1': '1', '/a-2': '2', '/b-1': '3' } });
    expect(shape({ group: [{ pfs: { repo: 'logs', glob: '/*-*', groupBy: '$1' } }] }, g)).toEqual([
      ['logs:/a-1[/a-1]', 'logs:/a-2[/a-2]'],
      ['logs:/b-1[/b-1]'],
    ]);
  });
});

describe('datumId', () => {
  const base = {
    project: 'default',
    repo: 'r',
    branch: 'master',
    commit: 'c',
    glob: '/*',
    isDir: false,
  };

  it('is SHA-256 over names, matched paths, file paths and hashes', () => {
    const inputs = [{ ...base, name: 'in', matchedPath: '/a', files: [{ path: '/a', hash: 'h' }] }];
    const expected = createHash('sha256').update('input\0in\0/a\0file\0/a\0h\0').digest('hex');
    expect(datumId(inputs)).toBe(expected);
  });

  it('ignores the commit id, changes with content, path or input name', () => {
    const one = { ...base, name: 'in', matchedPath: '/a', files: [{ path: '/a', hash: 'h' }] };
    const id = datumId([one]);
    expect(datumId([{ ...one, commit: 'other' }])).toBe(id);
    expect(datumId([{ ...one, files: [{ path: '/a', hash: 'h2' }] }])).not.toBe(id);
    expect(datumId([{ ...one, name: 'in2' }])).not.toBe(id);
    expect(datumId([{ ...one, matchedPath: '/b', files: [{ path: '/b', hash: 'h' }] }])).not.toBe(
      id,
    );
  });
});
