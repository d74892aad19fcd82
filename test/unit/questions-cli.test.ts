// Every question type end to end through `curate`: annotate over the real openai SDK against the
// loopback server (a deterministic responder that reads the request as a model would:
// test/support/question-responder.ts), then agreement, filter and review-queue on the results.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/main';
import { questionResponder } from '../support/question-responder';
import { readJsonl, useLoopbackServer } from './helpers/llm';

const env = useLoopbackServer('dc-questions-cli-');

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), write: () => {}, isTTY: false, signal: new AbortController().signal };
  return main(args, io).then((code) => ({ code, out, err }));
}

const TICKETS = [
  { id: 1, text: 'I want a refund, I was charged twice. Write to ana@example.com', response: 'We will send teh refund today.', stars: 'stars: 4', generations: ['Sorry.', 'We are sorry; the refund is on its way.', 'Refund sent.'] },
  { id: 2, text: 'Where is my shipping box? 😀 Call me on +44 20 7946 0958 or bo@example.org', response: 'It ships tomorrow.', stars: 'stars: 2', generations: ['It ships tomorrow, tracking follows.', 'Tomorrow.'] },
  { id: 3, text: 'The billing page shows a charge I do not know; refund it. MISQUOTE', response: 'Teh charge is a hold.', stars: 'stars: 5', generations: ['A hold.', 'It is a temporary authorization hold that disappears.', 'A hold, it goes away.'] },
];

function dataset(name = 'tickets.jsonl', rows: object[] = TICKETS): string {
  const p = join(env.dir(), name);
  writeFileSync(p, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return p;
}

function annotateArgs(input: string, out: string, ...more: string[]): string[] {
  return ['annotate', input, '--base-url', env.server().baseURL, '--model', 'gpt-test', '--out', out, '--cache-dir', join(env.dir(), 'cache'), ...more];
}

describe('curate annotate, per question type', () => {
  test('multi-label: the labels that apply, per-label confidence, a suggestion under the question; the label and the input untouched', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'topics', '--multi-label', '--labels', 'billing,refund,shipping'));
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^annotate: 3 ok, 0 failed/);
    const rows = readJsonl(out);
    assert.deepEqual(rows.map((x) => x.annotations.suggestions.topics[0].value), [['refund'], ['shipping'], ['billing', 'refund']]);
    const s = rows[0]!.annotations.suggestions.topics[0];
    assert.deepEqual(s.label_scores, { billing: 0.1, refund: 0.9, shipping: 0.1 });
    assert.equal(s.score, 0.9, 'the least sure per-label decision');
    assert.equal(s.agent, 'gpt-test');
    assert.equal(rows[0]!.label, undefined, 'no top-level label for another question');
    // the request: a json_schema whose labels are an array of the declared enum
    const body = env.server().chatRequests()[0]!.body;
    assert.equal(body.response_format?.type, 'json_schema');
    assert.deepEqual((body.response_format?.json_schema?.schema as any).properties.labels.items.enum, ['billing', 'refund', 'shipping']);
    assert.equal(readFileSync(input, 'utf8'), `${TICKETS.map((t) => JSON.stringify(t)).join('\n')}\n`);
  });

  test('rating: an integer on the scale with confidence; outside the scale is a per-record failure after one repair', async () => {
    env.server().respond = questionResponder();
    const input = dataset('r.jsonl', [...TICKETS, { id: 4, text: 'too good', stars: 'stars: 9' }]);
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'quality', '--rating', '1-5'));
    assert.equal(r.code, 1, 'a failed record: exit 1');
    assert.match(r.out, /^annotate: 3 ok, 1 failed/);
    assert.match(r.out, /line 4: invalid answer after one repair: ✖ Too big: expected number to be <=5\n\s*→ at rating/);
    const rows = readJsonl(out);
    assert.deepEqual(rows.map((x) => x.annotations?.suggestions?.quality?.[0]?.value), [4, 2, 5, undefined]);
    assert.equal(rows[0]!.annotations.suggestions.quality[0].score, 0.8);
    const schema = env.server().chatRequests()[0]!.body.response_format?.json_schema?.schema as any;
    assert.deepEqual([schema.properties.rating.minimum, schema.properties.rating.maximum], [1, 5]);
  });

  test('spans: offsets computed from the quotes in code points; a quote not in the text fails its record with the reason', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'pii', '--spans', 'EMAIL,PHONE', '--field', 'text'));
    assert.equal(r.code, 1);
    assert.match(r.out, /^annotate: 2 ok, 1 failed/);
    assert.match(r.out, /line 3: pii: span 1 \(EMAIL\) quotes "nobody@nowhere.test", which is not in "text"/);
    const rows = readJsonl(out);
    const text0 = TICKETS[0]!.text;
    assert.deepEqual(rows[0]!.annotations.suggestions.pii[0].value, [{ label: 'EMAIL', start: text0.indexOf('ana@'), end: text0.length, text: 'ana@example.com' }]);
    // record 2 has an emoji (two UTF-16 units, one code point) before its spans: offsets count code points
    const text1 = TICKETS[1]!.text;
    const spans = rows[1]!.annotations.suggestions.pii[0].value as { label: string; start: number; end: number; text: string }[];
    assert.deepEqual(spans.map((s) => [s.label, s.text]), [['PHONE', '+44 20 7946 0958'], ['EMAIL', 'bo@example.org']]);
    assert.equal(spans[0]!.start, text1.indexOf('+44') - 1);
    assert.equal([...text1].slice(spans[1]!.start, spans[1]!.end).join(''), 'bo@example.org');
    assert.equal(rows[2]!.annotations, undefined, 'the failed record is left as it was');
  });

  test('ranking: every candidate once, best first, as {value, rank}', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'best', '--rank', 'generations'));
    assert.equal(r.code, 0, r.err + r.out);
    const rows = readJsonl(out);
    assert.deepEqual(rows[0]!.annotations.suggestions.best[0].value, [
      { value: '2', rank: 1 },
      { value: '3', rank: 2 },
      { value: '1', rank: 3 },
    ]);
    assert.deepEqual(rows[1]!.annotations.suggestions.best[0].value.map((x: { value: string }) => x.value), ['1', '2']);
    const body = env.server().chatRequests()[0]!.body;
    assert.match(String(body.messages?.at(-1)?.content), /Candidates \(generations\):\n\[1\] Sorry\.\n\n\[2\] We are sorry/);
  });

  test('text: a corrected field kept beside the original, which is never changed', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'fix', '--text', '--field', 'response'));
    assert.equal(r.code, 0, r.err + r.out);
    const rows = readJsonl(out);
    assert.equal(rows[0]!.annotations.suggestions.fix[0].value, 'We will send the refund today.');
    assert.equal(rows[0]!.response, 'We will send teh refund today.');
  });

  test('a question declared in .curator/questions.json needs only --question; a contradicting flag is a usage error', async () => {
    env.server().respond = questionResponder();
    mkdirSync(join(env.dir(), '.curator'));
    writeFileSync(
      join(env.dir(), '.curator', 'questions.json'),
      JSON.stringify({ questions: [{ name: 'topics', type: 'multi-label', labels: ['billing', 'refund'], description: 'What it is about', guidelines: 'Every topic that applies.' }] }),
    );
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'topics'));
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(readJsonl(out).map((x) => x.annotations.suggestions.topics[0].value), [['refund'], [], ['billing', 'refund']]);
    const system = String(env.server().chatRequests()[0]!.body.messages?.[0]?.content);
    assert.match(system, /Question "topics": What it is about/);
    assert.match(system, /Every topic that applies\./);
    const bad = await cli(annotateArgs(input, join(env.dir(), 'x.jsonl'), '--question', 'topics', '--rating', '1-5'));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /"topics" is declared as topics \(multi-label: billing, refund\) in .*questions\.json, not as a rating question/);
    const label = await cli(annotateArgs(input, join(env.dir(), 'y.jsonl'), '--question', 'label', '--multi-label', '--labels', 'a,b'));
    assert.equal(label.code, 2);
    assert.match(label.err, /"label" is the dataset's single-label question/);
  });
});
