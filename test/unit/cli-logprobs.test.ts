// `curate label --confidence logprobs` online (src/cli/main.ts under tsx) against the loopback
// server, whose chat completions carry deterministic logprobs: the requests ask for logprobs and
// top_logprobs, the confidence is the label's probability normalised over the label set
// (logprobs.ts), provenance says which measure (the model's own stated confidence kept beside it);
// an endpoint without logprobs keeps the stated confidence and says so; a cached answer keeps its
// logprobs; the batch path measures the same.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ChatBody } from '../support/openai-server';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-cli-logprobs-');

function curate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-logprobs' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

function dataset(name = 'data.jsonl', n = 5): string {
  const p = join(dir(), name);
  writeFileSync(p, `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `text ${i}` })).join('\n')}\n`);
  return p;
}

const args = (file: string, ...more: string[]): string[] => [
  'label',
  file,
  '--labels',
  'good,bad,meh',
  '--base-url',
  server().baseURL,
  '--model',
  'm',
  '--confidence',
  'logprobs',
  '--in-place',
  '--yes',
  ...more,
];

interface Suggestion {
  score: number;
  provenance: { confidence?: string; verbal_confidence?: number; label_probability?: number; confidence_note?: string };
}
const suggestions = (file: string): Suggestion[] =>
  (readJsonl(file) as Array<{ annotations: { suggestions: { label: Suggestion[] } } }>).map(
    (r) => r.annotations.suggestions.label[0] as Suggestion,
  );

test('--confidence logprobs online: asked for, measured over the label set, said in provenance', async () => {
  const file = dataset();
  const r = await curate(args(file, '--no-cache'));
  assert.equal(r.code, 0, r.err);
  const chat = server().chatRequests();
  assert.equal(chat.length, 5);
  assert.ok(
    chat.every(
      (c) =>
        (c.body as ChatBody & { top_logprobs?: number }).logprobs === true &&
        (c.body as { top_logprobs?: number }).top_logprobs === 5,
    ),
  );
  const online = suggestions(file);
  for (const s of online) {
    assert.equal(s.provenance.confidence, 'logprobs');
    assert.equal(typeof s.provenance.verbal_confidence, 'number', "the model's stated confidence is kept");
    assert.ok(s.score > 0 && s.score <= 1);
    assert.ok((s.provenance.label_probability ?? 0) > 0);
    assert.equal(s.provenance.confidence_note, undefined, 'normalised over the label set');
  }
  assert.ok(
    online.some((s) => s.score !== s.provenance.verbal_confidence),
    'a measure of its own',
  );

  // the same records as a batch: the same measure
  const copy = dataset('copy.jsonl');
  const b = await curate(args(copy, '--batch'));
  assert.equal(b.code, 0, b.err);
  const batch = suggestions(copy);
  assert.ok(batch.every((s) => s.provenance.confidence === 'logprobs'));
  assert.deepEqual(
    batch.map((s) => s.score),
    online.map((s) => s.score),
  );
});

test('an answer from the cache keeps its logprobs; an endpoint without logprobs keeps the stated confidence', async () => {
  const cache = join(dir(), 'cache');
  const a = dataset('a.jsonl', 3);
  const b = join(dir(), 'b.jsonl');
  copyFileSync(a, b);
  assert.equal((await curate(args(a, '--cache-dir', cache))).code, 0);
  const asked = server().counts.chat;
  const r = await curate(args(b, '--cache-dir', cache));
  assert.equal(r.code, 0, r.err);
  assert.equal(server().counts.chat, asked, 'all from the cache');
  assert.deepEqual(
    suggestions(b).map((s) => [s.provenance.confidence, s.score]),
    suggestions(a).map((s) => [s.provenance.confidence, s.score]),
  );

  // a server that gives no logprobs
  server().respond = (req) => ({
    status: 200,
    body: {
      id: 'x',
      object: 'chat.completion',
      created: 0,
      model: (req.body as ChatBody).model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: JSON.stringify({ label: 'good', confidence: 0.7, rationale: 'r' }) },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  });
  const c = dataset('c.jsonl', 2);
  const rc = await curate(args(c, '--no-cache'));
  assert.equal(rc.code, 0, rc.err);
  for (const s of suggestions(c)) {
    assert.equal(s.provenance.confidence, 'verbal');
    assert.equal(s.provenance.confidence_note, 'the endpoint gave no logprobs');
    assert.equal(s.score, 0.7);
  }
  assert.equal((await curate([...args(c), '--confidence', 'bogus'])).code, 2);
});
