// Fault tests: a save killed with SIGKILL at random moments leaves the old file or the new one,
// never a mix; the only leftovers are temp files named .NAME.curate-PID-HEX.tmp, which the next
// open removes.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlDataset } from '../../src/core/store';
import { fileWith, root, tempDir } from './helpers/store';

const child = join(root, 'test/unit/helpers/save-child.ts');

function runChild(path: string, killAfterMs?: number): Promise<{ saved: boolean; ms?: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, path], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && out.includes('saving\n') && !p.killed) {
        setTimeout(() => p.kill('SIGKILL'), killAfterMs);
      }
    });
    p.on('error', reject);
    p.on('close', () => {
      const m = /saved (\d+)/.exec(out);
      resolve({ saved: !!m, ms: m ? Number(m[1]) : undefined });
    });
  });
}

describe('killed saves', () => {
  test('SIGKILL at random moments: old or new file, never a mix; temp files cleaned on next open', { timeout: 240_000 }, async (t0) => {
    const rec = (i: number) => `{"i":${i},"label":"l${i % 5}","text":"${'t'.repeat(200)}"}\n`;
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(rec(i));
    const original = fileWith(lines.join(''), 'orig.jsonl');
    const oldBytes = readFileSync(original);
    // A save run to the end gives the new bytes and how long a save takes here.
    const refDir = tempDir('dc-kill-');
    const ref = join(refDir, 'data.jsonl');
    copyFileSync(original, ref);
    const full = await runChild(ref);
    assert.ok(full.saved);
    const newBytes = readFileSync(ref);
    assert.ok(!newBytes.equals(oldBytes));
    const window = Math.max(20, (full.ms ?? 50) * 1.3);
    const seen = { old: 0, new: 0, temps: 0 };
    const trials = 24;
    for (let t = 0; t < trials; t++) {
      const dir = tempDir('dc-kill-');
      const path = join(dir, 'data.jsonl');
      copyFileSync(original, path);
      const delay = Math.floor(Math.random() * window);
      await runChild(path, delay);
      const after = readFileSync(path);
      const isOld = after.equals(oldBytes);
      const isNew = after.equals(newBytes);
      assert.ok(isOld || isNew, `trial ${t} (kill after ${delay} ms): the file is neither the old nor the new version`);
      if (isOld) seen.old++;
      else seen.new++;
      const others = readdirSync(dir).filter((n) => n !== 'data.jsonl');
      for (const n of others) assert.match(n, /^\.data\.jsonl\.curate-\d+-[0-9a-f]+\.tmp$/, `unexpected file ${n}`);
      seen.temps += others.length;
      // The next open removes the killed save's temp file.
      const ds = await JsonlDataset.open(path);
      await ds.ready;
      assert.deepEqual(readdirSync(dir), ['data.jsonl']);
      ds.close();
    }
    assert.equal(seen.old + seen.new, trials);
    t0.diagnostic(`old ${seen.old}, new ${seen.new}, temp files left ${seen.temps}, save takes ~${full.ms} ms`);
  });
});
