/**
 * References (refs.ts) and error codes (errors.ts) of the Pachyderm port: pachctl's string forms,
 * pachd's defaults (project `default`, type `user`), and the gRPC numbering of the codes.
 */
import {
  PachCode,
  PachError,
  codeFromPachydermMessage,
  commitAlreadyFinished,
  commitString,
  fileNotFound,
  isCommitId,
  normalizePath,
  parentNotFinished,
  repoNotFound,
  repoString,
  toBranch,
  toCommit,
  toFile,
  toJob,
  toPipeline,
  toRepo,
  validateName,
} from '../../src/pachyderm';

const ID = '0123456789abcdef0123456789abcdef';
const repo = (name: string, project = 'default', type = 'user') => ({
  name,
  type,
  project: { name: project },
});

describe('references', () => {
  it('parses repo, branch, commit and file strings with pachd defaults', () => {
    expect(toRepo('training')).toEqual(repo('training'));
    expect(toRepo('p1/training')).toEqual(repo('training', 'p1'));
    expect(toRepo({ name: 'train', type: 'spec' })).toEqual(repo('train', 'default', 'spec'));
    expect(toBranch('training@dev')).toEqual({ repo: repo('training'), name: 'dev' });
    expect(toCommit('training@master')).toEqual({
      repo: repo('training'),
      id: '',
      branch: { repo: repo('training'), name: 'master' },
    });
    expect(toCommit(`training@${ID}`)).toEqual({ repo: repo('training'), id: ID, branch: null });
    expect(toCommit('training').branch?.name).toBe('master');
    // pachd's ModifyFile reads a non-UUID id as a branch name.
    expect(toCommit({ repo: 'training', id: 'master' })).toEqual(toCommit('training@master'));
    expect(toFile('training@master:/a/b.csv')).toEqual({
      commit: toCommit('training@master'),
      path: '/a/b.csv',
    });
    expect(toFile({ commit: `training@${ID}`, path: 'x', datum: 'd1' })).toEqual({
      commit: toCommit(`training@${ID}`),
      path: '/x',
      datum: 'd1',
    });
    expect(toPipeline('train')).toEqual({ name: 'train', project: { name: 'default' } });
    expect(toJob(`train@${ID}`)).toEqual({ pipeline: toPipeline('train'), id: ID });
  });

  it('refuses malformed references naming the input', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as PachError).code, (e as Error).message];
      }
      return null;
    };
    expect(code(() => toBranch('nobranch'))).toEqual([
      PachCode.INVALID_ARGUMENT,
      'branch "nobranch" is malformed: expected repo@branch',
    ]);
    expect(code(() => toRepo('a/b/c'))?.[0]).toBe(PachCode.INVALID_ARGUMENT);
    expect(code(() => toRepo({ name: 'x', type: 'weird' }))?.[1]).toMatch(/"weird" is invalid/);
    expect(code(() => toFile('training@master'))?.[1]).toMatch(/expected repo@branch:\/path/);
    expect(code(() => normalizePath('/a/../b'))?.[1]).toMatch(/".." is not allowed/);
    expect(code(() => validateName('repo', 'has space'))?.[1]).toMatch(/has space/);
    expect(code(() => validateName('repo', 'x'.repeat(64)))?.[0]).toBe(PachCode.INVALID_ARGUMENT);
    expect(code(() => validateName('repo', 'ok_name-1'))).toBeNull();
  });

  it('cleans paths and recognises commit ids', () => {
    expect(normalizePath('a//b/./c/')).toBe('/a/b/c');
    expect(normalizePath('')).toBe('/');
    expect(isCommitId(ID)).toBe(true);
    expect(isCommitId(ID.toUpperCase())).toBe(false);
    expect(isCommitId('master')).toBe(false);
    expect(repoString(repo('train', 'default', 'spec') as never)).toBe('default/train.spec');
    expect(commitString({ repo: repo('r') as never, id: ID })).toBe(`default/r@${ID}`);
  });
});

describe('error codes', () => {
  it('numbers codes as gRPC does', () => {
    expect([PachCode.OK, PachCode.CANCELLED, PachCode.NOT_FOUND, PachCode.ALREADY_EXISTS]).toEqual([
      0, 1, 5, 6,
    ]);
    expect([
      PachCode.FAILED_PRECONDITION,
      PachCode.UNIMPLEMENTED,
      PachCode.UNAVAILABLE,
      PachCode.UNAUTHENTICATED,
    ]).toEqual([9, 12, 14, 16]);
  });

  it('words messages as pachd and maps pachd messages back to codes', () => {
    expect(repoNotFound('default/x').message).toBe('repo default/x not found');
    expect(fileNotFound('/a', 'default/r', ID).message).toBe(
      `file /a not found in repo default/r at commit ${ID}`,
    );
    expect(parentNotFinished(`r@${ID}`).message).toBe(
      `parent commit r@${ID} has not been finished`,
    );
    const e = commitAlreadyFinished(`r@${ID}`);
    expect(e).toBeInstanceOf(PachError);
    expect(e.codeName).toBe('FAILED_PRECONDITION');
    expect(codeFromPachydermMessage(e.message)).toBe(PachCode.FAILED_PRECONDITION);
    expect(codeFromPachydermMessage('commit abc not found')).toBe(PachCode.NOT_FOUND);
    expect(codeFromPachydermMessage('repo x already exists')).toBe(PachCode.ALREADY_EXISTS);
    expect(codeFromPachydermMessage('something odd')).toBe(PachCode.UNKNOWN);
  });
});
