/**
 * `reelgraph jobs` and `reelgraph pipelines` on a real embedded data directory (temporary), read
 * read-only by the commands while the engine that ran the jobs is still open.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { jobsCommand, parseJobState, shortDuration } from '../../src/cli/commands/jobs';
import { pipelinesCommand, shorthandInput } from '../../src/cli/commands/pipelines';
import { JobState, type JobInfo } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { parsePipelineSpec } from '../../src/pachyderm/spec';

async function run(make: (io: { stdout: Writable; stderr: Writable }) => Command, args: string[]) {
  let text = '';
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const cmd = make({ stdout, stderr: new Writable({ write: (_c, _e, cb) => cb() }) });
  cmd.exitOverride();
  await cmd.parseAsync(args, { from: 'user' });
  return text;
}

describe('reelgraph jobs / pipelines', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  let ok: JobInfo;
  let bad: JobInfo;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-cli-pps-'));
    pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
    await pach.createRepo('in');
    await pach.createPipeline({
      pipeline: { name: 'copy' },
      description: 'copies',
      transform: {
        cmd: ['sh', '-c', 'echo "hi $(cat $in)"; test "$(cat $in)" != bad && cp $in /pfs/out/'],
      },
      input: { pfs: { repo: 'in', glob: '/*' } },
      datumTries: 1,
    });
    const c1 = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'good' }]);
    ok = await pach.inspectJob({ pipeline: 'copy', id: c1.id }, { wait: true });
    const c2 = await pach.modifyFile('in@master', [{ op: 'put', path: '/b', data: 'bad' }]);
    bad = await pach.inspectJob({ pipeline: 'copy', id: c2.id }, { wait: true });
  });
  afterAll(async () => {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists jobs newest first, with progress and state', async () => {
    const out = await run(jobsCommand, ['--data-dir', dir]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'ID',
      'PIPELINE',
      'STARTED',
      'DURATION',
      'RESTART',
      'PROGRESS',
      'STATE',
    ]);
    expect(lines.length).toBe(4); // header + spec job + two commits
    expect(lines[1].startsWith(bad.job.id)).toBe(true);
    expect(lines[1]).toContain('0 + 1 / 2 (1 failed)');
    expect(lines[1]).toMatch(/failure: datum [0-9a-f]{12}/);
    expect(lines[2].startsWith(ok.job.id)).toBe(true);
    expect(lines[2]).toContain('1 + 0 / 1');
    expect(lines[2]).toMatch(/\bsuccess$/);
  });

  it('filters by state and prints JSON with enum names', async () => {
    const json = JSON.parse(
      await run(jobsCommand, ['--data-dir', dir, '--state', 'failure', '--json']),
    );
    expect(json.map((j: { job: { id: string } }) => j.job.id)).toEqual([bad.job.id]);
    expect(json[0].state).toBe('JOB_FAILURE');
    const two = JSON.parse(
      await run(jobsCommand, ['--data-dir', dir, '-n', '2', '--reverse', '--json']),
    );
    expect(two.length).toBe(2);
    expect(two[1].job.id).toBe(ok.job.id);
    expect(() => parseJobState('nope')).toThrow('--state "nope" is invalid');
    expect(parseJobState('JOB_SUCCESS')).toBe(JobState.JOB_SUCCESS);
  });

  it('inspects a job with its datums, and prints its logs', async () => {
    const text = await run(jobsCommand, [
      'inspect',
      `copy@${bad.job.id}`,
      '--datums',
      '--data-dir',
      dir,
    ]);
    expect(text).toContain(`ID: ${bad.job.id}`);
    expect(text).toContain('Datums: 2 total, 0 processed, 1 skipped, 1 failed, 0 recovered');
    expect(text).toMatch(/failed\s+in:\/b/);
    expect(text).toMatch(/skipped\s+in:\/a/);
    const logs = await run(jobsCommand, ['logs', `copy@${bad.job.id}`, '--data-dir', dir]);
    expect(
      logs
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' ').slice(2).join(' ')),
    ).toEqual(['hi bad']);
  });

  it('lists and inspects pipelines; validates a spec file', async () => {
    const out = await run(pipelinesCommand, ['--data-dir', dir]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'NAME',
      'VERSION',
      'INPUT',
      'CREATED',
      'STATE / LAST JOB',
      'DESCRIPTION',
    ]);
    expect(lines[1].split(/\s{2,}/)).toEqual([
      'copy',
      '1',
      'in:/*',
      expect.any(String),
      'running / failure',
      'copies',
    ]);
    const info = JSON.parse(
      await run(pipelinesCommand, ['inspect', 'copy', '--json', '--data-dir', dir]),
    );
    expect(info.lastJobState).toBe('JOB_FAILURE');
    expect(info.details.datumTries).toBe(1);
    const file = path.join(dir, 'spec.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        pipeline: { name: 'x' },
        transform: { cmd: ['true'] },
        input: { pfs: { repo: 'r', glob: '*' } },
      }),
    );
    const eff = JSON.parse(await run(pipelinesCommand, ['validate', file]));
    expect(eff.input.pfs.glob).toBe('/*');
    expect(eff.datumTries).toBe(3);
  });

  it('shorthand inputs as pachctl prints them', () => {
    const spec = parsePipelineSpec({
      pipeline: { name: 'p' },
      transform: { cmd: ['true'] },
      input: {
        cross: [
          { pfs: { repo: 'streaming', glob: '/*' } },
          { pfs: { repo: 'train', glob: '/', branch: 'dev' } },
        ],
      },
    });
    expect(shorthandInput(spec.input)).toBe('(streaming:/* ⨯ train@dev:/)');
    expect(shortDuration(850)).toBe('850ms');
    expect(shortDuration(4200)).toBe('4.2s');
    expect(shortDuration(185000)).toBe('3m05s');
  });
});
