// The hostile-input corpus (test/support/hostile-corpus.ts) through the store: every case opens
// (in this thread and in the worker), every line gets the right classification and a readable
// reason, stats agree with the store, and a save after an unrelated edit leaves every other byte
// of the case as it was. Plus the walks over record values that a hostile record could break.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JsonlDataset, computeStats, MAX_RECORD_DEPTH, EditError } from '../../src/core/store';
import { textOf } from '../../src/core/filter/fields';
import { recordAnnotation } from '../../src/core/query';
import { ANCHOR, ANCHOR_EDITED, hostileCorpus, withAnchorEdited, type HostileCase } from '../support/hostile-corpus';
import { fileWith } from './helpers/store';

const corpus = hostileCorpus();

// No control characters (ANSI escapes, NUL) nor bidi overrides in a reason shown to the user.
const unprintable = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

function checkCase(ds: JsonlDataset, c: HostileCase, label: string): void {
  assert.equal(ds.lineCount, c.lines.length, `${label}: line count`);
  c.lines.forEach((exp, i) => {
    const line = ds.line(i);
    if (exp.invalid) {
      assert.ok(line.invalid, `${label}: line ${i + 1} should be invalid`);
      assert.match(line.invalid.reason, exp.invalid, `${label}: line ${i + 1}`);
      assert.doesNotMatch(line.invalid.reason, unprintable, `${label}: line ${i + 1}: the reason is printable`);
      assert.ok(
        line.invalid.reason.length < 400,
        `${label}: line ${i + 1}: the reason is short (${line.invalid.reason.length} chars)`,
      );
      assert.equal(line.value, undefined);
    } else {
      assert.equal(line.invalid, undefined, `${label}: line ${i + 1} should be valid, got: ${line.invalid?.reason}`);
      assert.ok(line.value);
      if (exp.lossy) {
        assert.match(line.lossy?.reason ?? '(not lossy)', exp.lossy, `${label}: line ${i + 1}`);
        assert.doesNotMatch(line.lossy!.reason, unprintable);
      } else assert.equal(line.lossy, undefined, `${label}: line ${i + 1}: not lossy, got: ${line.lossy?.reason}`);
    }
  });
}

describe('hostile corpus through the store', () => {
  for (const c of corpus) {
    test(`${c.name}: opens, every line classified with a readable reason, in this thread and in the worker`, async () => {
      for (const worker of [false, true]) {
        const ds = await JsonlDataset.open(fileWith(c.bytes), {
          worker,
          chunkSize: c.bytes.length > 1 << 20 ? undefined : 4096,
        });
        await ds.ready;
        checkCase(ds, c, `${c.name} (${worker ? 'worker' : 'thread'})`);
        // The stats (worker threads over byte ranges) count what the store says.
        const s = await computeStats(ds);
        assert.equal(s.lines, c.lines.length);
        assert.equal(
          s.invalid,
          c.lines.filter((l) => l.invalid).length,
          `${c.name}: stats count the same invalid lines`,
        );
        ds.close();
      }
    });

    test(`${c.name}: an unrelated edit, then save: every other byte intact`, async () => {
      const path = fileWith(c.bytes);
      const ds = await JsonlDataset.open(path);
      await ds.ready;
      if (c.anchor === undefined) {
        // The empty file: a record added is the whole new file.
        ds.insertLine(0, { anchor: 1 });
        await ds.save();
        assert.equal(readFileSync(path, 'utf8'), `${ANCHOR_EDITED}\n`);
      } else {
        assert.equal(ds.line(c.anchor).raw, ANCHOR);
        ds.setField(c.anchor, ['anchor'], 1);
        await ds.save();
        assert.ok(
          readFileSync(path).equals(withAnchorEdited(c)),
          `${c.name}: the file is the case with only the anchor changed`,
        );
        // And the store, re-based on what it wrote, still says the same of every line.
        checkCase(ds, { ...c, lines: c.lines }, `${c.name} after save`);
      }
      ds.close();
    });
  }

  test('field edits of hostile records: refused with a reason, never a crash', async () => {
    const c = corpus.find((x) => x.name.startsWith('deep nesting'))!;
    const ds = await JsonlDataset.open(fileWith(c.bytes));
    await ds.ready;
    for (let i = 1; i < c.lines.length; i++) assert.throws(() => ds.setField(i, ['x'], 1), EditError);
    // A value too deep to be a record is refused, and so is an edit that would make one.
    let deep: unknown = 1;
    for (let k = 0; k < 100_000; k++) deep = [deep];
    assert.throws(
      () => ds.setField(0, ['deep'], deep),
      (e: unknown) => e instanceof EditError && /nested more than 512 levels/.test(e.message),
    );
    assert.throws(() => ds.replaceLine(0, { deep }), EditError);
    let fits: unknown = 1;
    for (let k = 0; k < MAX_RECORD_DEPTH - 1; k++) fits = [fits];
    ds.setField(0, ['ok'], fits); // 512 levels with the record itself
    assert.equal(ds.line(0).invalid, undefined);
    assert.throws(() => ds.setField(0, ['ok'], [fits]), /nested more than 512 levels/);
    ds.close();
  });

  test('"__proto__" and "constructor" in a field path are the record\'s own keys, never the prototype', async () => {
    const ds = await JsonlDataset.open(fileWith('{"a":1}\n{"__proto__":{"x":1}}\n'));
    await ds.ready;
    ds.setField(0, ['__proto__', 'polluted'], true);
    ds.setField(0, ['constructor', 'prototype', 'polluted'], true);
    ds.setField(1, ['__proto__', 'y'], 2);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    assert.equal(ds.line(0).raw, '{"a":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    assert.equal(ds.line(1).raw, '{"__proto__":{"x":1,"y":2}}');
    ds.close();
  });

  test('walks over record values handle the deepest record the store accepts', () => {
    let v: unknown = 'leaf';
    for (let k = 0; k < MAX_RECORD_DEPTH - 1; k++) v = [v];
    const rec = {
      text: v,
      label: v,
      rationale: v,
      judge: { score: 1, reasons: v },
      annotations: { suggestions: { label: [{ value: v, rationale: v }] } },
    };
    assert.equal(textOf(rec.text), 'leaf');
    assert.doesNotThrow(() => recordAnnotation(rec));
    assert.doesNotThrow(() => JSON.stringify(rec));
    assert.doesNotThrow(() => structuredClone(rec));
  });
});
