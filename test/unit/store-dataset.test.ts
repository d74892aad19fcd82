import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConflictError, JsonlDataset, LossyEditError } from '../../src/core/jsonl';

const dir = mkdtempSync(join(tmpdir(), 'dc-store-'));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${n++}.jsonl`);
  writeFileSync(p, content);
  return p;
}

/** Splits bytes into lines the way the store must: on \n, keeping terminators, no phantom last line. */
function expectedLines(buf: Buffer): { content: Buffer; eol: string }[] {
  const out: { content: Buffer; eol: string }[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 10) {
      const cr = i > start && buf[i - 1] === 13;
      out.push({ content: buf.subarray(start, cr ? i - 1 : i), eol: cr ? '\r\n' : '\n' });
      start = i + 1;
    }
  }
  if (start < buf.length) out.push({ content: buf.subarray(start), eol: '' });
  return out;
}

describe('indexing and reading', () => {
  const cases: [string, Buffer, { invalid?: RegExp; lossy?: RegExp }[]][] = [
    ['empty file', Buffer.alloc(0), []],
    ['one record, no final newline', Buffer.from('{"a":1}'), [{}]],
    ['blank lines', Buffer.from('{"a":1}\n\n  \n{"b":2}\n'), [{}, { invalid: /blank/ }, { invalid: /blank/ }, {}]],
    ['BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}\n')]), [{ invalid: /byte order mark/ }, {}]],
    ['CRLF and LF mixed', Buffer.from('{"a":1}\r\n{"b":2}\n{"c":3}\r\n'), [{}, {}, {}]],
    ['lone CR', Buffer.from('{"a":1}\r{"b":2}\n'), [{ invalid: /carriage return/ }]],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]), [{ invalid: /invalid UTF-8 at byte 7/ }]],
    ['bad JSON', Buffer.from('{"a":1,}\n{"b":\n'), [{ invalid: /invalid JSON/ }, { invalid: /invalid JSON/ }]],
    ['not an object', Buffer.from('[1,2]\n"x"\n3\nnull\n'), [{ invalid: /array/ }, { invalid: /string/ }, { invalid: /number/ }, { invalid: /null/ }]],
    ['duplicate keys', Buffer.from('{"a":1,"a":2}\n{"o":{"k":1},"p":{"k":2}}\n'), [{ invalid: /duplicate key "a"/ }, {}]],
    ['big integers', Buffer.from('{"id":12345678901234567890}\n{"id":9007199254740991}\n{"x":1.5e3}\n'), [{ lossy: /12345678901234567890/ }, {}, {}]],
    ['NUL byte', Buffer.from('{"a":"\u0000"}\n'), [{ invalid: /invalid JSON/ }]],
    ['unicode and escapes', Buffer.from('{"t":"caf\\u00e9 \u{1F600} \\ud83d\\ude00"}\n'), [{}]],
    ['deep nesting', Buffer.from(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}\n`), [{}]],
  ];
  for (const [name, buf, expected] of cases) {
    test(`${name}: every line is shown, with the right reason`, async () => {
      const ds = await JsonlDataset.open(file(buf), { inline: true });
      await ds.ready;
      assert.equal(ds.lineCount, expected.length);
      const lines = expectedLines(buf);
      expected.forEach((exp, i) => {
        const line = ds.line(i);
        assert.equal(line.lineNumber, i + 1);
        assert.deepEqual(line.bytes(), Buffer.from(lines[i]!.content));
        assert.equal(line.eol, lines[i]!.eol);
        if (exp.invalid) assert.match(line.invalid?.reason ?? '(valid)', exp.invalid);
        else assert.equal(line.invalid, undefined, `line ${i + 1}: ${line.invalid?.reason}`);
        if (exp.lossy) assert.match(line.lossy?.reason ?? '(not lossy)', exp.lossy);
      });
      ds.close();
    });
  }

  test('a 10 MB line is read whole', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(10 * 1024 * 1024) });
    const ds = await JsonlDataset.open(file(`{"a":1}\n${big}\n{"b":2}\n`));
    await ds.ready;
    assert.equal(ds.lineCount, 3);
    assert.equal((ds.line(1).value?.text as string).length, 10 * 1024 * 1024);
    assert.deepEqual(ds.line(2).value, { b: 2 });
    ds.close();
  });

  test('a multi-byte character straddling chunk boundaries survives, at any chunk size', async () => {
    const content = Buffer.from('{"t":"😀😀"}\n{"t":"é"}\n{"t":"ok"}\n');
    const p = file(content);
    for (const chunkSize of [1, 2, 3, 5, 7, 13]) {
      const ds = await JsonlDataset.open(p, { chunkSize, inline: true });
      await ds.ready;
      assert.deepEqual([0, 1, 2].map((i) => ds.line(i).value?.t), ['😀😀', 'é', 'ok'], `chunk ${chunkSize}`);
      ds.close();
    }
  });

  test('a large file is indexed in a worker; the first lines are readable before the scan ends', async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ i, text: `record ${i}` }));
    const p = file(`${lines.join('\n')}\n`);
    const progress: number[] = [];
    const ds = await JsonlDataset.open(p, { chunkSize: 64 * 1024, onProgress: (x) => progress.push(x.bytes) });
    assert.ok(ds.lineCount > 0, 'lines are readable at once');
    assert.deepEqual(ds.line(0).value, { i: 0, text: 'record 0' });
    await ds.ready;
    assert.equal(ds.indexed, true);
    assert.equal(ds.lineCount, 200_000);
    assert.deepEqual(ds.line(199_999).value, { i: 199_999, text: 'record 199999' });
    assert.ok(progress.length > 1);
    ds.close();
  });

  test('indexing can be cancelled', async () => {
    const p = file(`${Array.from({ length: 300_000 }, (_, i) => `{"i":${i}}`).join('\n')}\n`);
    const ac = new AbortController();
    const ds = await JsonlDataset.open(p, { chunkSize: 16 * 1024, signal: ac.signal });
    ac.abort();
    await assert.rejects(ds.ready, /cancel/);
    ds.close();
  });
});

describe('edits and saves', () => {
  test('only edited lines change; terminators and a missing final newline survive', async () => {
    const original = '{"a":1}\r\n{"b":2}\n{"c":3}\r\n{"d":4}';
    const p = file(original);
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    ds.setField(1, ['b'], 20);
    await ds.save();
    assert.equal(readFileSync(p, 'utf8'), '{"a":1}\r\n{"b":20}\n{"c":3}\r\n{"d":4}');
    ds.setField(0, ['x', 'y'], [1]);
    ds.insertLine(4, { e: 5 });
    await ds.save();
    assert.equal(readFileSync(p, 'utf8'), '{"a":1,"x":{"y":[1]}}\r\n{"b":20}\n{"c":3}\r\n{"d":4}\n{"e":5}');
    ds.close();
  });

  test('invalid lines are never rewritten unless edited; structured edits of lossy records are refused', async () => {
    const p = file('\ufeff{"a":1}\nnot json\n{"id":123456789012345678901}\n');
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    assert.throws(() => ds.setField(2, ['label'], 'x'), LossyEditError);
    assert.throws(() => ds.setField(1, ['label'], 'x'), /not a valid record/);
    ds.replaceLine(1, { raw: '{"fixed":true}' });
    await ds.save();
    assert.equal(readFileSync(p, 'utf8'), '\ufeff{"a":1}\n{"fixed":true}\n{"id":123456789012345678901}\n');
    ds.close();
  });

  test('undo of every edit then save gives back the exact bytes', async () => {
    const original = Buffer.from('{"a":1}\n\n{"b":"é"}\r\n{"c":3}');
    const p = file(original);
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    const edits = [ds.setField(0, ['a'], 2), ds.deleteLine(1), ds.insertLine(0, { z: 0 }), ds.replaceLine(3, { raw: 'junk' })];
    for (const e of edits.reverse()) ds.undoEdit(e);
    assert.equal(ds.dirty, false);
    await ds.save();
    assert.deepEqual(readFileSync(p), original);
    ds.close();
  });

  test('property: random files, random edits, undo/redo; untouched lines byte-identical', async () => {
    const lineArb = fc.oneof(
      fc.record({ t: fc.string(), n: fc.integer() }).map((o) => JSON.stringify(o)),
      fc.constantFrom('', 'not json', '{"dup":1,"dup":2}', '{"big":123456789012345678901}', '[1]', '\ufeff{"a":1}'),
      fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s)),
    );
    const fileArb = fc.record({
      lines: fc.array(fc.record({ text: lineArb, eol: fc.constantFrom('\n', '\r\n') }), { maxLength: 12 }),
      finalNewline: fc.boolean(),
    });
    const opArb = fc.record({ kind: fc.constantFrom('set', 'replace', 'insert', 'delete', 'undo', 'redo'), at: fc.nat(), v: fc.integer() });
    await fc.assert(
      fc.asyncProperty(fileArb, fc.array(opArb, { maxLength: 10 }), async (f, ops) => {
        const parts = f.lines.map((l, i) => l.text + (i < f.lines.length - 1 || f.finalNewline ? l.eol : ''));
        const original = Buffer.from(parts.join(''), 'utf8');
        const p = file(original);
        const ds = await JsonlDataset.open(p, { inline: true });
        await ds.ready;
        // The model: a list of {bytes, eol, orig?}; what the file must hold after save.
        type M = { content: Buffer; eol: string; orig: boolean };
        let model: M[] = expectedLines(original).map((l) => ({ ...l, content: Buffer.from(l.content), orig: true }));
        const done: { edit: ReturnType<JsonlDataset['deleteLine']>; before: M[] }[] = [];
        const undone: { edit: ReturnType<JsonlDataset['deleteLine']>; before: M[]; after: M[] }[] = [];
        for (const op of ops) {
          const before = model.map((m) => ({ ...m }));
          const count = model.length;
          try {
            if (op.kind === 'undo') {
              const last = done.pop();
              if (!last) continue;
              ds.undoEdit(last.edit);
              undone.push({ ...last, after: before });
              model = last.before;
              continue;
            }
            if (op.kind === 'redo') {
              const last = undone.pop();
              if (!last) continue;
              ds.applyEdit(last.edit);
              done.push({ edit: last.edit, before: last.before });
              model = last.after;
              continue;
            }
            if (op.kind === 'insert') {
              const at = op.at % (count + 1);
              const edit = ds.insertLine(at, { v: op.v });
              const eol = at === count && count > 0 && model[at - 1]!.eol === '' ? '' : model[at - 1]?.eol || model[at]?.eol || model[0]?.eol || '\n';
              model.splice(at, 0, { content: Buffer.from(JSON.stringify({ v: op.v })), eol, orig: false });
              done.push({ edit, before });
            } else {
              if (count === 0) continue;
              const at = op.at % count;
              let edit;
              if (op.kind === 'delete') {
                edit = ds.deleteLine(at);
                model.splice(at, 1);
              } else if (op.kind === 'replace') {
                edit = ds.replaceLine(at, { raw: `raw ${op.v}` });
                model[at] = { content: Buffer.from(`raw ${op.v}`), eol: model[at]!.eol, orig: false };
              } else {
                const line = ds.line(at);
                if (line.invalid || line.lossy) {
                  assert.throws(() => ds.setField(at, ['v'], op.v));
                  continue;
                }
                edit = ds.setField(at, ['v'], op.v);
                model[at] = { content: Buffer.from(JSON.stringify({ ...line.value, v: op.v })), eol: model[at]!.eol, orig: false };
              }
              done.push({ edit, before });
            }
            undone.length = 0;
          } catch (err) {
            throw new Error(`op ${JSON.stringify(op)} failed: ${String(err)}`);
          }
        }
        await ds.save();
        const expected = Buffer.concat(model.map((m, i) => Buffer.concat([m.content, Buffer.from(m.eol === '' && i < model.length - 1 ? '\n' : m.eol)])));
        assert.deepEqual(readFileSync(p), expected);
        // And the saved file re-indexes to the same lines.
        const again = await JsonlDataset.open(p, { inline: true });
        await again.ready;
        assert.equal(again.lineCount, model.length);
        again.close();
        ds.close();
      }),
      { numRuns: 150 },
    );
  });

  test('a change on disk between open and save is a conflict, never overwritten', async () => {
    const p = file('{"a":1}\n{"b":2}\n');
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    ds.setField(0, ['a'], 9);
    writeFileSync(p, '{"a":1}\n{"b":3}\n');
    await assert.rejects(ds.save(), ConflictError);
    assert.equal(readFileSync(p, 'utf8'), '{"a":1}\n{"b":3}\n');
    ds.close();
  });

  test('a same-size change that keeps the mtime is still detected', async () => {
    const body = Array.from({ length: 20_000 }, (_, i) => `{"i":"${String(i).padStart(6, '0')}"}`).join('\n') + '\n';
    const p = file(body);
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    ds.setField(5, ['i'], 0);
    const st = statSync(p);
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.from('7'), 0, 1, body.length - 4); // a digit inside the last sampled region
    closeSync(fd);
    utimesSync(p, st.atime, st.mtime);
    assert.equal(await ds.hasChangedOnDisk(), true);
    await assert.rejects(ds.save(), ConflictError);
    ds.close();
  });

  test('a failed save removes its temp file and keeps the edits', async () => {
    const sub = mkdtempSync(join(tmpdir(), 'dc-ro-'));
    const p = join(sub, 'd.jsonl');
    writeFileSync(p, '{"a":1}\n');
    const ds = await JsonlDataset.open(p);
    await ds.ready;
    ds.setField(0, ['a'], 2);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(ds.save({ signal: ac.signal }), /cancel/);
    assert.deepEqual(readdirSync(sub), ['d.jsonl']);
    assert.equal(ds.dirty, true);
    assert.deepEqual(ds.line(0).value, { a: 2 });
    ds.close();
  });
});
