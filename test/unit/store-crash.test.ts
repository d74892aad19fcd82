// A save killed with SIGKILL at a random moment, 100 times: the file is always the whole old
// version or the whole new one, never a mix; the only leftover is the save's temp file
// (.NAME.curate-HOST-PID-HEX.tmp), which the next open removes. Half the trials edit near the start
// (the whole file is written to the temp file), half the last line only (the kernel copies the
// untouched start, then the tail is written).
import { before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlDataset } from '../../src/core/store';
import { bundle } from './helpers/bundle';
import { fileWith, tempDir } from './helpers/store';

const TRIALS = 100;
let child = '';
before(async () => {
  child = join(await bundle({ 'save-child': 'test/unit/helpers/save-child.ts' }), 'save-child.js');
});

/** Runs the child on `path`; with `killAfterMs`, SIGKILLs it that long after it says "saving". */
function runChild(
  path: string,
  mode: 'start' | 'end',
  killAfterMs?: number,
): Promise<{ saved: boolean; ms?: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let armed = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && !armed && out.includes('saving\n')) {
        armed = true;
        if (killAfterMs === 0) p.kill('SIGKILL');
        else setTimeout(() => p.kill('SIGKILL'), killAfterMs);
      }
    });
    p.on('error', reject);
    p.on('close', (_code, signal) => {
      const m = /saved (\d+)/.exec(out);
      resolve({ saved: !!m, ms: m ? Number(m[1]) : undefined, killed: signal === 'SIGKILL' });
    });
  });
}

describe('killed saves', () => {
  test(
    `SIGKILL at ${TRIALS} random moments of a save: old or new file, never a mix; temp files cleaned on next open`,
    { timeout: 900_000 },
    async (t) => {
      const rec = (i: number) => `{"i":${i},"label":"l${i % 5}","text":"${'t'.repeat(200)}"}\n`;
      const original = fileWith(Array.from({ length: 40_000 }, (_, i) => rec(i)).join(''), 'orig.jsonl'); // 9 MB
      const oldBytes = readFileSync(original);
      // A save run to the end gives each mode's new bytes and how long a save takes here.
      const modes = { start: { bytes: Buffer.alloc(0), window: 0 }, end: { bytes: Buffer.alloc(0), window: 0 } };
      for (const mode of ['start', 'end'] as const) {
        const ref = join(tempDir('dc-kill-'), 'data.jsonl');
        copyFileSync(original, ref);
        const full = await runChild(ref, mode);
        assert.ok(full.saved, `the ${mode} save runs to the end`);
        modes[mode].bytes = readFileSync(ref);
        assert.ok(!modes[mode].bytes.equals(oldBytes));
        // Kill anywhere from the first byte written to a bit after the rename.
        modes[mode].window = Math.max(20, (full.ms ?? 50) * 1.3);
      }
      const seen = { old: 0, new: 0, temps: 0, finished: 0 };
      const dir = tempDir('dc-kill-');
      const path = join(dir, 'data.jsonl');
      for (let trial = 0; trial < TRIALS; trial++) {
        const mode = trial % 2 === 0 ? 'start' : 'end';
        copyFileSync(original, path);
        const delay = Math.random() < 0.05 ? 0 : Math.random() * modes[mode].window;
        const r = await runChild(path, mode, delay);
        if (!r.killed) seen.finished++;
        const after = readFileSync(path);
        const isOld = after.equals(oldBytes);
        const isNew = after.equals(modes[mode].bytes);
        assert.ok(
          isOld || isNew,
          `trial ${trial} (${mode}, kill ${delay.toFixed(1)} ms into the save): the file is neither the old nor the new version (${after.length} bytes)`,
        );
        if (isOld) seen.old++;
        else seen.new++;
        const others = readdirSync(dir).filter((n) => n !== 'data.jsonl');
        for (const n of others)
          assert.match(
            n,
            /^\.data\.jsonl\.curate-(?:[0-9a-f]{8}-\d+-[0-9a-f]+\.tmp|lock)$/,
            `trial ${trial}: unexpected file ${n}`,
          );
        seen.temps += others.length;
        // The next open removes the killed save's temp file.
        const ds = await JsonlDataset.open(path);
        await ds.ready;
        assert.deepEqual(readdirSync(dir), ['data.jsonl'], `trial ${trial}: the next open cleaned up`);
        ds.close();
      }
      assert.equal(seen.old + seen.new, TRIALS);
      t.diagnostic(
        `${TRIALS} trials: old ${seen.old}, new ${seen.new} (${seen.finished} saves finished before the kill), temp files left ${seen.temps}; a save takes ~${Math.round(modes.start.window / 1.3)} ms (start) / ${Math.round(modes.end.window / 1.3)} ms (end)`,
      );
    },
  );
});
