// Several people: who decided, every person's decision kept, human-human agreement (Cohen's kappa
// per pair, Fleiss' kappa, Krippendorff's alpha), a person's queue (`curate annotators`).
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAnnotationEdit } from '../../src/core/annotate-edits';
import {
  annotatorsAgreement,
  decisionsByPerson,
  fleissKappa,
  krippendorffAlphaNominal,
} from '../../src/core/git/annotators';
import { JsonlDataset } from '../../src/core/store';
import { LiveAggregate } from '../../src/core/metrics/live';
import { agreement } from '../../src/core/metrics/agreement';
import { datasetLines } from '../../src/core/sources';
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

  // Three people on five records (the person named last is annotations.human, the current decision):
  //   1 maria pos, bob pos   2 maria neg, bob neg, ana neg   3 maria pos, bob neg   4 ana pos   5 nobody
  // decided: bob 3, maria 3, ana 2; shared 3, 1 differently.
  // bob / maria (bob as the reference): (pos,pos) (neg,neg) (neg,pos): p_o 2/3; bob pos 1 neg 2, maria
  //   pos 2 neg 1: p_e = 1/3·2/3 + 2/3·1/3 = 4/9; kappa = (2/3 − 4/9)/(5/9) = 0.4.
  // ana / bob and ana / maria: one record, both neg: agreement 1, kappa undefined (p_e = 1).
  // Fleiss: P_i 1, 1, 0: P̄ = 2/3; pos 3 of 7, neg 4 of 7: P_e = 25/49; kappa = (2/3 − 25/49)/(24/49) = 23/72.
  // Krippendorff (nominal): n 7; observed disagreement 2 (the pos/neg unit); expected 49 − 9 − 16 = 24;
  //   alpha = 1 − 6·2/24 = 0.5.
  const PEOPLE: [string, string][][] = [
    [
      ['maria', 'pos'],
      ['bob', 'pos'],
    ],
    [
      ['maria', 'neg'],
      ['bob', 'neg'],
      ['ana', 'neg'],
    ],
    [
      ['maria', 'pos'],
      ['bob', 'neg'],
    ],
    [['ana', 'pos']],
    [],
  ];
  const answer = (q: string, people: [string, string][]) => ({
    ...(people.length
      ? { human: { [q]: { value: people.at(-1)![1], user: people.at(-1)![0], status: 'submitted' } } }
      : {}),
    ...(people.length > 1
      ? { decisions: { [q]: people.map(([user, value]) => ({ value, user, status: 'submitted' })) } }
      : {}),
  });
  const peopleFile = (dir = tempDir()) =>
    fileWith(
      PEOPLE.map((people, i) =>
        JSON.stringify({
          id: i + 1,
          text: `t${i + 1}`,
          ...(people.length ? { label: people.at(-1)![1] } : {}),
          annotations: {
            suggestions: { label: [{ value: 'pos', agent: 'm', type: 'model', score: 0.9 }] },
            ...answer('label', people),
          },
        }),
      ).join('\n') + '\n',
      'people.jsonl',
      dir,
    );
  const close = (a: number | null | undefined, b: number) =>
    assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

  test('curate agreement: the people-with-people section (hand-computed), the same figures as curate annotators, --json', () => {
    const f = peopleFile();
    const r = curate(['agreement', f]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^human vs suggestion: /);
    assert.match(
      r.out,
      /\npeople with people \(label\): bob 3, maria 3, ana 2 decided; 3 record\(s\) decided by two or more, 1 of them differently\n {2}ana vs bob: 1 record\(s\) both decided; agreement 1\.000 {2}Cohen's kappa n\/a\n {2}ana vs maria: 1 record\(s\) both decided; agreement 1\.000 {2}Cohen's kappa n\/a\n {2}bob vs maria: 3 record\(s\) both decided; agreement 0\.667 {2}Cohen's kappa 0\.400\n {2}Fleiss' kappa 0\.319 {2}Krippendorff's alpha \(nominal\) 0\.500\n/,
    );
    const j = JSON.parse(curate(['agreement', f, '--json']).out);
    const p = j.people;
    assert.deepEqual(p.people, [
      { user: 'bob', decided: 3 },
      { user: 'maria', decided: 3 },
      { user: 'ana', decided: 2 },
    ]);
    assert.equal(p.shared, 3);
    assert.equal(p.disagreements, 1);
    assert.deepEqual(
      p.pairs.map((x: { a: string; b: string; n: number; kappa: number | null }) => [x.a, x.b, x.n, x.kappa === null]),
      [
        ['ana', 'bob', 1, true],
        ['ana', 'maria', 1, true],
        ['bob', 'maria', 3, false],
      ],
    );
    close(p.pairs[2].accuracy, 2 / 3);
    close(p.pairs[2].kappa, 0.4);
    close(p.fleissKappa, 23 / 72);
    close(p.krippendorffAlpha, 0.5);
    // no second implementation: curate annotators reports the same figures
    const a = JSON.parse(curate(['annotators', f, '--json']).out);
    assert.deepEqual(
      {
        people: a.people,
        shared: a.shared,
        disagreements: a.disagreements,
        pairs: a.pairs,
        fleissKappa: a.fleissKappa,
        krippendorffAlpha: a.krippendorffAlpha,
      },
      p,
    );
    // one person: no section (the JSON still says who decided)
    const one = fileWith(`${JSON.stringify({ id: 1, text: 'x', annotations: answer('label', [['ana', 'pos']]) })}\n`);
    assert.doesNotMatch(curate(['agreement', one]).out, /people with people/);
    assert.deepEqual(JSON.parse(curate(['agreement', one, '--json']).out).people.people, [{ user: 'ana', decided: 1 }]);
  });

  test('curate agreement --question NAME (a declared question): the people section for that question', () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.curator'));
    writeFileSync(
      join(dir, '.curator', 'questions.json'),
      JSON.stringify({ questions: [{ name: 'quality', type: 'rating', min: 1, max: 3 }] }),
    );
    const stars = (l: string) => (l === 'pos' ? 3 : 1);
    const f = fileWith(
      PEOPLE.map((people, i) =>
        JSON.stringify({
          id: i + 1,
          text: `t${i + 1}`,
          annotations: answer(
            'quality',
            people.map(([u, l]) => [u, String(stars(l))] as [string, string]).map(([u, v]) => [u, v]),
          ),
        }),
      )
        .join('\n')
        .replace(/"value":"(\d)"/g, '"value":$1') + '\n',
      'q.jsonl',
      dir,
    );
    const r = curate(['agreement', f, '--question', 'quality']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^quality \(rating\): 5 record\(s\)/);
    assert.match(
      r.out,
      /people with people \(quality\): bob 3, maria 3, ana 2 decided; 3 record\(s\) decided by two or more, 1 of them differently\n[^]*bob vs maria: 3 record\(s\) both decided; agreement 0\.667 {2}Cohen's kappa 0\.400\n {2}Fleiss' kappa 0\.319 {2}Krippendorff's alpha \(nominal\) 0\.500\n/,
    );
    const j = JSON.parse(curate(['agreement', f, '--question', 'quality', '--json']).out);
    close(j.people.fleissKappa, 23 / 72);
    close(j.people.krippendorffAlpha, 0.5);
    assert.deepEqual(
      JSON.parse(curate(['annotators', f, '--question', 'quality', '--json']).out).pairs,
      j.people.pairs,
    );
  });

  test("the editor's live report: the people section counted once, then kept up to date edit by edit", async () => {
    const ds = await JsonlDataset.open(peopleFile());
    try {
      const spec = {
        question: 'label',
        compare: [['human', 'suggestion']] as [['human', 'suggestion']],
        judges: true,
        people: true,
      };
      const live = new LiveAggregate(ds, { type: 'agreement', spec }, { workers: 1, taskBytes: 64 });
      let r = (await live.current()).report();
      close(r.people?.fleissKappa, 23 / 72);
      close(r.people?.krippendorffAlpha, 0.5);
      assert.ok(live.workersUsed > 0, 'counted in the worker threads (the counts posted and merged)');
      // carol decides record 3 as pos: units (pos,pos) (neg,neg,neg) (pos,neg,pos)
      const v = ds.line(2).value!;
      live.applyEdits([
        ds.replaceLine(2, applyAnnotationEdit(v, { op: 'relabel', index: 2, label: 'pos' }, t(9), 'carol')),
      ]);
      r = (await live.current()).report();
      assert.deepEqual(
        r.people?.people.find((p) => p.user === 'carol'),
        { user: 'carol', decided: 1 },
      );
      // Fleiss: P_i 1, 1, 1/3: P̄ = 7/9; pos 4 of 8, neg 4 of 8: P_e = 1/2; kappa = (7/9 − 1/2)/(1/2) = 5/9
      close(r.people.fleissKappa, 5 / 9);
      const full = await agreement(() => datasetLines(ds), { compare: [['human', 'suggestion']], people: true });
      assert.deepEqual(r, full);
      assert.equal(live.counts, 1);
    } finally {
      ds.close();
    }
  });
});
