// The merge driver (src/core/git/merge.ts, `curate merge-driver`): installed in real repositories,
// run by git itself on `git merge`, checked through the merged file and `git status`.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeFiles, mergeRecord } from '../../src/core/git/merge';
import { inReviewQueue } from '../../src/core/filter/fields';
import { conflictAt } from '../../src/core/git/conflicts';
import { fileWith, tempDir } from './helpers/store';
import { curateCommand, curateIn, git, repo } from './helpers/git';

type Rec = Record<string, unknown>;
const lines = (...recs: unknown[]) => recs.map((r) => `${JSON.stringify(r)}\n`).join('');
const decided = (r: Rec, value: string, user: string, time = '2026-12-02T10:00:00Z'): Rec => ({
  ...r,
  label: value,
  annotations: { human: { label: { value, user, status: 'submitted', time } }, review: { status: 'reviewed', time } },
});
const base = [
  { id: 1, text: 'great battery' },
  { id: 2, text: 'awful screen' },
  { id: 3, text: 'meh' },
  { id: 4, text: 'fine, I guess' },
];

/** A repository with the driver installed (through the CLI) and `base` committed on main. */
function setup(): { dir: string; file: string } {
  const dir = repo();
  const file = join(dir, 'train.jsonl');
  writeFileSync(file, lines(...base));
  const inst = curateIn(dir, ['merge-driver', '--install', '--command', curateCommand]);
  assert.equal(inst.code, 0, inst.err);
  assert.match(inst.out, /added "\*\.jsonl merge=curate"/);
  assert.equal(readFileSync(join(dir, '.gitattributes'), 'utf8'), '*.jsonl merge=curate\n');
  assert.equal(git(dir, ['config', 'merge.curate.driver']).out.trim(), `${curateCommand} merge-driver %O %A %B %P`);
  git(dir, ['add', '.']);
  git(dir, ['commit', '-qm', 'base']);
  return { dir, file };
}

function branch(dir: string, file: string, name: string, recs: Rec[]): void {
  git(dir, ['checkout', '-q', '-b', name, 'main']);
  writeFileSync(file, lines(...recs));
  git(dir, ['commit', '-qam', name]);
}

const records = (file: string): Rec[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

describe('curate merge-driver in a real repository', () => {
  test('--install is idempotent and keeps an existing .gitattributes', () => {
    const dir = repo();
    writeFileSync(join(dir, '.gitattributes'), '*.png binary');
    const a = curateIn(dir, ['merge-driver', '--install']);
    assert.equal(a.code, 0, a.err);
    const b = curateIn(dir, ['merge-driver', '--install']);
    assert.match(b.out, /already has/);
    assert.equal(readFileSync(join(dir, '.gitattributes'), 'utf8'), '*.png binary\n*.jsonl merge=curate\n');
    assert.equal(git(dir, ['config', 'merge.curate.driver']).out.trim(), 'curate merge-driver %O %A %B %P');
    assert.equal(curateIn(tempDir(), ['merge-driver', '--install']).code, 1); // not a repository
  });

  test('two people deciding different records merge cleanly, with both decisions', () => {
    const { dir, file } = setup();
    branch(dir, file, 'maria', [decided(base[0]!, 'positive', 'maria'), base[1]!, base[2]!, base[3]!]);
    branch(dir, file, 'bob', [
      base[0]!,
      base[1]!,
      decided(base[2]!, 'neutral', 'bob'),
      base[3]!,
      { id: 5, text: 'added by bob' },
    ]);
    const m = git(dir, ['merge', '-q', 'maria', '-m', 'merge maria'], true);
    assert.equal(m.code, 0, m.err + m.out);
    assert.equal(git(dir, ['status', '--porcelain']).out, '');
    const out = records(file);
    assert.deepEqual(
      out.map((r) => [r.id, r.label]),
      [
        [1, 'positive'],
        [2, undefined],
        [3, 'neutral'],
        [4, undefined],
        [5, undefined],
      ],
    );
    // what the line-based merge would have made of it: a conflict (adjacent lines changed)
    const plain = repo();
    const pf = join(plain, 'train.jsonl');
    writeFileSync(pf, lines(...base));
    git(plain, ['add', '.']);
    git(plain, ['commit', '-qm', 'base']);
    branch(plain, pf, 'maria', [decided(base[0]!, 'positive', 'maria'), base[1]!, base[2]!, base[3]!]);
    branch(plain, pf, 'bob', [base[0]!, decided(base[1]!, 'negative', 'bob'), base[2]!, base[3]!]);
    assert.notEqual(git(plain, ['merge', '-q', 'maria', '-m', 'm'], true).code, 0);
  });

  test('the same record decided differently: no conflict, both decisions kept, the record in the disagreement queue', () => {
    const { dir, file } = setup();
    branch(dir, file, 'maria', [decided(base[0]!, 'negative', 'maria', '2026-12-02T10:00:00Z'), ...base.slice(1)]);
    branch(dir, file, 'bob', [decided(base[0]!, 'positive', 'bob', '2026-12-02T11:00:00Z'), ...base.slice(1)]);
    const m = git(dir, ['merge', 'maria', '-m', 'merge maria'], true);
    assert.equal(m.code, 0, m.err + m.out);
    assert.equal(git(dir, ['status', '--porcelain']).out, '');
    const [first, ...rest] = records(file);
    assert.deepEqual(rest, base.slice(1));
    const ann = first!.annotations as Rec;
    assert.equal(first!.label, 'positive'); // ours (bob's branch) stays the current label
    assert.deepEqual((ann.human as Rec).label, {
      value: 'positive',
      user: 'bob',
      status: 'submitted',
      time: '2026-12-02T11:00:00Z',
    });
    assert.deepEqual((ann.decisions as Rec).label, [
      { value: 'positive', user: 'bob', status: 'submitted', time: '2026-12-02T11:00:00Z' },
      { value: 'negative', user: 'maria', status: 'submitted', time: '2026-12-02T10:00:00Z' },
    ]);
    assert.equal((ann.review as Rec).queue, 'disagreement');
    assert.ok(inReviewQueue(first!, 'disagreement'));
    // the semantic diff of the merge names both decisions
    const d = curateIn(dir, ['diff', 'HEAD~1..HEAD', file]);
    assert.match(d.out, /decision label by maria at 2026-12-02T10:00:00Z: negative/);
  });

  test('the text edited on both sides: conflict markers around that record only, git reports the conflict', () => {
    const { dir, file } = setup();
    branch(dir, file, 'maria', [
      { ...base[0]!, text: 'great battery life' },
      decided(base[1]!, 'negative', 'maria'),
      base[2]!,
      base[3]!,
    ]);
    branch(dir, file, 'bob', [
      { ...base[0]!, text: 'Great battery.' },
      base[1]!,
      base[2]!,
      { ...base[3]!, text: 'fine' },
    ]);
    const m = git(dir, ['merge', 'maria', '-m', 'merge maria'], true);
    assert.notEqual(m.code, 0);
    assert.match(m.out, /CONFLICT \(content\): Merge conflict in train\.jsonl/);
    assert.equal(git(dir, ['status', '--porcelain']).out, 'UU train.jsonl\n');
    const text = readFileSync(file, 'utf8').split('\n');
    assert.deepEqual(text.slice(0, 5), [
      '<<<<<<< ours train.jsonl (id 1: text edited on both sides)',
      JSON.stringify({ ...base[0]!, text: 'Great battery.' }),
      '=======',
      JSON.stringify({ ...base[0]!, text: 'great battery life' }),
      '>>>>>>> theirs train.jsonl',
    ]);
    // every other line is a valid record, with both sides' changes
    const restRecs = text
      .slice(5)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Rec);
    assert.deepEqual(
      restRecs.map((r) => [r.id, r.label, r.text]),
      [
        [2, 'negative', 'awful screen'],
        [3, undefined, 'meh'],
        [4, undefined, 'fine'],
      ],
    );
    // the editor's quick fix finds the block from any of its lines, and nothing outside it
    for (const at of [0, 1, 2, 3, 4]) {
      const block = conflictAt((i) => text[i]!, text.length, at);
      assert.deepEqual(block && [block.start, block.separator, block.end, block.ours, block.theirs], [
        0,
        2,
        4,
        [text[1]],
        [text[3]],
      ]);
    }
    assert.equal(
      conflictAt((i) => text[i]!, text.length, 5),
      undefined,
    );
  });
});

describe('mergeFiles and mergeRecord', () => {
  test('untouched lines keep their bytes (CRLF, spacing); a record removed on one side and unchanged on the other is removed', async () => {
    const dir = tempDir('dc-merge-');
    const o = fileWith('{"id":1, "text":"a"}\r\n{"id":2,"text":"b"}\n{"id":3,"text":"c"}\n', 'base.jsonl', dir);
    const a = fileWith(
      '{"id":1, "text":"a"}\r\n{"id":2,"text":"b","label":"x"}\n{"id":3,"text":"c"}\n',
      'ours.jsonl',
      dir,
    );
    const b = fileWith('{"id":1, "text":"a"}\r\n{"id":2,"text":"b"}\n', 'theirs.jsonl', dir);
    const r = await mergeFiles(o, a, b);
    assert.deepEqual(r.conflicts, []);
    assert.equal(readFileSync(a, 'utf8'), '{"id":1, "text":"a"}\r\n{"id":2,"text":"b","label":"x"}\n');
  });

  test('a record changed on one side and removed on the other is a conflict', async () => {
    const dir = tempDir('dc-merge-');
    const o = fileWith(lines({ id: 1, t: 'a' }, { id: 2, t: 'b' }), 'base.jsonl', dir);
    const a = fileWith(lines({ id: 1, t: 'a' }), 'ours.jsonl', dir);
    const b = fileWith(lines({ id: 1, t: 'a' }, { id: 2, t: 'b', label: 'x' }), 'theirs.jsonl', dir);
    const r = await mergeFiles(o, a, b, { name: 'f.jsonl' });
    assert.deepEqual(
      r.conflicts.map((c) => [c.key, c.reason]),
      [['id:2', 'removed by ours, changed by theirs']],
    );
    assert.equal(
      readFileSync(a, 'utf8'),
      `${lines({ id: 1, t: 'a' })}<<<<<<< ours f.jsonl (id 2: removed by ours, changed by theirs)\n=======\n${lines({ id: 2, t: 'b', label: 'x' })}>>>>>>> theirs f.jsonl\n`,
    );
  });

  test("random relabels, judges, removals and additions on two sides merge to both sides' changes, without a conflict", async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 5; round++) {
      const dir = tempDir('dc-merge-');
      const base = Array.from({ length: 200 }, (_, i) => ({ id: i, text: `record ${i}` }));
      const relabel = new Set(base.filter(() => rnd() < 0.2).map((r) => r.id));
      const judged = new Set(base.filter(() => rnd() < 0.2).map((r) => r.id));
      const removedByOurs = new Set(
        base.filter((r) => !judged.has(r.id) && !relabel.has(r.id) && rnd() < 0.05).map((r) => r.id),
      );
      const ours = base
        .filter((r) => !removedByOurs.has(r.id))
        .map((r) =>
          relabel.has(r.id)
            ? {
                ...r,
                label: 'pos',
                annotations: { human: { label: { value: 'pos', user: 'maria', status: 'submitted' } } },
              }
            : r,
        );
      const theirs: Rec[] = base.map((r) =>
        judged.has(r.id) ? { ...r, judges: [{ score: 7, model: 'j', provenance: { prompt_hash: 'p' } }] } : r,
      );
      // theirs adds records after random ones
      for (let k = 0; k < 5; k++)
        theirs.splice(Math.floor(rnd() * theirs.length), 0, { id: 1000 + round * 10 + k, text: 'added by theirs' });
      const o = fileWith(lines(...base), 'base.jsonl', dir);
      const a = fileWith(lines(...ours), 'ours.jsonl', dir);
      const b = fileWith(lines(...theirs), 'theirs.jsonl', dir);
      const r = await mergeFiles(o, a, b);
      assert.deepEqual(r.conflicts, [], `round ${round}`);
      assert.deepEqual(r.disagreements, []);
      const merged = new Map(records(a).map((x) => [x.id as number, x]));
      const expectedIds = [
        ...base.filter((x) => !removedByOurs.has(x.id)).map((x) => x.id),
        ...theirs.filter((x) => (x.id as number) >= 1000).map((x) => x.id as number),
      ];
      assert.deepEqual(
        [...merged.keys()].sort((x, y) => x - y),
        expectedIds.sort((x, y) => x - y),
        `round ${round}: the records`,
      );
      for (const [id, x] of merged) {
        if (id >= 1000) continue;
        assert.equal(x.label, relabel.has(id) ? 'pos' : undefined, `round ${round}, id ${id}: the label`);
        assert.equal(Array.isArray(x.judges), judged.has(id), `round ${round}, id ${id}: the judges`);
        if (relabel.has(id) && judged.has(id)) assert.equal((x.judge as Rec).score, 7, 'the verdict recomputed');
      }
      // the order: ours' order, theirs' additions after the record they follow
      const order = records(a)
        .map((x) => x.id as number)
        .filter((id) => id < 1000);
      assert.deepEqual(
        order,
        [...order].sort((x, y) => x - y),
      );
    }
  });

  test("both sides' suggestions and judges are kept, the panel's verdict recomputed", () => {
    const j = (model: string, score: number) => ({
      score,
      scale: [1, 10],
      model,
      provenance: { prompt_hash: 'sha256:p', time: '2026-12-01T00:00:00Z' },
    });
    const s = (agent: string, value: string) => ({ value, agent, type: 'model' });
    const o = { id: 1, text: 't' };
    const a = {
      id: 1,
      text: 't',
      judges: [j('gpt-4.1', 8)],
      judge: j('gpt-4.1', 8),
      annotations: { suggestions: { label: [s('gpt-4o-mini', 'pos')] }, tags: ['a'] },
    };
    const b = {
      id: 1,
      text: 't',
      judges: [j('llama', 4)],
      judge: j('llama', 4),
      annotations: { suggestions: { label: [s('llama', 'neg')] }, tags: ['b'] },
    };
    const m = mergeRecord(o, a, b);
    assert.equal(m.conflict, undefined);
    assert.deepEqual(m.disagreements, []);
    assert.deepEqual(m.value.judges, [j('gpt-4.1', 8), j('llama', 4)]);
    assert.equal((m.value.judge as Rec).score, 6);
    assert.equal((m.value.judge as Rec).n, 2);
    const ann = m.value.annotations as Rec;
    assert.deepEqual((ann.suggestions as Rec).label, [s('gpt-4o-mini', 'pos'), s('llama', 'neg')]);
    assert.deepEqual(ann.tags, ['a', 'b']);
  });

  test('the same label set on both sides without decisions is no disagreement; different labels are', () => {
    const same = mergeRecord({ id: 1 }, { id: 1, label: 'x', n: 1 }, { id: 1, label: 'x', m: 2 });
    assert.deepEqual(same.value, { id: 1, label: 'x', n: 1, m: 2 });
    const diff = mergeRecord({ id: 1 }, { id: 1, label: 'x' }, { id: 1, label: 'y' });
    assert.deepEqual(diff.disagreements, ['label']);
    assert.equal(diff.value.label, 'x');
    assert.deepEqual(((diff.value.annotations as Rec).decisions as Rec).label, [
      { value: 'x', status: 'submitted' },
      { value: 'y', status: 'submitted' },
    ]);
  });
});
