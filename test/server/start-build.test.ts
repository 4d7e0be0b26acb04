/**
 * `npm start` compiles only when the sources changed (scripts/build.js `--if-changed`): a real
 * `npm start` in a child process, on a small project in a temporary folder whose `start` script is
 * the project's own (`node scripts/build.js --if-changed && exec node dist/main.js`) and whose
 * `src/main.ts` prints the same "listening on" banner line as the server.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const BUILD = path.join(ROOT, 'scripts', 'build.js');

let dir: string;

function writeMain(greeting: string): void {
  fs.writeFileSync(
    path.join(dir, 'src', 'main.ts'),
    `const port: number = 41999;\nconsole.error(\`${greeting} listening on http://127.0.0.1:\${port}\`);\n`,
  );
}

/** Runs `npm start` in the fixture until it exits (its main prints the banner, then ends). */
function npmStart(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start', '--silent'], {
      cwd: dir,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (d) => (stderr += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-start-'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'start-fixture',
      private: true,
      scripts: { start: `node ${JSON.stringify(BUILD)} --if-changed && exec node dist/main.js` },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tsconfig.build.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        rootDir: 'src',
        outDir: 'dist',
        types: [],
        strict: true,
      },
      include: ['src'],
    }),
  );
  writeMain('first');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('npm start compiles on the first start, not on a second start with no source change, and again after a change', async () => {
  const first = await npmStart();
  expect(first.code).toBe(0);
  expect(first.stderr).toMatch(/build: no build stamp: compiling/);
  expect(first.stderr).toMatch(/build: tsc -p tsconfig\.build\.json done/);
  expect(first.stderr).toContain('first listening on http://127.0.0.1:41999');
  const mainJs = path.join(dir, 'dist', 'main.js');
  const builtAt = fs.statSync(mainJs).mtimeMs;
  const stamp = fs.readFileSync(path.join(dir, 'dist', '.build-stamp'), 'utf8').trim();
  expect(stamp).toMatch(/^[0-9a-f]{64}$/);

  // no change: the banner comes from the same dist/main.js, and tsc did not run
  const second = await npmStart();
  expect(second.code).toBe(0);
  expect(second.stderr).toMatch(
    /build: dist\/ is up to date \(sources [0-9a-f]{12}\): not compiling/,
  );
  expect(second.stderr).not.toMatch(/tsc -p/);
  expect(second.stderr).toContain('first listening on http://127.0.0.1:41999');
  expect(fs.statSync(mainJs).mtimeMs).toBe(builtAt);

  // the same bytes rewritten (a checkout): still no compile; one byte changed: compile
  writeMain('first');
  expect((await npmStart()).stderr).toMatch(/not compiling/);
  writeMain('second');
  const third = await npmStart();
  expect(third.code).toBe(0);
  expect(third.stderr).toMatch(/build: sources changed since the last build: compiling/);
  expect(third.stderr).toContain('second listening on http://127.0.0.1:41999');
  expect(fs.readFileSync(path.join(dir, 'dist', '.build-stamp'), 'utf8').trim()).not.toBe(stamp);
});

test('a failed compile exits non-zero, starts nothing and leaves no stamp, so the next start compiles again', async () => {
  fs.writeFileSync(path.join(dir, 'src', 'main.ts'), 'const n: number = "not a number";\n');
  const r = await npmStart();
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/build: tsc -p tsconfig\.build\.json failed/);
  expect(r.stderr).not.toContain('listening on');
  expect(fs.existsSync(path.join(dir, 'dist', '.build-stamp'))).toBe(false);
  writeMain('third');
  const again = await npmStart();
  expect(again.stderr).toMatch(/no build stamp: compiling/);
  expect(again.stderr).toContain('third listening on');
});
