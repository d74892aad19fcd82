// `curate label FILE --cascade small,large --escalate-below 0.8` (src/cli/main.ts under tsx) against
// the loopback server: the small model labels every record, the large one only those the small one
// was unsure of, and what the large one is unsure of goes to the review queue; counts and cost per
// stage; online and with --batch; run again, nothing is asked twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-cli-cascade-');

function curate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-cascade' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/** small is sure of the even items; large of items 1, 5 (i % 4 == 1); item 1 already has a label. */
function setup(): string {
  const file = join(dir(), 'data.jsonl');
  writeFileSync(
    file,
    `${Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: i, text: `item ${i}`, ...(i === 1 ? { label: 'keepme' } : {}) })).join('\n')}\n`,
  );
  server().respond = (req) => {
    const body = req.body as ChatBody;
    const i = Number(/item (\d+)/.exec(lastUserText(body))?.[1]);
    const small = body.model === 'small';
    const confidence = small ? (i % 2 === 0 ? 0.95 : 0.4) : i % 4 === 1 ? 0.9 : 0.5;
    return {
      content: JSON.stringify({
        label: small ? 'good' : 'bad',
        confidence,
        rationale: `${String(body.model)} on ${i}`,
      }),
    };
  };
  return file;
}

const args = (file: string, ...more: string[]): string[] => [
  'label',
  file,
  '--labels',
  'good,bad',
  '--base-url',
  server().baseURL,
  '--cascade',
  'small,large',
  '--escalate-below',
  '0.8',
  '--price-in',
  '1',
  '--price-out',
  '4',
  '--in-place',
  '--cache-dir',
  join(dir(), 'cache'),
  '--yes',
  ...more,
];

type Rec = {
  id: number;
  label?: string;
  annotations: {
    suggestions: { label: Array<{ agent: string; score: number }> };
    review?: { status: string; queue?: string };
  };
};

function check(file: string): void {
  const recs = readJsonl(file) as Rec[];
  for (const r of recs) {
    const agents = r.annotations.suggestions.label.map((s) => s.agent);
    if (r.id % 2 === 0) {
      assert.deepEqual(agents, ['small'], `item ${r.id}: the small model was sure`);
      assert.equal(r.label, 'good');
      assert.notEqual(r.annotations.review?.queue, 'low-confidence');
    } else {
      assert.deepEqual(agents, ['small', 'large'], `item ${r.id}: escalated to the large model`);
      // the large model's label takes the small one's place, never a label the record had
      assert.equal(r.label, r.id === 1 ? 'keepme' : 'bad');
      const review = r.id % 4 === 3;
      assert.equal(r.annotations.review?.queue === 'low-confidence', review, `item ${r.id}: review ${review}`);
      if (review) assert.equal(r.annotations.review?.status, 'pending');
    }
  }
}

test('--cascade small,large online: the large model only where the small one is unsure, then the review queue', async () => {
  const file = setup();
  const r = await curate(args(file));
  assert.equal(r.code, 0, r.err);
  const chat = server().chatRequests();
  assert.equal(chat.filter((c) => c.body.model === 'small').length, 8);
  assert.equal(chat.filter((c) => c.body.model === 'large').length, 4, 'only the 4 the small model was unsure of');
  check(file);
  assert.match(r.out, /^label: 8 ok, 0 failed/m);
  assert.match(
    r.out,
    /stage 1 small: 8 record\(s\), 4 accepted \(confidence >= 0\.8\), 4 escalated, 0 failed; \d+ \+ \d+ tokens, \$0\.\d{4}/,
  );
  assert.match(r.out, /stage 2 large: 4 record\(s\), 2 accepted \(confidence >= 0\.8\), 2 to review, 0 failed/);
  assert.match(
    r.out,
    /cascade: 6 record\(s\) labeled by a model, 2 sent to the review queue "low-confidence"; \$0\.\d+ \(the strongest model alone: about \$0\.\d+\)/,
  );
  // run again: every answer from the response cache, nothing is asked again; the same split
  const before = server().counts.chat;
  const again = await curate(args(file, '--json'));
  assert.equal(again.code, 0, again.err);
  assert.equal(server().counts.chat, before);
  const json = JSON.parse(again.out) as {
    cascade: { stages: Array<{ records: number; accepted: number }>; review: number };
  };
  assert.deepEqual(
    json.cascade.stages.map((s) => [s.records, s.accepted]),
    [
      [8, 4],
      [4, 2],
    ],
  );
  assert.equal(json.cascade.review, 2);
  check(file);
});

test('--cascade with --batch: each stage one batch, at batch prices', async () => {
  const file = setup();
  const r = await curate(args(file, '--batch'));
  assert.equal(r.code, 0, r.err);
  assert.equal(server().counts.chat, 0, 'no online request');
  assert.deepEqual(
    server()
      .batches.list()
      .map((b) => b.request_counts.total),
    [8, 4],
  );
  check(file);
  assert.match(r.out, /stage 1 small \(batch\): 8 record\(s\), 4 accepted/);
  assert.match(r.out, /stage 2 large \(batch\): 4 record\(s\), 2 accepted .*2 to review/);
  // run again: each stage's batch is done; the confidences are read back from the records
  const again = await curate(args(file, '--batch'));
  assert.equal(again.code, 0, again.err);
  assert.equal(server().batches.list().length, 2, 'no new batch');
  assert.match(again.out, /stage 1 small \(batch\): 8 record\(s\), 4 accepted .*4 escalated/);
  assert.match(again.out, /stage 2 large \(batch\): 4 record\(s\), 2 accepted .*2 to review/);
  check(file);
});

test('--cascade needs two models; --escalate-below goes with it', async () => {
  const file = setup();
  assert.equal(
    (await curate(['label', file, '--labels', 'a,b', '--base-url', server().baseURL, '--cascade', 'one', '--in-place']))
      .code,
    2,
  );
  const e = await curate([
    'label',
    file,
    '--labels',
    'a,b',
    '--base-url',
    server().baseURL,
    '--model',
    'm',
    '--escalate-below',
    '0.5',
    '--in-place',
  ]);
  assert.equal(e.code, 2);
  assert.match(e.err, /--escalate-below goes with --cascade/);
});
