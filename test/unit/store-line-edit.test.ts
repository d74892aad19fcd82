// The single-record edit of `curate set` (src/core/store/line-edit.ts): it reads the file only as
// far as the line and replaces the file atomically, starting from a kernel copy when most bytes
// stay in place. Every test compares the saved file with a reference built here from the
// original bytes: untouched records byte for byte, the edited line as compact JSON with its own
// terminator.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  chmodSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConflictError, EditError, JsonlDataset, LossyEditError } from '../../src/core/store';
import { writeHooks } from '../../src/core/store/files';
import { FIRST_READ, NoSuchLineError, OVERLAP_MIN_BYTES, setFieldsOfLine } from '../../src/core/store/line-edit';
import { fileWith, tempDir } from './helpers/store';

const rec = (i: number, label = ['positive', 'negative'][i % 2]) =>
  `{"i":"${String(i).padStart(6, '0')}","label":"${label}","text":"${'t'.repeat(200)}"}`;

/** n records joined by `eol`, with or without a final terminator. */
function fileText(n: number, eol = '\n', final = true): string {
  const lines = Array.from({ length: n }, (_, i) => rec(i));
  return lines.join(eol) + (final ? eol : '');
}

/** The reference: `text` with record i's label replaced (the record rewritten as compact JSON). */
function withLabel(text: string, i: number, label: string): string {
  const before = rec(i);
  assert.ok(text.includes(before));
  return text.replace(before, rec(i, label));
}

/** The file offsets the save's writes start at (files.ts' test seam). */
async function writesOf<T>(run: () => Promise<T>): Promise<{ at: number[]; result: T }> {
  const at: number[] = [];
  writeHooks.beforeWrite = (pos) => void at.push(pos);
  try {
    return { at, result: await run() };
  } finally {
    writeHooks.beforeWrite = undefined;
  }
}

const lineStart = (i: number, eol = '\n') => i * (rec(0).length + eol.length);

describe('setFieldsOfLine (curate set)', () => {
  test('a same-length relabel in the second half of a file: a kernel copy, one write of that line', async () => {
    const n = 20_000;
    const text = fileText(n);
    const path = fileWith(text);
    const k = 15_000;
    const { at, result } = await writesOf(() => setFieldsOfLine(path, k + 1, [{ path: ['label'], value: 'negative' }]));
    assert.equal(rec(k), rec(k, 'positive'));
    assert.deepEqual(at, [lineStart(k)], 'one write, at the edited line');
    assert.equal(result.cloned, true);
    assert.equal(result.written, rec(k).length);
    assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, k, 'negative'))));
    assert.deepEqual(readdirSync(join(path, '..')).length, 1, 'no temp file or lock left');
  });

  test('a same-length relabel of the first line also starts from the kernel copy', async () => {
    const text = fileText(5000);
    const path = fileWith(text);
    const { at } = await writesOf(() => setFieldsOfLine(path, 1, [{ path: ['label'], value: 'negative' }]));
    assert.deepEqual(at, [0]);
    assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, 0, 'negative'))));
  });

  test('length-changing edits at the first line, in the middle and at the last line: exact bytes', async () => {
    const n = 8000;
    for (const k of [0, 1, 3999, 6000, n - 2, n - 1]) {
      const text = fileText(n);
      const path = fileWith(text);
      const { at, result } = await writesOf(() => setFieldsOfLine(path, k + 1, [{ path: ['label'], value: 'mixed' }]));
      assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, k, 'mixed'))), `line ${k + 1}`);
      // Past the middle the file starts as a kernel copy and the writes begin at the line;
      // before it, the whole file is written here.
      assert.equal(result.cloned, lineStart(k) >= text.length / 2, `line ${k + 1}`);
      assert.equal(at[0], result.cloned ? lineStart(k) : 0, `line ${k + 1}`);
    }
  });

  test('a file without a final newline: the last line edited longer and shorter, still without one', async () => {
    const n = 3000;
    let text = fileText(n, '\n', false);
    const path = fileWith(text);
    await setFieldsOfLine(path, n, [{ path: ['label'], value: 'a much longer label' }]);
    text = text.replace(rec(n - 1), rec(n - 1, 'a much longer label'));
    assert.ok(readFileSync(path).equals(Buffer.from(text)));
    assert.ok(!text.endsWith('\n'));
    await setFieldsOfLine(path, n, [{ path: ['label'], value: 'x' }]);
    text = text.replace(rec(n - 1, 'a much longer label'), rec(n - 1, 'x'));
    assert.ok(readFileSync(path).equals(Buffer.from(text)));
    // The line before the last one, length changed: the unterminated last line follows as it was.
    await setFieldsOfLine(path, n - 1, [{ path: ['label'], value: 'yy' }]);
    text = text.replace(rec(n - 2), rec(n - 2, 'yy'));
    assert.ok(readFileSync(path).equals(Buffer.from(text)));
  });

  test('CRLF files keep every CRLF; the edited line keeps its own', async () => {
    const n = 6000;
    let text = fileText(n, '\r\n');
    const path = fileWith(text);
    for (const [k, label] of [
      [10, 'no'],
      [4500, 'neutral'],
      [n - 1, 'positive!'],
      [0, 'negative'],
    ] as const) {
      assert.ok(text.includes(rec(k)), `record ${k} is still the original`);
      await setFieldsOfLine(path, k + 1, [{ path: ['label'], value: label }]);
      text = text.replace(rec(k), rec(k, label));
      assert.ok(readFileSync(path).equals(Buffer.from(text)), `line ${k + 1}`);
    }
    assert.equal(text.split('\r\n').length, n + 1);
  });

  test('several edits of mixed lengths in a row, read back by a full index, match the reference', async () => {
    const n = 4000;
    let text = fileText(n);
    const path = fileWith(text);
    const edits: [number, string][] = [
      [3000, 'negative'], // same length as "positive"
      [3001, 'n'],
      [10, 'neutral-and-long'],
      [3999, 'p'],
      [1999, 'positive'], // same length
      [0, ''],
    ];
    for (const [k, label] of edits) {
      const before = rec(k);
      await setFieldsOfLine(path, k + 1, [{ path: ['label'], value: label }]);
      text = text.replace(before, rec(k, label));
      assert.ok(readFileSync(path).equals(Buffer.from(text)), `after line ${k + 1}`);
    }
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    assert.equal(ds.lineCount, n);
    for (const [k, label] of edits) assert.equal(ds.line(k).value?.label, label);
    ds.close();
  });

  test('nested paths and a value that is already there (nothing written)', async () => {
    const path = fileWith('{"a":1,"j":{"s":2}}\n{"b":[1,2]}\n');
    const r = await setFieldsOfLine(path, 2, [{ path: ['b', 1], value: { c: 'é' } }]);
    assert.equal(r.changed, true);
    assert.equal(readFileSync(path, 'utf8'), '{"a":1,"j":{"s":2}}\n{"b":[1,{"c":"é"}]}\n');
    const mtime = statSync(path).mtimeMs;
    const ino = statSync(path).ino;
    const same = await setFieldsOfLine(path, 1, [{ path: ['j', 's'], value: 2 }]);
    assert.equal(same.changed, false);
    assert.equal(statSync(path).mtimeMs, mtime);
    assert.equal(statSync(path).ino, ino, 'the file was not replaced');
  });

  test('a line past the end, an invalid line and a lossy record: refused before anything is written', async () => {
    const dir = tempDir();
    const text = '{"a":1}\nnot json\n{"id":12345678901234567890}';
    const path = fileWith(text, 'd.jsonl', dir);
    await assert.rejects(
      setFieldsOfLine(path, 4, [{ path: ['a'], value: 2 }]),
      (err: unknown) => err instanceof NoSuchLineError && err.lines === 3 && /has 3 line\(s\)/.test(err.message),
    );
    await assert.rejects(setFieldsOfLine(path, 2, [{ path: ['a'], value: 2 }]), EditError);
    await assert.rejects(setFieldsOfLine(path, 3, [{ path: ['a'], value: 2 }]), LossyEditError);
    await assert.rejects(setFieldsOfLine(path, 1, [{ path: ['a', 'b'], value: 2 }]), EditError);
    assert.equal(readFileSync(path, 'utf8'), text);
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
  });

  test('a change during the write is a ConflictError: their change kept, no temp file left', async () => {
    for (const k of [1, 2900]) {
      const dir = tempDir();
      const text = fileText(3000);
      const path = fileWith(text, 'd.jsonl', dir);
      writeHooks.beforeWrite = () => {
        writeHooks.beforeWrite = undefined;
        writeFileSync(path, '{"theirs":true}\n', { flag: 'a' });
      };
      try {
        await assert.rejects(setFieldsOfLine(path, k, [{ path: ['label'], value: 'zz' }]), ConflictError);
      } finally {
        writeHooks.beforeWrite = undefined;
      }
      assert.equal(readFileSync(path, 'utf8'), `${text}{"theirs":true}\n`);
      assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    }
  });

  test('the edited line rewritten in place during the save (same size, mtime put back): a conflict', async () => {
    const dir = tempDir();
    const text = fileText(20_000); // 4.7 MB: the sampled fingerprint does not cover line 10,001
    const path = fileWith(text, 'd.jsonl', dir);
    utimesSync(path, 1_700_000_000, 1_700_000_000); // whole seconds: put back exactly below
    const k = 10_000;
    writeHooks.beforeWrite = () => {
      writeHooks.beforeWrite = undefined;
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from(rec(k, 'NEGATIVE')), 0, rec(k).length, lineStart(k));
      closeSync(fd);
      utimesSync(path, 1_700_000_000, 1_700_000_000);
    };
    try {
      await assert.rejects(
        setFieldsOfLine(path, k + 1, [{ path: ['label'], value: 'negative' }]),
        (err: unknown) => err instanceof ConflictError && /the edited line changed/.test(err.message),
      );
    } finally {
      writeHooks.beforeWrite = undefined;
    }
    assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, k, 'NEGATIVE'))), 'their bytes kept');
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
  });

  test('through a symlink: the link stays a link, the file it points at is replaced with its mode kept', async () => {
    const dir = tempDir();
    const text = fileText(2000);
    const real = fileWith(text, 'real.jsonl', dir);
    chmodSync(real, 0o640);
    const link = join(dir, 'link.jsonl');
    symlinkSync('real.jsonl', link);
    await setFieldsOfLine(link, 1500, [{ path: ['label'], value: 'n' }]);
    assert.equal(readlinkSync(link), 'real.jsonl');
    assert.ok(readFileSync(real).equals(Buffer.from(withLabel(text, 1499, 'n'))));
    assert.equal(statSync(real).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir).sort(), ['link.jsonl', 'real.jsonl']);
  });
});

describe('setFieldsOfLine on a file past OVERLAP_MIN_BYTES: a line past the middle is copied while the scan reads', () => {
  // 24,000 records of 237 bytes: 5.7 MB, past OVERLAP_MIN_BYTES; the first read (1 MiB) holds
  // lines 1-4424 (found there: plan `after`, as for a small file).
  const n = 24_000;
  const size = () => fileText(n).length;
  assert.ok(size() > OVERLAP_MIN_BYTES && size() > 2 * FIRST_READ);

  test('a line in the first half: scanned first, then a kernel copy (same length) or a copy through the process', async () => {
    for (const [k, label] of [
      [5000, 'negative'], // same length as "positive"
      [5001, 'mixed'],
      [11_999, ''],
    ] as const) {
      const text = fileText(n);
      const path = fileWith(text);
      const { at, result } = await writesOf(() => setFieldsOfLine(path, k + 1, [{ path: ['label'], value: label }]));
      const sameLength = rec(k).length === rec(k, label).length;
      assert.equal(result.plan, 'after', `line ${k + 1}`);
      assert.equal(result.cloned, sameLength);
      assert.deepEqual(sameLength ? at : at.slice(0, 1), sameLength ? [lineStart(k)] : [0]);
      assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, k, label))), `line ${k + 1}`);
    }
  });

  test('a line in the second half: the kernel copy started at the first read, then the line (and what follows when its length changes)', async () => {
    for (const [k, label] of [
      [18_000, 'negative'],
      [18_001, 'a longer label'],
      [n - 1, 'x'],
    ] as const) {
      const text = fileText(n);
      const path = fileWith(text);
      const { at, result } = await writesOf(() => setFieldsOfLine(path, k + 1, [{ path: ['label'], value: label }]));
      assert.equal(result.plan, 'clone', `line ${k + 1}`);
      assert.equal(result.cloned, true);
      assert.equal(at[0], lineStart(k));
      if (rec(k).length === rec(k, label).length) assert.deepEqual(at, [lineStart(k)]);
      assert.ok(readFileSync(path).equals(Buffer.from(withLabel(text, k, label))), `line ${k + 1}`);
    }
  });

  test('a line across the end of the first read, and lines across later reads: exact bytes', async () => {
    const across = Math.floor(FIRST_READ / (rec(0).length + 1)); // starts before 1 MiB, ends after it
    assert.ok(lineStart(across) < FIRST_READ && lineStart(across + 1) > FIRST_READ);
    let text = fileText(n);
    const path = fileWith(text);
    // Lines across the later reads' boundaries, in both halves.
    const later = [2, 4, 5].map((j) => Math.floor((j * FIRST_READ) / (rec(0).length + 1)));
    for (const k of [across, ...later]) {
      await setFieldsOfLine(path, k + 1, [{ path: ['label'], value: `edited-${k}` }]);
      text = text.replace(rec(k), rec(k, `edited-${k}`));
      assert.ok(readFileSync(path).equals(Buffer.from(text)), `line ${k + 1}`);
    }
  });

  test('CRLF, and a last line without a terminator: kept in both plans', async () => {
    let text = fileText(n, '\r\n', false);
    const path = fileWith(text);
    for (const [k, label] of [
      [6000, 'no'],
      [n - 1, 'last, longer'],
      [n - 2, 'y'],
      [9000, 'negative'],
    ] as const) {
      const r = await setFieldsOfLine(path, k + 1, [{ path: ['label'], value: label }]);
      assert.equal(r.plan, k < n / 2 ? 'after' : 'clone', `line ${k + 1}`);
      text = text.replace(rec(k), rec(k, label));
      assert.ok(readFileSync(path).equals(Buffer.from(text)), `line ${k + 1}`);
    }
    assert.ok(!text.endsWith('\n'));
  });

  test('refused, unchanged or missing lines: the file kept (same inode), the temp file started meanwhile removed', async () => {
    const dir = tempDir();
    const text = fileText(n).replace(rec(6000), 'not json').replace(rec(18_000), '{"id":12345678901234567890}');
    const path = fileWith(text, 'd.jsonl', dir);
    const ino = statSync(path).ino;
    await assert.rejects(setFieldsOfLine(path, 6001, [{ path: ['a'], value: 2 }]), EditError);
    await assert.rejects(setFieldsOfLine(path, 18_001, [{ path: ['a'], value: 2 }]), LossyEditError);
    await assert.rejects(setFieldsOfLine(path, 7000, [{ path: ['label', 'x'], value: 2 }]), EditError);
    await assert.rejects(
      setFieldsOfLine(path, n + 1, [{ path: ['a'], value: 2 }]),
      (err: unknown) => err instanceof NoSuchLineError && err.lines === n,
    );
    for (const k of [7000, 16_000]) {
      const same = await setFieldsOfLine(path, k + 1, [{ path: ['label'], value: k % 2 ? 'negative' : 'positive' }]);
      assert.equal(same.changed, false);
    }
    assert.equal(readFileSync(path, 'utf8'), text);
    assert.equal(statSync(path).ino, ino);
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
  });

  test('a change during the scan or the write is a ConflictError, in both plans: their change kept, no temp file left', async () => {
    for (const k of [7000, 20_000]) {
      const dir = tempDir();
      const text = fileText(n);
      const path = fileWith(text, 'd.jsonl', dir);
      writeHooks.beforeWrite = () => {
        writeHooks.beforeWrite = undefined;
        writeFileSync(path, '{"theirs":true}\n', { flag: 'a' });
      };
      try {
        await assert.rejects(setFieldsOfLine(path, k + 1, [{ path: ['label'], value: 'zz' }]), ConflictError);
      } finally {
        writeHooks.beforeWrite = undefined;
      }
      assert.equal(readFileSync(path, 'utf8'), `${text}{"theirs":true}\n`);
      assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    }
  });
});

describe('JsonlDataset.save from a kernel copy', () => {
  test('CRLF file, edits of mixed lengths past the middle: exact bytes, and the re-based offsets read right', async () => {
    const n = 6000;
    const text = fileText(n, '\r\n');
    const path = fileWith(text);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    const edits: [number, string][] = [
      [3500, 'negative'],
      [4000, 'n'],
      [5000, 'a longer label'],
      [n - 1, 'last'],
    ];
    let expected = text;
    for (const [k, label] of edits) {
      ds.setField(k, ['label'], label);
      expected = expected.replace(rec(k), rec(k, label));
    }
    const { at } = await writesOf(() => ds.save());
    assert.equal(at[0], lineStart(3500, '\r\n'), 'the untouched start is the kernel copy');
    assert.ok(readFileSync(path).equals(Buffer.from(expected)));
    for (const k of [0, 3499, 3500, 4000, 4001, 5000, 5001, n - 1]) {
      const l = ds.line(k);
      assert.equal(l.eol, '\r\n');
      assert.equal(l.raw, expected.split('\r\n')[k]);
    }
    ds.close();
  });
});
