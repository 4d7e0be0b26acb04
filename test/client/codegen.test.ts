/**
 * client/generated/graphql.ts is what GraphQL Code Generator makes of schema/schema.graphql and
 * the operations today (run `npm run codegen` after changing either), and every operation of
 * the examples and the client has its typed document.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'client/generated/graphql.ts');

test('the generated client types match the schema and the operations (no drift)', () => {
  // a child process: the code generator's dependencies are ES modules, which jest cannot load
  const r = spawnSync(process.execPath, ['client/codegen.js', '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('every operation of the examples and of the client has a typed document', () => {
  const text = fs.readFileSync(OUT, 'utf8');
  const files = [
    ...fs
      .readdirSync(path.resolve(__dirname, '../../schema/examples'))
      .map((f) => path.resolve(__dirname, '../../schema/examples', f)),
    path.resolve(__dirname, '../../client/operations.graphql'),
  ];
  const names = files.flatMap((f) =>
    [...fs.readFileSync(f, 'utf8').matchAll(/^(?:query|mutation|subscription) (\w+)/gm)].map(
      (m) => m[1],
    ),
  );
  expect(names.length).toBeGreaterThan(20);
  for (const n of names) {
    expect(text).toContain(`export const ${n}Document = new TypedDocumentString(`);
  }
});
