// A file rewritten in place by another program (same file, other bytes) while edits are open: the
// lines not edited can no longer be read as they were, so no save may copy them; a file replaced
// by a rename (as editors and git do) keeps the indexed version readable, and a forced save works.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConflictError, JsonlDataset, SaveError } from '../../src/core/store';
import { fileWith } from './helpers/store';

const content = `${Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, text: `line ${i}` })).join('\n')}\n`;

describe('saving after another program changed the file', () => {
  test('rewritten in place: the save refuses, forced or to another path, and writes nothing', async () => {
    const path = fileWith(content);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(10, ['text'], 'edited');
    const other = `${JSON.stringify({ i: 0, text: 'a different, longer first line written by another program' })}\n${content}`;
    writeFileSync(path, other);
    assert.equal(ds.sourceIntact(), false);
    await assert.rejects(ds.save(), ConflictError);
    await assert.rejects(
      ds.save({ force: true }),
      (err: unknown) => err instanceof SaveError && /rewritten in place by another program/.test(err.message),
    );
    await assert.rejects(ds.saveAs(`${path}.copy`), SaveError);
    assert.equal(readFileSync(path, 'utf8'), other, 'the other program’s file is left as it wrote it');
    ds.close();
  });

  test('replaced by a rename: a forced save writes this version, untouched lines as they were', async () => {
    const path = fileWith(content);
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(10, ['text'], 'edited');
    writeFileSync(`${path}.tmp`, 'something else entirely\n');
    renameSync(`${path}.tmp`, path);
    assert.equal(ds.sourceIntact(), true);
    await assert.rejects(ds.save(), ConflictError);
    await ds.save({ force: true });
    const expected = content.split('\n');
    expected[10] = JSON.stringify({ i: 10, text: 'edited' });
    assert.equal(readFileSync(path, 'utf8'), expected.join('\n'));
    ds.close();
  });
});
