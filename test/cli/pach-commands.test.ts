/**
 * `reelgraph repos` and `reelgraph commits` on a real embedded data directory (temporary),
 * opened read-only by the commands while the writer engine is still open.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { commitsCommand } from '../../src/cli/commands/commits';
import { reposCommand } from '../../src/cli/commands/repos';
import { ago, formatTable, humanSize, resolveDataDir } from '../../src/cli/pach-options';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import type { Command } from 'commander';

function capture(): { io: { stdout: Writable; stderr: Writable }; out: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    io: { stdout: sink, stderr: new Writable({ write: (_c, _e, cb) => cb() }) },
    out: () => text,
  };
}

async function run(make: (io: { stdout: Writable; stderr: Writable }) => Command, args: string[]) {
  const c = capture();
  const cmd = make(c.io);
  cmd.exitOverride();
  await cmd.parseAsync(args, { from: 'user' });
  return c.out();
}

describe('reelgraph repos / commits', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  let ids: string[];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-cli-pfs-'));
    pach = await EmbeddedPachyderm.open(dir);
    await pach.createRepo('training', { description: 'ratings batches' });
    await pach.createRepo('streaming');
    await pach.createRepo({ name: 'train', type: 'spec' });
    ids = [];
    ids.push(
      (
        await pach.modifyFile('training@master', [
          { op: 'put', path: '/a', data: 'x'.repeat(1000) },
        ])
      ).id,
    );
    ids.push(
      (
        await pach.modifyFile('training@master', [
          { op: 'put', path: '/b', data: 'y'.repeat(2072) },
        ])
      ).id,
    );
    const open = await pach.startCommit('training@dev', { description: 'work in progress' });
    ids.push(open.id);
  });
  afterAll(async () => {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('repos prints a table of user repos with master sizes', async () => {
    const out = await run(reposCommand, ['--data-dir', dir]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROJECT\s+NAME\s+CREATED\s+SIZE \(MASTER\)\s+DESCRIPTION$/);
    expect(lines.length).toBe(3);
    expect(lines[1]).toMatch(/^default\s+streaming\s+.*ago|just now/);
    // 1000 + 2072 bytes = 3072 B = 3 KiB on master.
    expect(lines[2]).toMatch(/^default\s+training\s+.+\s+3KiB\s+ratings batches$/);
  });

  it('repos --json and --all-types', async () => {
    const json = JSON.parse(await run(reposCommand, ['--data-dir', dir, '--json', '--all-types']));
    expect(
      json.map((r: { repo: { name: string; type: string } }) => `${r.repo.name}.${r.repo.type}`),
    ).toEqual(['streaming.user', 'train.spec', 'training.user']);
    expect(json[2].sizeBytesUpperBound).toBe(3072);
    expect(json[2].branches.map((b: { name: string }) => b.name)).toEqual(['dev', 'master']);
  });

  it('commits lists newest first; @branch follows one branch; --json names the origin', async () => {
    const out = await run(commitsCommand, ['training', '--data-dir', dir]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPO\s+BRANCH\s+COMMIT\s+FINISHED\s+SIZE\s+ORIGIN\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[2])).toEqual([ids[2], ids[1], ids[0]]);
    expect(lines[1]).toMatch(
      new RegExp(`^training\\s+dev\\s+${ids[2]}\\s+-\\s+0B\\s+USER\\s+work in progress$`),
    );
    expect(lines[2]).toMatch(/\s3KiB\s+USER$/);
    const master = JSON.parse(
      await run(commitsCommand, ['training@master', '--data-dir', dir, '--json']),
    );
    expect(master.map((c: { commit: { id: string } }) => c.commit.id)).toEqual([ids[1], ids[0]]);
    expect(master[0].origin).toEqual({ kind: 'USER' });
    expect(master[0].parentCommit.id).toBe(ids[0]);
    expect(master[1].sizeBytes).toBe(1000);
    const oldest = await run(commitsCommand, [
      'training',
      '--data-dir',
      dir,
      '--reverse',
      '-n',
      '1',
    ]);
    expect(oldest).toContain(ids[0]);
    expect(oldest).not.toContain(ids[1]);
  });

  it('reports a missing repo, a bad option and a missing data directory', async () => {
    await expect(run(commitsCommand, ['ghost', '--data-dir', dir])).rejects.toThrow(
      /repo default\/ghost not found/,
    );
    await expect(
      run(commitsCommand, ['training', '--data-dir', dir, '--origin', 'x']),
    ).rejects.toThrow(/--origin "x" is invalid/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-cli-empty-'));
    await expect(run(reposCommand, ['--data-dir', empty])).rejects.toThrow(/no reelgraph data in/);
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it('formats sizes, times, tables and the data directory like pachctl', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(1023)).toBe('1023B');
    expect(humanSize(1536)).toBe('1.5KiB');
    expect(humanSize(5 * 1024 * 1024 + 256 * 1024)).toBe('5.25MiB');
    const now = new Date('2026-01-01T12:00:00Z');
    expect(ago(new Date('2026-01-01T11:59:59Z'), now)).toBe('1 second ago');
    expect(ago(new Date('2026-01-01T11:57:00Z'), now)).toBe('3 minutes ago');
    expect(ago(new Date('2025-12-30T12:00:00Z'), now)).toBe('2 days ago');
    expect(ago(null, now)).toBe('-');
    expect(formatTable(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1\n');
    expect(resolveDataDir({ dataDir: '/x' }, { REELGRAPH_DATA_DIR: '/y' })).toBe('/x');
    expect(resolveDataDir({}, { REELGRAPH_DATA_DIR: '/y' })).toBe('/y');
    expect(resolveDataDir({}, {})).toBe(path.join(os.homedir(), '.reelgraph'));
  });
});
