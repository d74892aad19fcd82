// The formats users bring, checked against the real projects' own examples (test/fixtures/*/README.md
// names each source): Argilla 2.x records and its Hub export, OpenAI fine-tuning with tools, TRL
// prompt-completion and KTO, LLaMA-Factory's multi-turn Alpaca and ranking variants.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportRecord,
  importRecord,
  SCHEMAS,
  type ExportFormat,
  type ExportOptions,
} from '../../src/core/export/formats';
import { ANONYMOUS_USER_ID, uuidV5 } from '../../src/core/export/argilla';
import { datasetInfoEntry } from '../../src/core/export/llama-factory';
import {
  EXPORT_CHOICES,
  exportOperation,
  ExportOperationOptions,
  importOperation,
  ImportOperationOptions,
} from '../../src/core/export/export';
import { EXPORT_FORMAT_CHOICES, STYLED_FORMATS } from '../../src/core/export/choices';
import { quietContext } from '../../src/core/operation';
import { tempDir } from './helpers/store';

/** A record or a row read field by field, as the tests read JSON.parse's values (the assertions check them). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- typing every format's rows here would restate the formats
type Loose = Record<string, any>;

/** importRecord, typed loosely for the assertions. */
const imp = (format: ExportFormat, row: unknown, users?: Record<string, string>) =>
  importRecord(format, row, users) as Loose;

const fixtures = join(__dirname, '..', 'fixtures');
const jsonl = (p: string) =>
  readFileSync(join(fixtures, p), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const json = (p: string) => JSON.parse(readFileSync(join(fixtures, p), 'utf8'));
const samples = readFileSync(join(__dirname, '..', '..', 'samples', 'reviews.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

function exp(format: ExportFormat, record: Record<string, unknown>, extra: Partial<ExportOptions> = {}): Loose {
  const r = exportRecord(record, 0, { format, ...extra });
  assert.ok(r.ok, `${format}: ${r.ok ? '' : r.reason}`);
  SCHEMAS[format].parse(r.row);
  return r.row;
}

test("Argilla 2.x: Argilla's own records (Record.to_dict) import into the layout and export back as from_dict reads them", () => {
  const [simple, multi, types] = jsonl('argilla/records-to-dict.jsonl');
  // test_record_export_import_compatibillity.py: a pending record, a response without status (a draft for Argilla)
  const a = imp('argilla', simple);
  assert.equal(a.id, simple!.id);
  assert.equal(a.text, 'Hello World, how are you?', 'fields become top-level fields');
  assert.deepEqual(a.metadata, { source: 'twitter', language: 'en' });
  assert.deepEqual(a.vectors, { text: [0, 0, 0] });
  assert.deepEqual(a.annotations.suggestions, {
    label: [{ value: 'positive', score: 0.9, type: 'model' }],
    topics: [{ value: ['topic1', 'topic2'], score: [0.9, 0.8], type: 'model' }],
  });
  assert.deepEqual(a.annotations.human, {
    label: { value: 'positive', user: '9b1f7c2a-3d4e-4f5a-8b6c-7d8e9f0a1b2c', status: 'draft' },
  });
  assert.equal(a.label, undefined, 'a draft is no decision');
  // back: exactly to_dict, plus the status from_dict needs (without it Argilla makes the response a draft)
  assert.deepEqual(exp('argilla', a), {
    ...simple,
    responses: { label: [{ ...simple!.responses.label[0], status: 'draft' }] },
  });

  // test_generic.py: two users per question, draft and submitted
  const b = imp('argilla', multi);
  assert.deepEqual(b.annotations.human.q2, {
    value: 'value',
    user: '11111111-1111-4111-8111-111111111111',
    status: 'submitted',
  });
  assert.equal(b.annotations.responses.q2.length, 2, "every user's response is kept");
  assert.deepEqual(exp('argilla', b), multi, 'nothing lost, nothing added');

  // test_hf_datasets.py: rating, ranking and span questions of a completed record (responses submitted)
  const c = imp('argilla', types);
  assert.deepEqual(c.annotations.human.spans, {
    value: [{ start: 0, end: 10, label: 'test' }],
    user: '66666666-6666-4666-8666-666666666666',
    status: 'submitted',
  });
  assert.deepEqual(c.annotations.review, { status: 'reviewed' });
  const back = exp('argilla', c);
  for (const q of ['rating', 'ranking', 'spans'])
    assert.deepEqual(back.responses[q], [{ ...types!.responses[q][0], status: 'submitted' }]);
  assert.deepEqual(back.suggestions, types!.suggestions);
});

test("Argilla Hub export: the flat columns of Argilla's own test import and export back", () => {
  const [flat, partial, typed] = jsonl('argilla/hub-flat.jsonl');
  const a = imp('argilla-hub', flat);
  assert.equal(a.field, 'The field');
  assert.equal(a.key, 'value', 'metadata columns stay top-level');
  assert.deepEqual(a.annotations.suggestions.q1, [{ value: 'value', score: 0.1, agent: 'test', type: 'model' }]);
  // a response without a status on a pending record is a draft (Argilla's UserResponse default)
  assert.deepEqual(
    a.annotations.responses.q1.map((r: { status: string }) => r.status),
    ['submitted', 'draft'],
  );
  const back = exp('argilla-hub', a);
  const expected = { ...flat };
  delete expected.inserted_at;
  delete expected.updated_at;
  expected['q1.responses.status'] = ['submitted', 'draft'];
  assert.deepEqual(back, expected);
  // the same record through to_dict and through the Hub columns gives the same annotations
  const viaDict = imp('argilla', jsonl('argilla/records-to-dict.jsonl')[1]);
  assert.deepEqual(a.annotations.suggestions, viaDict.annotations.suggestions);
  assert.deepEqual(a.annotations.human, viaDict.annotations.human);

  const p = imp('argilla-hub', partial);
  assert.deepEqual(p.annotations.suggestions, { question: [{ value: 'value', type: 'model' }] });
  assert.deepEqual(exp('argilla-hub', p), partial);
  const t = imp('argilla-hub', typed);
  assert.deepEqual(t.annotations.human.ranking.value, ['value1', 'value2']);
  assert.deepEqual(exp('argilla-hub', t)['spans.suggestion'], typed!['spans.suggestion']);
  assert.throws(() => imp('argilla-hub', { text: 'no questions, no id' }));
});

test('Argilla: our user names become UUIDs (name-based, or from a map) and come back through the map', () => {
  const rec = samples[0] as Record<string, unknown>; // annotated by "maria"
  const row = exp('argilla', rec);
  assert.deepEqual(row.responses.label, [
    { value: 'positive', user_id: uuidV5('dataset-curator:user:maria'), status: 'submitted' },
  ]);
  assert.match(
    row.responses.label[0].user_id,
    /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'a version-5 UUID',
  );
  assert.deepEqual(row.suggestions, { label: { value: 'negative', score: 0.93, agent: 'gpt-4o-mini-2024-07-18' } });
  assert.equal(row.status, 'completed');
  const users = { maria: '0a0b0c0d-0000-4000-8000-000000000001' };
  const mapped = exp('argilla', rec, { argillaUsers: users });
  assert.equal(mapped.responses.label[0].user_id, users.maria);
  const back = imp('argilla', mapped, users);
  assert.equal(back.annotations.human.label.user, 'maria');
  assert.equal(back.label, 'positive');
  // a decision by nobody in particular still has the user id Argilla requires
  const anon = exp('argilla', { text: 't', annotations: { human: { label: { value: 'x', status: 'submitted' } } } });
  assert.equal(anon.responses.label[0].user_id, ANONYMOUS_USER_ID);
  assert.equal(imp('argilla', anon).annotations.human.label.user, undefined);
  // a field of the user's named "status" is not Argilla's status
  const own = exp('argilla', { text: 't', status: 'active', n: 1 });
  assert.deepEqual([own.fields, own.metadata, own.status], [{ text: 't', status: 'active' }, { n: 1 }, 'pending']);
  // nothing is dropped: objects are (custom) fields, lists of scalars are (terms) metadata
  const rich = { text: 't', info: { source: 'web', page: 3 }, tags: ['a', 'b'], turns: [{ speaker: 'x' }], n: 2 };
  const r2 = exp('argilla', rich);
  assert.deepEqual(
    [r2.fields, r2.metadata],
    [
      { text: 't', info: rich.info, turns: rich.turns },
      { tags: ['a', 'b'], n: 2 },
    ],
  );
  assert.deepEqual(exp('argilla', imp('argilla', r2)), r2, 'and back');
});

test('OpenAI SFT keeps tools, tool calls, tool messages, weight and parallel_tool_calls (OpenAI/Azure examples)', () => {
  for (const row of jsonl('openai/tool-calling.jsonl')) {
    assert.deepEqual(exp('sft', row), row, 'exported as it is');
    const back = imp('sft', row);
    assert.deepEqual(exp('sft', back), row, 'import → export');
  }
  // TRL's tool example: arguments as an object become OpenAI's JSON string; the tool's `name` is kept
  const [trl] = jsonl('trl/tool-calling.jsonl');
  const row = exp('sft', trl);
  assert.equal(row.messages[1].tool_calls[0].function.arguments, JSON.stringify({ room: 'living room', state: 'on' }));
  assert.equal(row.messages[2].role, 'tool');
  assert.equal(row.messages[2].name, 'control_light');
  assert.equal(row.tools[0].function.return.type, 'string', 'unknown keys of a tool are kept');
  // ShareGPT (LLaMA-Factory) keeps the calls as function_call / observation turns and the tools as JSON
  const sg = exp('sharegpt', trl);
  assert.deepEqual(
    sg.conversations.map((t: { from: string }) => t.from),
    ['human', 'function_call', 'observation', 'gpt'],
  );
  assert.deepEqual(JSON.parse(sg.conversations[1].value), {
    name: 'control_light',
    arguments: { room: 'living room', state: 'on' },
  });
  assert.equal(JSON.parse(sg.tools)[0].name, 'control_light');
  const again = exp('sft', imp('sharegpt', sg));
  assert.equal(again.messages[1].tool_calls[0].function.name, 'control_light');
  // what cannot be: a weight on a user turn, a tool call by a user
  assert.equal(
    exportRecord(
      {
        messages: [
          { role: 'user', content: 'a', weight: 0 },
          { role: 'assistant', content: 'b' },
        ],
      },
      0,
      { format: 'sft' },
    ).ok,
    false,
  );
  assert.equal(
    exportRecord(
      {
        messages: [
          { role: 'user', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'assistant', content: 'b' },
        ],
      },
      0,
      { format: 'sft' },
    ).ok,
    false,
  );
  // formats without a place for tool calls say so
  const dpo = exportRecord({ prompt: trl!.messages.slice(0, 3), chosen: 'a', rejected: 'b' }, 0, {
    format: 'dpo',
    dpoStyle: 'conversational',
  });
  assert.match(dpo.ok ? '' : dpo.reason, /tool/);
});

test("TRL prompt-completion and KTO: the documentation's examples, and accept/reject decisions as KTO labels", () => {
  const [std, conv] = jsonl('trl/prompt-completion.jsonl');
  assert.deepEqual(exp('prompt-completion', imp('prompt-completion', std)), std);
  assert.deepEqual(exp('prompt-completion', imp('prompt-completion', conv), { dpoStyle: 'conversational' }), conv);
  // from a chat record: the prompt is everything before the final assistant turn
  const chat = {
    messages: [
      { role: 'system', content: 's' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ],
  };
  assert.deepEqual(exp('prompt-completion', chat, { dpoStyle: 'conversational' }), {
    prompt: chat.messages.slice(0, 2),
    completion: chat.messages.slice(2),
  });
  assert.match((exportRecord(chat, 0, { format: 'prompt-completion' }) as { reason: string }).reason, /conversational/);
  assert.deepEqual(exp('prompt-completion', { instruction: 'Say hi', output: 'Hi' }), {
    prompt: 'Say hi',
    completion: 'Hi',
  });

  const [kStd, kConv] = jsonl('trl/kto.jsonl');
  const k1 = imp('kto', kStd);
  assert.deepEqual(k1.annotations, { review: { status: 'reviewed' } }, 'a desirable completion is an accepted record');
  assert.deepEqual(exp('kto', k1), kStd);
  const k2 = imp('kto', kConv);
  assert.deepEqual(k2.annotations, { review: { status: 'rejected' } });
  assert.deepEqual(exp('kto', k2, { dpoStyle: 'conversational' }), kConv);
  // the curation decisions: reviewed (accepted, relabeled) is desirable, rejected is not, undecided is skipped
  const base = { prompt: 'p', response: 'r' };
  assert.equal(exp('kto', { ...base, annotations: { review: { status: 'reviewed' } } }).label, true);
  assert.equal(exp('kto', { ...base, annotations: { review: { status: 'rejected' } } }).label, false);
  assert.equal(
    exp('kto', {
      ...base,
      annotations: { human: { label: { value: 'x', status: 'discarded' } }, review: { status: 'reviewed' } },
    }).label,
    false,
  );
  const none = exportRecord({ ...base, annotations: { review: { status: 'pending' } } }, 0, { format: 'kto' });
  assert.match(none.ok ? '' : none.reason, /no accept or reject decision/);
  assert.equal(exp('kto', { ...base, kto_tag: true }).label, true, "LLaMA-Factory's kto_tag");
});

test('LLaMA-Factory: multi-turn Alpaca with history, Alpaca and ShareGPT ranking rows, as data/README.md shows them', () => {
  const [hist] = json('llama-factory/alpaca-history.json');
  const rec = imp('alpaca', hist);
  assert.deepEqual(exp('alpaca', rec), hist);
  // the history is the conversation's earlier turns: SFT sees them all
  assert.deepEqual(
    exp('sft', rec).messages.map((m: { content: string }) => m.content),
    [
      'You are an astronomy tutor.',
      'Which planet is the largest?',
      'Jupiter.',
      'How many moons does it have?',
      '95 known moons.',
      'And the second largest?',
      'Saturn.',
    ],
  );
  const [rank] = json('llama-factory/alpaca-ranking.json');
  assert.deepEqual(exp('alpaca-ranking', imp('alpaca-ranking', rank)), rank, 'instruction and input stay apart');
  assert.deepEqual(exp('dpo', imp('alpaca-ranking', rank)), {
    prompt: `${rank!.instruction}\n\n${rank!.input}`,
    chosen: rank!.chosen,
    rejected: rank!.rejected,
  });
  const [sg] = json('llama-factory/sharegpt-ranking.json');
  const sgRec = imp('sharegpt-ranking', sg);
  assert.deepEqual(exp('sharegpt-ranking', sgRec), sg);
  assert.match((exportRecord(sgRec, 0, { format: 'alpaca-ranking' }) as { reason: string }).reason, /sharegpt-ranking/);
  // the dataset_info.json entries are the ones the README gives
  const info = json('llama-factory/dataset_info.json') as unknown as Record<string, unknown>;
  assert.deepEqual(
    datasetInfoEntry('alpaca', 'alpaca-history.json', new Set(Object.keys(hist))),
    info['alpaca-history'],
  );
  assert.deepEqual(
    datasetInfoEntry('alpaca-ranking', 'alpaca-ranking.json', new Set(Object.keys(rank))),
    info['alpaca-ranking'],
  );
  assert.deepEqual(
    datasetInfoEntry('sharegpt-ranking', 'sharegpt-ranking.json', new Set(Object.keys(sg))),
    info['sharegpt-ranking'],
  );
});

test('export writes its dataset_info.json entry beside the file and keeps the other entries', async () => {
  const dir = tempDir('dc-llamafactory-');
  const file = join(dir, 'chats.jsonl');
  writeFileSync(
    file,
    `${JSON.stringify({
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    })}\n`,
  );
  writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ mine: { file_name: 'mine.json' } }));
  const out = join(dir, 'train.alpaca.jsonl');
  const r = await exportOperation.run(ExportOperationOptions.parse({ file, format: 'alpaca', out }), quietContext());
  assert.equal(r.written, 1);
  assert.deepEqual(r.files, [join(dir, 'dataset_info.json')]);
  const info = JSON.parse(readFileSync(join(dir, 'dataset_info.json'), 'utf8'));
  assert.deepEqual(info, {
    mine: { file_name: 'mine.json' },
    'train.alpaca': {
      file_name: 'train.alpaca.jsonl',
      columns: { prompt: 'instruction', query: 'input', response: 'output', system: 'system', history: 'history' },
    },
  });
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), {
    instruction: 'c',
    input: '',
    output: 'd',
    system: 's',
    history: [['a', 'b']],
  });
});

test('export and import write nothing and say why when no row can be written', async () => {
  const dir = tempDir('dc-norows-');
  const sample = join(__dirname, '..', '..', 'samples', 'reviews.jsonl');
  const out = join(dir, 'sft.jsonl');
  const r = await exportOperation.run(
    ExportOperationOptions.parse({ file: sample, format: 'sft', out }),
    quietContext(),
  );
  assert.equal(r.written, 0);
  assert.equal(r.out, undefined);
  assert.equal(r.skippedCount, 36);
  assert.deepEqual(r.reasons, [{ reason: 'no messages, instruction/output or prompt/response fields', count: 36 }]);
  assert.throws(() => readFileSync(out), /ENOENT/, 'no empty file to train on');
  const i = await importOperation.run(
    ImportOperationOptions.parse({ file: sample, format: 'dpo', out: join(dir, 'back.jsonl') }),
    quietContext(),
  );
  assert.equal(i.written, 0);
  assert.equal(i.skippedCount, 36);
  assert.equal(
    i.skipped[0]!.reason,
    'prompt: Invalid input: expected string, received undefined; chosen: Invalid input: expected string, received undefined; rejected: Invalid input: expected string, received undefined',
  );
});

test('the VS Code export offers the formats the CLI takes, and the same options', () => {
  const offered = new Set(EXPORT_FORMAT_CHOICES.map((c) => c.format as string));
  // `records` and `parquet` are one choice (the records as they are; parquet writes them to Parquet)
  assert.deepEqual([...offered, 'records'].sort(), [...EXPORT_CHOICES].sort());
  for (const c of EXPORT_FORMAT_CHOICES) assert.ok(c.label && c.detail, c.format);
  assert.deepEqual([...STYLED_FORMATS].sort(), ['dpo', 'kto', 'prompt-completion']);
  // the options both faces set are the operation's own
  for (const k of [
    'dpoStyle',
    'mapping',
    'includeAnnotations',
    'hub',
    'split',
    'datasetInfo',
    'model',
    'contextLength',
    'pricePerMillion',
    'epochs',
    'readiness',
    'argillaUsers',
    'argillaFields',
  ]) {
    assert.ok(k in ExportOperationOptions.shape, k);
  }
});
