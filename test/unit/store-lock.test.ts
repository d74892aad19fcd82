// Writers of one file: the write lock (concurrent writers never both succeed with one edit lost,
// a killed holder does not block, a live one makes the loser wait or exit 3), saves through
// symlinks, and the owner and mode a save keeps. Issue 14, points 3, 4 and 10 (owner).
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConflictError, JsonlDataset, SaveError } from '../../src/core/store';
import { LockedError } from '../../src/core/store/errors';
import { acquireLock, lockPathFor } from '../../src/core/store/lock';
import { fileWith, root, tempDir } from './helpers/store';

const lines = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `{"i":${i},"text":"record number ${i} with some text to make it realistic","label":"l${i % 3}"}\n`,
  ).join('');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

interface Proc {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], stdin?: (p: ReturnType<typeof spawn>) => void): Promise<Proc> {
  const p = spawn(process.execPath, ['--import', tsx, ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin?.(p);
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, out, err })));
}

const records = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { i: number; w?: Record<string, number>; label?: string });

describe('concurrent writers', () => {
  test('N writer processes x M trials on one 20,000-line file: every save that succeeded is in the file', async (t) => {
    const path = fileWith(Array.from({ length: 20_000 }, (_, i) => `{"i":${i}}\n`).join(''), 'shared.jsonl');
    const N = 4;
    const M = 12;
    // The children start together: each waits for a line on stdin.
    const procs: Promise<Proc>[] = [];
    const ready: Promise<() => void>[] = [];
    for (let w = 0; w < N; w++) {
      procs.push(
        run([join(root, 'test/unit/helpers/writer-child.ts'), path, `w${w}`, String(M)], (p) => {
          ready.push(new Promise((resolve) => p.stderr!.once('data', () => resolve(() => p.stdin!.write('go\n')))));
        }),
      );
    }
    for (const go of await Promise.all(ready)) go();
    const results = await Promise.all(procs);
    const saved: string[] = [];
    let conflicts = 0;
    for (const r of results) {
      assert.equal(r.code, 0, r.err);
      const o = JSON.parse(r.out) as { saved: string[]; conflicts: number };
      saved.push(...o.saved);
      conflicts += o.conflicts;
    }
    const inFile = new Set<string>();
    const recs = records(path);
    assert.equal(recs.length, 20_000);
    recs.forEach((r, i) => {
      assert.equal(r.i, i, 'every line keeps its place');
      for (const k of Object.keys(r.w ?? {})) inFile.add(k);
    });
    const lost = saved.filter((k) => !inFile.has(k));
    assert.deepEqual(lost, [], `saves that succeeded but whose edit is not in the file (lost edits)`);
    assert.ok(saved.length >= M, 'writers made progress');
    assert.equal(inFile.size, saved.length, 'no edit in the file that its writer did not report saved');
    assert.equal(saved.length + conflicts, N * M);
    t.diagnostic(
      `${N} writers x ${M} trials: ${saved.length} saved, ${conflicts} conflicts (exit 3 in the CLI), 0 lost`,
    );
    assert.deepEqual(readdirSync(join(path, '..')), ['shared.jsonl'], 'no lock or temp file left');
  });

  test('curate set x4 at once on one file: each exits 0 with its edit in the file, or 3 with a clear message', async () => {
    const path = fileWith(lines(20_000), 'cli.jsonl');
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        run([
          join(root, 'src/cli/main.ts'),
          'set',
          path,
          '--line',
          String(n * 1000),
          '--field',
          'label',
          '--value',
          `"by-${n}"`,
        ]),
      ),
    );
    const recs = records(path);
    let ok = 0;
    runs.forEach((r, k) => {
      const n = k + 1;
      if (r.code === 0) {
        ok++;
        assert.equal(recs[n * 1000 - 1]!.label, `by-${n}`, `writer ${n} exited 0: its edit must be in the file`);
      } else {
        assert.equal(r.code, 3, r.err);
        assert.match(r.err, /changed on disk since it was opened|is being saved by another writer/);
        assert.notEqual(recs[n * 1000 - 1]!.label, `by-${n}`);
      }
    });
    assert.ok(ok >= 1);
  });

  test('a lock left by a killed writer is taken over at once; an old one too', async () => {
    const dir = tempDir();
    const path = fileWith(lines(10), 'd.jsonl', dir);
    // A process that existed and is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const host = (await import('node:os')).hostname();
    writeFileSync(lockPathFor(path), JSON.stringify({ pid: Number(dead.stdout), host, time: Date.now(), token: 'x' }));
    const ds = await JsonlDataset.open(path); // the open already cleans it
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    writeFileSync(lockPathFor(path), JSON.stringify({ pid: Number(dead.stdout), host, time: Date.now(), token: 'y' }));
    ds.setField(0, ['label'], 'saved');
    await ds.save({ lockWaitMs: 0 });
    assert.equal(records(path)[0]!.label, 'saved');
    // A torn lock file (a crash while writing it) two minutes old: stale by age.
    writeFileSync(lockPathFor(path), '{"pid":');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPathFor(path), old, old);
    ds.setField(1, ['label'], 'saved too');
    await ds.save({ lockWaitMs: 0 });
    assert.equal(records(path)[1]!.label, 'saved too');
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
    ds.close();
  });

  test('a live holder: the writer waits for it, then saves; past its wait it gives up (LockedError, a conflict) and writes nothing', async () => {
    const path = fileWith(lines(10));
    const before = readFileSync(path);
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['label'], 'x');
    const lock = await acquireLock(path);
    await assert.rejects(
      ds.save({ lockWaitMs: 150 }),
      (e: unknown) =>
        e instanceof LockedError &&
        e instanceof ConflictError &&
        /being saved by another writer \(process \d+ on this machine/.test(e.message),
    );
    assert.ok(readFileSync(path).equals(before));
    assert.equal(ds.dirty, true, 'the edits are kept');
    const saving = ds.save({ lockWaitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(readFileSync(path).equals(before), 'still waiting');
    lock.release();
    await saving;
    assert.equal(records(path)[0]!.label, 'x');
    ds.close();
  });
});

test('a save asked for while another waits for the lock (and is then cancelled, as VS Code does) waits for it and saves', async () => {
  const path = fileWith(lines(10));
  const ds = await JsonlDataset.open(path);
  ds.setField(0, ['label'], 'x');
  const lock = await acquireLock(path);
  const first = new AbortController();
  const one = ds.save({ signal: first.signal });
  await new Promise((r) => setTimeout(r, 50));
  first.abort();
  const two = ds.save();
  await assert.rejects(one, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  lock.release();
  await two;
  assert.equal(records(path)[0]!.label, 'x');
  assert.equal(ds.dirty, false);
  ds.close();
});

describe('symlinks, owner and mode', () => {
  test('curate set on a symlinked dataset (relative link, as git-annex and DVC make them) writes through: the link stays a link', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'store'));
    const real = fileWith(lines(5), 'data.jsonl', join(dir, 'store'));
    const link = join(dir, 'link.jsonl');
    symlinkSync('store/data.jsonl', link);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        tsx,
        join(root, 'src/cli/main.ts'),
        'set',
        link,
        '--line',
        '2',
        '--field',
        'label',
        '--value',
        '"through"',
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
    assert.equal(readlinkSync(link), 'store/data.jsonl');
    assert.equal(records(real)[1]!.label, 'through', 'the target has the new content');
    assert.deepEqual(readdirSync(dir).sort(), ['link.jsonl', 'store']);
    assert.deepEqual(
      readdirSync(join(dir, 'store')),
      ['data.jsonl'],
      'the temp file was beside the target and is gone',
    );
  });

  test('a dataset in a symlinked folder, and save-as onto a link: written through', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'real'));
    const path = fileWith(lines(3), 'd.jsonl', join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'alias'));
    const ds = await JsonlDataset.open(join(dir, 'alias', 'd.jsonl'));
    ds.setField(0, ['label'], 'a');
    await ds.save();
    assert.equal(records(path)[0]!.label, 'a');
    const other = fileWith('{"old":true}\n', 'other.jsonl', join(dir, 'real'));
    symlinkSync(other, join(dir, 'other-link.jsonl'));
    await ds.saveAs(join(dir, 'other-link.jsonl'));
    assert.ok(lstatSync(join(dir, 'other-link.jsonl')).isSymbolicLink());
    assert.equal(records(other)[0]!.label, 'a');
    ds.close();
  });

  test('save-as onto a dangling link creates its target; a loop of links does not hang', async () => {
    const dir = tempDir();
    const path = fileWith(lines(2), 'd.jsonl', dir);
    symlinkSync('out/new.jsonl', join(dir, 'dangling.jsonl'));
    mkdirSync(join(dir, 'out'));
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const ds = await JsonlDataset.open(path);
    await ds.saveAs(join(dir, 'dangling.jsonl'));
    assert.ok(lstatSync(join(dir, 'dangling.jsonl')).isSymbolicLink());
    assert.equal(records(join(dir, 'out', 'new.jsonl')).length, 2);
    await assert.rejects(ds.saveAs(join(dir, 'loop-a')), (e: unknown) => e instanceof SaveError && e.code === 'ELOOP');
    ds.close();
  });

  test('a save keeps the file mode, and its owner and group (as root: any; else where permitted)', async () => {
    const path = fileWith(lines(3));
    chmodSync(path, 0o640);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(path, 1234, 4321);
    const before = statSync(path);
    const ds = await JsonlDataset.open(path);
    ds.setField(0, ['label'], 'owned');
    await ds.save();
    const after = statSync(path);
    assert.notEqual(after.ino, before.ino, 'replaced by a new file (atomic rename)');
    assert.equal(after.mode & 0o7777, 0o640);
    assert.equal(after.uid, before.uid);
    assert.equal(after.gid, before.gid);
    if (asRoot) assert.deepEqual([after.uid, after.gid], [1234, 4321]);
    assert.equal(records(path)[0]!.label, 'owned');
    ds.close();
  });
});

test('an edit asked for during a save (refused meanwhile) waits for it with saveSettled, then is kept', async () => {
  const path = fileWith(lines(10));
  const ds = await JsonlDataset.open(path);
  ds.setField(0, ['label'], 'x');
  const lock = await acquireLock(path);
  const saving = ds.save();
  assert.throws(() => ds.setField(1, ['label'], 'y'), /a save is in progress/);
  setTimeout(() => lock.release(), 100);
  await ds.saveSettled();
  ds.setField(1, ['label'], 'y');
  await saving;
  await ds.save();
  assert.deepEqual(
    records(path)
      .slice(0, 2)
      .map((r) => r.label),
    ['x', 'y'],
  );
  ds.close();
});
