import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportRecord,
  FORMATS,
  importRecord,
  SCHEMAS,
  sha256,
  type ExportFormat,
  type ExportOptions,
} from '../../src/core/export/formats';

const samples = readFileSync(join(__dirname, '..', '..', 'samples', 'reviews.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

const ann = {
  label: 'good',
  rationale: 'clear answer',
  judge: { score: 8, scale: [1, 10], reasons: 'fine', model: 'judge-1' },
  annotations: {
    suggestions: {
      label: [
        {
          value: 'good',
          score: 0.9,
          agent: 'm1',
          type: 'model',
          provenance: { model: 'm1', prompt_hash: 'sha256:ab', time: 't', usage: {} },
        },
      ],
    },
    human: { label: { value: 'good', user: 'ana', status: 'submitted', time: '2026-11-21T14:00:02.000Z' } },
    review: { status: 'reviewed' },
  },
};
const chat = {
  id: 'c1',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ],
  ...ann,
};
const alpacaRec = { id: 'a1', instruction: 'Translate to French', input: 'cat', output: 'chat', ...ann };
const promptRec = { id: 'p1', prompt: 'Say hi', response: 'Hi!', ...ann };
const prefRec = {
  id: 'd1',
  prompt: 'Name a colour',
  chosen: 'Blue.',
  rejected: 'Banana.',
  chosen_model: 'm-big',
  chosen_rating: 9,
  rejected_model: 'm-small',
  rejected_rating: 2,
  ...ann,
};
const genRec = {
  instruction: 'Name a colour',
  generations: ['Blue.', 'Banana.', 'Red.'],
  ratings: [8, 1, 5],
  generation_models: ['a', 'b', 'c'],
};

/** Exports (checking the schema), imports, exports again: the two exports must be equal. */
function roundTrip(format: ExportFormat, record: Record<string, unknown>, extra: Partial<ExportOptions> = {}) {
  const opts = { format, ...extra };
  const first = exportRecord(record, 7, opts);
  assert.ok(first.ok, `${format}: ${first.ok ? '' : first.reason}`);
  SCHEMAS[format].parse(first.row);
  const back = importRecord(format, first.row);
  const second = exportRecord(back, 7, opts);
  assert.ok(second.ok, `${format} again: ${second.ok ? '' : second.reason}`);
  assert.deepEqual(second.row, first.row, `${format}: export → import → export is stable`);
  return { row: first.row, back };
}

test('SFT (OpenAI chat) from messages, instruction/input/output, prompt/response and a custom mapping', () => {
  const a = roundTrip('sft', chat);
  assert.deepEqual(a.row, { messages: chat.messages }, 'annotations stripped');
  assert.deepEqual(roundTrip('sft', alpacaRec).row, {
    messages: [
      { role: 'user', content: 'Translate to French\n\ncat' },
      { role: 'assistant', content: 'chat' },
    ],
  });
  assert.deepEqual(roundTrip('sft', promptRec).row.messages, [
    { role: 'user', content: 'Say hi' },
    { role: 'assistant', content: 'Hi!' },
  ]);
  const custom = { q: 'Why?', a: 'Because.', sys: 'You are terse.' };
  const mapping = { prompt: 'q', response: 'a', system: 'sys' } as ExportOptions['mapping'];
  assert.deepEqual(roundTrip('sft', custom, { mapping }).row.messages, [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Why?' },
    { role: 'assistant', content: 'Because.' },
  ]);
  const withAnn = roundTrip('sft', chat, { includeAnnotations: true });
  assert.deepEqual(withAnn.row.annotations, ann.annotations, 'kept when asked');
  assert.equal(withAnn.back.label, 'good');
  const bad = exportRecord({ text: 'no chat here' }, 0, { format: 'sft' });
  assert.equal(bad.ok, false);
  assert.match(bad.reason, /no messages/);
  assert.equal(
    exportRecord({ messages: [{ role: 'user', content: 'hi' }] }, 0, { format: 'sft' }).ok,
    false,
    'needs an assistant turn',
  );
  assert.equal(exportRecord({ messages: [{ role: 'tool', content: 'x' }] }, 0, { format: 'sft' }).ok, false);
});

test('OpenAI preference fine-tuning and TRL DPO (standard and conversational)', () => {
  const p = roundTrip('openai-preference', prefRec);
  assert.deepEqual(p.row, {
    input: { messages: [{ role: 'user', content: 'Name a colour' }] },
    preferred_output: [{ role: 'assistant', content: 'Blue.' }],
    non_preferred_output: [{ role: 'assistant', content: 'Banana.' }],
  });
  assert.deepEqual(roundTrip('dpo', prefRec).row, { prompt: 'Name a colour', chosen: 'Blue.', rejected: 'Banana.' });
  const conv = roundTrip(
    'dpo',
    { messages: chat.messages.slice(0, 2), chosen: 'Paris.', rejected: 'Lyon.' },
    { dpoStyle: 'conversational' },
  );
  assert.deepEqual(conv.row, {
    prompt: chat.messages.slice(0, 2),
    chosen: [{ role: 'assistant', content: 'Paris.' }],
    rejected: [{ role: 'assistant', content: 'Lyon.' }],
  });
  const std = exportRecord({ messages: chat.messages.slice(0, 2), chosen: 'a', rejected: 'b' }, 0, { format: 'dpo' });
  assert.match(std.ok ? '' : std.reason, /conversational/);
  // from generations + ratings: best vs worst
  assert.deepEqual(roundTrip('dpo', genRec).row, { prompt: 'Name a colour', chosen: 'Blue.', rejected: 'Banana.' });
  assert.equal(
    exportRecord({ prompt: 'x', generations: ['a', 'b'], ratings: [3, 3] }, 0, { format: 'dpo' }).ok,
    false,
    'a tie is no preference',
  );
});

test('distilabel DPO: prompt_id is the sha256 of the prompt; chosen/rejected include the prompt turn', () => {
  // sha256("hello"), a well-known value
  assert.equal(sha256('hello'), '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  const d = roundTrip('distilabel-dpo', prefRec);
  assert.deepEqual(d.row, {
    prompt: 'Name a colour',
    prompt_id: sha256('Name a colour'),
    chosen: [
      { role: 'user', content: 'Name a colour' },
      { role: 'assistant', content: 'Blue.' },
    ],
    chosen_model: 'm-big',
    chosen_rating: 9,
    rejected: [
      { role: 'user', content: 'Name a colour' },
      { role: 'assistant', content: 'Banana.' },
    ],
    rejected_model: 'm-small',
    rejected_rating: 2,
  });
  const g = roundTrip('distilabel-dpo', genRec).row;
  assert.deepEqual([g.chosen_model, g.chosen_rating, g.rejected_model, g.rejected_rating], ['a', 8, 'b', 1]);
});

test('Alpaca and ShareGPT', () => {
  assert.deepEqual(roundTrip('alpaca', alpacaRec).row, {
    instruction: 'Translate to French',
    input: 'cat',
    output: 'chat',
  });
  assert.deepEqual(roundTrip('alpaca', chat).row, {
    instruction: 'Capital of France?',
    input: '',
    output: 'Paris.',
    system: 'Be brief.',
  });
  // several turns: LLaMA-Factory's multi-turn Alpaca, the earlier turns as `history` (data/README.md)
  const multi = roundTrip('alpaca', {
    messages: [...chat.messages, { role: 'user', content: 'And Spain?' }, { role: 'assistant', content: 'Madrid.' }],
  });
  assert.deepEqual(multi.row, {
    instruction: 'And Spain?',
    input: '',
    output: 'Madrid.',
    system: 'Be brief.',
    history: [['Capital of France?', 'Paris.']],
  });
  assert.deepEqual(
    (exportRecord(multi.back, 0, { format: 'sft' }) as { row: unknown }).row,
    {
      messages: [...chat.messages, { role: 'user', content: 'And Spain?' }, { role: 'assistant', content: 'Madrid.' }],
    },
    'history back to turns',
  );
  const odd = exportRecord(
    {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
      ],
    },
    0,
    { format: 'alpaca' },
  );
  assert.match(odd.ok ? '' : odd.reason, /alternating user and assistant/);
  const s = roundTrip('sharegpt', chat);
  assert.deepEqual(s.row, {
    conversations: [
      { from: 'system', value: 'Be brief.' },
      { from: 'human', value: 'Capital of France?' },
      { from: 'gpt', value: 'Paris.' },
    ],
  });
  assert.deepEqual(s.back.messages, chat.messages, 'imported as chat messages');
  // a ShareGPT record in the store (conversations) exports to SFT too
  assert.deepEqual(
    (exportRecord({ conversations: s.row.conversations }, 0, { format: 'sft' }) as { row: unknown }).row,
    { messages: chat.messages },
  );
});

test('Argilla 1.x FeedbackRecord style (argilla-v1): fields, metadata, suggestions, responses, status', () => {
  const rec = samples[0] as Record<string, unknown>;
  const a = roundTrip('argilla-v1', rec);
  assert.deepEqual(a.row, {
    id: 'rev-0001',
    status: 'completed',
    fields: { text: rec.text },
    metadata: {},
    suggestions: [
      { question_name: 'label', value: 'negative', score: 0.93, agent: 'gpt-4o-mini-2024-07-18', type: 'model' },
    ],
    responses: [{ question_name: 'label', value: 'positive', user_id: 'maria', status: 'submitted' }],
  });
  assert.equal(a.back.label, 'positive', 'the submitted response is the label');
  assert.deepEqual((a.back.annotations as Record<string, unknown>).review, { status: 'reviewed' });
  const pending = roundTrip('argilla-v1', samples[2] as Record<string, unknown>);
  assert.equal(pending.row.status, 'pending');
  assert.deepEqual(pending.row.responses, []);
  const noId = roundTrip('argilla-v1', { text: 'x', lang: 'en', n: 3 });
  assert.deepEqual([noId.row.id, noId.row.fields, noId.row.metadata], ['7', { text: 'x', lang: 'en' }, { n: 3 }]);
  const chosen = roundTrip('argilla-v1', { text: 'x', lang: 'en', n: 3 }, { argillaFields: ['text'] });
  assert.deepEqual(chosen.row.metadata, { lang: 'en', n: 3 });
  const keep = roundTrip('argilla-v1', rec, { includeAnnotations: true });
  assert.deepEqual((keep.row.annotations as Record<string, unknown>).judge, rec.judge);
});

test('distilabel columns: instruction, generation, model_name, ratings, rationales, labels', () => {
  const rec = samples[1] as Record<string, unknown> & { text: string; judge: { reasons: string } };
  const d = roundTrip('distilabel', rec);
  assert.deepEqual(d.row, {
    instruction: rec.text,
    generation: null,
    model_name: null,
    ratings: [9],
    rationales: [rec.judge.reasons],
    labels: 'negative',
    distilabel_metadata: {},
  });
  assert.equal(d.back.label, 'negative');
  assert.deepEqual(d.back.judge, { score: 9, reasons: rec.judge.reasons });
  const two = roundTrip('distilabel', {
    instruction: 'q',
    output: 'a',
    model_name: 'gen',
    judges: [
      { score: 4, reasons: 'ok' },
      { score: 5, model: 'j2' },
    ],
  });
  assert.deepEqual(
    [two.row.ratings, two.row.rationales, two.row.generation, two.row.model_name],
    [[4, 5], ['ok', null], 'a', 'gen'],
  );
  const full = roundTrip('distilabel', rec, { includeAnnotations: true });
  assert.deepEqual(full.back.judge, rec.judge, 'the judge comes back whole when annotations were kept');
  assert.deepEqual(full.back.annotations, rec.annotations);
});

test('import → export keeps what each format carries', () => {
  const rows: Record<ExportFormat, Record<string, unknown>> = {
    sft: {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
    },
    'openai-preference': {
      input: {
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'a' },
        ],
      },
      preferred_output: [{ role: 'assistant', content: 'b' }],
      non_preferred_output: [{ role: 'assistant', content: 'c' }],
    },
    dpo: { prompt: 'a', chosen: 'b', rejected: 'c' },
    'distilabel-dpo': {
      prompt: 'a',
      prompt_id: sha256('a'),
      chosen: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
      chosen_model: null,
      chosen_rating: 5,
      rejected: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'c' },
      ],
      rejected_model: 'm',
      rejected_rating: null,
    },
    alpaca: { instruction: 'i', input: '', output: 'o' },
    sharegpt: {
      conversations: [
        { from: 'human', value: 'a' },
        { from: 'gpt', value: 'b' },
      ],
    },
    'argilla-v1': {
      id: 'x1',
      status: 'completed',
      fields: { text: 't', chat: [{ role: 'user', content: 'c' }] },
      metadata: { source: 'web', n: 2, ok: true },
      suggestions: [
        { question_name: 'label', value: 'pos', score: 0.5, agent: 'm', type: 'model' },
        { question_name: 'topic', value: ['a', 'b'], score: null, agent: null, type: null },
      ],
      responses: [
        { question_name: 'label', value: 'neg', user_id: 'u1', status: 'submitted' },
        { question_name: 'topic', value: ['a'], user_id: null, status: 'draft' },
      ],
    },
    'prompt-completion': { prompt: 'The sky is', completion: ' blue.' },
    kto: {
      prompt: [{ role: 'user', content: 'What color is the sky?' }],
      completion: [{ role: 'assistant', content: 'It is green.' }],
      label: false,
    },
    'alpaca-ranking': { instruction: 'i', input: 'q', chosen: 'good', rejected: 'bad', system: 's' },
    'sharegpt-ranking': {
      conversations: [
        { from: 'human', value: 'a' },
        { from: 'gpt', value: 'b' },
        { from: 'human', value: 'c' },
      ],
      chosen: { from: 'gpt', value: 'd' },
      rejected: { from: 'gpt', value: 'e' },
    },
    argilla: {
      id: 'x2',
      fields: { text: 't' },
      metadata: { source: 'web' },
      suggestions: { label: { value: 'pos', score: 0.5, agent: 'm' } },
      responses: { label: [{ value: 'neg', user_id: '11111111-1111-4111-8111-111111111111', status: 'submitted' }] },
      vectors: { v: [0.5, 1] },
      status: 'completed',
      _server_id: null,
    },
    'argilla-hub': {
      id: 'x3',
      status: 'pending',
      _server_id: null,
      text: 't',
      'label.suggestion': 'pos',
      'label.suggestion.score': 0.5,
      'label.suggestion.agent': 'm',
      'label.responses': ['neg'],
      'label.responses.users': ['11111111-1111-4111-8111-111111111111'],
      'label.responses.status': ['draft'],
    },
    records: { any: { nested: [1, 2] }, text: 'x' },
    distilabel: {
      instruction: 'i',
      generation: 'g',
      model_name: 'm',
      ratings: [3, 4],
      rationales: ['r1', 'r2'],
      labels: ['x', 'y'],
      distilabel_metadata: { statistics: { tokens: 3 } },
    },
  };
  for (const f of FORMATS) {
    const row = rows[f];
    SCHEMAS[f].parse(row);
    const back = importRecord(f, row);
    const again = exportRecord(back, 0, {
      format: f,
      ...(Array.isArray(row.prompt) ? { dpoStyle: 'conversational' as const } : {}),
    });
    assert.ok(again.ok, `${f}: ${again.ok ? '' : again.reason}`);
    assert.deepEqual(again.row, row, f);
  }
  assert.throws(() => importRecord('alpaca', { instruction: 1 }));
});
