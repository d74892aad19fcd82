// The overlay: structured and raw edits, inserts and deletes shifting line numbers, undo/redo of
// JSON-serializable edits, refusals with clear messages.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EditError, JsonlDataset, LossyEditError, invertEdit, type Edit } from '../../src/core/store';
import { fileWith } from './helpers/store';

async function open(content: string): Promise<{ ds: JsonlDataset; path: string }> {
  const path = fileWith(content);
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  return { ds, path };
}

describe('structured edits', () => {
  test('setField by path: nested keys, array indices, new fields, removal', async () => {
    const { ds, path } = await open(
      '{"label":"a","judge":{"score":3},"messages":[{"role":"user","content":"hi"}]}\n{"x":1}\n',
    );
    ds.setField(0, ['label'], 'b');
    ds.setField(0, ['judge', 'score'], 9);
    ds.setField(0, ['messages', 0, 'content'], 'hello');
    ds.setField(0, ['annotations', 'review', 'status'], 'reviewed');
    ds.setField(1, ['x'], undefined);
    assert.deepEqual(ds.line(0).value, {
      label: 'b',
      judge: { score: 9 },
      messages: [{ role: 'user', content: 'hello' }],
      annotations: { review: { status: 'reviewed' } },
    });
    assert.equal(ds.line(1).raw, '{}');
    await ds.save();
    assert.equal(
      readFileSync(path, 'utf8'),
      '{"label":"b","judge":{"score":9},"messages":[{"role":"user","content":"hello"}],"annotations":{"review":{"status":"reviewed"}}}\n{}\n',
    );
    ds.close();
  });

  test('setFields makes one undoable edit of several fields', async () => {
    const { ds } = await open('{"a":1,"b":2}\n');
    const e = ds.setFields(0, [
      { path: ['a'], value: 10 },
      { path: ['c'], value: [1] },
    ]);
    assert.equal(ds.line(0).raw, '{"a":10,"b":2,"c":[1]}');
    ds.undoEdit(e);
    assert.equal(ds.line(0).raw, '{"a":1,"b":2}');
    assert.equal(ds.dirty, false);
    ds.close();
  });

  test('lossy records refuse structured edits with a clear message; raw replacement is allowed', async () => {
    const { ds } = await open('{"id":12345678901234567890,"label":"a"}\n{"a":1,"a":2}\n');
    assert.throws(
      () => ds.setField(0, ['label'], 'b'),
      (e: unknown) =>
        e instanceof LossyEditError &&
        e.message ===
          "Line 1 cannot be edited field by field without losing information: integer 12345678901234567890 is beyond 2^53 and would be written as 12345678901234567000. Edit the line's raw text instead.",
    );
    assert.throws(() => ds.setField(1, ['a'], 3), /duplicate key "a"/);
    assert.equal(ds.dirty, false);
    ds.replaceLine(0, { raw: '{"id":12345678901234567890,"label":"b"}' });
    assert.equal(ds.line(0).raw, '{"id":12345678901234567890,"label":"b"}');
    ds.close();
  });

  test('invalid lines, bad paths and values that are not JSON are refused', async () => {
    const { ds } = await open('not json\n{"a":"s","arr":[1]}\n');
    assert.throws(
      () => ds.setField(0, ['a'], 1),
      (e: unknown) => e instanceof EditError && /line 1 is not a JSON object/.test(e.message),
    );
    assert.throws(() => ds.setField(1, ['a', 'b'], 1), /a is not an object or array/);
    assert.throws(() => ds.setField(1, ['arr', 5], 1), /not an index of the array/);
    assert.throws(() => ds.setField(1, ['x'], Number.NaN), /JSON cannot hold/);
    assert.throws(() => ds.setField(1, ['x'], () => 1), /JSON cannot hold/);
    assert.throws(() => ds.setField(1, ['x'], new Date()), /not a plain JSON object/);
    assert.throws(() => ds.replaceLine(1, { raw: 'two\nlines' }), /line breaks/);
    assert.throws(() => ds.line(2), RangeError);
    assert.throws(() => ds.insertLine(5, {}), RangeError);
    assert.equal(ds.dirty, false);
    ds.close();
  });
});

describe('inserts, deletes and undo/redo', () => {
  test('line numbers shift on insert and delete; undo and redo restore them', async () => {
    const { ds, path } = await open('{"n":0}\n{"n":1}\n{"n":2}\n');
    const log: Edit[] = [];
    log.push(ds.insertLine(1, { n: 0.5 }));
    log.push(ds.deleteLine(3));
    log.push(ds.insertLine(3, { n: 3 }));
    log.push(ds.replaceLine(0, { raw: 'raw text' }));
    assert.deepEqual(
      Array.from({ length: ds.lineCount }, (_, i) => ds.line(i).raw),
      ['raw text', '{"n":0.5}', '{"n":1}', '{"n":3}'],
    );
    assert.deepEqual(
      Array.from({ length: ds.lineCount }, (_, i) => ds.line(i).lineNumber),
      [1, 2, 3, 4],
    );
    assert.equal(ds.line(2).edited, false);
    assert.equal(ds.line(1).edited, true);
    // Undo all, in reverse; then redo all from their JSON form (as a hot-exit backup would).
    for (const e of [...log].reverse()) ds.undoEdit(e);
    assert.equal(ds.dirty, false);
    assert.deepEqual(
      Array.from({ length: ds.lineCount }, (_, i) => ds.line(i).raw),
      ['{"n":0}', '{"n":1}', '{"n":2}'],
    );
    for (const e of JSON.parse(JSON.stringify(log)) as Edit[]) ds.applyEdit(e);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), 'raw text\n{"n":0.5}\n{"n":1}\n{"n":3}\n');
    ds.close();
  });

  test('invertEdit is an involution', () => {
    const e: Edit = { type: 'insert', index: 3, line: { text: '{}', eol: '\n' } };
    assert.deepEqual(invertEdit(invertEdit(e)), e);
    const r: Edit = { type: 'replace', index: 1, before: { text: 'a', eol: '\n' }, after: { text: 'b', eol: '\n' } };
    assert.deepEqual(invertEdit(r), { type: 'replace', index: 1, before: r.after, after: r.before });
  });

  test('undo after a save restores the content (the store re-based, the bytes come back)', async () => {
    const { ds, path } = await open('{"a":1}\r\n{"b":2}\r\n');
    const e = ds.setField(0, ['a'], 2);
    await ds.save();
    assert.equal(ds.dirty, false);
    ds.undoEdit(e);
    assert.equal(ds.dirty, true);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '{"a":1}\r\n{"b":2}\r\n');
    ds.close();
  });

  test('a million lines with thousands of scattered edits stay correct', async () => {
    const n = 1_000_000;
    const { ds, path } = await open(Array.from({ length: n }, (_, i) => `{"i":${i}}\n`).join(''));
    const expected = Array.from({ length: n }, (_, i) => i as number | string);
    let seed = 42;
    const rnd = (m: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % m;
    };
    for (let k = 0; k < 3000; k++) {
      const at = rnd(expected.length);
      const kind = k % 3;
      if (kind === 0) {
        ds.setField(at, ['i'], `e${k}`);
        expected[at] = `e${k}`;
      } else if (kind === 1) {
        ds.insertLine(at, { i: `n${k}` });
        expected.splice(at, 0, `n${k}`);
      } else {
        ds.deleteLine(at);
        expected.splice(at, 1);
      }
    }
    assert.equal(ds.lineCount, expected.length);
    for (let k = 0; k < 2000; k++) {
      const at = rnd(expected.length);
      assert.equal(ds.line(at).value?.i, expected[at]);
    }
    await ds.save();
    const out = readFileSync(path, 'utf8').split('\n');
    assert.equal(out.length, expected.length + 1);
    for (let k = 0; k < 2000; k++) {
      const at = rnd(expected.length);
      assert.equal((JSON.parse(out[at]!) as { i: unknown }).i, expected[at]);
    }
    ds.close();
  });
});

describe('corner cases found by the property tests', () => {
  test('an empty last line without a terminator: saved as nothing, still a line that undo can restore', async () => {
    const { ds, path } = await open('{}');
    const e = ds.replaceLine(0, { raw: '' });
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '');
    assert.equal(ds.lineCount, 1);
    ds.undoEdit(e);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '{}');
    ds.close();
  });

  test('appending after a last line without a newline gives it one; undo after the save keeps it', async () => {
    const { ds, path } = await open('{}');
    const e = ds.insertLine(1, {});
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '{}\n{}\n');
    ds.undoEdit(e);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '{}\n');
    ds.close();
  });
});
