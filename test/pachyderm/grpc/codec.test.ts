/**
 * The codec between the port's types and the wire messages: hand-written expected messages (field
 * names as on the wire, shared/pachyderm-api.md §2.2–2.5), exhaustive enum mappings, and round
 * trips through the real protobuf encoding of the .proto subset.
 */
import * as grpc from '@grpc/grpc-js';
import {
  CommitState,
  DatumState,
  FileType,
  JobState,
  OriginKind,
  PachCode,
  PachError,
  PipelineState,
  PipelineType,
  type CommitInfo,
  type JobInfo,
} from '../../../src/pachyderm';
import * as codec from '../../../src/pachyderm/grpc/codec';
import { loadProtos } from '../../../src/pachyderm/grpc/protos';
import { ModifyFileCollector } from '../../../src/pachyderm/grpc/server';
import { fromGrpcError, toGrpcStatus } from '../../../src/pachyderm/grpc/status';

const repo = { name: 'training', type: 'user' as const, project: { name: 'default' } };
const wireRepo = { name: 'training', type: 'user', project: { name: 'default' } };

/** Encode with the subset's serializer and decode again (what travels on the wire). */
function wire(service: 'pfs' | 'pps', method: string, msg: object, side: 'request' | 'response') {
  const def = loadProtos()[service].service[method];
  if (side === 'response') return def.responseDeserialize(def.responseSerialize(msg));
  return def.requestDeserialize(def.requestSerialize(msg));
}

describe('objects', () => {
  it('a branch head is {repo, id: "", branch} with every repo field set (§2.2 example)', () => {
    const c = codec.commitToWire({ repo, id: '', branch: { repo, name: 'master' } });
    expect(c).toEqual({
      repo: wireRepo,
      id: '',
      branch: { repo: wireRepo, name: 'master' },
    });
    const f = codec.fileToWire({
      commit: { repo, id: '', branch: { repo, name: 'master' } },
      path: '/data/a.csv',
    });
    expect(f).toEqual({
      commit: { repo: wireRepo, id: '', branch: { repo: wireRepo, name: 'master' } },
      path: '/data/a.csv',
      datum: '',
    });
  });

  it('reads an old-style commit (repo only in the branch) and defaults type and project', () => {
    const c = codec.commitFromWire({
      repo: null,
      id: '0123456789abcdef0123456789abcdef',
      branch: { repo: { name: 'r', type: '', project: null }, name: 'master' },
    });
    expect(c).toEqual({
      repo: { name: 'r', type: 'user', project: { name: 'default' } },
      id: '0123456789abcdef0123456789abcdef',
      branch: { repo: { name: 'r', type: 'user', project: { name: 'default' } }, name: 'master' },
    });
  });

  it('Commit keeps Pachyderm field numbers: branch=1, id=2, repo=3', () => {
    const def = loadProtos().pfs.service.StartCommit;
    const bytes = def.responseSerialize({ repo: { name: 'r' }, id: 'x', branch: null });
    // field 3 (repo), wire type 2: tag 0x1a; field 2 (id): tag 0x12
    expect([...bytes]).toEqual([0x12, 0x01, 0x78, 0x1a, 0x03, 0x0a, 0x01, 0x72]);
  });
});

describe('scalars', () => {
  it('timestamps: milliseconds ↔ {seconds, nanos}; unset ↔ null', () => {
    expect(codec.timestampToWire(new Date(1_500))).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(codec.timestampToWire(new Date(-1))).toEqual({ seconds: -1, nanos: 999_000_000 });
    expect(codec.timestampFromWire({ seconds: 1_700_000_000, nanos: 123_456_789 })).toEqual(
      new Date(1_700_000_000_123),
    );
    expect(codec.timestampToWire(null)).toBeNull();
    expect(codec.timestampFromWire(null)).toBeNull();
  });

  it('durations: Go strings ↔ google.protobuf.Duration, protojson form back', () => {
    expect(codec.durationToWire('1h30m')).toEqual({ seconds: 5400, nanos: 0 });
    expect(codec.durationToWire('1.5s')).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(codec.durationToWire('250ms')).toEqual({ seconds: 0, nanos: 250_000_000 });
    expect(codec.durationToWire(undefined)).toBeNull();
    expect(() => codec.durationToWire('soon')).toThrow(/"soon" is invalid/);
    expect(codec.durationFromWire({ seconds: 5400, nanos: 0 })).toBe('5400s');
    expect(codec.durationFromWire({ seconds: 1, nanos: 500_000_000 })).toBe('1.5s');
    expect(codec.durationMsFromWire({ seconds: 2, nanos: 5_000_000 })).toBe(2005);
  });

  it('int64 sizes travel as numbers; hashes as raw bytes', () => {
    const info = codec.fileInfoToWire({
      file: { commit: { repo, id: 'a'.repeat(32) }, path: '/f' },
      fileType: FileType.FILE,
      committed: new Date(2000),
      sizeBytes: 2 ** 40,
      hash: '00ff10',
    });
    expect(info.hash).toEqual(Buffer.from([0x00, 0xff, 0x10]));
    const back = wire('pfs', 'InspectFile', info, 'response');
    expect(back.size_bytes).toBe(2 ** 40);
    expect(back.file_type).toBe('FILE');
    expect(codec.fileInfoFromWire(back).hash).toBe('00ff10');
  });
});

describe('enums are mapped exhaustively, by name', () => {
  const cases: [
    string,
    Record<string, string | number>,
    (v: number) => string,
    (n: string | number) => number,
  ][] = [
    ['CommitState', CommitState, codec.commitStateToWire, codec.commitStateFromWire],
    ['OriginKind', OriginKind, codec.originKindToWire, codec.originKindFromWire],
    ['FileType', FileType, codec.fileTypeToWire, codec.fileTypeFromWire],
    ['JobState', JobState, codec.jobStateToWire, codec.jobStateFromWire],
    ['DatumState', DatumState, codec.datumStateToWire, codec.datumStateFromWire],
    ['PipelineState', PipelineState, codec.pipelineStateToWire, codec.pipelineStateFromWire],
    ['PipelineType', PipelineType, codec.pipelineTypeToWire, codec.pipelineTypeFromWire],
  ];
  it.each(cases)(
    '%s: every member round-trips; numbers are read; new names are UNKNOWN',
    (_n, e, to, from) => {
      const members = Object.values(e).filter((v): v is number => typeof v === 'number');
      expect(members.length).toBeGreaterThanOrEqual(3);
      for (const v of members) {
        expect(to(v)).toBe(e[v]);
        expect(from(to(v))).toBe(v);
        expect(from(v)).toBe(v);
      }
      expect(from('STATE_FROM_A_NEWER_PACHD')).toBe(0);
      expect(() => to(99)).toThrow(/unmapped/);
    },
  );

  it('names are the ones of the .proto subset (the encoder accepts them)', () => {
    for (const name of ['JOB_CREATED', 'JOB_EGRESSING', 'JOB_UNRUNNABLE']) {
      expect(wire('pps', 'InspectJob', { state: name }, 'response').state).toBe(name);
    }
    expect(wire('pps', 'InspectJob', { state: 9 }, 'response').state).toBe('JOB_UNRUNNABLE');
    expect(wire('pps', 'InspectPipeline', { type: 0 }, 'response').type).toBe(
      'PIPELINT_TYPE_UNKNOWN',
    );
  });
});

describe('infos round-trip through the protobuf encoding', () => {
  it('CommitInfo: sizes, times, provenance, origin', () => {
    const ci: CommitInfo = {
      commit: { repo, id: 'b'.repeat(32), branch: { repo, name: 'master' } },
      origin: { kind: OriginKind.AUTO },
      description: 'd',
      parentCommit: { repo, id: 'a'.repeat(32), branch: null },
      childCommits: [],
      started: new Date(1_000),
      finishing: new Date(2_000),
      finished: null,
      directProvenance: [{ repo: { ...repo, name: 'in' }, id: 'c'.repeat(32), branch: null }],
      directSubvenance: [],
      error: '',
      sizeBytes: 36,
      sizeBytesUpperBound: 36,
    };
    const m = codec.commitInfoToWire(ci);
    expect(m).toMatchObject({
      origin: { kind: 'AUTO' },
      started: { seconds: 1, nanos: 0 },
      finished: null,
      size_bytes_upper_bound: 36,
      details: { size_bytes: 36 },
      parent_commit: { id: 'a'.repeat(32), branch: null },
    });
    expect(codec.commitInfoFromWire(wire('pfs', 'InspectCommit', m, 'response'))).toEqual(ci);
  });

  it('JobInfo: input commits travel in details.input, as pachd fills them', () => {
    const inA = { repo: { ...repo, name: 'a' }, id: '1'.repeat(32), branch: null };
    const inB = { repo: { ...repo, name: 'b' }, id: '2'.repeat(32), branch: null };
    const out = { repo: { ...repo, name: 'both' }, id: '1'.repeat(32), branch: null };
    const ji: JobInfo = {
      job: { pipeline: { project: { name: 'default' }, name: 'both' }, id: '1'.repeat(32) },
      pipelineVersion: 2,
      outputCommit: out,
      restart: 1,
      dataProcessed: 3,
      dataSkipped: 1,
      dataTotal: 5,
      dataFailed: 1,
      dataRecovered: 0,
      state: JobState.JOB_FAILURE,
      reason: 'datum x failed',
      created: new Date(10_000),
      started: new Date(11_000),
      finished: new Date(12_500),
      inputCommits: [inA, inB],
    };
    const m = codec.jobInfoToWire(ji);
    expect(m.details).toEqual({
      input: {
        cross: [
          {
            pfs: {
              project: 'default',
              name: 'a',
              repo: 'a',
              repo_type: 'user',
              branch: '',
              commit: '1'.repeat(32),
            },
          },
          {
            pfs: {
              project: 'default',
              name: 'b',
              repo: 'b',
              repo_type: 'user',
              branch: '',
              commit: '2'.repeat(32),
            },
          },
        ],
      },
    });
    expect(m.state).toBe('JOB_FAILURE');
    expect(codec.jobInfoFromWire(wire('pps', 'InspectJob', m, 'response'))).toEqual(ji);
  });

  it('input commits from a real pachd input tree: nested, deduplicated, glob ignored', () => {
    const commits = codec.inputCommitsFromWire({
      cross: [
        {
          pfs: {
            repo: 'streaming',
            repo_type: 'user',
            project: 'default',
            branch: 'master',
            glob: '/*',
            commit: 'e'.repeat(32),
          },
        },
        {
          union: [
            {
              pfs: {
                repo: 'train',
                repo_type: '',
                project: '',
                branch: 'master',
                glob: '/',
                commit: 'f'.repeat(32),
              },
            },
            {
              pfs: {
                repo: 'train',
                name: 'again',
                repo_type: 'user',
                project: 'default',
                branch: 'master',
                glob: '/*',
                commit: 'f'.repeat(32),
              },
            },
          ],
        },
      ],
    });
    expect(
      commits.map((c) => `${c.repo.project.name}/${c.repo.name}@${c.id}:${c.branch?.name}`),
    ).toEqual([
      `default/streaming@${'e'.repeat(32)}:master`,
      `default/train@${'f'.repeat(32)}:master`,
    ]);
  });
});

describe('ModifyFile messages', () => {
  const head = { repo, id: '', branch: { repo, name: 'master' } };

  it('as the Go client: set_commit first, put = delete_file + add_file chunks', () => {
    const msgs = [
      ...codec.fileOpsToWire(
        head,
        [
          { op: 'put', path: '/a', data: 'abcdefghij' },
          { op: 'append', path: '/b', data: '' },
          { op: 'delete', path: '/c', datum: 'd1' },
          { op: 'copy', src: 'other@master:/m', dst: '/m', append: true },
        ],
        4,
      ),
    ];
    const raw = (s: string) => ({ value: Buffer.from(s) });
    expect(msgs).toEqual([
      { set_commit: codec.commitToWire(head) },
      { delete_file: { path: '/a', datum: '' } },
      { add_file: { path: '/a', datum: '', raw: raw('abcd') } },
      { add_file: { path: '/a', datum: '', raw: raw('efgh') } },
      { add_file: { path: '/a', datum: '', raw: raw('ij') } },
      { add_file: { path: '/b', datum: '', raw: raw('') } },
      { delete_file: { path: '/c', datum: 'd1' } },
      {
        copy_file: {
          dst: '/m',
          datum: '',
          append: true,
          src: {
            commit: {
              repo: { ...wireRepo, name: 'other' },
              id: '',
              branch: { repo: { ...wireRepo, name: 'other' }, name: 'master' },
            },
            path: '/m',
            datum: '',
          },
        },
      },
    ]);
    // the oneof member is named on the wire
    expect(wire('pfs', 'ModifyFile', msgs[2], 'request').body).toBe('add_file');
  });

  it('the stand-in folds them back into the port operations', () => {
    const c = new ModifyFileCollector();
    for (const m of codec.fileOpsToWire(
      head,
      [
        { op: 'put', path: '/a', data: 'abcdefghij' },
        { op: 'append', path: '/b', data: 'x' },
        { op: 'delete', path: '/c' },
      ],
      4,
    )) {
      c.add(wire('pfs', 'ModifyFile', m, 'request'));
    }
    const { commit, ops } = c.result();
    expect(commit).toEqual(head);
    expect(ops).toEqual([
      { op: 'put', path: '/a', data: Buffer.from('abcdefghij') },
      { op: 'append', path: '/b', data: Buffer.from('x') },
      { op: 'delete', path: '/c' },
    ]);
  });

  it('refuses a stream that does not start with set_commit, or sets it twice', () => {
    const first = new ModifyFileCollector();
    expect(() => first.add({ body: 'add_file', add_file: { path: '/a', datum: '' } })).toThrow(
      /first message must be a commit/,
    );
    expect(() => new ModifyFileCollector().result()).toThrow(/first message must be a commit/);
    const twice = new ModifyFileCollector();
    twice.add({ body: 'set_commit', set_commit: codec.commitToWire(head) });
    expect(() => twice.add({ body: 'set_commit', set_commit: codec.commitToWire(head) })).toThrow(
      /cannot set commit/,
    );
  });
});

describe('gRPC status ↔ PachError, by code', () => {
  it('a PachError keeps its code and message; other errors are UNKNOWN', () => {
    expect(toGrpcStatus(new PachError(PachCode.NOT_FOUND, 'repo default/x not found'))).toEqual({
      code: grpc.status.NOT_FOUND,
      details: 'repo default/x not found',
    });
    expect(toGrpcStatus(new Error('boom'))).toEqual({ code: grpc.status.UNKNOWN, details: 'boom' });
  });

  it('every gRPC code maps to the PachCode of the same number', () => {
    for (let code = 1; code <= 16; code++) {
      if (code === grpc.status.UNKNOWN) continue;
      const e = fromGrpcError({ code, details: 'commit x has already finished', message: '' });
      expect(e.code).toBe(code);
      expect(PachCode[e.code]).toBe(grpc.status[code]);
      expect(e.message).toBe('commit x has already finished');
    }
  });

  it('pachd’s UNKNOWN answers get the port’s precise code from pachd’s wording', () => {
    const f = (details: string) => fromGrpcError({ code: grpc.status.UNKNOWN, details }).code;
    expect(f('commit default/r@abc has already finished')).toBe(PachCode.FAILED_PRECONDITION);
    expect(f('parent commit default/r@abc has not been finished')).toBe(
      PachCode.FAILED_PRECONDITION,
    );
    expect(f('something else')).toBe(PachCode.UNKNOWN);
    expect(fromGrpcError(new Error('socket hang up')).code).toBe(PachCode.UNKNOWN);
  });
});
