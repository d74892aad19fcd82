// Logprob confidence (hand-computed values) and the cascade's selection, counts and costs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cascadeReport,
  estimateCascade,
  selectEscalation,
  type CascadeStage,
  type StageRecord,
} from '../../src/core/llm/batch/cascade';
import type { TokenLogprob } from '../../src/core/llm/batch/format';
import { logprobConfidence } from '../../src/core/llm/batch/logprobs';
import { tempDir } from './helpers/store';

const ln = Math.log;
const t = (token: string, p: number, top: Array<[string, number]> = []): TokenLogprob => ({
  token,
  logprob: ln(p),
  top_logprobs: top.map(([tok, q]) => ({ token: tok, logprob: ln(q) })),
});
const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

test('one-token labels: P(chosen) / (P(chosen) + the others in top_logprobs)', () => {
  // {"label":"positive","confidence":0.9}
  const tokens = [
    t('{"', 0.99),
    t('label', 0.99),
    t('":"', 0.99),
    t('positive', 0.7, [
      ['positive', 0.7],
      ['negative', 0.2],
      ['neutral', 0.05],
      ['pos', 0.01],
    ]),
    t('","', 0.98),
    t('confidence', 0.99),
    t('":', 0.99),
    t('0', 0.9),
    t('.', 0.9),
    t('9', 0.5),
    t('}', 0.99),
  ];
  const content = tokens.map((x) => x.token).join('');
  assert.equal(content, '{"label":"positive","confidence":0.9}');
  const r = logprobConfidence({
    content,
    logprobs: tokens,
    label: 'positive',
    labels: ['positive', 'negative', 'neutral'],
  });
  assert.ok(!('error' in r));
  close(r.probability, 0.7);
  close(r.alternatives.negative as number, 0.2);
  close(r.alternatives.neutral as number, 0.05);
  close(r.confidence, 0.7 / 0.95); // 0.736842...
  assert.equal(r.tokens, 1);
  assert.equal(r.normalised, true);
});

test('multi-token labels: shared first tokens, the others read where they part', () => {
  // labels "very positive", "very negative", "neutral"; the model wrote "very positive"
  const tokens = [
    t('{"label":"', 0.99),
    t('very', 0.8, [
      ['very', 0.8],
      ['neutral', 0.15],
      ['ne', 0.01],
    ]),
    t(' positive', 0.75, [
      [' positive', 0.75],
      [' negative', 0.25],
    ]),
    t('"}', 0.99),
  ];
  const content = tokens.map((x) => x.token).join('');
  const r = logprobConfidence({
    content,
    logprobs: tokens,
    label: 'very positive',
    labels: ['very positive', 'very negative', 'neutral'],
  });
  assert.ok(!('error' in r));
  close(r.probability, 0.8 * 0.75); // 0.6
  close(r.alternatives['very negative'] as number, 0.8 * 0.25); // 0.2: "very" shared, then " negative"
  close(r.alternatives.neutral as number, 0.15);
  close(r.confidence, 0.6 / (0.6 + 0.2 + 0.15)); // 0.631578...
  assert.equal(r.tokens, 2);
});

test('a token that holds the quote and the label, and a label missing from top_logprobs', () => {
  // tokenizers often merge the opening quote with the value: ':"' + 'neg' + 'ative' ...
  const tokens = [
    t('{"label":', 0.99),
    t('"neg', 0.6, [
      ['"neg', 0.6],
      ['"pos', 0.3],
    ]),
    t('ative', 0.9, [
      ['ative', 0.9],
      ['ated', 0.05],
    ]),
    t('"}', 0.99),
  ];
  const content = tokens.map((x) => x.token).join('');
  const r = logprobConfidence({
    content,
    logprobs: tokens,
    label: 'negative',
    labels: ['positive', 'negative', 'mixed'],
  });
  assert.ok(!('error' in r));
  close(r.probability, 0.6 * 0.9); // 0.54
  close(r.alternatives.positive as number, 0.3);
  assert.equal(r.alternatives.mixed, 0, 'not among the alternatives: 0');
  close(r.confidence, 0.54 / (0.54 + 0.3));
});

test('without top_logprobs or a label set: the chosen label probability, not normalised', () => {
  const tokens = [t('{"label":"', 0.99), t('yes', 0.64), t('"}', 0.99)];
  const content = tokens.map((x) => x.token).join('');
  const r = logprobConfidence({ content, logprobs: tokens, label: 'yes', labels: ['yes', 'no'] });
  assert.ok(!('error' in r));
  assert.equal(r.normalised, false);
  close(r.confidence, 0.64);
  const free = logprobConfidence({
    content,
    logprobs: [
      t('{"label":"', 0.99),
      t('yes', 0.64, [
        ['yes', 0.64],
        ['no', 0.3],
      ]),
      t('"}', 0.99),
    ],
    label: 'yes',
    labels: [],
  });
  assert.ok(!('error' in free) && !free.normalised);
});

test('answers the logprobs do not describe are refused with a reason', () => {
  const tokens = [t('{"label":"', 0.99), t('yes', 0.64), t('"}', 0.99)];
  assert.deepEqual(
    logprobConfidence({ content: '{"label":"no"}', logprobs: tokens, label: 'no', labels: ['yes', 'no'] }),
    { error: 'the logprobs do not spell the answer' },
  );
  const r = logprobConfidence({ content: '{"label":"yes"}', logprobs: tokens, label: 'no', labels: ['yes', 'no'] });
  assert.ok('error' in r && /has no "label": "no"/.test(r.error));
});

const prices = { input: 0.15, output: 0.6 };
const strong = { input: 2.5, output: 10 };
const stages: CascadeStage[] = [
  { model: 'small', prices, mode: 'batch' },
  { model: 'large', prices: strong, mode: 'batch' },
];
const usage = { input_tokens: 1_000_000, output_tokens: 100_000 };

test('selection: at or above the threshold stays, below escalates, after the last stage goes to review', () => {
  const recs: StageRecord<string>[] = [
    { key: 'a', confidence: 0.95 },
    { key: 'b', confidence: 0.8 },
    { key: 'c', confidence: 0.79 },
    { key: 'd' },
    { key: 'e', confidence: 0.99, failed: true },
    { key: 'f', confidence: Number.NaN },
  ];
  assert.deepEqual(selectEscalation(recs, 0.8, false), {
    accepted: ['a', 'b'],
    escalate: ['c', 'd', 'e', 'f'],
    review: [],
  });
  assert.deepEqual(selectEscalation(recs, 0.8, true), {
    accepted: ['a', 'b'],
    escalate: [],
    review: ['c', 'd', 'e', 'f'],
  });
  assert.throws(() => selectEscalation(recs, 1.5, false), /between 0 and 1/);
});

test('report: counts and costs per stage (batch prices), who decided each record', () => {
  const s1: StageRecord[] = [0.9, 0.5, 0.85, 0.3, 0.99].map((c, key) => ({ key, confidence: c, usage }));
  const s2: StageRecord[] = [
    { key: 1, confidence: 0.95, usage },
    { key: 3, confidence: 0.6, usage },
  ];
  const r = cascadeReport(stages, [s1, s2], 0.8);
  assert.deepEqual(
    r.stages.map(({ model, records, accepted, escalated, review, failed }) => ({
      model,
      records,
      accepted,
      escalated,
      review,
      failed,
    })),
    [
      { model: 'small', records: 5, accepted: 3, escalated: 2, review: 0, failed: 0 },
      { model: 'large', records: 2, accepted: 1, escalated: 0, review: 1, failed: 0 },
    ],
  );
  // small: 5M input x 0.15 + 0.5M output x 0.6 = 0.75 + 0.3 = 1.05 online, 0.525 in a batch
  close(r.stages[0]?.cost as number, 0.525);
  // large: 2M x 2.5 + 0.2M x 10 = 5 + 2 = 7 online, 3.5 in a batch
  close(r.stages[1]?.cost as number, 3.5);
  close(r.total.cost, 4.025);
  assert.deepEqual([...r.decidedBy.entries()].sort(), [
    [0, 0],
    [1, 1],
    [2, 0],
    [3, 'review'],
    [4, 0],
  ]);
  assert.deepEqual(r.total, { records: 5, accepted: 4, review: 1, cost: r.total.cost });
  assert.throws(
    () => cascadeReport(stages, [s1, [{ key: 2, confidence: 0.9 }]], 0.8),
    /other records than stage 1 escalated/,
  );
});

test('estimate: each stage on the share the one before escalates, against the strongest model alone', () => {
  const e = estimateCascade(stages, 1000, { input_tokens: 500, output_tokens: 50 }, [0.2]);
  assert.deepEqual(
    e.stages.map((s) => s.records),
    [1000, 200],
  );
  // small: (500k x 0.15 + 50k x 0.6) / 1e6 / 2 = (0.075 + 0.03) / 2 = 0.0525
  close(e.stages[0]?.cost as number, 0.0525);
  // large on 200: (100k x 2.5 + 10k x 10) / 1e6 / 2 = (0.25 + 0.1) / 2 = 0.175
  close(e.stages[1]?.cost as number, 0.175);
  close(e.cost, 0.2275);
  // large on all 1000: (500k x 2.5 + 50k x 10) / 1e6 / 2 = (1.25 + 0.5) / 2 = 0.875
  close(e.strongestOnly, 0.875);
});

test('input lines are the JSON of the request line; keys match the journal key format', async () => {
  const { inputLine } = await import('../../src/core/llm/batch/format');
  const { messagesKey } = await import('../../src/core/llm/batch/records');
  const { canonicalJson } = await import('../../src/core/llm/cache');
  const { createHash } = await import('node:crypto');
  const schema = {
    type: 'json_schema',
    json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true },
  };
  const body = {
    model: 'm',
    messages: [
      { role: 'system', content: 'S "quoted"\n' },
      { role: 'user', content: 'ü 🎉' },
    ],
    temperature: 0,
    response_format: schema,
    skip: undefined,
  };
  for (let i = 0; i < 2; i++)
    assert.equal(
      inputLine({ custom_id: 'c', body }),
      JSON.stringify({ custom_id: 'c', method: 'POST', url: '/v1/chat/completions', body }),
    );
  const msgs = body.messages as Array<{ role: 'system' | 'user'; content: string }>;
  assert.equal(messagesKey(msgs), `k2:${createHash('sha256').update(canonicalJson(msgs)).digest('hex').slice(0, 32)}`);
});

test('input file ids are read without parsing bodies, and match the parsed ones', async () => {
  const { readInputIds, readInputFile } = await import('../../src/core/llm/batch/format');
  const { writeInputFiles } = await import('../../src/core/llm/batch/input-files');
  const { appendFileSync } = await import('node:fs');
  const d = tempDir('dc-ids-');
  const [f] = await writeInputFiles(
    [
      { custom_id: 'dc1-abc', body: { model: 'm', messages: [] } },
      { custom_id: 'we"ird\\\\id', body: { model: 'm', messages: [] } },
    ],
    d,
    'x',
  );
  assert.ok(f);
  appendFileSync(
    f.path,
    `${JSON.stringify({ method: 'POST', custom_id: 'later-key', url: '/v1/chat/completions', body: {} })}\n`,
  );
  const fast: string[] = [];
  const parsed: string[] = [];
  readInputIds(f.path, (id) => fast.push(id));
  readInputFile(f.path, (r) => parsed.push(r.custom_id));
  assert.deepEqual(fast, parsed);
  assert.deepEqual(fast, ['dc1-abc', 'we"ird\\\\id', 'later-key']);
});

test('logprob confidence against self-consistency: label agreement, correlations, mean difference (hand-computed)', async () => {
  const { compareConfidences } = await import('../../src/core/llm/batch/logprobs');
  const pair = (l1: string, c1: number, l2: string, c2: number) => ({
    logprobs: { label: l1, confidence: c1 },
    consistency: { label: l2, confidence: c2 },
  });
  const r = compareConfidences([
    pair('a', 0.9, 'a', 0.8),
    pair('b', 0.6, 'b', 0.6),
    pair('a', 0.3, 'b', 0.4),
    pair('b', 0.5, 'b', 1.0),
  ]);
  assert.equal(r.records, 4);
  assert.equal(r.sameLabel, 0.75);
  // x = .9 .6 .3 .5, y = .8 .6 .4 1.0; means .575 and .7
  // dx = .325 .025 -.275 -.075; dy = .1 -.1 -.3 .3
  // sxy = .0325 - .0025 + .0825 - .0225 = .09; sxx = .105625+.000625+.075625+.005625 = .1875; syy = .01+.01+.09+.09 = .2
  close(r.pearson, 0.09 / Math.sqrt(0.1875 * 0.2));
  // ranks x: 4 3 1 2; ranks y: 3 2 1 4 -> dx 1.5 .5 -1.5 -.5, dy .5 -.5 -1.5 1.5: sxy = .75-.25+2.25-.75 = 2; sxx = syy = 5
  close(r.spearman, 2 / 5);
  close(r.meanAbsDiff, (0.1 + 0 + 0.1 + 0.5) / 4);
  // ties share their mean rank
  const t = compareConfidences([pair('a', 0.5, 'a', 0.2), pair('a', 0.5, 'a', 0.4), pair('a', 0.9, 'a', 0.9)]);
  // ranks x: 1.5 1.5 3; ranks y: 1 2 3 -> dx -.5 -.5 1, dy -1 0 1: sxy 1.5, sxx 1.5, syy 2
  close(t.spearman, 1.5 / Math.sqrt(1.5 * 2));
  assert.ok(Number.isNaN(compareConfidences([pair('a', 1, 'a', 1)]).pearson));
  // with a threshold: the shares below it by both, by logprobs only, by self-consistency only
  assert.equal(r.below, undefined);
  const b = compareConfidences(
    [pair('a', 0.9, 'a', 0.8), pair('b', 0.6, 'b', 0.6), pair('a', 0.3, 'b', 0.4), pair('b', 0.5, 'b', 1.0)],
    { threshold: 0.7 },
  );
  // below 0.7: x .6 .3 .5 (items 2-4); y .6 .4 (items 2-3): both 2, x only 1, y only 0
  assert.deepEqual(b.below, { threshold: 0.7, both: 0.5, logprobsOnly: 0.25, consistencyOnly: 0 });
});
