/**
 * `reelgraph import ratings FILE` as a real child process on a real embedded data directory:
 * chunks committed as /batches/ files, a kill mid-import then a re-run giving every rating exactly
 * once and in file order, a refused resume with another --chunk, and a malformed line named.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
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

/** The lines of every /batches/ file of training@master, in path order. */
async function batchLines(dir: string): Promise<{ files: string[]; lines: string[] }> {
  const p = await EmbeddedPachyderm.open(dir, { readonly: true });
  try {
    const files: string[] = [];
    const root: string[] = [];
    for await (const f of p.listFile({ commit: 'training@master', path: '/' })) {
      root.push(f.file.path);
    }
    if (!root.includes('/batches/')) return { files, lines: [] };
    for await (const f of p.listFile({ commit: 'training@master', path: '/batches/' })) {
      files.push(f.file.path);
    }
    const lines: string[] = [];
    for (const f of files) {
      const text = (await p.readFile({ commit: 'training@master', path: f })).toString('utf8');
      lines.push(...text.split('\n').filter((l) => l !== ''));
    }
    return { files, lines };
  } finally {
    await p.close();
  }
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

  it('commits every rating exactly once, in file order, when killed mid-import and run again', async () => {
    const dir = await makeDataDir();
    const args = [
      '-r',
      path.join(ROOT, 'scripts/ts-register.js'),
      path.join(ROOT, 'src/cli/main.ts'),
      'import',
      'ratings',
      file,
      '--data-dir',
      dir,
      '--chunk',
      '40000',
      '--no-progress',
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    // kill as soon as the first chunk is reported committed
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('/batches/') && !child.killed) child.kill('SIGKILL');
      });
      child.on('close', (_code, signal) => resolve(signal));
    });
    expect(await exited).toBe('SIGKILL');
    const partial = await batchLines(dir);
    // the kill came mid-import: some chunks, not all ten
    expect(partial.files.length).toBeGreaterThanOrEqual(1);
    expect(partial.files.length).toBeLessThan(10);
    expect(partial.lines.length).toBe(40_000 * partial.files.length);

    const again = await runCli([
      'import',
      'ratings',
      file,
      '--data-dir',
      dir,
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
    };
    expect(summary).toMatchObject({
      ratings: 400_000,
      skipped: partial.files.length,
      committed: 10 - partial.files.length,
    });
    const all = await batchLines(dir);
    expect(all.files).toHaveLength(10);
    const want = expectedLines(file);
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
    expect(first.stdout).toMatch(/imported 400000 ratings .* 4 chunks committed, 0 already there/);
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
