// A save killed with SIGKILL at a random moment leaves the old file or the new one, never a mix;
// the next open removes the killed save's temp file.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlDataset } from '../../src/core/store';

const child = `
const { JsonlDataset } = require(${JSON.stringify(join(__dirname, '../../src/core/store'))});
(async () => {
  const ds = await JsonlDataset.open(process.argv[1]);
  await ds.ready;
  for (let k = 1; ; k++) {
    ds.setField(0, ['version'], k);
    await ds.save();
    process.stdout.write('saved ' + k + '\\n');
  }
})();
`;

test('SIGKILL during saves: the file is always a whole old or new version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-crash-'));
  const p = join(dir, 'data.jsonl');
  const lines = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ i, text: `record number ${i} `.repeat(4) }));
  const rest = lines.slice(1).join('\n') + '\n';
  writeFileSync(p, `{"version":0}\n${rest}`);
  const tail = Buffer.from(rest);
  for (let trial = 0; trial < 20; trial++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child, p], { stdio: ['ignore', 'pipe', 'pipe'] });
    let saved = 0;
    proc.stdout.on('data', (d: Buffer) => (saved += (d.toString().match(/saved/g) ?? []).length));
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const bytes = readFileSync(p);
    const nl = bytes.indexOf(10);
    assert.match(bytes.subarray(0, nl).toString(), /^\{"version":\d+\}$/, `trial ${trial}: first line is whole`);
    assert.ok(bytes.subarray(nl + 1).equals(tail), `trial ${trial}: the rest is byte-identical (after ${saved} saves)`);
  }
  // The next open cleans up what a killed save left behind.
  const ds = await JsonlDataset.open(p);
  await ds.ready;
  ds.close();
  assert.deepEqual(readdirSync(dir), ['data.jsonl']);
});
