// Several people: who decided, every person's decision kept, human-human agreement (Cohen's kappa
// per pair, Fleiss' kappa, Krippendorff's alpha), a person's queue (`curate annotators`).
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAnnotationEdit } from '../../src/core/annotate-edits';
import {
  annotatorsAgreement,
  decisionsByPerson,
  fleissKappa,
  krippendorffAlphaNominal,
} from '../../src/core/git/annotators';
import { curate, fileWith, tempDir } from './helpers/store';
import { curateIn, git, repo } from './helpers/git';

type Rec = Record<string, unknown>;
const t = (s: number) => new Date(Date.UTC(2026, 11, 6, 9, 0, s));
const decisions = (r: Rec) => ((r.annotations as Rec).decisions as Rec | undefined)?.label;

describe('several people', () => {
  test("a second person's decision is kept beside the first one's; each person's latest counts", () => {
    const r0: Rec = {
      id: 1,
      text: 'ok',
      annotations: { suggestions: { label: [{ value: 'neutral', agent: 'm', type: 'model' }] } },
    };
    const r1 = applyAnnotationEdit(r0, { op: 'relabel', index: 0, label: 'positive' }, t(1), 'maria');
    assert.deepEqual((r1.annotations as Rec).human, {
      label: { value: 'positive', user: 'maria', status: 'submitted', time: t(1).toISOString() },
    });
    assert.equal(decisions(r1), undefined, 'one person: no list');
    assert.equal(
      decisions(applyAnnotationEdit(r1, { op: 'relabel', index: 0, label: 'negative' }, t(2), 'maria')),
      undefined,
      'the same person again: no list',
    );
    const r2 = applyAnnotationEdit(r1, { op: 'relabel', index: 0, label: 'negative' }, t(2), 'bob');
    assert.equal(r2.label, 'negative');
    assert.deepEqual(decisions(r2), [
      { value: 'positive', user: 'maria', status: 'submitted', time: t(1).toISOString() },
      { value: 'negative', user: 'bob', status: 'submitted', time: t(2).toISOString() },
    ]);
    const r3 = applyAnnotationEdit(r2, { op: 'accept', index: 0, question: 'label', position: 0 }, t(3), 'maria');
    assert.deepEqual(decisions(r3), [
      { value: 'neutral', user: 'maria', status: 'submitted', time: t(3).toISOString() },
      { value: 'negative', user: 'bob', status: 'submitted', time: t(2).toISOString() },
    ]);
    assert.deepEqual(
      [...decisionsByPerson(r3)],
      [
        ['maria', 'neutral'],
        ['bob', 'negative'],
      ],
    );
    // without a user (no identity), nothing but the decision itself, as before
    assert.deepEqual(
      Object.keys(applyAnnotationEdit(r0, { op: 'relabel', index: 0, label: 'x' }, t(4)).annotations as Rec),
      ['suggestions', 'human', 'review'],
    );
  });

  test("Fleiss' kappa: Wikipedia's worked example (10 subjects, 14 raters, 5 categories) is 0.210", () => {
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const units = table.map((row) => row.flatMap((n, j) => Array.from({ length: n }, () => `c${j + 1}`)));
    assert.equal(fleissKappa(units)!.toFixed(3), '0.210');
  });

  test("Krippendorff's alpha, nominal: Krippendorff's own example (4 coders, 12 units, missing values) is 0.743", () => {
    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: nominal data.
    const A = [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null];
    const B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3];
    const C = [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null];
    const D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null];
    const units = A.map((_, u) => [A[u], B[u], C[u], D[u]].filter((v): v is number => v !== null).map(String));
    assert.equal(krippendorffAlphaNominal(units)!.toFixed(3), '0.743');
  });

  test('annotatorsAgreement: per pair on the records both decided', () => {
    const rows = [
      new Map([
        ['maria', 'pos'],
        ['bob', 'pos'],
      ]),
      new Map([
        ['maria', 'neg'],
        ['bob', 'neg'],
        ['ana', 'neg'],
      ]),
      new Map([
        ['maria', 'pos'],
        ['bob', 'neg'],
      ]),
      new Map([['ana', 'pos']]),
    ];
    const r = annotatorsAgreement(rows);
    assert.deepEqual(r.people, [
      { user: 'bob', decided: 3 },
      { user: 'maria', decided: 3 },
      { user: 'ana', decided: 2 },
    ]);
    assert.equal(r.shared, 3);
    assert.equal(r.disagreements, 1);
    const mb = r.pairs.find((p) => p.a === 'bob' && p.b === 'maria')!;
    assert.equal(mb.n, 3);
    assert.equal(mb.accuracy, 2 / 3);
    assert.equal(r.pairs.find((p) => p.a === 'ana' && p.b === 'bob')!.n, 1);
  });

  test('curate annotators: the report, --json, --todo for a person (by --annotator or the git identity)', () => {
    const rec = (id: number, people: [string, string][]) => ({
      id,
      text: `t${id}`,
      annotations: {
        human: { label: { value: people.at(-1)![1], user: people.at(-1)![0], status: 'submitted' } },
        ...(people.length > 1
          ? { decisions: { label: people.map(([user, value]) => ({ value, user, status: 'submitted' })) } }
          : {}),
      },
    });
    const content =
      [
        rec(1, [
          ['maria', 'pos'],
          ['bob', 'pos'],
        ]),
        rec(2, [
          ['maria', 'neg'],
          ['bob', 'pos'],
        ]),
        rec(3, [['bob', 'neg']]),
        { id: 4, text: 't4' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n';
    const f = fileWith(content, 'people.jsonl', tempDir());
    const r = curate(['annotators', f]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 people decided label; 2 record\(s\) decided by two or more, 1 of them differently/);
    assert.match(r.out, /bob \/ maria: n 2, agreement 0\.500, Cohen's kappa 0\.000/);
    const j = JSON.parse(curate(['annotators', f, '--json']).out) as { people: unknown };
    assert.deepEqual(j.people, [
      { user: 'bob', decided: 3 },
      { user: 'maria', decided: 2 },
    ]);
    const mine = curate(['annotators', f, '--todo', '--annotator', 'maria']);
    assert.match(mine.out, /2 record\(s\) maria has not decided \(label\): lines 3, 4/);
    // the git identity of the file's repository
    const dir = repo('maria');
    const inRepo = join(dir, 'people.jsonl');
    writeFileSync(inRepo, content);
    assert.match(curateIn(dir, ['annotators', inRepo, '--todo']).out, /2 record\(s\) maria has not decided/);
    git(dir, ['config', '--unset', 'user.name']);
    git(dir, ['config', '--unset', 'user.email']);
    assert.equal(curateIn(dir, ['annotators', inRepo, '--todo']).code, 2);
  });
});
