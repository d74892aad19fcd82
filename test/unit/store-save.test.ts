// Saves: atomic, checked against changes underneath, mode kept, failures leave everything as it
// was (file, edits), save-as, revert, stale temp files cleaned.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConflictError, JsonlDataset, SaveError } from '../../src/core/store';
import { writeHooks } from '../../src/core/store/files';
import { fileWith, tempDir } from './helpers/store';

const lines = (n: number, pad = 40) =>
  Array.from({ length: n }, (_, i) => `{"i":${i},"label":"l${i % 3}","pad":"${'p'.repeat(pad)}"}\n`).join('');

describe('saving', () => {
  test('one edit: only that line changes; the store re-bases onto the saved file', async () => {
    const buf = Buffer.from(lines(1000));
    const path = fileWith(buf);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(500, ['label'], 'edited');
    assert.equal(ds.dirty, true);
    assert.equal(ds.line(500).edited, true);
    await ds.save();
    assert.equal(ds.dirty, false);
    assert.equal(ds.line(500).edited, false);
    const out = readFileSync(path, 'utf8').split('\n');
    const orig = buf.toString('utf8').split('\n');
    assert.equal(out.length, orig.length);
    out.forEach((l, i) => {
      if (i === 500) assert.equal(l, `{"i":500,"label":"edited","pad":"${'p'.repeat(40)}"}`);
      else assert.equal(l, orig[i]);
    });
    assert.equal(await ds.hasChangedOnDisk(), false);
    // The saved file's offsets are known without a new scan: reading and editing go on.
    assert.equal(ds.line(999).value?.i, 999);
    ds.deleteLine(0);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8').split('\n')[0], orig[1]);
    ds.close();
  });

  test('the file mode is kept and no temp file is left', async () => {
    const dir = tempDir();
    const path = fileWith(lines(10), 'm.jsonl', dir);
    chmodSync(path, 0o640);
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['x'], 1);
    await ds.save();
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['m.jsonl']);
    ds.close();
  });

  test('an external edit is a ConflictError and the file is not overwritten', async () => {
    const path = fileWith(lines(100));
    const ds = await JsonlDataset.open(path);
    ds.setField(1, ['label'], 'mine');
    writeFileSync(path, `${lines(100)}{"theirs":true}\n`);
    assert.equal(await ds.hasChangedOnDisk(), true);
    await assert.rejects(
      ds.save(),
      (err: unknown) => err instanceof ConflictError && /changed on disk/.test(err.message),
    );
    assert.ok(readFileSync(path, 'utf8').endsWith('{"theirs":true}\n'));
    assert.equal(ds.dirty, true, 'the edits are kept');
    // Revert drops the edits and loads their version.
    await ds.revert();
    assert.equal(ds.dirty, false);
    assert.equal(ds.lineCount, 101);
    ds.close();
  });

  test('a same-size, same-mtime change in a sampled region is detected', async () => {
    // Big enough that only regions are hashed: first/last 64 KiB and six in between.
    const buf = Buffer.from(lines(40000));
    const path = fileWith(buf);
    utimesSync(path, 1700000000, 1700000000);
    const before = statSync(path);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(3, ['label'], 'mine');
    for (const at of [10, buf.length - 10]) {
      const fd = openSync(path, 'r+');
      const orig = Buffer.alloc(1);
      const { readSync } = await import('node:fs');
      readSync(fd, orig, 0, 1, at);
      writeSync(fd, Buffer.from(orig[0] === 0x70 ? 'q' : 'p'), 0, 1, at);
      closeSync(fd);
      utimesSync(path, 1700000000, 1700000000);
      assert.equal(statSync(path).size, before.size);
      assert.equal(statSync(path).mtimeMs, before.mtimeMs);
      await assert.rejects(ds.save(), ConflictError);
      // Put the byte back: the file is the indexed version again and the save goes through.
      const fd2 = openSync(path, 'r+');
      writeSync(fd2, orig, 0, 1, at);
      closeSync(fd2);
      utimesSync(path, 1700000000, 1700000000);
    }
    await ds.save();
    assert.match(readFileSync(path, 'utf8').split('\n')[3]!, /"mine"/);
    ds.close();
  });

  test('a file replaced by another (rename over it) is a conflict', async () => {
    const dir = tempDir();
    const path = fileWith(lines(5), 'r.jsonl', dir);
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['x'], 1);
    const other = fileWith(lines(5), 'other.jsonl', dir);
    const { renameSync } = await import('node:fs');
    renameSync(other, path);
    await assert.rejects(ds.save(), ConflictError);
    ds.close();
  });

  test('a deleted file is a conflict', async () => {
    const path = fileWith(lines(5));
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['x'], 1);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path);
    await assert.rejects(ds.save(), ConflictError);
    ds.close();
  });

  for (const [code, at] of [
    ['ENOSPC', 7],
    ['EACCES', 7],
    ['EIO', 7],
    ['ENOSPC', 199990],
  ] as const) {
    test(`${code} during a save (edit at line ${at + 1}): original untouched, temp removed, edits kept, clear error`, async () => {
      const dir = tempDir();
      const buf = Buffer.from(lines(200000, 10));
      const path = fileWith(buf, 'e.jsonl', dir);
      const ds = await JsonlDataset.open(path);
      await ds.ready;
      ds.setField(at, ['label'], 'kept');
      writeHooks.beforeWrite = (written) => {
        if (written > 0) throw Object.assign(new Error(`${code}: simulated failure, write`), { code });
      };
      try {
        await assert.rejects(
          ds.save(),
          (err: unknown) =>
            err instanceof SaveError &&
            err.code === code &&
            /not changed/.test(err.message) &&
            /edits are kept/.test(err.message),
        );
      } finally {
        writeHooks.beforeWrite = undefined;
      }
      assert.ok(readFileSync(path).equals(buf));
      assert.deepEqual(readdirSync(dir), ['e.jsonl']);
      assert.equal(ds.dirty, true);
      assert.equal(ds.line(at).value?.label, 'kept');
      await ds.save();
      const saved = readFileSync(path, 'utf8').split('\n');
      assert.match(saved[at]!, /"kept"/);
      assert.equal(saved.length, buf.toString('utf8').split('\n').length);
      ds.close();
    });
  }

  test('save-as writes another file and continues on it; the original stays as it was', async () => {
    const dir = tempDir();
    const buf = Buffer.from(lines(20));
    const path = fileWith(buf, 'a.jsonl', dir);
    const ds = await JsonlDataset.open(path);
    ds.replaceLine(2, { raw: 'not json, kept as typed' });
    const target = join(dir, 'b.jsonl');
    await ds.saveAs(target);
    assert.ok(readFileSync(path).equals(buf));
    assert.equal(readFileSync(target, 'utf8').split('\n')[2], 'not json, kept as typed');
    assert.equal(ds.path, target);
    assert.equal(ds.dirty, false);
    assert.match(ds.line(2).invalid?.reason ?? '', /invalid JSON/);
    ds.close();
  });

  test('save-as into a missing folder fails clearly and keeps the edits', async () => {
    const path = fileWith(lines(3));
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['x'], 1);
    await assert.rejects(
      ds.saveAs('/nonexistent-folder/x.jsonl'),
      (e: unknown) => e instanceof SaveError && e.code === 'ENOENT',
    );
    assert.equal(ds.dirty, true);
    ds.close();
  });

  test('stale temp files of killed saves are removed on open; temp files of live processes are not', async () => {
    const dir = tempDir();
    const path = fileWith(lines(3), 'd.jsonl', dir);
    writeFileSync(join(dir, '.d.jsonl.curate-999999999-abc123.tmp'), 'partial');
    writeFileSync(join(dir, `.d.jsonl.curate-${process.pid}-def456.tmp`), 'in progress');
    writeFileSync(join(dir, '.other.jsonl.curate-999999999-abc.tmp'), 'not ours');
    const ds = await JsonlDataset.open(path);
    assert.deepEqual(
      readdirSync(dir).sort(),
      [`.d.jsonl.curate-${process.pid}-def456.tmp`, '.other.jsonl.curate-999999999-abc.tmp', 'd.jsonl'].sort(),
    );
    ds.close();
  });

  test('with deferCleanup the stale temps are removed when the scan starts (the editor on screen), not in open', async () => {
    const dir = tempDir();
    const path = fileWith(lines(3), 'd.jsonl', dir);
    writeFileSync(join(dir, '.d.jsonl.curate-999999999-abc123.tmp'), 'partial');
    const ds = await JsonlDataset.open(path, { deferScan: true, deferCleanup: true });
    assert.equal(ds.lineCount, 3, 'the records are readable at once');
    assert.deepEqual(readdirSync(dir).sort(), ['.d.jsonl.curate-999999999-abc123.tmp', 'd.jsonl']);
    ds.startScan();
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    ds.close();
    // Reading `ready` starts it too.
    writeFileSync(join(dir, '.d.jsonl.curate-999999999-def456.tmp'), 'partial');
    const again = await JsonlDataset.open(path, { deferCleanup: true });
    await again.ready;
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    again.close();
  });

  test('no final newline and CRLF endings survive a save unchanged', async () => {
    const buf = Buffer.from('{"a":1}\r\n{"b":2}\n{"c":3}\r\n{"d":4}');
    const path = fileWith(buf);
    const ds = await JsonlDataset.open(path);
    ds.setField(1, ['b'], 3);
    await ds.save();
    assert.equal(readFileSync(path, 'utf8'), '{"a":1}\r\n{"b":3}\n{"c":3}\r\n{"d":4}');
    ds.close();
  });

  test('an edit during a save is refused with a clear message; edits are possible again after it', async () => {
    const path = fileWith(lines(300000, 20));
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(0, ['x'], 1);
    const saving = ds.save();
    assert.throws(() => ds.setField(1, ['x'], 1), /save is in progress/);
    await saving;
    ds.setField(1, ['x'], 1);
    assert.equal(ds.dirty, true);
    ds.close();
  });

  test('close() ends the dataset; existsSync of temp files after many saves is clean', async () => {
    const dir = tempDir();
    const path = fileWith(lines(50), 'c.jsonl', dir);
    const ds = await JsonlDataset.open(path);
    for (let i = 0; i < 5; i++) {
      ds.setField(i, ['n'], i);
      await ds.save();
    }
    ds.close();
    assert.throws(() => ds.line(0), /closed/);
    assert.deepEqual(readdirSync(dir), ['c.jsonl']);
    assert.ok(existsSync(path));
  });
});

describe('a save that makes some lines as it writes them (saveReplacing: a batch part applied in one pass)', () => {
  // CRLF and LF lines, an invalid line, a last line without terminator
  const content = Buffer.from(
    `${lines(300)}{"i":300,"crlf":true}\r\nnot json\n{"i":302,"label":"x"}\r\n${lines(5).replace(/\n$/, '')}`,
  );

  test('only the lines given change (their terminators kept), the rest byte for byte; the store reads the new file', async () => {
    const path = fileWith(content);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    const before = ds.revision;
    const seen: number[] = [];
    const replaced = await ds.saveReplacing([0, 7, 150, 299, 300, 301, 302, ds.lineCount - 1], (line) => {
      seen.push(line.index);
      if (!line.value) return undefined; // the invalid line stays
      if (line.index === 150) return undefined; // kept as it is
      return { ...line.value, label: `new ${line.index}` };
    });
    assert.deepEqual(seen, [0, 7, 150, 299, 300, 301, 302, ds.lineCount - 1], 'each line asked once, in order');
    assert.equal(replaced, 6);
    const want = content
      .toString('utf8')
      .split(/(?<=\n)/)
      .map((l, i) => {
        if (![0, 7, 299, 300, 302, 307].includes(i)) return l;
        const eol = /\r\n$/.test(l) ? '\r\n' : /\n$/.test(l) ? '\n' : '';
        const v = JSON.parse(l) as Record<string, unknown>;
        return `${JSON.stringify({ ...v, label: `new ${i}` })}${eol}`;
      })
      .join('');
    assert.equal(readFileSync(path, 'utf8'), want);
    assert.equal(ds.dirty, false);
    assert.notEqual(ds.revision, before, 'the lines changed');
    assert.equal(ds.line(300).value?.label, 'new 300');
    assert.equal(ds.line(300).eol, '\r\n');
    assert.equal(ds.line(301).raw, 'not json');
    assert.equal(ds.line(ds.lineCount - 1).eol, '');
    ds.close();
  });

  test('refused, with nothing written, when the file changed underneath, when there are unsaved edits, for indices out of order and for a value JSON cannot hold', async () => {
    const dir = tempDir();
    const path = fileWith(content, 'r.jsonl', dir);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(1, ['label'], 'mine');
    await assert.rejects(
      ds.saveReplacing([0], (l) => l.value),
      /no unsaved edits/,
    );
    ds.undoEdit(ds.setField(1, ['label'], 'l1'));
    await ds.revert();
    await assert.rejects(
      ds.saveReplacing([5, 3], (l) => ({ ...(l.value ?? {}), x: 1 })),
      RangeError,
    );
    await assert.rejects(
      ds.saveReplacing([5, 6], (l) => ({ ...(l.value ?? {}), x: l.index === 6 ? Number.NaN : 1 })),
      /NaN/,
    );
    assert.ok(readFileSync(path).equals(content), 'nothing written');
    writeFileSync(path, `${content.toString('utf8')}\n{"theirs":true}\n`);
    await assert.rejects(
      ds.saveReplacing([0], (l) => ({ ...(l.value ?? {}), x: 1 })),
      (err: unknown) => err instanceof ConflictError,
    );
    assert.ok(readFileSync(path, 'utf8').endsWith('{"theirs":true}\n'), 'their version stays');
    assert.deepEqual(readdirSync(dir), ['r.jsonl'], 'no temp file left');
    ds.close();
  });
});
