/**
 * Enum mappers are exhaustive and one to one; errors map to GraphQL codes by class and code
 * (never by message); Pachyderm objects map field by field.
 */
import { GraphQLError } from 'graphql';
import { CommitOriginGql, JobStateGql } from '../../src/resolvers/enums';
import {
  graphqlCodeOfPachCode,
  graphqlCodeOfServiceError,
  toGraphQLError,
} from '../../src/resolvers/errors';
import {
  UnmappableEnumError,
  fromJobStateGql,
  toCommitOriginGql,
  toJob,
  toJobConnection,
  toJobStateGql,
  toModelVersion,
} from '../../src/resolvers/mappers';
import { PachCode, PachError } from '../../src/pachyderm/errors';
import { type JobInfo, JobState, OriginKind } from '../../src/pachyderm/types';
import { ModelNotReadyError, NotFoundError, ValidationError } from '../../src/services/errors';

/** The members of a numeric TypeScript enum: [name, value]. */
function members(e: Record<string, string | number>): [string, number][] {
  return Object.entries(e).filter((kv): kv is [string, number] => typeof kv[1] === 'number');
}

describe('JobState', () => {
  test('every state but UNKNOWN maps to the GraphQL value named without JOB_, one to one', () => {
    const mapped = members(JobState as unknown as Record<string, string | number>)
      .filter(([name]) => name !== 'JOB_STATE_UNKNOWN')
      .map(([name, value]) => {
        const g = toJobStateGql(value as JobState);
        expect(g).toBe(name.replace(/^JOB_/, ''));
        expect(fromJobStateGql(g)).toBe(value);
        return g;
      });
    expect(new Set(mapped).size).toBe(9);
    expect([...mapped].sort()).toEqual(Object.values(JobStateGql).sort());
  });

  test('JOB_STATE_UNKNOWN and values outside the enum are refused', () => {
    expect(() => toJobStateGql(JobState.JOB_STATE_UNKNOWN)).toThrow(UnmappableEnumError);
    expect(() => toJobStateGql(42 as JobState)).toThrow('JobState 42 has no GraphQL value');
    expect(() => fromJobStateGql('PAUSED' as JobStateGql)).toThrow(UnmappableEnumError);
  });
});

test('OriginKind: USER, AUTO, FSCK one to one; UNKNOWN refused', () => {
  expect(toCommitOriginGql(OriginKind.USER)).toBe(CommitOriginGql.USER);
  expect(toCommitOriginGql(OriginKind.AUTO)).toBe(CommitOriginGql.AUTO);
  expect(toCommitOriginGql(OriginKind.FSCK)).toBe(CommitOriginGql.FSCK);
  expect(() => toCommitOriginGql(OriginKind.ORIGIN_KIND_UNKNOWN)).toThrow(UnmappableEnumError);
});

describe('error codes', () => {
  test('every PachCode has a GraphQL code; the ones clients act on are as documented', () => {
    for (const [, value] of members(PachCode as unknown as Record<string, string | number>)) {
      expect(typeof graphqlCodeOfPachCode(value as PachCode)).toBe('string');
    }
    expect(graphqlCodeOfPachCode(PachCode.NOT_FOUND)).toBe('NOT_FOUND');
    expect(graphqlCodeOfPachCode(PachCode.INVALID_ARGUMENT)).toBe('BAD_USER_INPUT');
    expect(graphqlCodeOfPachCode(PachCode.ALREADY_EXISTS)).toBe('CONFLICT');
    expect(graphqlCodeOfPachCode(PachCode.FAILED_PRECONDITION)).toBe('FAILED_PRECONDITION');
    expect(graphqlCodeOfPachCode(PachCode.UNAVAILABLE)).toBe('SERVICE_UNAVAILABLE');
    expect(graphqlCodeOfPachCode(PachCode.UNAUTHENTICATED)).toBe('UNAUTHENTICATED');
    expect(graphqlCodeOfPachCode(PachCode.PERMISSION_DENIED)).toBe('FORBIDDEN');
    expect(graphqlCodeOfPachCode(PachCode.INTERNAL)).toBe('INTERNAL_SERVER_ERROR');
  });

  test('service errors: BAD_USER_INPUT with the issues, NOT_FOUND, MODEL_NOT_READY', () => {
    const v = toGraphQLError(
      new ValidationError('ratings', [
        { index: 2, field: 'rating', message: 'rating 9 is outside the rating scale [1, 5]' },
      ]),
    ) as GraphQLError;
    expect(v).toBeInstanceOf(GraphQLError);
    expect(v.message).toBe(
      'invalid ratings (1 problem): ratings[2].rating: rating 9 is outside the rating scale [1, 5]',
    );
    expect(v.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [
        { index: 2, field: 'rating', message: 'rating 9 is outside the rating scale [1, 5]' },
      ],
    });
    expect((toGraphQLError(new NotFoundError('job', 'x')) as GraphQLError).extensions.code).toBe(
      'NOT_FOUND',
    );
    expect(graphqlCodeOfServiceError(new ModelNotReadyError())).toBe('MODEL_NOT_READY');
  });

  test('by code, never by message', () => {
    const e = toGraphQLError(
      new PachError(PachCode.UNAVAILABLE, 'repo training not found'),
    ) as GraphQLError;
    expect(e.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', pachCode: 'UNAVAILABLE' });
    const plain = new Error('commit x not found');
    expect(toGraphQLError(plain)).toBe(plain);
    const g = new GraphQLError('as is', { extensions: { code: 'X' } });
    expect(toGraphQLError(g)).toBe(g);
  });
});

const repo = (name: string) => ({ name, type: 'user' as const, project: { name: 'default' } });

function jobInfo(id: string, created: number, state = JobState.JOB_SUCCESS): JobInfo {
  return {
    job: { pipeline: { name: 'predict', project: { name: 'default' } }, id },
    pipelineVersion: 2,
    outputCommit: { repo: repo('predict'), id, branch: { repo: repo('predict'), name: 'master' } },
    restart: 1,
    dataProcessed: 3,
    dataSkipped: 4,
    dataTotal: 8,
    dataFailed: 1,
    dataRecovered: 0,
    state,
    reason: 'datum x failed',
    created: new Date(created),
    started: new Date(created + 5),
    finished: null,
    inputCommits: [
      { repo: repo('streaming'), id, branch: null },
      { repo: repo('train'), id: 'b'.repeat(32) },
    ],
  };
}

test('toJob maps every field', () => {
  expect(toJob(jobInfo('a'.repeat(32), 1000, JobState.JOB_FAILURE))).toEqual({
    id: 'a'.repeat(32),
    pipeline: 'predict',
    pipelineVersion: 2,
    state: 'FAILURE',
    reason: 'datum x failed',
    created: new Date(1000),
    started: new Date(1005),
    finished: null,
    dataTotal: 8,
    dataProcessed: 3,
    dataSkipped: 4,
    dataFailed: 1,
    dataRecovered: 0,
    restart: 1,
    inputCommits: [
      { repo: 'streaming', id: 'a'.repeat(32), branch: null },
      { repo: 'train', id: 'b'.repeat(32), branch: null },
    ],
    outputCommit: { repo: 'predict', id: 'a'.repeat(32), branch: 'master' },
  });
});

test("connections: endCursor is the last edge's cursor, null for an empty page", () => {
  const c = toJobConnection({
    items: [
      { node: jobInfo('1'.repeat(32), 2), cursor: 'c1' },
      { node: jobInfo('2'.repeat(32), 1), cursor: 'c2' },
    ],
    hasNextPage: true,
  });
  expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: 'c2' });
  expect(c.nodes.map((n) => n.id)).toEqual(['1'.repeat(32), '2'.repeat(32)]);
  expect(toJobConnection({ items: [], hasNextPage: false }).pageInfo).toEqual({
    hasNextPage: false,
    endCursor: null,
  });
});

test('toModelVersion flattens the holdout and marks the serving version', () => {
  const m = {
    version: 'c'.repeat(32),
    algorithm: 'SVD',
    params: { nFactors: 100 },
    ratingsCount: 10,
    duplicatesReplaced: 2,
    usersCount: 3,
    itemsCount: 4,
    holdout: { rmse: 0.9, mae: 0.7, testSize: 1, seed: 0 },
    fitSeconds: 1.5,
    trainingCommit: 'd'.repeat(32),
    pipelineVersion: 2,
    modelSha256: 'e'.repeat(64),
    createdAt: new Date(0),
    finishedAt: new Date(1),
    ranker: { name: 'EASE', params: { lambda: 500 }, fitSeconds: 0.5, rankerSha256: null },
  };
  expect(toModelVersion(m, m.version, 'newest successful train commit')).toMatchObject({
    duplicatesReplaced: 2,
    pipelineVersion: 2,
    servingReason: 'newest successful train commit',
    holdoutRmse: 0.9,
    holdoutMae: 0.7,
    holdoutTestSize: 1,
    serving: true,
    ranker: { name: 'EASE', params: { lambda: 500 }, fitSeconds: 0.5, rankerSha256: null },
  });
  expect(toModelVersion({ ...m, holdout: null }, null)).toMatchObject({
    holdoutRmse: null,
    holdoutMae: null,
    serving: false,
    servingReason: null,
  });
});
