import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, runCli } from './run-cli';

const version = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

describe('reelgraph', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: reelgraph \[options\] \[command\]/);
    expect(r.stdout).toMatch(/\n {2}evaluate \[options\]/);
  });

  it('wires in every command module of src/cli/commands', async () => {
    const r = await runCli(['--help']);
    const files = fs
      .readdirSync(path.join(ROOT, 'src/cli/commands'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    // `<command>-<sub>.ts` beside `<command>.ts` is a subcommand (import-ratings: import ratings)
    const commands = files.map((f) => {
      const dash = f.indexOf('-');
      return dash > 0 && files.includes(f.slice(0, dash))
        ? [f.slice(0, dash), f.slice(dash + 1)]
        : [f];
    });
    expect(files).toContain('evaluate');
    expect(commands).toContainEqual(['import', 'ratings']);
    for (const [name] of commands) expect(r.stdout).toMatch(new RegExp(`\\n  ${name}\\b`));
    // and each has --help
    const helps = await Promise.all(commands.map((c) => runCli([...c, '--help'])));
    helps.forEach((h, k) => {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^Usage: reelgraph ${commands[k].join(' ')} `));
    });
  });

  it.each([
    [
      ['serve', '--port', 'abc'],
      'error: invalid configuration: --port "abc": PORT must be a whole number',
    ],
    [
      ['serve', '--pachd-address', 'a:b:c'],
      'error: invalid configuration: --pachd-address "a:b:c": pachd address',
    ],
  ])('serve names a bad option value as the option: %j', async (args, start) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(start)).toBe(true);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('without a command prints the usage on stderr and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: reelgraph/);
  });

  it('an unknown command is a usage error (exit 2) with a suggestion', async () => {
    const r = await runCli(['evaluat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'evaluat'/);
    expect(r.stderr).toMatch(/Did you mean evaluate\?/);
  });
});
