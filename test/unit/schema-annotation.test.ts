// The annotation layout: reading a normalized view, the field edits of each action (applied
// through the store as one undoable edit), and the mappings onto Argilla and distilabel.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyResult } from '../../src/core/llm/apply-result';
import {
  FieldMap,
  Suggestion,
  acceptSuggestion,
  defaultFields,
  diffFields,
  fromDistilabel,
  historyOf,
  readAnnotation,
  rejectSuggestion,
  setReviewStatus,
  toArgilla,
  withHumanLabel,
  withJudge,
  withSuggestion,
} from '../../src/core/schema/annotation';
import { JsonlDataset } from '../../src/core/store';
import { fileWith, root } from './helpers/store';

const sample = JSON.parse(readFileSync(`${root}/samples/reviews.jsonl`, 'utf8').split('\n')[0]!) as Record<
  string,
  unknown
>;
const when = { time: '2026-11-24T10:00:00.000Z', user: 'ana' };
const suggestion: Suggestion = {
  value: 'negative',
  score: 0.8,
  agent: 'gpt-4o-mini',
  type: 'model',
  rationale: 'complains',
  provenance: {
    model: 'gpt-4o-mini',
    prompt_hash: 'sha256:ab',
    time: when.time,
    usage: { input_tokens: 10, output_tokens: 3 },
  },
};

describe('readAnnotation', () => {
  test('the sample record: label, judge, suggestions with provenance, human decision, review status', () => {
    const v = readAnnotation(sample);
    assert.equal(v.label, 'positive');
    assert.equal(v.judgeScore, 5);
    assert.equal(v.judge?.scale?.[1], 10);
    assert.equal(v.suggestions.length, 1);
    assert.equal(v.suggestions[0]!.value, 'negative');
    assert.equal(v.suggestions[0]!.provenance?.promptHash, 'sha256:31c09759f9a9aa07');
    assert.equal(v.provenance?.inputTokens, 204);
    assert.equal(v.human?.value, 'positive');
    assert.equal(v.human.user, 'maria');
    assert.equal(v.reviewStatus, 'reviewed');
  });

  test('wrong types are treated as absent, never thrown', () => {
    const v = readAnnotation({ label: ['x'], judge: 'high', annotations: { suggestions: { label: 'x' }, human: 5 } });
    assert.equal(v.label, undefined);
    assert.equal(v.judge, undefined);
    assert.deepEqual(v.suggestions, []);
    assert.equal(v.human, undefined);
  });

  test('field names are configurable', () => {
    const fm = FieldMap.parse({ label: 'category', judge: 'eval', annotations: 'meta' });
    const v = readAnnotation({ category: 'spam', eval: { score: 2 }, meta: { review: { status: 'rejected' } } }, fm);
    assert.equal(v.label, 'spam');
    assert.equal(v.judgeScore, 2);
    assert.equal(v.reviewStatus, 'rejected');
    assert.deepEqual(FieldMap.parse({}), defaultFields);
  });
});

describe('field edits', () => {
  test('a human label keeps the model suggestion beside it (agreement can be measured later)', () => {
    const rec = {
      text: 't',
      ...Object.fromEntries(
        diffFields({}, { annotations: { suggestions: { label: [suggestion] } } }).map((e) => [
          e.path[0] as string,
          e.value,
        ]),
      ),
    };
    const edits = diffFields(rec, withHumanLabel(rec, 'positive', when));
    assert.deepEqual(edits.map((e) => e.path[0]).sort(), ['annotations', 'label']);
    const after = withHumanLabel(rec, 'positive', when);
    const v = readAnnotation(after);
    assert.equal(v.label, 'positive');
    assert.equal(v.human?.value, 'positive');
    assert.equal(v.human.status, 'submitted');
    assert.equal(v.suggestions[0]?.value, 'negative');
    assert.equal(v.reviewStatus, 'reviewed');
  });

  test('suggest, accept, reject, review: applied through the store as one undoable edit each', async () => {
    const path = fileWith('{"text":"bad phone"}\n');
    const ds = await JsonlDataset.open(path);
    const rec = () => ds.line(0).value!;
    const e1 = ds.setFields(0, diffFields(rec(), withSuggestion(rec(), 'label', suggestion)));
    assert.equal(readAnnotation(rec()).reviewStatus, 'pending');
    // A second model's suggestion sits beside the first; a re-run of the same agent replaces its own.
    ds.setFields(
      0,
      diffFields(rec(), withSuggestion(rec(), 'label', { ...suggestion, agent: 'other', value: 'neutral' })),
    );
    ds.setFields(0, diffFields(rec(), withSuggestion(rec(), 'label', { ...suggestion, score: 0.9 })));
    assert.deepEqual(
      readAnnotation(rec()).suggestions.map((s) => [s.agent, s.value, s.score]),
      [
        ['gpt-4o-mini', 'negative', 0.9],
        ['other', 'neutral', 0.8],
      ],
    );
    ds.setFields(0, diffFields(rec(), acceptSuggestion(rec(), 'label', 0, when)));
    assert.equal(rec().label, 'negative');
    assert.equal(readAnnotation(rec()).human?.user, 'ana');
    ds.setFields(0, diffFields(rec(), rejectSuggestion(rec(), 'label', when)));
    assert.equal(readAnnotation(rec()).reviewStatus, 'rejected');
    ds.setFields(0, diffFields(rec(), setReviewStatus(rec(), 'pending')));
    ds.setFields(
      0,
      diffFields(
        rec(),
        withJudge(rec(), { score: 7, scale: [1, 10], reasons: 'fine', criteria: { correctness: 7 }, model: 'judge-1' }),
      ),
    );
    assert.equal(readAnnotation(rec()).judgeScore, 7);
    await ds.save();
    assert.equal(
      readAnnotation(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).judge?.criteria?.correctness,
      7,
    );
    assert.ok(e1.type === 'replace');
    ds.close();
  });

  test('accepting a suggestion that does not exist is a clear error', () => {
    assert.throws(() => acceptSuggestion({}, 'label', 0), /no suggestion for "label"/);
  });
});

describe('mappings', () => {
  test('Argilla: suggestions {question_name, value, score, agent, type} and responses', () => {
    const a = toArgilla(sample);
    assert.deepEqual(a.suggestions[0], {
      question_name: 'label',
      value: 'negative',
      score: 0.93,
      agent: 'gpt-4o-mini-2024-07-18',
      type: 'model',
    });
    assert.deepEqual(a.responses[0], {
      question_name: 'label',
      value: 'positive',
      user_id: 'maria',
      status: 'submitted',
    });
  });

  test('distilabel: generation -> suggestion, ratings/rationales -> judge, model_name -> agent', () => {
    const row = { instruction: 'q', generation: 'positive', ratings: [4], rationales: ['ok'], model_name: 'llama' };
    const edits = fromDistilabel(row);
    const after = { ...row, ...Object.fromEntries(edits.map((e) => [e.path[0] as string, e.value])) };
    const v = readAnnotation(after);
    assert.equal(v.suggestions[0]?.value, 'positive');
    assert.equal(v.suggestions[0].agent, 'llama');
    assert.equal(v.judgeScore, 4);
    assert.equal(v.judge?.reasons, 'ok');
    assert.equal(v.judge.model, 'llama');
  });
});

describe('a model never replaces what a record has (issue 14): suggestions beside, replaced values in the history', () => {
  const prov = (time = '2026-12-01T00:00:00.000Z') => ({
    model: 'm',
    prompt_hash: 'sha256:p',
    time,
    usage: { input_tokens: 1, output_tokens: 1 },
  });
  const label = (value: string, time?: string) => ({
    task: 'label' as const,
    question: 'label',
    value,
    confidence: 0.8,
    rationale: 'r',
    provenance: prov(time),
  });

  test('a label from the data stays; the answer is a suggestion; applying it again changes nothing', () => {
    const once = applyResult({ text: 'x', label: 'from-data' }, label('pos'));
    assert.equal(once.label, 'from-data');
    assert.equal(readAnnotation(once).suggestions[0]?.value, 'pos');
    assert.deepEqual(historyOf(once), []);
    assert.deepEqual(applyResult(once, label('pos')), once);
    // no label yet (absent, null or ""): the model's answer is the label
    for (const none of [{}, { label: null }, { label: '' }])
      assert.equal(applyResult({ text: 'x', ...none }, label('pos')).label, 'pos');
  });

  test('a record\'s own "__proto__" and "constructor" keys stay its keys, in their places, when a label is applied', () => {
    const text = '{"__proto__":{"x":1},"text":"t","label":null,"constructor":"c"}';
    const record = JSON.parse(text) as Record<string, unknown>;
    for (const replace of [false, true]) {
      const out = JSON.stringify(applyResult(record, label('pos'), defaultFields, { replace }));
      assert.ok(out.startsWith('{"__proto__":{"x":1},"text":"t","label":"pos","constructor":"c","annotations":{'), out);
      assert.equal(Object.getPrototypeOf(JSON.parse(out)), Object.prototype);
    }
    // a record without such keys: the label in its place, the annotations after the record's fields
    const plain = applyResult({ label: '', text: 't', rating: 2 }, label('pos'));
    assert.deepEqual(Object.keys(plain), ['label', 'text', 'rating', 'annotations']);
    // the input record is not changed
    assert.equal(JSON.stringify(record), text);
  });

  test('replace: the old label goes to the history, once; a human decision is never replaced', () => {
    const r = applyResult({ text: 'x', label: 'from-data' }, label('pos'), defaultFields, { replace: true });
    assert.equal(r.label, 'pos');
    assert.deepEqual(historyOf(r), [
      {
        field: 'label',
        value: 'from-data',
        time: '2026-12-01T00:00:00.000Z',
        by: { model: 'm', prompt_hash: 'sha256:p', time: '2026-12-01T00:00:00.000Z', task: 'label' },
      },
    ]);
    assert.deepEqual(
      applyResult(r, label('pos'), defaultFields, { replace: true }),
      r,
      'the same result twice: one history entry',
    );
    const human = withHumanLabel({ text: 'x' }, 'neg', { user: 'maria' });
    assert.equal(applyResult(human, label('pos'), defaultFields, { replace: true }).label, 'neg');
  });

  test('a rationale stays unless replaced; a replaced one is in the history', () => {
    const rat = {
      task: 'rationale' as const,
      question: 'label',
      value: 'because',
      rationale: 'because',
      provenance: prov(),
    };
    const kept = applyResult({ text: 'x', label: 'a', rationale: 'mine' }, rat);
    assert.equal(kept.rationale, 'mine');
    assert.equal(readAnnotation(kept).suggestions.find((s) => s.question === 'rationale')?.value, 'because');
    const replaced = applyResult(kept, rat, defaultFields, { replace: true });
    assert.equal(replaced.rationale, 'because');
    assert.deepEqual(
      historyOf(replaced).map((h) => [h.field, h.value]),
      [['rationale', 'mine']],
    );
  });

  test("judges: a hand-edited verdict and a judge's own earlier, different verdict go to the history; the same verdict twice adds nothing", () => {
    const verdict = (score: number, time: string) => ({
      task: 'judge' as const,
      question: 'judge',
      value: score,
      scale: [1, 10] as [number, number],
      reasons: `${score}`,
      scores: {},
      provenance: prov(time),
    });
    const once = applyResult({ text: 'x' }, verdict(7, '2026-12-01T00:00:00.000Z'));
    assert.deepEqual(applyResult(once, verdict(7, '2026-12-01T00:00:00.000Z')), once);
    assert.deepEqual(historyOf(once), []);
    // a person edits the panel's verdict; the next judge's answer keeps it in the history
    const edited = { ...once, judge: { score: 2, reasons: 'no, it is bad' } };
    const rerun = applyResult(edited, verdict(5, '2026-12-02T00:00:00.000Z'));
    assert.equal((rerun.judge as { score: number }).score, 5);
    assert.deepEqual(
      historyOf(rerun).map((h) => [h.field, (h.value as { score: number }).score]),
      [
        ['judge', 2],
        ['judges', 7],
      ],
    );
    // a lone judge from the data (no judges[] yet) becomes the first entry, beside the model's
    const lone = applyResult(
      { text: 'x', judge: { score: 3, model: 'human-rater' } },
      verdict(8, '2026-12-03T00:00:00.000Z'),
    );
    assert.deepEqual(
      (lone.judges as { score: number }[]).map((j) => j.score),
      [3, 8],
    );
    // the panel's verdict written by a judge is not "edited by hand" for the next judge, also after a
    // trip through the file (keys without a value are not written)
    const imported = {
      text: 'x',
      judges: [
        { score: 4, model: 'a', provenance: { prompt_hash: 'sha256:p' } },
        { score: 6, model: 'b', provenance: { prompt_hash: 'sha256:p' } },
      ],
    };
    const first = JSON.parse(
      JSON.stringify(
        applyResult(imported, {
          ...verdict(5, '2026-12-04T00:00:00.000Z'),
          provenance: { ...prov('2026-12-04T00:00:00.000Z'), model: 'c' },
        }),
      ),
    ) as Record<string, unknown>;
    const second = applyResult(first, {
      ...verdict(9, '2026-12-05T00:00:00.000Z'),
      provenance: { ...prov('2026-12-05T00:00:00.000Z'), model: 'd' },
    });
    assert.deepEqual(historyOf(second), []);
  });
});
