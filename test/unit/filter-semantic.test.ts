// Semantic duplicates through the endpoint's /embeddings: the real openai SDK over real HTTP
// against the loopback server, with planted near-synonyms (texts the server gives near-identical
// vectors). Batching, the response cache (a second run sends nothing), our retry policy, a fatal
// error, cancellation, and the CLI's flags.
import { after, before, beforeEach, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { filterLines } from '../../src/core/filter/filter';
import { linesOf } from '../../src/core/filter/source';
import { createEmbedder, embedderFor } from '../../src/core/llm/embeddings';
import { LlmClient, LlmError } from '../../src/core/llm/client';
import { ResponseCache } from '../../src/core/llm/cache';
import { quietContext } from '../../src/core/operation';
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { fileWith, root, tempDir } from './helpers/store';

let server: OpenAITestServer;
before(async () => {
  server = await startOpenAIServer({ embeddingDims: 96 });
});
after(async () => {
  await server.close();
});
beforeEach(() => server.reset());

// Three planted groups of paraphrases (different words: no exact or near-duplicate catches them) and unrelated texts.
const groups = [
  [
    'The battery lasts two whole days.',
    'Battery life is easily forty-eight hours.',
    'I charge it every other day at most.',
  ],
  ['Shipping was slow.', 'Delivery took ages to arrive.'],
  ['The screen cracked in a week.', 'Display broke after seven days.'],
];
const others = [
  'Great sound for the price.',
  'The strap feels cheap.',
  'Customer support was friendly.',
  'It fits my hand well.',
  'Too heavy for running.',
];
const texts = [
  groups[0]![0]!,
  others[0]!,
  groups[1]![0]!,
  groups[0]![1]!,
  others[1]!,
  groups[2]![0]!,
  others[2]!,
  groups[1]![1]!,
  others[3]!,
  groups[0]![2]!,
  groups[2]![1]!,
  others[4]!,
];
const records = texts.map((text, i) => ({ id: `r${i}`, text, judge: { score: i % 5 } }));
const expected = groups
  .map((g) => g.map((t) => texts.indexOf(t)).sort((a, b) => a - b))
  .sort((a, b) => (a[0] as number) - (b[0] as number));

function client(extra: Partial<ConstructorParameters<typeof LlmClient>[0]> = {}): LlmClient {
  return new LlmClient({
    baseURL: server.baseURL,
    apiKey: 'sk-test',
    model: 'test-embed',
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...extra,
  });
}

test('planted near-synonyms are found, unrelated texts are not; batches of batchSize', async () => {
  server.plantEmbeddings(groups, 0.96);
  const c = client();
  const e = createEmbedder({ client: c, model: 'test-embed', batchSize: 5 });
  try {
    const r = await filterLines(
      linesOf(records),
      { dedup: 'semantic', semantic: { threshold: 0.92, batchSize: 5 }, action: 'tag', tag: 'dup' },
      quietContext(),
      { embed: e.embed },
    );
    assert.deepEqual(
      r.dedup?.clusters.map((k) => k.members),
      expected,
    );
    for (const k of r.dedup.clusters) {
      assert.equal(k.kind, 'semantic');
      assert.ok(k.similarity >= 0.92 && k.similarity < 1, `similarity ${k.similarity}`);
    }
    // keep: 'first': every member but the first of each cluster is tagged
    assert.deepEqual(
      r.edits?.map((x) => x.index).sort((a, b) => a - b),
      expected.flatMap((g) => g.slice(1)).sort((a, b) => a - b),
    );
    // 12 texts in batches of 5: 3 requests, each with the model and at most 5 inputs
    const reqs = server.requests.filter((q) => q.path === '/v1/embeddings');
    assert.equal(reqs.length, 3);
    for (const q of reqs) {
      const b = q.body as { model: string; input: string[] };
      assert.equal(b.model, 'test-embed');
      assert.ok(b.input.length <= 5);
    }
  } finally {
    c.close();
  }
});

test('the response cache, keyed by model and text: a second run sends nothing and finds the same clusters', async () => {
  server.plantEmbeddings(groups, 0.96);
  const dir = tempDir('dc-embed-cache-');
  const run = async (model: string) => {
    const e = embedderFor({ baseURL: server.baseURL, apiKey: 'sk-test', model, cacheDir: dir, batchSize: 4 });
    try {
      const r = await filterLines(
        linesOf(records),
        { dedup: 'semantic', semantic: { threshold: 0.92 } },
        quietContext(),
        { embed: e.embed },
      );
      return { clusters: r.dedup?.clusters.map((k) => [k.members, k.similarity]), counts: { ...e.counts } };
    } finally {
      e.close();
    }
  };
  const first = await run('test-embed');
  assert.equal(first.counts.sent, texts.length);
  assert.equal(server.counts.embeddings, 3);
  const second = await run('test-embed');
  assert.deepEqual(second.clusters, first.clusters, 'the same clusters, to the last digit');
  assert.deepEqual(second.counts, { cached: texts.length, sent: 0, requests: 0 });
  assert.equal(server.counts.embeddings, 3, 'nothing sent');
  // Another model is another key.
  await run('other-embed');
  assert.equal(server.counts.embeddings, 6);
  // Nothing secret in the cache.
  const cache = new ResponseCache(dir);
  cache.close();
  for (const f of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f']) {
    try {
      assert.ok(!readFileSync(join(dir, `shard-${f}.jsonl`), 'utf8').includes('sk-test'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
});

test('our retry policy: a 500 and a 429 with retry-after are retried; a 401 is fatal; the same texts in one request go once', async () => {
  server.addFault({ kind: 'status', status: 500 }, { path: '/v1/embeddings' });
  server.addFault({ kind: 'rate-limit', retryAfterMs: 30 }, { path: '/v1/embeddings' });
  const logs: string[] = [];
  const c = client({ log: (l) => logs.push(l) });
  try {
    const e = createEmbedder({ client: c, model: 'test-embed' });
    const v = await e.embed(['a', 'b', 'a']);
    assert.equal(v.length, 3);
    assert.deepEqual(v[0], v[2]);
    assert.equal(server.counts.embeddings, 3, 'two failures, then the answer');
    assert.deepEqual((server.requests.at(-1)?.body as { input: string[] }).input, ['a', 'b']);
    assert.equal(c.stats.retries, 2);
    assert.ok(logs.some((l) => /embeddings test-embed: HTTP 500/.test(l)));
    server.requireKey = 'sk-other';
    await assert.rejects(
      e.embed(['c']),
      (err: unknown) => err instanceof LlmError && err.kind === 'fatal' && err.status === 401,
    );
  } finally {
    c.close();
  }
});

test('cancel stops a semantic search mid-way', async () => {
  server.latencyMs = 200;
  const c = client();
  try {
    const ac = new AbortController();
    const e = createEmbedder({ client: c, model: 'test-embed', batchSize: 2 });
    const running = filterLines(
      linesOf(records),
      { dedup: 'semantic', semantic: { batchSize: 2, concurrency: 1 } },
      quietContext(ac.signal),
      { embed: e.embed },
    );
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(running, (err: unknown) => err instanceof Error && err.name === 'AbortError');
    assert.ok(server.counts.embeddings < 6, `stopped early (${server.counts.embeddings} of 6 requests)`);
  } finally {
    server.latencyMs = 0;
    c.close();
  }
});

test('curate filter --dedup semantic: flags, the endpoint, the cache, the kept file', async () => {
  server.plantEmbeddings(groups, 0.96);
  const dir = tempDir('dc-sem-cli-');
  const file = fileWith(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`, 'data.jsonl', dir);
  const out = join(dir, 'kept.jsonl');
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'filter', file, ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-test' },
    });
  const args = [
    '--dedup',
    'semantic',
    '--embedding-model',
    'test-embed',
    '--semantic-threshold',
    '0.92',
    '--base-url',
    server.baseURL,
    '--embedding-batch',
    '8',
  ];
  const r = await run([...args, '--out', out, '--json']);
  const report = JSON.parse(r.stdout) as { dedup: { clusters: { members: number[] }[] }; written: number };
  assert.deepEqual(
    report.dedup.clusters.map((k) => k.members),
    expected,
  );
  const dropped = new Set(expected.flatMap((g) => g.slice(1)));
  assert.deepEqual(
    readFileSync(out, 'utf8').trim().split('\n'),
    records.filter((_, i) => !dropped.has(i)).map((x) => JSON.stringify(x)),
  );
  assert.match(r.stderr, /embeddings: 2 request\(s\) for 12 text\(s\), 0 from the cache/);
  const again = await run([...args, '--dry-run']);
  assert.match(again.stderr, /embeddings: 0 request\(s\) for 0 text\(s\), 12 from the cache/);
  assert.match(again.stdout, /3 duplicate cluster\(s\) \(semantic\)/);
  // A missing model is a usage error (exit 2) that says what to pass.
  await assert.rejects(
    run(['--dedup', 'semantic', '--base-url', server.baseURL]),
    (err: { code?: number; stderr?: string }) => err.code === 2 && /--embedding-model/.test(err.stderr ?? ''),
  );
});
