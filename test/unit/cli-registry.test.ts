// The `curate` registry loads a command's module only when that command runs: `curate --help`
// lists every command (name and summary from the registry) without loading any of them, and each
// registry entry is exactly its command (same name, same summary), so the list cannot drift.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { root } from './helpers/store';

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
