// Property-based round trips: random files (valid and invalid lines, random terminators, with or
// without a final newline), random edit sequences with undo/redo and saves in between; the saved
// bytes always equal a simple model's, and undoing everything gives back the original bytes.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { JsonlDataset, LossyEditError, EditError, type Edit } from '../../src/core/store';
import { expectedLines, fileWith, tempDir } from './helpers/store';

type Eol = '' | '\n' | '\r\n';
interface MLine {
  bytes: Buffer;
  eol: Eol;
}

const jsonValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

const lineContent: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 4 })
      .map((o) => Buffer.from(JSON.stringify(o))),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '',
        '  ',
        '{"a":1,"a":2}',
        '{"n":12345678901234567890}',
        '{"x":1.0}',
        '[1]',
        'nope',
        '{"a":',
        '{"t":"\\u00e9"}',
        '\u00ef\u00bb\u00bf{}',
      )
      .map((s) => Buffer.from(s)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.filter((b) => b !== 10))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((s) => Buffer.from(s.replace(/\n/g, ''))) },
);

const fileArb = fc
  .record({
    lines: fc.array(fc.record({ c: lineContent, crlf: fc.boolean() }), { maxLength: 12 }),
    last: fc.constantFrom<Eol>('', '\n', '\r\n'),
  })
  .map(({ lines, last }) => {
    const parts: Buffer[] = [];
    lines.forEach((l, i) => {
      parts.push(l.c);
      parts.push(Buffer.from(i === lines.length - 1 ? last : l.crlf ? '\r\n' : '\n'));
    });
    return Buffer.concat(parts);
  });

type Op =
  | { op: 'set'; at: number; key: string; value: unknown }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'replaceRaw'; at: number; raw: string }
  | { op: 'insert'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'undo' }
  | { op: 'redo' }
  | { op: 'save' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), key: fc.string({ maxLength: 4 }), value: jsonValue }),
  fc.record({
    op: fc.constant('replace' as const),
    at: fc.nat(),
    value: fc.dictionary(fc.string({ maxLength: 3 }), jsonValue, { maxKeys: 2 }),
  }),
  fc.record({
    op: fc.constant('replaceRaw' as const),
    at: fc.nat(),
    raw: fc.string({ maxLength: 10 }).map((s) => s.replace(/[\r\n]/g, '')),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.dictionary(fc.string({ maxLength: 3 }), jsonValue, { maxKeys: 2 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.constant({ op: 'undo' as const }),
  fc.constant({ op: 'redo' as const }),
);

function firstEol(lines: MLine[]): Eol {
  return lines[0]?.eol === '\r\n' ? '\r\n' : '\n';
}

/** The model after undoing or redoing `edit`: a replaced line keeps the terminator it has now. */
function keepEol(next: MLine[], now: MLine[], edit: Edit): MLine[] {
  if (edit.type !== 'replace') return next;
  const out = next.slice();
  const line = out[edit.index]!;
  const eol = now[edit.index]!.eol;
  if (line.eol !== eol) out[edit.index] = { bytes: line.bytes, eol };
  return out;
}

/** The bytes a model's lines are saved as: a line without terminator gets one unless it is last. */
function serialize(lines: MLine[], dflt: Eol): Buffer {
  return Buffer.concat(
    lines.flatMap((l, i) => [l.bytes, Buffer.from(l.eol === '' && i < lines.length - 1 ? dflt : l.eol)]),
  );
}

function modelOf(buf: Buffer): MLine[] {
  return expectedLines(buf).map((l) => ({ bytes: Buffer.from(l.content), eol: l.eol }));
}

async function runSequence(buf: Buffer, ops: Op[], withSaves: boolean): Promise<void> {
  const path = fileWith(buf, 'p.jsonl', tempDir('dc-prop-'));
  const ds = await JsonlDataset.open(path, { worker: false, chunkSize: 5 });
  await ds.ready;
  let model = modelOf(buf);
  let dflt = firstEol(model);
  // Undo/redo stacks hold the store's edits and the model before each one.
  const done: { edit: Edit; before: MLine[] }[] = [];
  let undone: { edit: Edit; before: MLine[]; after: MLine[] }[] = [];
  const record = (edit: Edit, before: MLine[]) => {
    done.push({ edit, before });
    undone = [];
  };
  for (const o of ops) {
    const n = model.length;
    const before = model.slice();
    switch (o.op) {
      case 'set': {
        if (n === 0) break;
        const at = o.at % n;
        const line = model[at]!;
        let parsed: unknown;
        let valid = true;
        try {
          if (
            line.bytes.length === 0 ||
            line.bytes[0] === 0xef ||
            !Buffer.from(line.bytes.toString('utf8')).equals(line.bytes) ||
            line.bytes.includes(13)
          )
            throw new Error('x');
          parsed = JSON.parse(line.bytes.toString('utf8'));
        } catch {
          valid = false;
        }
        const isObj = valid && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
        let edit: Edit;
        try {
          edit = ds.setField(at, [o.key], o.value);
        } catch (err) {
          assert.ok(err instanceof LossyEditError || err instanceof EditError, String(err));
          assert.ok(!isObj || ds.line(at).lossy, `refused edit of a valid record: ${String(err)}`);
          break;
        }
        assert.ok(isObj, 'edited a line that is not an object');
        const obj = parsed as Record<string, unknown>;
        obj[o.key] = o.value;
        model[at] = { bytes: Buffer.from(JSON.stringify(obj)), eol: line.eol };
        record(edit, before);
        break;
      }
      case 'replace':
      case 'replaceRaw': {
        if (n === 0) break;
        const at = o.at % n;
        const edit = o.op === 'replace' ? ds.replaceLine(at, o.value) : ds.replaceLine(at, { raw: o.raw });
        model[at] = { bytes: Buffer.from(o.op === 'replace' ? JSON.stringify(o.value) : o.raw), eol: model[at]!.eol };
        record(edit, before);
        break;
      }
      case 'insert': {
        const at = o.at % (n + 1);
        const edit = ds.insertLine(at, o.value);
        model.splice(at, 0, { bytes: Buffer.from(JSON.stringify(o.value)), eol: dflt });
        record(edit, before);
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = o.at % n;
        record(ds.deleteLine(at), before);
        model.splice(at, 1);
        break;
      }
      case 'undo': {
        const last = done.pop();
        if (!last) break;
        ds.undoEdit(last.edit);
        undone.push({ ...last, after: model });
        model = keepEol(last.before, model, last.edit);
        break;
      }
      case 'redo': {
        const next = undone.pop();
        if (!next) break;
        ds.applyEdit(next.edit);
        done.push({ edit: next.edit, before: next.before });
        model = keepEol(next.after, model, next.edit);
        break;
      }
      case 'save': {
        if (!withSaves) break;
        await ds.save();
        const onDisk = readFileSync(path);
        assert.ok(onDisk.equals(serialize(model, dflt)), 'saved bytes equal the model');
        // After a save, a line that got a terminator on disk keeps it (undo restores contents, and
        // the store is now based on the saved file): the model's line objects are shared with the
        // undo snapshots, so they are updated in place.
        model.forEach((l, i) => {
          if (l.eol === '' && i < model.length - 1) {
            if (l.bytes[l.bytes.length - 1] === 13 && dflt === '\n') {
              l.bytes = l.bytes.subarray(0, l.bytes.length - 1);
              l.eol = '\r\n';
            } else l.eol = dflt;
          }
        });
        dflt = firstEol(model);
        break;
      }
    }
    // The store's view equals the model after every step.
    assert.equal(ds.lineCount, model.length, `line count after ${o.op}`);
  }
  for (let i = 0; i < model.length; i++) {
    assert.ok(ds.line(i).bytes().equals(model[i]!.bytes), `line ${i + 1} content`);
    assert.equal(ds.line(i).eol, model[i]!.eol, `line ${i + 1} terminator`);
  }
  if (withSaves) {
    await ds.save();
    assert.ok(readFileSync(path).equals(serialize(model, dflt)), 'saved bytes equal the model');
  } else {
    // Undo everything: nothing to save, and a save gives back the original bytes exactly.
    for (let d = done.pop(); d; d = done.pop()) ds.undoEdit(d.edit);
    assert.equal(ds.dirty, false, 'undoing every edit leaves nothing to save');
    await ds.save();
    assert.ok(readFileSync(path).equals(buf), 'original bytes after undoing everything');
  }
  ds.close();
}

describe('round trips (fast-check)', () => {
  test('random files and edit sequences: untouched lines byte-identical, edited lines as expected', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.array(opArb, { maxLength: 25 }), (buf, ops) => runSequence(buf, ops, false)),
      { numRuns: 200 },
    );
  });

  test('undoing every edit and saving gives the original bytes exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.array(opArb, { maxLength: 20 }), async (buf, ops) => {
        const path = fileWith(buf, 'u.jsonl', tempDir('dc-prop-'));
        const ds = await JsonlDataset.open(path, { worker: false, chunkSize: 3 });
        await ds.ready;
        const edits: Edit[] = [];
        for (const o of ops) {
          const n = ds.lineCount;
          try {
            if (o.op === 'set' && n > 0) edits.push(ds.setField(o.at % n, [o.key], o.value));
            else if (o.op === 'replace' && n > 0) edits.push(ds.replaceLine(o.at % n, o.value));
            else if (o.op === 'replaceRaw' && n > 0) edits.push(ds.replaceLine(o.at % n, { raw: o.raw }));
            else if (o.op === 'insert') edits.push(ds.insertLine(o.at % (n + 1), o.value));
            else if (o.op === 'delete' && n > 0) edits.push(ds.deleteLine(o.at % n));
          } catch (err) {
            assert.ok(err instanceof LossyEditError || err instanceof EditError, String(err));
          }
        }
        // Edits are JSON: a hot-exit backup restores them.
        const restored = JSON.parse(JSON.stringify(edits)) as Edit[];
        for (let i = restored.length - 1; i >= 0; i--) ds.undoEdit(restored[i]!);
        assert.equal(ds.dirty, false);
        await ds.save();
        assert.ok(readFileSync(path).equals(buf));
        ds.close();
      }),
      { numRuns: 200 },
    );
  });

  test('saves in the middle of a sequence, then undo past them: the bytes follow the model', async () => {
    const withSave = fc.array(fc.oneof(opArb, fc.constant({ op: 'save' as const })), { maxLength: 25 });
    // Always tried first: a file without a final newline, a line appended, the last line replaced,
    // saved (it gets a terminator on disk), undone and redone: the line keeps its terminator.
    const found: [Buffer, Op[]] = [
      Buffer.from('{}'),
      [
        { op: 'insert', at: 1, value: {} },
        { op: 'replace', at: 0, value: {} },
        { op: 'save' },
        { op: 'undo' },
        { op: 'redo' },
        { op: 'delete', at: 1 },
      ],
    ];
    // Also: the last line emptied and saved (an empty last line with no terminator is kept), then a
    // line appended and saved: the empty line gets its terminator (seed 1332155181 found it).
    const emptied: [Buffer, Op[]] = [
      Buffer.from('{}\n{"a":'),
      [{ op: 'replaceRaw', at: 1, raw: '' }, { op: 'save' }, { op: 'insert', at: 2, value: {} }, { op: 'save' }],
    ];
    await fc.assert(
      fc.asyncProperty(fileArb, withSave, (buf, ops) => runSequence(buf, ops, true)),
      { numRuns: 200, examples: [found, emptied] },
    );
  });
});
