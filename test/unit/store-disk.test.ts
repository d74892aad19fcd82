// Saves that the disk refuses, for real: a full disk (a small tmpfs, ENOSPC), a read-only file
// system (the tmpfs remounted read-only, EROFS) and an immutable file (chattr +i; root ignores
// permission bits, not this). Each time: a clear error, the file on disk untouched, no temp file
// left, the edits still in the store; once the disk is fine again the same save succeeds.
// Mounting needs root (CI runs as root); where it is not permitted the test says so in its output
// and simulates the failure with the store's write hook instead, never skipping.
import { after, describe, test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlDataset, SaveError } from '../../src/core/store';
import { writeHooks } from '../../src/core/store/files';
import { writeLinesAtomic } from '../../src/core/write-lines';
import { isRoot, mountTmpfs, setImmutable, unmountAll } from '../support/mounts';
import { tempDir } from './helpers/store';

const MiB = 1024 * 1024;
const record = (i: number) => `{"i":${i},"label":"l${i % 3}","text":"${'t'.repeat(230)}"}\n`;
const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => record(i)).join('')); // about 5 MiB

after(unmountAll);

function say(t: TestContext, note: string): void {
  t.diagnostic(note);
  console.log(`# NOTE: ${note}`);
}

/** The 5 MiB dataset written to `dir`, opened, line `index` relabeled "edited" (not saved). */
async function editedIn(dir: string, index = 1): Promise<{ ds: JsonlDataset; path: string }> {
  const path = join(dir, 'data.jsonl');
  writeFileSync(path, data);
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  ds.setField(index, ['label'], 'edited');
  return { ds, path };
}

async function expectRefusedSave(
  ds: JsonlDataset,
  path: string,
  code: RegExp,
  plain: RegExp,
  index: number,
): Promise<void> {
  const before = readFileSync(path);
  await assert.rejects(ds.save(), (err: unknown) => {
    assert.ok(err instanceof SaveError, `a SaveError, got ${String(err)}`);
    assert.match(err.code, code);
    assert.match(err.message, plain, 'says what happened in plain words');
    assert.match(err.message, /The file on disk was not changed and your edits are kept\./);
    return true;
  });
  assert.ok(readFileSync(path).equals(before), 'the file on disk is untouched');
  assert.deepEqual(
    readdirSync(join(path, '..')).filter((n) => n.includes('.tmp')),
    [],
    'no temp file left',
  );
  assert.equal(ds.dirty, true, 'the edits are still there');
  assert.equal(ds.line(index).value?.label, 'edited');
}

describe('a disk that refuses the save', () => {
  for (const [where, index] of [
    ['near the start (streamed)', 1],
    ['at the end (the kernel copies the untouched start)', 19_999],
  ] as const) {
    test(`disk full (ENOSPC), edit ${where}`, async (t) => {
      const m = mountTmpfs(8 * MiB);
      if ('unavailable' in m) {
        if (isRoot) assert.fail(`running as root, but ${m.unavailable}`);
        say(t, `${m.unavailable}: ENOSPC is simulated with the store's write hook`);
        const { ds, path } = await editedIn(tempDir(), index);
        writeHooks.beforeWrite = () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
        try {
          await expectRefusedSave(ds, path, /^ENOSPC$/, /the disk is full/, index);
        } finally {
          writeHooks.beforeWrite = undefined;
        }
        await ds.save();
        ds.close();
        return;
      }
      const { ds, path } = await editedIn(m.dir, index); // 5 of 8 MiB: no room for the new version beside it
      await expectRefusedSave(ds, path, /^ENOSPC$/, /the disk is full/, index);
      // Room again: the same save goes through, with the edit.
      m.resize(32 * MiB);
      await ds.save();
      const saved = readFileSync(path, 'utf8').split('\n');
      assert.match(saved[index]!, /"label":"edited"/);
      assert.equal(saved.length, 20_001);
      assert.deepEqual(readdirSync(m.dir), ['data.jsonl']);
      ds.close();
      m.unmount();
    });
  }

  test('a new output file on a full disk (curate filter --out, export): an error, no partial file', async (t) => {
    const m = mountTmpfs(1 * MiB);
    if ('unavailable' in m) {
      say(t, `${m.unavailable}: not run for real; the store's save tests above cover the simulation`);
      await assert.rejects(writeLinesAtomic(join(tempDir(), 'x', 'out.jsonl'), ['{}']), /ENOENT/);
      return;
    }
    const out = join(m.dir, 'out.jsonl');
    const lines = Array.from({ length: 10_000 }, (_, i) => record(i).trimEnd());
    await assert.rejects(writeLinesAtomic(out, lines), /ENOSPC/);
    assert.deepEqual(readdirSync(m.dir), [], 'neither the output nor its temp file');
    m.unmount();
  });

  test('read-only file system (EROFS): refused, untouched, edits kept; saved once writable', async (t) => {
    const m = mountTmpfs(32 * MiB);
    if ('unavailable' in m) {
      if (isRoot) assert.fail(`running as root, but ${m.unavailable}`);
      // Not root: permission bits are honoured, so a read-only folder and file do it.
      say(t, `${m.unavailable}: a read-only folder and file (chmod) instead of a read-only mount`);
      const dir = tempDir();
      const { ds, path } = await editedIn(dir);
      chmodSync(path, 0o444);
      chmodSync(dir, 0o555);
      try {
        await expectRefusedSave(ds, path, /^EACCES$/, /read-only/, 1);
      } finally {
        chmodSync(dir, 0o755);
        chmodSync(path, 0o644);
      }
      await ds.save();
      ds.close();
      return;
    }
    const { ds, path } = await editedIn(m.dir);
    m.readOnly(true);
    await expectRefusedSave(ds, path, /^EROFS$/, /the file system is read-only/, 1);
    m.readOnly(false);
    await ds.save();
    assert.match(readFileSync(path, 'utf8').split('\n')[1]!, /"label":"edited"/);
    ds.close();
    m.unmount();
  });

  test('an immutable file (chattr +i) in a writable folder: refused, untouched, edits kept', async (t) => {
    const dir = tempDir();
    const { ds, path } = await editedIn(dir);
    const set = setImmutable(path, true);
    if (set !== true) {
      if (isRoot) assert.fail(`running as root, but ${set.unavailable}`);
      say(t, `${set.unavailable}: a read-only file (chmod 444) instead`);
      chmodSync(path, 0o444);
      try {
        await expectRefusedSave(ds, path, /^EACCES$/, /read-only/, 1);
      } finally {
        chmodSync(path, 0o644);
      }
    } else {
      try {
        await expectRefusedSave(ds, path, /^EPERM$/, /may not be changed/, 1);
      } finally {
        setImmutable(path, false);
      }
    }
    await ds.save();
    assert.match(readFileSync(path, 'utf8').split('\n')[1]!, /"label":"edited"/);
    ds.close();
  });
});
