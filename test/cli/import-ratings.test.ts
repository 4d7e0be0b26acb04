/**
 * `reelgraph import ratings FILE` as a real child process on a real embedded data directory (and
 * on a real engine served over gRPC with a train pipeline, for the job count): chunks staged on a
 * side branch and published as /batches/ files in one master commit, a kill mid-import then a
 * re-run giving every rating exactly once, in file order, and exactly one train job, a refused
 * resume with another --chunk, and a malformed line named.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { startPachdServer, type PachdServer } from '../../src/pachyderm/grpc/server';
import { openEmbeddedEngine } from '../../src/services/bootstrap';
import { Reader } from '../../src/engine/dataset';
import { generateSynthetic } from '../../src/engine/dataset/synthetic';
import { ROOT, runCli } from './run-cli';

jest.setTimeout(180_000);

const SEED = 17;

async function makeDataDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-import-'));
  const p = await EmbeddedPachyderm.open(dir);
  await p.createRepo('training');
  await p.modifyFile('training@master', [
    {
      op: 'put',
      path: '/settings.json',
      data: JSON.stringify({ dataset: 'synthetic', ratingScale: [0.5, 5] }),
    },
  ]);
  await p.close();
  return dir;
}

/** The lines of every /batches/ file of `training@<branch>` of an engine, in path order. */
async function batchLinesOf(
  p: EmbeddedPachyderm,
  branch = 'master',
): Promise<{ files: string[]; lines: string[] }> {
  const files: string[] = [];
  const root: string[] = [];
  try {
    for await (const f of p.listFile({ commit: `training@${branch}`, path: '/' })) {
      root.push(f.file.path);
    }
  } catch (e) {
    if (branch !== 'master') return { files, lines: [] }; // no such branch
    throw e;
  }
  if (!root.includes('/batches/')) return { files, lines: [] };
  for await (const f of p.listFile({ commit: `training@${branch}`, path: '/batches/' })) {
    files.push(f.file.path);
  }
  const lines: string[] = [];
  for (const f of files) {
    const text = (await p.readFile({ commit: `training@${branch}`, path: f })).toString('utf8');
    lines.push(...text.split('\n').filter((l) => l !== ''));
  }
  return { files, lines };
}

/** The lines of every /batches/ file of training@master of a data directory, in path order. */
async function batchLines(dir: string): Promise<{ files: string[]; lines: string[] }> {
  const p = await EmbeddedPachyderm.open(dir, { readonly: true });
  try {
    return await batchLinesOf(p);
  } finally {
    await p.close();
  }
}

/** Jobs of pipeline `train`, oldest first, as their input commit ids. */
async function trainJobs(p: EmbeddedPachyderm): Promise<string[]> {
  const out: string[] = [];
  for await (const j of p.listJob({ pipeline: 'train', reverse: true })) out.push(j.job.id);
  return out;
}

/** The file's ratings as training lines, in file order (the independent reading). */
function expectedLines(file: string): string[] {
  const raw = new Reader({
    lineFormat: 'user item rating timestamp',
    sep: ',',
    skipLines: 1,
    ratingScale: [0.5, 5],
  }).parse(fs.readFileSync(file, 'utf8'), file);
  return raw.users.map((u, k) => `${u} ${raw.items[k]} ${raw.ratings[k]} ${raw.timestamps![k]}`);
}

describe('reelgraph import ratings', () => {
  let work: string;
  let file: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-import-src-'));
    file = path.join(work, 'ratings.csv');
    process.stdout.write(`seed ${SEED}\n`);
    generateSynthetic(file, { ratings: 400_000, movies: 3_000, seed: SEED });
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('publishes every rating exactly once, in file order, in one master commit and one train job, when killed mid-import and run again', async () => {
    // a real engine running jobs, with a train pipeline on training@master, served over gRPC
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-import-'));
    const pach = await openEmbeddedEngine(dir);
    let server: PachdServer | undefined;
    try {
      await pach.createRepo('training');
      await pach.modifyFile('training@master', [
        {
          op: 'put',
          path: '/settings.json',
          data: JSON.stringify({ dataset: 'synthetic', ratingScale: [0.5, 5] }),
        },
      ]);
      await pach.createPipeline({
        pipeline: { name: 'train' },
        transform: { cmd: ['sh', '-c', 'true'] },
        input: { pfs: { repo: 'training', glob: '/' } },
      });
      server = await startPachdServer(pach, { port: 0 });
      const address = `127.0.0.1:${server.port}`;
      const jobsBefore = await trainJobs(pach);
      const masterBefore = (await pach.inspectBranch('training@master')).head!.id;
      const hash12 = crypto
        .createHash('sha256')
        .update(fs.readFileSync(file))
        .digest('hex')
        .slice(0, 12);
      const args = [
        '-r',
        path.join(ROOT, 'scripts/ts-register.js'),
        path.join(ROOT, 'src/cli/main.ts'),
        'import',
        'ratings',
        file,
        '--pachd-address',
        address,
        '--chunk',
        '40000',
        '--no-progress',
      ];
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      // kill as soon as the first chunk is reported staged
      const exited = new Promise<NodeJS.Signals | null>((resolve) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          if (stderr.includes('(staged)') && !child.killed) child.kill('SIGKILL');
        });
        child.on('close', (_code, signal) => resolve(signal));
      });
      expect(await exited).toBe('SIGKILL');
      // the kill came mid-import: some chunks staged on the side branch, not all ten …
      const staged = await batchLinesOf(pach, `import-${hash12}`);
      expect(staged.files.length).toBeGreaterThanOrEqual(1);
      expect(staged.files.length).toBeLessThan(10);
      expect(staged.lines.length).toBe(40_000 * staged.files.length);
      // … and nothing of them on master, and no job: master's head did not move
      expect((await pach.inspectBranch('training@master')).head!.id).toBe(masterBefore);
      expect((await batchLinesOf(pach)).files).toEqual([]);
      expect(await trainJobs(pach)).toEqual(jobsBefore);

      const again = await runCli([
        'import',
        'ratings',
        file,
        '--pachd-address',
        address,
        '--chunk',
        '40000',
        '--json',
      ]);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const summary = JSON.parse(again.stdout) as {
        ratings: number;
        committed: number;
        skipped: number;
        published: number;
      };
      expect(summary).toMatchObject({
        ratings: 400_000,
        skipped: staged.files.length,
        committed: 10 - staged.files.length,
        published: 10,
      });
      // one new master commit holding all ten chunks, whose parent is the head before the import
      const head = (await pach.inspectBranch('training@master')).head!;
      const info = await pach.inspectCommit(head);
      expect(info.parentCommit?.id).toBe(masterBefore);
      const all = await batchLinesOf(pach);
      expect(all.files).toHaveLength(10);
      const want = expectedLines(file);
      expect(all.lines.length).toBe(want.length);
      let mismatches = 0;
      for (let k = 0; k < want.length; k++) if (all.lines[k] !== want[k]) mismatches++;
      expect(mismatches).toBe(0);
      // exactly one train job, on that commit; the side branch is gone
      const jobs = await trainJobs(pach);
      expect(jobs).toEqual([...jobsBefore, head.id]);
      const branches: string[] = [];
      for await (const b of pach.listBranch('training')) branches.push(b.branch.name);
      expect(branches).toEqual(['master']);
    } finally {
      await server?.close();
      await pach.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finishes a staging commit a killed run left open, counts its chunk, and publishes every rating once', async () => {
    const dir = await makeDataDir();
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const hash12 = sha256.slice(0, 12);
    const want = expectedLines(file);
    // what a run killed between ModifyFile and FinishCommit of its first chunk leaves
    const p = await EmbeddedPachyderm.open(dir);
    const open = await p.startCommit(`training@import-${hash12}`);
    await p.modifyFile(open, [
      {
        op: 'put',
        path: `/batches/0000000000000-${hash12}0000.txt`,
        data: want.slice(0, 40_000).join('\n') + '\n',
      },
      {
        op: 'put',
        path: `/imports/${hash12}.json`,
        data: JSON.stringify({ sha256, format: 'csv', chunk: 40_000 }) + '\n',
      },
    ]);
    expect((await p.inspectCommit(open)).finished).toBeNull();
    await p.close();

    const r = await runCli([
      'import',
      'ratings',
      file,
      '--data-dir',
      dir,
      '--chunk',
      '40000',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ skipped: 1, committed: 9, published: 10 });
    const all = await batchLines(dir);
    expect(all.files).toHaveLength(10);
    expect(all.lines.length).toBe(want.length);
    let mismatches = 0;
    for (let k = 0; k < want.length; k++) if (all.lines[k] !== want[k]) mismatches++;
    expect(mismatches).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to resume with another --chunk, naming the one to use, and commits nothing', async () => {
    const dir = await makeDataDir();
    const first = await runCli(['import', 'ratings', file, '--data-dir', dir, '--chunk', '100000']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /imported 400000 ratings .* 4 chunks committed, 0 already there, 4 published to training@master in one commit/,
    );
    const before = await batchLines(dir);
    const other = await runCli(['import', 'ratings', file, '--data-dir', dir, '--chunk', '30000']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/used --chunk 100000; resume it with --chunk 100000/);
    expect((await batchLines(dir)).files).toEqual(before.files);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the file and line of a malformed rating, and a rating off the repo scale', async () => {
    const dir = await makeDataDir();
    const bad = path.join(work, 'bad.dat');
    fs.writeFileSync(bad, '1::10::4::978300760\n1::11::x::978300761\n');
    const r = await runCli(['import', 'ratings', bad, '--data-dir', dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${bad}:2: rating "x" is not a number`);
    const off = path.join(work, 'off.data');
    fs.writeFileSync(off, '1\t10\t4\t978300760\n1\t11\t7\t978300761\n');
    const o = await runCli(['import', 'ratings', off, '--data-dir', dir]);
    expect(o.stderr).toContain(`${off}:2: rating "7" is outside the rating scale [0.5, 5]`);
    expect((await batchLines(dir)).files).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
