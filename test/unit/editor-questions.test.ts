// Declared questions in the curation editor (issue 20): the record payload carries each question
// with the person's decision beside the models' suggestions (none declared: the payload is today's),
// and a person's edits of each type (answer, toggle, rate, move, span from a selection, remove,
// accept, reject) go through the session's edit API as one undoable line edit, saved byte-exact.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MatchIndexes } from '../../src/core/match-index';
import { Question, type QuestionInput } from '../../src/core/questions/schema';
import { answerText, applyDeclaredReview, applyQuestionEdit, questionViews } from '../../src/core/session/questions';
import { EditorSession, type SessionHost } from '../../src/core/session/session';
import { EditRequest, RecordPayload } from '../../src/core/session/views';
import { JsonlDataset, type Edit } from '../../src/core/store';
import { fileWith } from './helpers/store';

const declared: QuestionInput[] = [
  { name: 'topics', type: 'multi-label', labels: ['billing', 'refund', 'shipping'] },
  { name: 'quality', type: 'rating', min: 1, max: 5 },
  { name: 'best', type: 'ranking', field: 'generations' },
  { name: 'fix', type: 'text', field: 'response' },
  { name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] },
];
const questions = declared.map((q) => Question.parse(q));
const when = { time: '2026-01-01T00:00:00.000Z', user: 'ana' };

const text = 'Write 😀 to ana@example.com or call 555-0100';
const record = {
  id: 1,
  text,
  response: 'Sure.',
  generations: ['first', 'second', 'third'],
  annotations: {
    suggestions: {
      topics: [
        { value: ['billing'], score: 0.8, label_scores: { billing: 0.8, refund: 0.3 }, agent: 'm1', type: 'model' },
      ],
      quality: [{ value: 4, score: 0.6, agent: 'm1', type: 'model' }],
      pii: [{ value: [{ label: 'EMAIL', start: 11, end: 26, text: 'ana@example.com' }], agent: 'm1', type: 'model' }],
    },
  },
};

function host(qs: () => Question[]): SessionHost {
  return {
    fileName: () => 'q.jsonl',
    dirty: () => false,
    configuredLabels: () => [],
    disagreement: () => 0.3,
    matches: () => {
      throw new Error('not searched here');
    },
    questions: qs,
  };
}

describe('questions in the editor session', () => {
  test('the payload: each question with its decision beside the suggestions, candidates, the span text', () => {
    const views = questionViews(record, questions);
    assert.deepEqual(
      views.map((v) => v.question.name),
      ['topics', 'quality', 'best', 'fix', 'pii'],
    );
    const [topics, quality, best, fix, pii] = views;
    assert.deepEqual(topics?.suggestions[0]?.labelScores, { billing: 0.8, refund: 0.3 });
    assert.deepEqual(topics.current, { value: ['billing'], source: 'model' });
    assert.equal(quality?.suggestions[0]?.value, 4);
    assert.deepEqual(best?.candidates, [
      { id: '1', value: 'first' },
      { id: '2', value: 'second' },
      { id: '3', value: 'third' },
    ]);
    assert.equal(fix?.human, undefined);
    assert.equal(pii?.text, text);
    // the emoji is one code point: the model's span at 11-26 covers the address
    assert.equal(pii.suggestions[0]?.problem, undefined);
    // the payload is valid for the protocol (the webview parses it)
    const payload = RecordPayload.parse({ index: 0, lineNumber: 1, raw: '{}', edited: false, questions: views });
    assert.equal(payload.questions?.length, 5);
  });

  test('no declaration: the record payload is exactly as before (no questions key)', async () => {
    const ds = await JsonlDataset.open(fileWith(`${JSON.stringify(record)}\n`));
    await ds.ready;
    try {
      const before = new EditorSession<Edit>(() => ds, { ...host(() => []), questions: undefined }).record(0);
      const none = new EditorSession<Edit>(
        () => ds,
        host(() => []),
      ).record(0);
      assert.equal('questions' in none, false);
      assert.deepEqual(none, before);
    } finally {
      ds.close();
    }
  });

  test('edits per type: toggle, rate, move, text, span from a UTF-16 selection (stored in code points), remove', () => {
    let r: Record<string, unknown> = record;
    const edit = (req: Parameters<typeof applyQuestionEdit>[2]) => {
      const done = applyQuestionEdit(r, questions, req, when);
      r = done.record;
      return done.label;
    };
    const human = () => (r.annotations as { human: Record<string, { value: unknown; user?: string }> }).human;
    assert.equal(
      edit({ op: 'toggleLabel', index: 0, question: 'topics', label: 'shipping' }),
      'Toggle shipping (topics)',
    );
    edit({ op: 'toggleLabel', index: 0, question: 'topics', label: 'billing' });
    assert.deepEqual(
      human().topics?.value,
      ['billing', 'shipping'],
      "declaration's order, from the person's own answer",
    );
    edit({ op: 'toggleLabel', index: 0, question: 'topics', label: 'shipping' });
    assert.deepEqual(human().topics?.value, ['billing']);
    assert.equal(human().topics?.user, 'ana');

    edit({ op: 'answer', index: 0, question: 'quality', value: 2 });
    assert.equal(human().quality?.value, 2);
    assert.throws(() => edit({ op: 'answer', index: 0, question: 'quality', value: 9 }), /outside 1-5/);

    edit({ op: 'moveCandidate', index: 0, question: 'best', candidate: '3', by: -1 });
    assert.deepEqual(human().best?.value, [
      { value: '1', rank: 1 },
      { value: '3', rank: 2 },
      { value: '2', rank: 3 },
    ]);
    edit({ op: 'moveCandidate', index: 0, question: 'best', candidate: '3', by: -5 });
    assert.deepEqual(
      (human().best?.value as { value: string }[]).map((x) => x.value),
      ['3', '1', '2'],
    );

    edit({ op: 'answer', index: 0, question: 'fix', value: 'Sure, happy to help.' });
    assert.equal(human().fix?.value, 'Sure, happy to help.');
    assert.equal(r.response, 'Sure.', 'the corrected field is left as it is');
    assert.throws(() => edit({ op: 'answer', index: 0, question: 'fix', value: '  ' }), /empty/);
    edit({ op: 'clearAnswer', index: 0, question: 'fix' });
    assert.equal(human().fix, undefined);

    // "ana@example.com" selected in the DOM: UTF-16 offsets (the emoji is two units there)
    const at = text.indexOf('ana@');
    assert.equal(
      edit({ op: 'addSpan', index: 0, question: 'pii', label: 'EMAIL', start: at - 1, end: at + 15 }),
      'Mark EMAIL (pii)',
    );
    const phone = text.indexOf('555');
    edit({ op: 'addSpan', index: 0, question: 'pii', label: 'PHONE', start: phone, end: text.length });
    assert.deepEqual(human().pii?.value, [
      { label: 'EMAIL', start: 11, end: 26, text: 'ana@example.com' },
      { label: 'PHONE', start: 35, end: 43, text: '555-0100' },
    ]);
    assert.throws(
      () => edit({ op: 'addSpan', index: 0, question: 'pii', label: 'PHONE', start: at + 4, end: at + 10 }),
      /overlap/,
    );
    assert.throws(() => edit({ op: 'addSpan', index: 0, question: 'pii', label: 'EMAIL', start: 5, end: 6 }), /empty/);
    edit({ op: 'removeSpan', index: 0, question: 'pii', position: 0 });
    assert.deepEqual(
      (human().pii?.value as { label: string }[]).map((s) => s.label),
      ['PHONE'],
    );
    assert.throws(() => edit({ op: 'toggleLabel', index: 0, question: 'quality', label: 'x' }), /not a multi-label/);
    assert.throws(() => edit({ op: 'answer', index: 0, question: 'nope', value: 1 }), /not a question of this dataset/);
    assert.equal((r.annotations as { review: { status: string } }).review.status, 'reviewed');
  });

  test('accept and reject per question; the single label stays applyAnnotationEdit', () => {
    const acc = applyDeclaredReview(record, questions, { op: 'accept', index: 0, question: 'pii', position: 0 }, when);
    const human = (x: unknown) =>
      (x as { annotations: { human: Record<string, { value: unknown; status: string }> } }).annotations.human;
    assert.deepEqual(human(acc?.record).pii?.value, [{ label: 'EMAIL', start: 11, end: 26, text: 'ana@example.com' }]);
    assert.equal(acc?.label, 'Accept suggestion (pii)');
    const rej = applyDeclaredReview(record, questions, { op: 'reject', index: 0, question: 'quality' }, when);
    assert.equal(human(rej?.record).quality?.status, 'discarded');
    assert.equal(
      applyDeclaredReview(record, questions, { op: 'accept', index: 0, question: 'label', position: 0 }),
      undefined,
    );
    assert.equal(applyDeclaredReview(record, questions, { op: 'relabel', index: 0, label: 'x' }), undefined);
    // a toggle after a rejection starts from nothing, not from the discarded suggestion
    const after = applyQuestionEdit(
      applyDeclaredReview(record, questions, { op: 'reject', index: 0, question: 'topics' }, when)?.record ?? {},
      questions,
      { op: 'toggleLabel', index: 0, question: 'topics', label: 'refund' },
      when,
    );
    assert.deepEqual(human(after.record).topics?.value, ['refund']);
  });

  test('through the session over the store: one undoable line edit each, other lines byte-identical after save', async () => {
    const other = '{"id": 2,   "text":"untouched",  "n": 1.50}';
    const file = fileWith(`${JSON.stringify(record)}\n${other}\n`);
    const ds = await JsonlDataset.open(file);
    await ds.ready;
    const indexes = new MatchIndexes(() => ds);
    try {
      const s = new EditorSession<Edit>(() => ds, { ...host(() => questions), matches: (q) => indexes.get(q) });
      assert.equal(s.record(0).questions?.length, 5);
      const reqs: unknown[] = [
        { op: 'toggleLabel', index: 0, question: 'topics', label: 'refund' },
        { op: 'answer', index: 0, question: 'quality', value: 5 },
        { op: 'addSpan', index: 0, question: 'pii', label: 'PHONE', start: text.indexOf('555'), end: text.length },
        { op: 'accept', index: 0, question: 'topics', position: 0 },
      ];
      const edits: Edit[] = [];
      for (const raw of reqs) edits.push(s.edit(EditRequest.parse(raw), new Date(when.time), 'ana').edit);
      const view = s.record(0).questions ?? [];
      assert.deepEqual(view[0]?.human?.value, ['billing']);
      assert.equal(view[1]?.human?.value, 5);
      assert.deepEqual(view[4]?.human?.value, [{ label: 'PHONE', start: 35, end: 43, text: '555-0100' }]);
      ds.undoEdit(edits.pop() as Edit);
      assert.deepEqual(s.record(0).questions?.[0]?.human?.value, ['refund'], 'undo takes the accept back');
      await ds.save();
      const lines = readFileSync(file, 'utf8').split('\n');
      assert.equal(lines[1], other, 'the untouched record is byte-identical');
      const saved = JSON.parse(lines[0] ?? '') as { annotations: { human: Record<string, { value: unknown }> } };
      assert.deepEqual(saved.annotations.human.topics?.value, ['refund']);
      assert.equal(saved.annotations.human.quality?.value, 5);
    } finally {
      indexes.dispose();
      ds.close();
    }
  });

  test('an answer as one line (the hover and the CodeLens): labels, a ranking best first, spans with their text', () => {
    const [topics, quality, best, fix, pii] = questions as [Question, Question, Question, Question, Question];
    assert.equal(answerText(topics, ['billing', 'refund']), 'billing, refund');
    assert.equal(answerText(topics, []), '(no label)');
    assert.equal(answerText(quality, 4), '4');
    assert.equal(
      answerText(best, [
        { value: '2', rank: 1 },
        { value: '1', rank: 2 },
      ]),
      '2 > 1',
    );
    assert.equal(answerText(fix, `a\n${'x'.repeat(100)}`).length, 80);
    assert.equal(
      answerText(pii, [{ label: 'EMAIL', start: 11, end: 26, text: 'ana@example.com' }]),
      'EMAIL "ana@example.com" 11-26',
    );
  });

  test('a declaration that cannot be read: the outline says why, records show no questions', async () => {
    const ds = await JsonlDataset.open(fileWith(`${JSON.stringify(record)}\n`));
    await ds.ready;
    try {
      const s = new EditorSession<Edit>(
        () => ds,
        host(() => {
          throw new Error('.curator/questions.json: not valid JSON');
        }),
      );
      assert.match(s.info().questionsError ?? '', /not valid JSON/);
      assert.equal(s.record(0).questions, undefined);
    } finally {
      ds.close();
    }
  });
});
