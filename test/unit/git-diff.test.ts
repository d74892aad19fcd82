// The semantic diff (src/core/git/diff.ts) and `curate diff`, on files and on revisions of a real
// git repository.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRecord, diffDatasets, diffFiles, recordChanges, type DiffResult } from '../../src/core/git/diff';
import { JsonlDataset } from '../../src/core/store';
import { parseRange } from '../../src/core/git/git';
import { curate, fileWith, tempDir } from './helpers/store';
import { curateIn, git, repo } from './helpers/git';

const lines = (...recs: unknown[]) => recs.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('recordChanges', () => {
  test('label flip, a decision by whom and when, a judge and a suggestion added, review, text', () => {
    const before = { id: 1, text: 'great battery', label: 'positive' };
    const after = {
      id: 1,
      text: 'great battery!',
      label: 'negative',
      judges: [{ score: 3, model: 'gpt-4.1', provenance: { prompt_hash: 'sha256:a', time: '2026-12-01T00:00:00Z' } }],
      judge: { score: 3, model: 'gpt-4.1' },
      annotations: {
        suggestions: { label: [{ value: 'negative', score: 0.9, agent: 'gpt-4o-mini', type: 'model' }] },
        human: { label: { value: 'negative', user: 'maria', status: 'submitted', time: '2026-12-02T09:00:00Z' } },
        review: { status: 'reviewed' },
      },
    };
    const c = recordChanges(before, after);
    assert.deepEqual(c, [
      { kind: 'text', fields: ['text'] },
      { kind: 'label', before: 'positive', after: 'negative' },
      {
        kind: 'decision',
        question: 'label',
        action: 'added',
        after: 'negative',
        user: 'maria',
        time: '2026-12-02T09:00:00Z',
        status: 'submitted',
      },
      { kind: 'judge', action: 'added', model: 'gpt-4.1', after: 3 },
      { kind: 'suggestion', question: 'label', action: 'added', agent: 'gpt-4o-mini', after: 'negative' },
      { kind: 'review', after: 'reviewed' },
    ]);
    // the same record with its keys in another order is not a change
    const reordered = Object.fromEntries(Object.entries(after).reverse());
    assert.deepEqual(Object.keys(reordered)[0], 'annotations');
    assert.deepEqual(recordChanges(after, reordered), []);
  });

  test('a decision changed names the new decider; a removed one the old value', () => {
    const a = {
      id: 1,
      label: 'pos',
      annotations: { human: { label: { value: 'pos', user: 'bob', status: 'submitted' } } },
    };
    const b = {
      id: 1,
      label: 'neg',
      annotations: { human: { label: { value: 'neg', user: 'maria', status: 'submitted', time: 't2' } } },
    };
    const changed = recordChanges(a, b).find((c) => c.kind === 'decision');
    assert.deepEqual(changed, {
      kind: 'decision',
      question: 'label',
      action: 'changed',
      before: 'pos',
      after: 'neg',
      user: 'maria',
      time: 't2',
      status: 'submitted',
    });
    assert.match(
      describeRecord({
        key: 'id:1',
        label: 'id 1',
        change: 'changed',
        oldLine: 1,
        newLine: 1,
        changes: recordChanges(a, b),
      }),
      /~ id 1 \(line 1\): label pos -> neg; decision label by maria at t2: pos -> neg/,
    );
    const removed = recordChanges(a, { id: 1, label: 'pos' }).find((c) => c.kind === 'decision');
    assert.deepEqual(removed, {
      kind: 'decision',
      question: 'label',
      action: 'removed',
      before: 'pos',
      user: 'bob',
      status: 'submitted',
    });
  });
});

describe('diffFiles', () => {
  test('keyed by id: moves are not changes; added and removed records; an id-less record keyed by its content', async () => {
    const dir = tempDir('dc-diff-');
    const oldF = fileWith(
      lines(
        { id: 'a', text: 'one', label: 'x' },
        { id: 'b', text: 'two' },
        { id: 'c', text: 'three' },
        { text: 'no id' },
        { uuid: 'u1', text: 'uuid' },
      ),
      'old.jsonl',
      dir,
    );
    const newF = fileWith(
      lines(
        { text: 'no id' },
        { id: 'c', text: 'three' },
        { id: 'a', text: 'one', label: 'y' },
        { id: 'd', text: 'four' },
        { uuid: 'u1', text: 'uuid' },
      ),
      'new.jsonl',
      dir,
    );
    const r = await diffFiles(oldF, newF);
    assert.deepEqual(r.summary, { added: 1, removed: 1, changed: 1, unchanged: 3, moved: 2, byKind: { label: 1 } });
    assert.deepEqual(
      r.records.map((x) => [x.change, x.label, x.oldLine, x.newLine]),
      [
        ['changed', 'id "a"', 1, 3],
        ['added', 'id "d"', undefined, 4],
        ['removed', 'id "b"', 2, undefined],
      ],
    );
  });

  test('--key names the id field; duplicate ids pair in order; invalid lines are keyed by their bytes', async () => {
    const dir = tempDir('dc-diff-');
    const oldF = fileWith(
      `${lines({ meta: { key: 1 }, t: 'a' }, { meta: { key: 1 }, t: 'b' })}not json\n`,
      'old.jsonl',
      dir,
    );
    const newF = fileWith(
      `${lines({ meta: { key: 1 }, t: 'a' }, { meta: { key: 1 }, t: 'B' })}also not json\n`,
      'new.jsonl',
      dir,
    );
    const r = await diffFiles(oldF, newF, { keyField: 'meta.key' });
    assert.deepEqual(
      r.records.map((x) => [x.change, x.key, x.changes.map((c) => c.kind)]),
      [
        ['changed', 'id:1#2', ['text']],
        ['added', r.records[1]!.key, []],
        ['removed', r.records[2]!.key, []],
      ],
    );
    assert.match(r.records[1]!.key, /^line:/);
  });

  test("an open dataset's unsaved edits count (edited, inserted, deleted lines); the untouched ones are read from its file", async () => {
    const dir = tempDir('dc-diff-');
    const content = '{"id":1,"text":"a"}\r\n{"id":2,"text":"b"}\r\n{"id":3,"text":"c"}\r\n{"id":4,"text":"d"}';
    const oldF = fileWith(content, 'old.jsonl', dir);
    const f = fileWith(content, 'now.jsonl', dir);
    const oldDs = await JsonlDataset.open(oldF);
    const ds = await JsonlDataset.open(f);
    try {
      await ds.ready;
      const none = await diffDatasets(oldDs, ds);
      assert.deepEqual(none.summary, { added: 0, removed: 0, changed: 0, unchanged: 4, moved: 0, byKind: {} });
      ds.setField(1, ['label'], 'pos');
      ds.insertLine(3, { id: 9, text: 'new' });
      ds.deleteLine(0);
      const r = await diffDatasets(oldDs, ds);
      assert.deepEqual(
        r.records.map((x) => [x.label, x.change, x.oldLine, x.newLine, x.changes.map((c) => c.kind)]),
        [
          ['id 2', 'changed', 2, 1, ['label']],
          ['id 9', 'added', undefined, 3, []],
          ['id 1', 'removed', 1, undefined, []],
        ],
      );
      assert.equal(r.summary.unchanged, 2);
    } finally {
      oldDs.close();
      ds.close();
    }
  });

  test('a large file: one relabeled record among 20000 is the one change', async () => {
    const dir = tempDir('dc-diff-');
    const recs = Array.from({ length: 20000 }, (_, i) => ({
      id: i,
      text: `record number ${i} `.repeat(5),
      label: i % 2 ? 'pos' : 'neg',
    }));
    const oldF = fileWith(lines(...recs), 'old.jsonl', dir);
    recs[12345] = { ...recs[12345]!, label: 'neutral' };
    const newF = fileWith(lines(...recs.reverse()), 'new.jsonl', dir);
    const r = await diffFiles(oldF, newF);
    assert.equal(r.summary.changed, 1);
    assert.equal(r.summary.unchanged, 19999);
    assert.equal(r.records[0]!.key, 'id:12345');
    assert.deepEqual(r.records[0]!.changes, [{ kind: 'label', before: 'pos', after: 'neutral' }]);
  });
});

describe('curate diff', () => {
  test('OLD NEW: text and --json; --exit-code', () => {
    const dir = tempDir('dc-diff-');
    const oldF = fileWith(lines({ id: 1, text: 't', label: 'pos' }, { id: 2, text: 'u' }), 'old.jsonl', dir);
    const newF = fileWith(
      lines(
        {
          id: 1,
          text: 't',
          label: 'neg',
          annotations: { human: { label: { value: 'neg', user: 'maria', status: 'submitted' } } },
        },
        { id: 3, text: 'v' },
      ),
      'new.jsonl',
      dir,
    );
    const t = curate(['diff', oldF, newF]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /~ id 1 \(line 1\): label pos -> neg; decision label by maria: neg/);
    assert.match(t.out, /\+ id 3 \(new line 2\): added/);
    assert.match(t.out, /- id 2 \(old line 2\): removed/);
    assert.match(t.out, /1 changed \(label 1, decision 1\), 1 added, 1 removed, 0 unchanged/);
    const j = curate(['diff', oldF, newF, '--json']);
    const parsed = JSON.parse(j.out) as DiffResult & { old: string; new: string };
    assert.equal(parsed.old, oldF);
    assert.deepEqual(parsed.summary.byKind, { label: 1, decision: 1 });
    assert.equal(curate(['diff', oldF, newF, '--exit-code']).code, 1);
    assert.equal(curate(['diff', oldF, oldF, '--exit-code']).code, 0);
    assert.equal(curate(['diff', oldF]).code, 2);
    // relative paths with .. are files, not a revision range
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const rel = curateIn(sub, ['diff', '../old.jsonl', '../new.jsonl', '--exit-code']);
    assert.equal(rel.code, 1, rel.err);
    assert.match(rel.out, /^--- \.\.\/old\.jsonl\n/);
  });

  test('REV1..REV2 FILE, REV FILE (the working tree) in a real repository; an unknown revision is named', () => {
    const dir = repo();
    const f = join(dir, 'data', 'train.jsonl');
    mkdirSync(join(dir, 'data'));
    writeFileSync(f, lines({ id: 1, text: 'a', label: 'pos' }, { id: 2, text: 'b', label: 'neg' }));
    git(dir, ['add', '.']);
    git(dir, ['commit', '-qm', 'one']);
    writeFileSync(
      f,
      lines(
        { id: 2, text: 'b', label: 'neg' },
        {
          id: 1,
          text: 'a',
          label: 'neg',
          annotations: { human: { label: { value: 'neg', user: 'maria', status: 'submitted' } } },
        },
      ),
    );
    git(dir, ['commit', '-qam', 'two']);
    const r = curate(['diff', 'HEAD~1..HEAD', f, '--json']);
    assert.equal(r.code, 0, r.err);
    const parsed = JSON.parse(r.out) as DiffResult & { old: string; new: string };
    assert.equal(parsed.old, `HEAD~1:${f}`);
    assert.equal(parsed.new, `HEAD:${f}`);
    assert.deepEqual(parsed.summary, {
      added: 0,
      removed: 0,
      changed: 1,
      unchanged: 1,
      moved: 1,
      byKind: { label: 1, decision: 1 },
    });
    // the working tree against HEAD, from another folder (the file's path decides the repository)
    writeFileSync(f, lines({ id: 2, text: 'b', label: 'neg' }));
    const w = curateIn(tempDir(), ['diff', 'HEAD', f]);
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /- id 1 \(old line 2\): removed/);
    const bad = curate(['diff', 'nosuchrev..HEAD', f]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /train\.jsonl at nosuchrev/);
    const missing = curate(['diff', 'HEAD', join(dir, 'nope.jsonl')]);
    assert.equal(missing.code, 2);
    // a file added since the revision: every record is added
    const added = join(dir, 'data', 'new.jsonl');
    writeFileSync(added, lines({ id: 7, text: 'x' }));
    const a = curate(['diff', 'HEAD', added]);
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /--- HEAD:.*new\.jsonl \(not in that revision\)/);
    assert.match(a.out, /\+ id 7 \(new line 1\): added/);
  });

  test('parseRange', () => {
    assert.deepEqual(parseRange('main..feature'), { from: 'main', to: 'feature' });
    assert.deepEqual(parseRange('HEAD~2..'), { from: 'HEAD~2' });
    assert.deepEqual(parseRange('HEAD'), { from: 'HEAD' });
    assert.deepEqual(parseRange('..topic'), { from: 'HEAD', to: 'topic' });
  });
});
