// The writers of output files (filter --out, split, export): kept lines byte for byte, temp files
// created exclusively and a killed writer's temp file removed by the next run, links written
// through. Issue 14, points 6 and 9, through the real CLI.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { filterLines } from '../../src/core/filter/filter';
import { storeLines } from '../../src/core/sources';
import { curate, fileWith, root, tempDir } from './helpers/store';

const bad = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
const data = Buffer.concat([
  Buffer.from('{"text":"first","label":"a"}\n'),
  bad,
  Buffer.from('\n{"text":"third \\u00e9 é","label":"b"}\r\n{"text":"last"}'),
]);
const ctx = { signal: new AbortController().signal, log: () => undefined, progress: () => undefined };

describe('output files', () => {
  test('filter --out copies kept lines byte for byte: invalid UTF-8 (FF FE C3) stays as it was, never U+FFFD', () => {
    const dir = tempDir();
    const f = fileWith(data, 'd.jsonl', dir);
    const r = curate(['filter', f, '--out', join(dir, 'kept.jsonl')]);
    assert.equal(r.code, 0, r.err);
    const out = readFileSync(join(dir, 'kept.jsonl'));
    const expected = Buffer.concat([
      Buffer.from('{"text":"first","label":"a"}\n'),
      bad,
      Buffer.from('\n{"text":"third \\u00e9 é","label":"b"}\n{"text":"last"}\n'),
    ]);
    assert.ok(out.equals(expected), `got ${JSON.stringify(out.toString('latin1'))}`);
    assert.ok(out.includes(Buffer.from([0xff, 0xfe, 0xc3])));
    assert.ok(!out.includes(Buffer.from('\ufffd')));
  });

  test('filter through the library with a source read once (kept lines held in memory): bytes kept too', async () => {
    const dir = tempDir();
    const f = fileWith(data, 'd.jsonl', dir);
    const out = join(dir, 'kept.jsonl');
    await filterLines(storeLines(f), { action: 'write', out, rules: ['not exists(label)'] }, ctx);
    assert.ok(readFileSync(out).equals(Buffer.concat([bad, Buffer.from('\n{"text":"last"}\n')])));
  });

  test('split: each part holds its lines byte for byte', () => {
    const dir = tempDir();
    const lines = Array.from(
      { length: 20 },
      (_, i) => `{"text":"r${i} \\u00e9 ${'é'.repeat(i % 3)}","label":"${i % 2 ? 'a' : 'b'}"}`,
    );
    const f = fileWith(lines.join('\r\n') + '\r\n', 'd.jsonl', dir);
    const r = curate(['split', f, '--json']);
    assert.equal(r.code, 0, r.err);
    const parts = readdirSync(dir).filter((n) => n !== 'd.jsonl');
    assert.ok(parts.length >= 2, parts.join(', '));
    const seen: string[] = [];
    for (const p of parts) for (const l of readFileSync(join(dir, p), 'utf8').split('\n').filter(Boolean)) seen.push(l);
    assert.deepEqual(seen.sort(), [...lines].sort());
  });

  test('kill -9 while filter --out writes: the next run in that folder removes the temp file (any output name)', async () => {
    const dir = tempDir();
    const out = join(dir, 'kept.jsonl');
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href,
        join(root, 'test/unit/helpers/output-child.ts'),
        out,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve()),
    );
    const temps = () => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    assert.equal(temps().length, 1, 'the writer has its temp file');
    assert.match(temps()[0]!, /^\.kept\.jsonl\.curate-[0-9a-f]{8}-\d+-[0-9a-f]+\.tmp$/);
    assert.ok(statSync(join(dir, temps()[0]!)).size > 1_000_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(temps().length, 1, 'kill -9 leaves it');
    const f = fileWith('{"text":"a"}\n', 'd.jsonl', dir);
    const r = curate(['filter', f, '--out', join(dir, 'other.jsonl')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(temps(), [], 'removed by the next run');
    assert.deepEqual(readdirSync(dir).sort(), ['d.jsonl', 'other.jsonl']);
  });

  test('an output that is a link is written through; an output replaced keeps its mode', () => {
    const dir = tempDir();
    const f = fileWith('{"text":"a"}\n{"text":"b"}\n', 'd.jsonl', dir);
    const target = fileWith('old\n', 'target.jsonl', dir);
    chmodSync(target, 0o640);
    symlinkSync('target.jsonl', join(dir, 'out.jsonl'));
    const r = curate(['filter', f, '--out', join(dir, 'out.jsonl'), '--overwrite']);
    assert.equal(r.code, 0, r.err);
    assert.ok(lstatSync(join(dir, 'out.jsonl')).isSymbolicLink());
    assert.equal(readFileSync(target, 'utf8'), '{"text":"a"}\n{"text":"b"}\n');
    assert.equal(statSync(target).mode & 0o777, 0o640);
  });
});
