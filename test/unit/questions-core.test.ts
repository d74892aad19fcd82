// The question core: declarations beside the data, answers checked per type (spans against their
// text, in code points), the record layout (a person's answer beside the models'), Argilla 2.x
// settings and values both ways, and preference pairs from rankings and ratings.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  argillaRowWithQuestions,
  fromArgillaSettings,
  fromArgillaValues,
  toArgillaSettings,
  toArgillaValues,
  toFlatColumns,
} from '../../src/core/questions/argilla';
import { questionsFor, QuestionsFileError, questionsJsonSchema } from '../../src/core/questions/declarations';
import {
  acceptAnswer,
  answerProblems,
  answersOf,
  withAnswer,
  withQuestionSuggestion,
} from '../../src/core/questions/layout';
import { rankingPairs, ratingPairs } from '../../src/core/questions/pairs';
import { resolveQuestion } from '../../src/core/questions/resolve';
import { Question, type RankingQuestion } from '../../src/core/questions/schema';
import { checkAnswer, cpSlice, locateQuote } from '../../src/core/questions/values';
import { readAnnotation } from '../../src/core/schema/annotation';
import { tempDir } from './helpers/store';

const q = (x: unknown): Question => Question.parse(x);
const topics = q({ name: 'topics', type: 'multi-label', labels: ['billing', 'refund', 'shipping'] });
const quality = q({ name: 'quality', type: 'rating', min: 1, max: 5 });
const best = q({ name: 'best', type: 'ranking', field: 'generations' }) as RankingQuestion;
const pii = q({ name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] });

describe('declarations', () => {
  test("the nearest .curator/questions.json: shared questions, then the dataset's own (replacing one of the same name)", () => {
    const root = tempDir('dc-questions-');
    mkdirSync(join(root, '.curator'));
    mkdirSync(join(root, 'data', 'chat'), { recursive: true });
    writeFileSync(
      join(root, '.curator', 'questions.json'),
      JSON.stringify({
        questions: [
          { name: 'quality', type: 'rating', min: 1, max: 5 },
          { name: 'topics', type: 'multi-label', labels: ['a', 'b'] },
        ],
        datasets: {
          'data/chat/one.jsonl': [{ name: 'quality', type: 'rating', min: 0, max: 10, description: 'Overall' }],
        },
      }),
    );
    const one = questionsFor(join(root, 'data', 'chat', 'one.jsonl'));
    assert.equal(one.file, join(root, '.curator', 'questions.json'));
    assert.deepEqual(
      one.questions.map((x) => [x.name, x.type === 'rating' ? `${x.min}-${x.max}` : x.type]),
      [
        ['topics', 'multi-label'],
        ['quality', '0-10'],
      ],
    );
    assert.deepEqual(
      questionsFor(join(root, 'data', 'other.jsonl')).questions.map((x) => x.name),
      ['quality', 'topics'],
    );
    // no declaration anywhere: no questions, today's single label; resolveQuestion says so with undefined
    const bare = tempDir('dc-questions-bare-');
    assert.deepEqual(questionsFor(join(bare, 'x.jsonl')).questions, []);
    assert.equal(resolveQuestion({ input: join(bare, 'x.jsonl') }), undefined);
    assert.equal(
      resolveQuestion({ input: join(bare, 'x.jsonl'), question: 'sentiment', labels: ['pos', 'neg'] }),
      undefined,
    );
  });

  test('a broken declaration file is an error naming the file and the problem', () => {
    const root = tempDir('dc-questions-bad-');
    mkdirSync(join(root, '.curator'));
    writeFileSync(
      join(root, '.curator', 'questions.json'),
      JSON.stringify({
        questions: [
          { name: 'q', type: 'rating', min: 5, max: 1 },
          { name: 'q', type: 'text' },
        ],
      }),
    );
    assert.throws(
      () => questionsFor(join(root, 'd.jsonl')),
      (e: unknown) =>
        e instanceof QuestionsFileError &&
        /questions\.json/.test(e.message) &&
        /max above min/.test(e.message) &&
        /two questions are named "q"/.test(e.message),
    );
    // names that a JavaScript object cannot hold as plain keys are refused, not turned into prototypes
    assert.equal(Question.safeParse({ name: '__proto__', type: 'text' }).success, false);
    assert.equal(Question.safeParse({ name: 'x', type: 'multi-label', labels: ['__proto__', 'a'] }).success, false);
    writeFileSync(join(root, '.curator', 'questions.json'), '{ not json');
    assert.throws(() => questionsFor(join(root, 'd.jsonl')), /questions\.json: not valid JSON/);
  });
});

describe('answers per type', () => {
  test('spans: offsets in code points; a span whose text is not at its offsets is refused, never shifted', () => {
    const text = '😀 mail ana@example.com, call +1 555 0100';
    const at = locateQuote(text, 'ana@example.com');
    assert.deepEqual(at, { start: 7, end: 22 }, 'the emoji counts one');
    assert.equal(cpSlice(text, 7, 22), 'ana@example.com');
    const rec = { text };
    const ok = checkAnswer(
      pii,
      [
        { label: 'PHONE', start: 29, end: 40 },
        { label: 'EMAIL', start: 7, end: 22 },
      ],
      rec,
    );
    assert.deepEqual(ok, {
      ok: true,
      value: [
        { label: 'EMAIL', start: 7, end: 22, text: 'ana@example.com' },
        { label: 'PHONE', start: 29, end: 40, text: '+1 555 0100' },
      ],
    });
    // the same span, one character off (UTF-16 offsets would be): refused with both texts
    const off = checkAnswer(pii, [{ label: 'EMAIL', start: 8, end: 23, text: 'ana@example.com' }], rec);
    assert.equal(off.ok, false);
    assert.match(
      (off as { reason: string }).reason,
      /span 1 \(EMAIL, 8-23\) says it covers "ana@example.com" but "text" has "na@example.com," there/,
    );
    assert.match(
      (
        checkAnswer(
          pii,
          [
            { label: 'EMAIL', start: 7, end: 22 },
            { label: 'EMAIL', start: 10, end: 12 },
          ],
          rec,
        ) as { reason: string }
      ).reason,
      /overlap/,
    );
    assert.match(
      (checkAnswer(pii, [{ label: 'NAME', start: 0, end: 1 }], rec) as { reason: string }).reason,
      /"NAME", not one of EMAIL, PHONE/,
    );
    assert.match(
      (checkAnswer(pii, [{ label: 'EMAIL', start: 30, end: 99 }], rec) as { reason: string }).reason,
      /ends past the end of "text" \(40 characters\)/,
    );
  });

  test('multi-label, rating, ranking: normalized or refused with the reason', () => {
    assert.deepEqual(checkAnswer(topics, ['refund', 'billing', 'refund']), { ok: true, value: ['billing', 'refund'] });
    assert.deepEqual(checkAnswer(topics, []), { ok: true, value: [] });
    assert.match(
      (checkAnswer(topics, ['spam']) as { reason: string }).reason,
      /"spam" is not one of billing, refund, shipping/,
    );
    assert.match((checkAnswer(quality, 6) as { reason: string }).reason, /outside 1-5/);
    assert.match((checkAnswer(quality, 3.5) as { reason: string }).reason, /an integer/);
    const rec = { generations: ['a', 'b', 'c'] };
    assert.deepEqual(checkAnswer(best, ['3', '1', '2'], rec), {
      ok: true,
      value: [
        { value: '3', rank: 1 },
        { value: '1', rank: 2 },
        { value: '2', rank: 3 },
      ],
    });
    assert.deepEqual(
      checkAnswer(
        best,
        [
          { value: '2', rank: 1 },
          { value: '1', rank: 1 },
          { value: '3', rank: 3 },
        ],
        rec,
      ),
      {
        ok: true,
        value: [
          { value: '1', rank: 1 },
          { value: '2', rank: 1 },
          { value: '3', rank: 3 },
        ],
      },
    );
    assert.match((checkAnswer(best, ['1', '1', '2'], rec) as { reason: string }).reason, /"1" is ranked twice/);
    assert.match(
      (checkAnswer(best, ['1', '4'], rec) as { reason: string }).reason,
      /"4" is not a candidate \(candidates: 1, 2, 3\)/,
    );
  });
});

describe('the record layout', () => {
  test("a person's answer beside the models' suggestions; no top-level field but the single label's", () => {
    const rec0 = { id: 1, text: 'refund please', label: 'neutral' };
    let rec = withQuestionSuggestion(rec0, topics, {
      value: ['refund'],
      score: 0.9,
      agent: 'm1',
      type: 'model',
      label_scores: { billing: 0.1, refund: 0.9, shipping: 0.05 },
    });
    rec = withQuestionSuggestion(rec, topics, { value: ['billing', 'refund'], score: 0.6, agent: 'm2', type: 'model' });
    assert.equal(rec.label, 'neutral');
    assert.deepEqual(Object.keys(rec), ['id', 'text', 'label', 'annotations']);
    let a = answersOf(rec, topics);
    assert.deepEqual(a.current, { value: ['refund'], source: 'model' });
    assert.deepEqual(a.suggestions[0]?.labelScores, { billing: 0.1, refund: 0.9, shipping: 0.05 });
    rec = acceptAnswer(rec, topics, 1, { user: 'maria', time: '2026-12-06T10:00:00.000Z' });
    a = answersOf(rec, topics);
    assert.deepEqual(a.current, { value: ['billing', 'refund'], source: 'human' });
    assert.deepEqual(a.human, {
      value: ['billing', 'refund'],
      status: 'submitted',
      user: 'maria',
      time: '2026-12-06T10:00:00.000Z',
    });
    assert.equal(a.suggestions.length, 2, 'the suggestions stay, for agreement');
    assert.equal(readAnnotation(rec).reviewStatus, 'reviewed');
    assert.equal(rec.label, 'neutral', 'another question never writes the top-level label');
    // a value that does not fit is refused, the record unchanged
    assert.throws(() => withAnswer(rec, quality, 9), /quality: the rating 9 is outside 1-5/);
    // the single label question, declared: the top-level label as today
    const sentiment = q({ name: 'label', type: 'label', labels: ['positive', 'neutral'] });
    assert.equal(withAnswer(rec0, sentiment, 'positive').label, 'positive');
  });

  test('a span suggestion whose field was edited afterwards reads with its problem, not silently shifted', () => {
    const rec = withQuestionSuggestion({ text: 'mail ana@example.com' }, pii, {
      value: [{ label: 'EMAIL', start: 5, end: 20 }],
      agent: 'm',
      type: 'model',
    });
    assert.deepEqual(answersOf(rec, pii).suggestions[0]?.value, [
      { label: 'EMAIL', start: 5, end: 20, text: 'ana@example.com' },
    ]);
    const edited = { ...rec, text: `Hi! ${rec.text as string}` };
    const s = answersOf(edited, pii).suggestions[0];
    assert.match(s?.problem ?? '', /says it covers "ana@example.com" but "text" has "ail ana@example" there/);
    assert.equal(answersOf(edited, pii).current?.problem, s?.problem);
    // what the editor's Problems list gets: the question, who, which suggestion, why
    const withHuman = {
      ...edited,
      annotations: {
        ...((edited as Record<string, unknown>).annotations as object),
        human: { quality: { value: 7, status: 'submitted' } },
      },
    };
    assert.deepEqual(
      answerProblems(withHuman, [pii, quality]).map((p) => [
        p.question,
        p.who,
        p.agent,
        p.position,
        p.reason.slice(0, 30),
      ]),
      [
        ['pii', 'model', 'm', 0, 'span 1 (EMAIL, 5-20) says it c'],
        ['quality', 'human', undefined, undefined, 'the rating 7 is outside 1-5'],
      ],
    );
  });
});

// Argilla 2.x settings as `rg.Settings(...).serialize()` writes them (settings.json of Dataset.to_disk):
// each question is QuestionBaseModel.model_dump() (argilla/src/argilla/_models/_settings/_questions/_base.py:
// id, name, settings, title, description, required, inserted_at, updated_at) with the settings of
// _label_selection.py, _multi_label_selection.py, _rating.py, _ranking.py, _text.py and _span.py in
// argilla-io/argilla; option lists as QuestionPropertyBase._render_values_as_options renders them
// (argilla/src/argilla/settings/_question.py: {"text", "value"} for labels, {"value"} for ratings).
const ARGILLA_SETTINGS = {
  guidelines: 'Read the prompt and both responses before answering.',
  allow_extra_metadata: false,
  distribution: { strategy: 'overlap', min_submitted: 1 },
  fields: [
    {
      id: null,
      name: 'prompt',
      title: 'prompt',
      required: true,
      settings: { type: 'text', use_markdown: false },
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'response-1',
      title: 'response-1',
      required: true,
      settings: { type: 'text', use_markdown: false },
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'response-2',
      title: 'response-2',
      required: true,
      settings: { type: 'text', use_markdown: false },
      inserted_at: null,
      updated_at: null,
    },
  ],
  questions: [
    {
      id: null,
      name: 'sentiment',
      settings: {
        type: 'label_selection',
        options: [
          { text: 'positive', value: 'positive' },
          { text: 'negative', value: 'negative' },
        ],
        visible_options: null,
      },
      title: 'sentiment',
      description: null,
      required: true,
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'topics',
      settings: {
        type: 'multi_label_selection',
        options: [
          { text: 'Billing', value: 'billing' },
          { text: 'refund', value: 'refund' },
          { text: 'shipping', value: 'shipping' },
        ],
        visible_options: 3,
        options_order: 'natural',
      },
      title: 'Topics',
      description: 'Every topic that applies',
      required: false,
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'quality',
      settings: { type: 'rating', options: [{ value: 1 }, { value: 2 }, { value: 3 }, { value: 4 }, { value: 5 }] },
      title: 'quality',
      description: null,
      required: true,
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'best',
      settings: {
        type: 'ranking',
        options: [
          { text: 'response-1', value: 'response-1', description: null },
          { text: 'response-2', value: 'response-2', description: null },
        ],
      },
      title: 'best',
      description: null,
      required: true,
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'correction',
      settings: { type: 'text', use_markdown: true },
      title: 'correction',
      description: null,
      required: false,
      inserted_at: null,
      updated_at: null,
    },
    {
      id: null,
      name: 'pii',
      settings: {
        type: 'span',
        allow_overlapping: false,
        field: 'prompt',
        options: [
          { text: 'EMAIL', value: 'EMAIL', description: null },
          { text: 'PHONE', value: 'PHONE', description: null },
        ],
        visible_options: null,
      },
      title: 'pii',
      description: null,
      required: false,
      inserted_at: null,
      updated_at: null,
    },
  ],
  metadata: [],
  vectors: [],
  mapping: null,
};

describe('Argilla 2.x', () => {
  test('settings: every question type read, and written back the same', () => {
    const { questions, problems } = fromArgillaSettings(ARGILLA_SETTINGS);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      questions.map((x) => [x.name, x.type]),
      [
        ['sentiment', 'label'],
        ['topics', 'multi-label'],
        ['quality', 'rating'],
        ['best', 'ranking'],
        ['correction', 'text'],
        ['pii', 'span'],
      ],
    );
    const t = questions[1]!;
    assert.deepEqual(
      [t.title, t.description, t.required, t.type === 'multi-label' && t.labelInfo],
      ['Topics', 'Every topic that applies', false, { billing: { text: 'Billing' } }],
    );
    assert.equal(questions[0]!.guidelines, 'Read the prompt and both responses before answering.');
    const back = toArgillaSettings(questions);
    assert.deepEqual(back.problems, []);
    const strip = (x: (typeof ARGILLA_SETTINGS.questions)[number]) => ({
      name: x.name,
      title: x.title,
      description: x.description,
      required: x.required,
      settings: Object.fromEntries(
        Object.entries(x.settings)
          .filter(([k]) => k !== 'visible_options')
          .map(([k, v]) => [
            k,
            Array.isArray(v)
              ? v.map((o: Record<string, unknown>) =>
                  Object.fromEntries(Object.entries(o).filter(([, y]) => y !== null)),
                )
              : v,
          ]),
      ),
    });
    const mine = back.settings.questions.map((x) => ({
      ...x,
      settings: Object.fromEntries(Object.entries(x.settings).filter(([k]) => k !== 'visible_options')),
    }));
    assert.deepEqual(mine, ARGILLA_SETTINGS.questions.map(strip));
    assert.deepEqual(
      back.settings.fields.map((f) => f.name),
      ['response-1', 'response-2', 'prompt'],
    );
    // what Argilla cannot hold is said, not dropped silently
    const wide = toArgillaSettings([
      q({ name: 'score', type: 'rating', min: 1, max: 20 }),
      q({ name: 'r', type: 'ranking', field: 'generations' }),
    ]);
    assert.deepEqual(wide.problems, [
      "score: Argilla's ratings go from 0 to 10, not 1-20",
      'r: Argilla needs the number of candidates of a ranking (none in the data)',
    ]);
  });

  test("values: a record's answers as Record.to_dict's suggestions and responses, and back", () => {
    const { questions } = fromArgillaSettings(ARGILLA_SETTINGS);
    const byName = (n: string) => questions.find((x) => x.name === n)!;
    const record0 = { prompt: 'Refund to ana@example.com?', 'response-1': 'Yes.', 'response-2': 'Yes, within 5 days.' };
    let rec: Record<string, unknown> = withQuestionSuggestion(record0, byName('topics'), {
      value: ['refund', 'billing'],
      score: 0.7,
      agent: 'gpt',
      type: 'model',
      label_scores: { billing: 0.7, refund: 0.95, shipping: 0.02 },
    });
    rec = withQuestionSuggestion(rec, byName('pii'), {
      value: [{ label: 'EMAIL', start: 10, end: 25 }],
      agent: 'gpt',
      type: 'model',
    });
    rec = withAnswer(rec, byName('best'), ['response-2', 'response-1'], { user: 'maria' });
    rec = withAnswer(rec, byName('quality'), 4, { user: 'maria' });
    const v = toArgillaValues(rec, questions);
    assert.deepEqual(v.suggestions, {
      topics: { value: ['billing', 'refund'], score: [0.7, 0.95], agent: 'gpt' },
      pii: { value: [{ start: 10, end: 25, label: 'EMAIL' }], score: null, agent: 'gpt' },
    });
    assert.deepEqual(v.responses, {
      best: [{ value: ['response-2', 'response-1'], user_id: 'maria' }],
      quality: [{ value: 4, user_id: 'maria' }],
    });
    // the flat Hub columns (<q>.suggestion, <q>.suggestion.score, <q>.responses, ...): one set per question
    const flat = toFlatColumns(rec, questions);
    assert.deepEqual(
      [
        flat['topics.suggestion'],
        flat['topics.suggestion.score'],
        flat['quality.responses'],
        flat['quality.responses.users'],
        flat['sentiment.suggestion'],
      ],
      [['billing', 'refund'], [0.7, 0.95], [4], ['maria'], null],
    );
    // back: spans get their text from the record; per-label scores come back as label_scores
    const back = fromArgillaValues(record0, v, questions);
    assert.deepEqual(back.problems, []);
    assert.deepEqual(back.suggestions.pii?.[0]?.value, [
      { label: 'EMAIL', start: 10, end: 25, text: 'ana@example.com' },
    ]);
    assert.deepEqual(back.suggestions.topics?.[0]?.label_scores, { billing: 0.7, refund: 0.95 });
    assert.deepEqual(back.human.quality, { value: 4, user: 'maria', status: 'submitted' });
    // the server API's ranking form ([{value, rank}]) is read too
    assert.deepEqual(
      fromArgillaValues(
        record0,
        {
          responses: {
            best: [
              {
                value: [
                  { value: 'response-1', rank: 1 },
                  { value: 'response-2', rank: 2 },
                ],
                user_id: 'u',
                status: 'submitted',
              },
            ],
          },
        },
        questions,
      ).human.best?.value,
      [
        { value: 'response-1', rank: 1 },
        { value: 'response-2', rank: 2 },
      ],
    );
    // a span past the end of its field is refused with the reason
    const bad = fromArgillaValues(
      { prompt: 'short' },
      { responses: { pii: [{ value: [{ label: 'EMAIL', start: 0, end: 40 }], user_id: 'u', status: 'submitted' }] } },
      questions,
    );
    assert.match(
      bad.problems[0] ?? '',
      /pii response: span 1 \(EMAIL, 0-40\) ends past the end of "prompt" \(5 characters\)/,
    );
  });
});

describe('preference pairs', () => {
  test('a ranking: best against worst; ties are not split; every pair on request', () => {
    const rec = withAnswer({ prompt: 'Say hi', generations: ['hi', 'hello there', 'hey'] }, best, ['2', '3', '1']);
    const pairs = rankingPairs(rec, best);
    assert.ok(Array.isArray(pairs));
    assert.deepEqual(
      pairs.map((p) => [p.prompt, p.chosen, p.rejected, p.chosen_rank, p.rejected_rank, p.source]),
      [['Say hi', 'hello there', 'hi', 1, 3, 'human']],
    );
    assert.match(pairs[0]!.prompt_id, /^[0-9a-f]{64}$/);
    assert.equal((rankingPairs(rec, best, { pairs: 'all' }) as unknown[]).length, 3);
    const tied = withAnswer({ prompt: 'x', generations: ['a', 'b', 'c'] }, best, [
      { value: '1', rank: 1 },
      { value: '2', rank: 1 },
      { value: '3', rank: 3 },
    ]);
    assert.equal(rankingPairs(tied, best), '2 candidates tie for best');
  });

  test('ratings: per prompt, the highest rated response against the lowest (distilabel UltraFeedback -> DPO)', () => {
    const r = ratingPairs([
      { prompt: 'p1', response: 'a', rating: 2, source: 'human' },
      { prompt: 'p1', response: 'b', rating: 5, source: 'human' },
      { prompt: 'p1', response: 'c', rating: 3, source: 'model' },
      { prompt: 'p2', response: 'd', rating: 4, source: 'human' },
      { prompt: 'p3', response: 'e', rating: 4, source: 'human' },
      { prompt: 'p3', response: 'f', rating: 4, source: 'human' },
    ]);
    assert.deepEqual(
      r.pairs.map((p) => [p.prompt, p.chosen, p.rejected, p.chosen_rating, p.rejected_rating, p.source]),
      [['p1', 'b', 'a', 5, 2, 'human']],
    );
    assert.deepEqual([r.single, r.ties], [['p2'], ['p3']]);
  });
});

describe('editing answers (what the editor does)', () => {
  test('toggle labels, move candidates, spans from a DOM selection (UTF-16) stored in code points', async () => {
    const { toggleLabel, moveCandidate, spanFromSelection, addSpan, removeSpan, overlapping } =
      await import('../../src/core/questions/edit');
    const order = ['billing', 'refund', 'shipping'];
    assert.deepEqual(toggleLabel(['shipping'], 'billing', order), ['billing', 'shipping']);
    assert.deepEqual(toggleLabel(['billing', 'shipping'], 'billing', order), ['shipping']);
    const ranked = moveCandidate(undefined, '3', -2, ['1', '2', '3']);
    assert.deepEqual(ranked, [
      { value: '3', rank: 1 },
      { value: '1', rank: 2 },
      { value: '2', rank: 3 },
    ]);
    assert.deepEqual(
      moveCandidate(ranked, '3', 5, ['1', '2', '3']).map((r) => r.value),
      ['1', '2', '3'],
    );
    assert.equal(checkAnswer(best, ranked, { generations: ['a', 'b', 'c'] }).ok, true);
    const text = '😀 write to ana@example.com now';
    const from = text.indexOf(' ana'); // the selection took the space before it
    const span = spanFromSelection(text, from, text.indexOf(' now'), 'EMAIL');
    assert.deepEqual(span, { label: 'EMAIL', start: 11, end: 26, text: 'ana@example.com' });
    assert.equal(checkAnswer(pii, [span], { text }).ok, true, 'what the editor makes is what the check accepts');
    assert.equal(spanFromSelection(text, 3, 3, 'EMAIL'), undefined);
    const two = addSpan(addSpan([], span), { label: 'PHONE', start: 0, end: 1, text: '😀' });
    assert.deepEqual(
      two.map((s) => s.label),
      ['PHONE', 'EMAIL'],
    );
    assert.equal(addSpan(two, span).length, 2);
    assert.deepEqual(
      removeSpan(two, 0).map((s) => s.label),
      ['EMAIL'],
    );
    assert.deepEqual(
      overlapping(two, { start: 20, end: 30 }).map((s) => s.label),
      ['EMAIL'],
    );
  });
});

// The fifth record of argilla-io/argilla's argilla/tests/unit/test_io/test_hf_datasets.py
// (test_to_datasets_with_partial_values_in_records): rating, ranking and span values as the SDK's
// records carry them (Record.to_dict(); the user ids there are uuid4(), fixed here).
const ARGILLA_RECORD = {
  fields: { field: 'The record field including more type of responses' },
  suggestions: {
    rating: { value: 1, score: null, agent: null },
    ranking: { value: ['value1', 'value2'], score: null, agent: null },
    spans: { value: [{ start: 0, end: 10, label: 'test' }], score: null, agent: null },
  },
  responses: {
    rating: [{ value: 1, user_id: '44444444-4444-4444-8444-444444444444' }],
    ranking: [{ value: ['value1', 'value2'], user_id: '55555555-5555-4555-8555-555555555555' }],
    spans: [{ value: [{ start: 0, end: 10, label: 'test' }], user_id: '66666666-6666-4666-8666-666666666666' }],
  },
};

test("Argilla's own record (its HF datasets test): rating, ranking and span values in, and out the same", () => {
  const questions = [
    q({ name: 'rating', type: 'rating', min: 1, max: 5 }),
    q({ name: 'ranking', type: 'ranking', options: ['value1', 'value2'] }),
    q({ name: 'spans', type: 'span', field: 'field', labels: ['test'] }),
  ];
  const record: Record<string, unknown> = { ...ARGILLA_RECORD.fields };
  const imported = fromArgillaValues(record, ARGILLA_RECORD, questions);
  assert.deepEqual(imported.problems, []);
  assert.deepEqual(imported.human.spans?.value, [{ label: 'test', start: 0, end: 10, text: 'The record' }]);
  assert.deepEqual(imported.human.ranking?.value, [
    { value: 'value1', rank: 1 },
    { value: 'value2', rank: 2 },
  ]);
  const rec = { ...record, annotations: { suggestions: imported.suggestions, human: imported.human } };
  const out = toArgillaValues(rec, questions);
  assert.deepEqual(out.suggestions, ARGILLA_RECORD.suggestions);
  assert.deepEqual(
    out.responses,
    Object.fromEntries(
      Object.entries(ARGILLA_RECORD.responses).map(([k, rs]) => [
        k,
        rs.map((r) => ({ value: r.value, user_id: r.user_id })),
      ]),
    ),
  );
});

test('the generic Argilla export row, with the questions put in their Argilla form', () => {
  const pii2 = q({ name: 'PII', type: 'span', field: 'text', labels: ['EMAIL'] });
  const rank = q({ name: 'best', type: 'ranking', field: 'generations' });
  let rec: Record<string, unknown> = { text: 'to ana@example.com', generations: ['a', 'b'] };
  rec = withQuestionSuggestion(rec, pii2, {
    value: [{ label: 'EMAIL', start: 3, end: 18 }],
    score: 0.9,
    agent: 'gpt',
    type: 'model',
  });
  rec = withAnswer(rec, rank, ['2', '1'], { user: 'maria' });
  // what a generic export makes of it (values as stored, keyed by our names)
  const row = {
    id: '1',
    fields: { text: rec.text },
    metadata: {},
    vectors: {},
    status: 'completed',
    suggestions: {
      PII: { value: [{ label: 'EMAIL', start: 3, end: 18, text: 'ana@example.com' }], score: 0.9, agent: 'gpt' },
    },
    responses: {
      best: [
        {
          value: [
            { value: '2', rank: 1 },
            { value: '1', rank: 2 },
          ],
          user_id: 'uuid-of-maria',
          status: 'submitted',
        },
      ],
    },
  };
  const { row: out, problems } = argillaRowWithQuestions(row, rec, [pii2, rank]);
  assert.deepEqual(problems, []);
  assert.deepEqual(out.suggestions, {
    pii: { value: [{ start: 3, end: 18, label: 'EMAIL' }], score: 0.9, agent: 'gpt' },
  });
  assert.deepEqual(out.responses, { best: [{ value: ['2', '1'], user_id: 'uuid-of-maria', status: 'submitted' }] });
  // several people's responses (kept by the generic export) are each converted
  const two = argillaRowWithQuestions(
    {
      ...row,
      responses: { best: [...row.responses.best, { value: ['1', '2'], user_id: 'uuid-of-ana', status: 'draft' }] },
    },
    rec,
    [pii2, rank],
  );
  assert.deepEqual(
    (two.row.responses as Record<string, { value: unknown }[]>).best?.map((r) => r.value),
    [
      ['2', '1'],
      ['1', '2'],
    ],
  );
  assert.equal(out.id, '1');
  // the field edited afterwards: the span no longer fits, so Argilla does not get it
  const edited = argillaRowWithQuestions(row, { ...rec, text: 'to: ana@example.com' }, [pii2, rank]);
  assert.deepEqual(edited.row.suggestions, {});
  assert.match(edited.problems[0] ?? '', /^PII: the suggestion does not fit \(span 1 \(EMAIL, 3-18\)/);
});

test("the JSON Schema VS Code validates .curator/questions.json with is the zod schema's, up to date", async () => {
  const { readFileSync } = await import('node:fs');
  const root = join(__dirname, '..', '..');
  const committed = JSON.parse(readFileSync(join(root, 'media', 'questions.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, questionsJsonSchema(), 'run: node --import tsx scripts/questions-schema.ts');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { jsonValidation: { fileMatch: string; url: string }[] };
  };
  assert.deepEqual(
    pkg.contributes.jsonValidation.find((j) => j.url === './media/questions.schema.json')?.fileMatch,
    '**/.curator/questions.json',
  );
});

test('filters: the single label question reads the top-level label, as the rules do', async () => {
  const { questionChecks, QuestionFilterOptions } = await import('../../src/core/questions/filters');
  const checks = questionChecks(
    { ...QuestionFilterOptions.parse({ hasLabels: ['positive'], answered: 'human' }), question: 'label' },
    undefined,
  );
  const rec = (label: string, human?: string) => ({
    label,
    ...(human ? { annotations: { human: { label: { value: human, status: 'submitted' } } } } : {}),
  });
  assert.deepEqual(
    checks.map((c) => c.name),
    ['label has positive', 'label answered by a person'],
  );
  assert.deepEqual(
    [rec('positive'), rec('positive', 'positive'), rec('negative', 'negative')].map((r) =>
      checks.map((c) => c.test(r)),
    ),
    [
      [true, false],
      [true, true],
      [false, true],
    ],
  );
});

describe('self-consistency per type (aggregating k samples)', () => {
  test('multi-label by majority per label, rating by median, ranking by Borda count, text by majority, spans by majority', async () => {
    const { aggregateMultiLabel, aggregateRating, aggregateRanking, aggregateText, aggregateSpans } =
      await import('../../src/core/questions/consistency');
    const ml = aggregateMultiLabel(
      [['billing', 'refund'], ['refund'], ['billing', 'refund'], ['shipping']],
      ['billing', 'refund', 'shipping'],
    );
    assert.deepEqual(ml, {
      value: ['refund'],
      score: 1 / 4,
      labelScores: { billing: 0.5, refund: 0.75, shipping: 0.25 },
    });
    assert.deepEqual(aggregateRating([4, 2, 5, 4, 4]), { value: 4, score: 3 / 5 });
    assert.deepEqual(aggregateRating([1, 5]), { value: 1, score: 1 / 2 }, 'even count: the lower median');
    // Borda with 3 candidates (points 2, 1, 0): a: 2+2+0 = 4, b: 1+0+2 = 3, c: 0+1+1 = 2
    const r = (...ids: string[]) => ids.map((v, i) => ({ value: v, rank: i + 1 }));
    const rk = aggregateRanking([r('a', 'b', 'c'), r('a', 'c', 'b'), r('b', 'c', 'a')], ['a', 'b', 'c']);
    assert.deepEqual(rk, { value: r('a', 'b', 'c'), score: 1 / 3 });
    assert.deepEqual(aggregateText(['Fixed.', ' Fixed. ', 'Other']), { value: 'Fixed.', score: 2 / 3 });
    const e = { label: 'EMAIL', start: 0, end: 5 };
    const p = { label: 'PHONE', start: 9, end: 12 };
    // each span in 3 of 4 samples: both kept; 2 samples have exactly those
    assert.deepEqual(aggregateSpans([[e, p], [e], [e, p], [p]]), { value: [e, p], score: 2 / 4 });
    assert.deepEqual(aggregateSpans([[e], [p], []]), { value: [], score: 1 / 3 }, 'no span in more than half: none');
  });
});
