// Each task end to end over real HTTP: the request the server saw, the result in the annotation
// layout, the cache (a re-run sends zero requests), prompt overrides and estimates.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { quietContext } from '../../src/core/operation';
import { applyResult, type TaskResult } from '../../src/core/llm/apply-result';
import { cacheKey, canonicalJson, ResponseCache } from '../../src/core/llm/cache';
import {
  findPromptsDir,
  parseOverride,
  promptHash,
  PromptOverrideError,
  renderMessages,
  renderTemplate,
  templateFile,
} from '../../src/core/llm/prompts';
import { llmOperations, LabelOptions, JudgeOptions } from '../../src/core/llm/tasks';
import { judgeTemplate, labelTemplate } from '../../src/core/llm/templates';
import { contentText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { tempDir } from './helpers/store';

let server: OpenAITestServer;
let dir: string;
const KEY = 'sk-live-DO-NOT-STORE-42';
const ops = llmOperations({ apiKey: () => KEY });

before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  dir = tempDir('dc-llm-tasks-');
});

function dataset(n: number, extra: (i: number) => Record<string, unknown> = () => ({})): string {
  const p = join(dir, 'data.jsonl');
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `review number ${i}`, ...extra(i) }));
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}
const readOut = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
function assertNoKey(root: string): void {
  for (const f of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (f.isFile())
      assert.ok(!readFileSync(join(f.parentPath, f.name), 'utf8').includes(KEY), `key leaked into ${f.name}`);
  }
}

test('label (few-shot): request body, results, layout; a re-run with the cache sends zero requests', async () => {
  const input = dataset(6);
  const opts = LabelOptions.parse({
    input,
    baseURL: server.baseURL,
    model: 'gpt-test',
    labels: ['positive', 'negative'],
    examples: [{ record: { text: 'awful' }, label: 'negative', rationale: 'bad' }],
    concurrency: 3,
  });
  const s = await ops.label.run(opts, quietContext());
  assert.equal(s.ok, 6);
  assert.equal(s.failed.length, 0);
  assert.equal(server.counts.chat, 6);
  const req = server.chatRequests()[0]!.body;
  assert.equal(req.model, 'gpt-test');
  assert.equal(req.temperature, 0);
  assert.equal(req.max_tokens, 512);
  assert.equal(req.messages?.[0]?.role, 'system');
  assert.match(contentText(req.messages[0].content), /positive, negative/);
  assert.equal(req.messages[1]?.role, 'user'); // few-shot turn
  assert.equal(req.messages[2]?.role, 'assistant');
  assert.match(contentText(req.messages.at(-1)?.content), /review number/); // the record last
  const schema = req.response_format?.json_schema?.schema as { properties: Record<string, { enum?: string[] }> };
  assert.deepEqual(schema.properties.label?.enum, ['positive', 'negative']);
  const out = readOut(join(dir, 'data.label.jsonl'));
  assert.equal(out.length, 6);
  for (const r of out) {
    assert.ok(['positive', 'negative'].includes(r.label));
    const sug = r.annotations.suggestions.label;
    assert.equal(sug.length, 1);
    assert.equal(sug[0].type, 'model');
    assert.equal(sug[0].agent, 'gpt-test');
    assert.equal(sug[0].value, r.label);
    assert.match(sug[0].provenance.prompt_hash, /^sha256:/);
    assert.ok(sug[0].provenance.usage.input_tokens > 0);
  }
  assert.ok(s.tokens.input_tokens > 0);
  // re-run: free
  server.reset();
  const s2 = await ops.label.run(opts, quietContext());
  assert.equal(server.counts.chat, 0);
  assert.equal(s2.cached, 6);
  assert.deepEqual(
    readOut(join(dir, 'data.label.jsonl')).map((r) => r.label),
    out.map((r) => r.label),
  );
  assertNoKey(dir);
});

test('judge: rubric, scale and criteria in the schema; judge block in the record', async () => {
  const input = dataset(3);
  const opts = JudgeOptions.parse({
    input,
    baseURL: server.baseURL,
    model: 'judge-m',
    rubric: 'Is it polite?',
    scaleMin: 1,
    scaleMax: 5,
    criteria: ['politeness', 'clarity'],
    noCache: true,
    temperature: 0.2,
  });
  const s = await ops.judge.run(opts, quietContext());
  assert.equal(s.ok, 3);
  const body = server.chatRequests()[0]!.body;
  assert.equal(body.temperature, 0.2);
  assert.match(contentText(body.messages?.[0]?.content), /Is it polite\?[\s\S]*from 1 \(worst\) to 5/);
  const schema = body.response_format?.json_schema?.schema as {
    properties: { criteria: { properties: Record<string, unknown> }; score: { maximum: number } };
  };
  assert.deepEqual(Object.keys(schema.properties.criteria.properties), ['politeness', 'clarity']);
  assert.equal(schema.properties.score.maximum, 5);
  for (const r of readOut(join(dir, 'data.judge.jsonl'))) {
    assert.ok(r.judge.score >= 1 && r.judge.score <= 5);
    assert.deepEqual(r.judge.scale, [1, 5]);
    assert.equal(typeof r.judge.reasons, 'string');
    assert.deepEqual(Object.keys(r.judge.criteria), ['politeness', 'clarity']);
    assert.equal(r.judge.model, 'judge-m');
  }
});

test('rationale, critique and consistency', async () => {
  const input = dataset(4, (i) => (i === 3 ? {} : { label: 'positive', response: `answer ${i}` }));
  const r1 = await ops.rationale.run(
    ops.rationale.options.parse({ input, baseURL: server.baseURL, model: 'm', noCache: true }),
    quietContext(),
  );
  assert.equal(r1.ok, 3);
  assert.equal(r1.failed.length, 1);
  assert.match(r1.failed[0]!.reason, /no "label"/);
  assert.match(contentText(server.chatRequests()[0]!.body.messages?.at(-1)?.content), /^Label: positive/);
  const ro = readOut(join(dir, 'data.rationale.jsonl'));
  assert.equal(typeof ro[0]!.rationale, 'string');

  server.reset();
  const r2 = await ops.critique.run(
    ops.critique.options.parse({ input, baseURL: server.baseURL, model: 'm', noCache: true }),
    quietContext(),
  );
  assert.equal(r2.ok, 3);
  const co = readOut(join(dir, 'data.critique.jsonl'));
  // the refined response is a suggestion for the "response" question, beside the original (untouched)
  const sug = co[0]!.annotations.suggestions.response[0];
  assert.equal(co[0]!.response, 'answer 0');
  assert.equal(typeof sug.value, 'string');
  assert.equal(typeof sug.rationale, 'string');
  assert.equal(sug.provenance.task, 'critique');
  assert.equal(sug.agent, 'm');

  server.reset();
  const copts = ops.consistency.options.parse({
    input,
    baseURL: server.baseURL,
    model: 'm',
    labels: ['a', 'b', 'c'],
    k: 4,
    cacheDir: join(dir, 'cache'),
  });
  const r3 = await ops.consistency.run(copts, quietContext());
  assert.equal(r3.ok, 4);
  assert.equal(server.counts.chat, 16);
  const temps = new Set(server.chatRequests().map((r) => r.body.temperature));
  assert.deepEqual([...temps], [0.7]);
  const seeds = server
    .chatRequests()
    .filter((r) => contentText(r.body.messages?.at(-1)?.content).includes('review number 0'))
    .map((r) => r.body.seed)
    .sort();
  assert.deepEqual(seeds, [0, 1, 2, 3]);
  const cons = readOut(join(dir, 'data.consistency.jsonl'));
  // one suggestion: the majority, the agreement as its score, the k samples inside
  const votes = cons[0]!.annotations.suggestions.label;
  assert.equal(votes.length, 1);
  const vote = votes[0];
  assert.equal(vote.provenance.task, 'consistency');
  assert.deepEqual(
    vote.samples.map((s: { provenance: { sample: number } }) => s.provenance.sample).sort(),
    [0, 1, 2, 3],
  );
  const counts = new Map<string, number>();
  for (const x of vote.samples) counts.set(x.value, (counts.get(x.value) ?? 0) + 1);
  const top = Math.max(...counts.values());
  assert.equal(counts.get(vote.value), top);
  assert.equal(vote.score, top / 4);
  assert.equal(vote.rationale, `${top} of 4 samples agree`);
  // the record's own label (from the source data) stays: the majority is a suggestion beside it
  assert.equal(cons[0]!.label, 'positive');
  // a record without a label gets the majority as its label
  assert.equal(cons[3]!.label, cons[3]!.annotations.suggestions.label[0].value);
  // cached per sample: a re-run is free, k=5 asks only for the new sample
  server.reset();
  await ops.consistency.run(copts, quietContext());
  assert.equal(server.counts.chat, 0);
  await ops.consistency.run({ ...copts, k: 5 }, quietContext());
  assert.equal(server.counts.chat, 4);
});

test('estimate: requests, tokens (chars/4) and cost', async () => {
  const input = dataset(10);
  const e = await ops.label.estimate!(
    LabelOptions.parse({
      input,
      baseURL: server.baseURL,
      model: 'm',
      labels: ['x', 'y'],
      pricePerMillionInputTokens: 1,
      pricePerMillionOutputTokens: 2,
    }),
    quietContext(),
  );
  assert.equal(e.records, 10);
  assert.equal(e.requests, 10);
  assert.ok(e.inputTokens > 10 * 50);
  assert.equal(e.outputTokens, 600);
  assert.ok(Math.abs((e.cost ?? 0) - (e.inputTokens + 2 * e.outputTokens) / 1e6) < 1e-12);
  assert.equal(server.counts.total, 0);
});

test('workspace prompt overrides are loaded, validated and change the prompt hash', async () => {
  const input = dataset(2);
  const pdir = join(dir, '.curator', 'prompts');
  mkdirSync(pdir, { recursive: true });
  writeFileSync(
    join(pdir, 'label.md'),
    '---\nversion: 7\n---\n# system\nPick one of {{labels}}. Be brief.\n# user\nText: {{text}}\n',
  );
  const base = LabelOptions.parse({ input, baseURL: server.baseURL, model: 'm', labels: ['x', 'y'], noCache: true });
  const s1 = await ops.label.run(base, quietContext());
  const s2 = await ops.label.run({ ...base, promptsDir: pdir }, quietContext());
  assert.notEqual(s1.jobId, s2.jobId);
  const last = server.chatRequests().at(-1)!.body;
  assert.equal(last.messages?.[0]?.content, 'Pick one of x, y. Be brief.');
  assert.match(contentText(last.messages[1]?.content), /^Text: review number \d$/);
  const out = readOut(join(dir, 'data.label.jsonl'));
  assert.notEqual(out[0]!.annotations.suggestions.label[0].provenance.prompt_hash, undefined);
  assert.throws(
    () => parseOverride('# system\nUse {{secret}}\n# user\n{{record}}', labelTemplate),
    PromptOverrideError,
  );
  assert.throws(() => parseOverride('# system\nhello\n', labelTemplate), /user/);
  assert.equal(renderTemplate('a {{ x.y }} b {{n}} {{missing}}!', { x: { y: 'Y' }, n: 3 }), 'a Y b 3 !');
});

test("a record's placeholders: {{record}} is its input fields as JSON, then the task's names, then the record's own fields", () => {
  const template = {
    ...labelTemplate,
    user: '{{record}} | {{text}} | {{labels}} | {{meta.lang}} | {{__proto__.x}} | {{constructor}}{{toString}}{{missing.a}}',
  };
  const record = JSON.parse(
    '{"text":"great","labels":"from the record","record":"shadowed","meta":{"lang":"en"},"__proto__":{"x":7},"label":"pos"}',
  ) as Record<string, unknown>;
  const [system, user] = renderMessages(template, 'S', record, { extra: { labels: 'a, b' } });
  assert.deepEqual(system, { role: 'system', content: 'S' });
  assert.equal(
    user?.content,
    '{"text":"great","labels":"from the record","record":"shadowed","meta":{"lang":"en"},"__proto__":{"x":7}} | great | a, b | en | 7 | ',
  );
  // only the input fields asked for
  const [, only] = renderMessages({ ...labelTemplate, user: 'R: {{record}}' }, 'S', record, { inputFields: ['text'] });
  assert.equal(only?.content, 'R: {"text":"great"}');
});

test('the prompts folder is found above the dataset; "Open Prompt Template" copies are the built-in prompt until edited', async () => {
  const nested = join(dir, 'data', 'train');
  mkdirSync(nested, { recursive: true });
  const input = join(nested, 'data.jsonl');
  writeFileSync(input, `${JSON.stringify({ text: 'review number 1' })}\n`);
  assert.equal(findPromptsDir(input), undefined);
  const pdir = join(dir, '.curator', 'prompts');
  mkdirSync(pdir, { recursive: true });
  assert.equal(findPromptsDir(input), pdir);
  // A verbatim copy parses back to the same template: same prompt hash, so the same cache and job.
  for (const t of [labelTemplate, judgeTemplate]) {
    const back = parseOverride(templateFile(t), t);
    assert.equal(back.system, t.system);
    assert.equal(back.user, t.user);
    assert.equal(promptHash(back, back.system), promptHash(t, t.system));
  }
  const base = LabelOptions.parse({
    input,
    baseURL: server.baseURL,
    model: 'm',
    labels: ['x', 'y'],
    cacheDir: join(dir, 'cache'),
  });
  await ops.label.run(base, quietContext());
  writeFileSync(join(pdir, 'label.md'), templateFile(labelTemplate));
  server.reset();
  await ops.label.run(base, quietContext());
  assert.equal(server.counts.chat, 0, 'the unedited copy is the built-in prompt: answered from the cache');
  // An edit is used by every job below the folder, without a flag.
  writeFileSync(
    join(pdir, 'label.md'),
    templateFile(labelTemplate).replace('Choose exactly one label', 'Be terse. Choose exactly one label'),
  );
  const logs: string[] = [];
  await ops.label.run(base, { ...quietContext(), log: (l) => logs.push(l) });
  assert.equal(server.counts.chat, 1);
  assert.match(
    contentText(server.chatRequests()[0]!.body.messages?.[0]?.content),
    /^You are a careful data annotator[\s\S]*Be terse\. Choose exactly one label/,
  );
  assert.ok(
    logs.some((l) => l.includes(join(pdir, 'label.md'))),
    logs.join('\n'),
  );
});

test('cache: canonical key, every parameter matters, torn last line ignored', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { f: 2, e: undefined }], c: null } }),
    '{"a":{"c":null,"d":[1,{"f":2}]},"b":1}',
  );
  const base = {
    baseURL: 'http://x/v1',
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    params: { temperature: 0 },
    schema: { type: 'object' },
    template: { id: 'label', version: '1' },
    sample: 0,
  };
  const k = cacheKey(base);
  assert.equal(cacheKey({ ...base, params: { temperature: 0 } }), k);
  for (const v of [
    { model: 'n' },
    { baseURL: 'http://y/v1' },
    { params: { temperature: 0.1 } },
    { params: { temperature: 0, seed: 1 } },
    { schema: {} },
    { template: { id: 'label', version: '2' } },
    { sample: 1 },
    { messages: [] },
  ]) {
    assert.notEqual(cacheKey({ ...base, ...v }), k, JSON.stringify(v));
  }
  const cdir = join(dir, 'c');
  const c = new ResponseCache(cdir);
  c.put(k, { content: '{"a":1}', usage: { input_tokens: 1, output_tokens: 2 } });
  c.close();
  const shard = join(cdir, `shard-${k[0]}.jsonl`);
  writeFileSync(shard, readFileSync(shard, 'utf8') + '{"k":"' + 'f'.repeat(64) + '","t":"x","v":{"cont'); // torn
  const c2 = new ResponseCache(cdir);
  assert.equal(c2.get(k)?.content, '{"a":1}');
  assert.equal(c2.get('f'.repeat(64)), undefined);
  const k2 = cacheKey({ ...base, sample: 9 });
  c2.put(k2, { content: 'two', usage: { input_tokens: 0, output_tokens: 0 } });
  c2.close();
  const c3 = new ResponseCache(cdir);
  assert.equal(c3.get(k2)?.content, 'two');
  assert.equal(c3.get(k)?.content, '{"a":1}');
  c3.close();
});

test('applyResult is idempotent and respects human decisions', () => {
  const r: TaskResult = {
    task: 'label',
    question: 'label',
    value: 'pos',
    confidence: 0.9,
    rationale: 'why',
    provenance: { model: 'm', prompt_hash: 'sha256:1', time: 't', usage: { input_tokens: 1, output_tokens: 1 } },
  };
  const once = applyResult({ text: 'x' }, r);
  assert.deepEqual(applyResult(once, r), once);
  const human = applyResult({ text: 'x', label: 'neg', annotations: { human: { label: { value: 'neg' } } } }, r);
  assert.equal(human.label, 'neg');
  assert.equal(
    (human.annotations as { suggestions: { label: { value: unknown }[] } }).suggestions.label[0]!.value,
    'pos',
  );
});
