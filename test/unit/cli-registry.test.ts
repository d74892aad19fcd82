// The `curate` registry loads a command's module only when that command runs: `curate --help`
// lists every command (name and summary from the registry) without loading any of them, and each
// registry entry is exactly its command (same name, same summary), so the list cannot drift.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { root } from './helpers/store';
import { firstPositional } from '../../src/cli/commands';

const commandsDir = join(root, 'src/cli/commands');
const loadedCommandModules = () =>
  Object.keys(require.cache).filter((k) => k.startsWith(commandsDir) && !k.endsWith('index.ts'));

test('curate --help lists every command and loads none of their modules', async () => {
  const { main } = await import('../../src/cli/main');
  const { commands } = await import('../../src/cli/commands');
  let out = '';
  const code = await main(['--help'], {
    out: (t) => (out += t),
    err: () => undefined,
    write: () => undefined,
    isTTY: false,
    signal: new AbortController().signal,
  });
  assert.equal(code, 0);
  for (const c of commands)
    assert.match(out, new RegExp(`\\n  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  assert.deepEqual(loadedCommandModules(), []);
});

test("each registry entry is its command: same name and summary; help for one loads that one's module", async () => {
  const { commands } = await import('../../src/cli/commands');
  const names = new Set<string>();
  for (const entry of commands) {
    const cmd = await entry.load();
    assert.equal(cmd.name, entry.name);
    assert.equal(cmd.summary, entry.summary, `${entry.name}: the registry's summary is the command's`);
    assert.ok(!names.has(cmd.name), `${cmd.name} listed once`);
    names.add(cmd.name);
  }
  assert.ok(loadedCommandModules().some((k) => k.endsWith('get.ts')));
});

test("firstPositional finds the file among raw arguments as the command's parser would (a prestart's guess)", () => {
  const flags = ['--json'];
  assert.equal(firstPositional(['data.jsonl'], flags), 'data.jsonl');
  assert.equal(firstPositional(['--json', 'data.jsonl'], flags), 'data.jsonl');
  assert.equal(firstPositional(['--max-listed', '5', 'data.jsonl', '--json'], flags), 'data.jsonl');
  assert.equal(firstPositional(['--label-field=tag', 'data.jsonl'], flags), 'data.jsonl');
  assert.equal(firstPositional(['--', '-odd.jsonl'], flags), '-odd.jsonl');
  assert.equal(firstPositional(['--help', 'data.jsonl'], flags), undefined);
  assert.equal(firstPositional(['--max-listed', '5'], flags), undefined);
});
