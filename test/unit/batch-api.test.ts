// The Batch API end to end over real HTTP: the real `openai` SDK (through the core's
// BatchApiClient and runBatch) against the loopback server's /v1/files and /v1/batches. Answers are
// the server's own (the same as an online request with the same body gets).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { BatchApiClient } from '../../src/core/llm/batch/api';
import {
  chatAnswer,
  forEachLine,
  parseOutputLine,
  type BatchOutcome,
  type BatchRequest,
} from '../../src/core/llm/batch/format';
import { writeInputFiles } from '../../src/core/llm/batch/input-files';
import { readBatchJournal } from '../../src/core/llm/batch/journal';
import {
  batchFilesDir,
  batchJobStatus,
  cancelBatchJob,
  listBatchJobs,
  runBatch,
  type OutcomeContext,
} from '../../src/core/llm/batch/run';
import { asBatchEstimate, BATCH_PRICE_FACTOR, costOf } from '../../src/core/llm/batch/prices';
import { useLoopbackServer } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-api-');
const KEY = 'sk-batch-SECRET-0123456789';
const FAST = { initialMs: 5, maxMs: 20, factor: 1.5 };

function requests(n: number, model = 'm'): BatchRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    custom_id: `req-${i}`,
    body: { model, messages: [{ role: 'user', content: `record number ${i}` }], max_tokens: 20 },
  }));
}

function api(): BatchApiClient {
  return new BatchApiClient({ baseURL: server().baseURL, apiKey: KEY, maxRetries: 2 });
}

async function collect(opts: Partial<Parameters<typeof runBatch>[0]> & { reqs: BatchRequest[]; job?: string }) {
  const outcomes: Array<{ o: BatchOutcome; ctx: OutcomeContext }> = [];
  const { reqs, job, ...rest } = opts;
  const summary = await runBatch({
    api: api(),
    journalPath: join(dir(), `${job ?? 'job1'}.batch.jsonl`),
    job: job ?? 'job1',
    model: 'm',
    requests: () => reqs,
    onOutcome: (o, ctx) => void outcomes.push({ o, ctx }),
    poll: FAST,
    ...rest,
  });
  return { summary, outcomes };
}

test('the real SDK uploads a file, creates a batch, polls it through its phases and downloads the output', async () => {
  const s = server();
  s.batches.timing = { validatingMs: 30, inProgressMs: 60, finalizingMs: 30, cancellingMs: 0 };
  const sdk = new OpenAI({ baseURL: s.baseURL, apiKey: KEY });
  const lines = requests(3).map((r) =>
    JSON.stringify({ custom_id: r.custom_id, method: 'POST', url: '/v1/chat/completions', body: r.body }),
  );
  const file = await sdk.files.create({
    file: await toFile(Buffer.from(lines.join('\n')), 'in.jsonl'),
    purpose: 'batch',
  });
  assert.equal(file.purpose, 'batch');
  assert.equal(file.filename, 'in.jsonl');
  assert.equal((await sdk.files.retrieve(file.id)).bytes, Buffer.byteLength(lines.join('\n')));
  const batch = await sdk.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata: { who: 'test' },
  });
  assert.equal(batch.status, 'validating');
  const seen: string[] = [batch.status];
  let b = batch;
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) {
    await new Promise((r) => setTimeout(r, 10));
    b = await sdk.batches.retrieve(batch.id);
    if (seen[seen.length - 1] !== b.status) seen.push(b.status);
  }
  assert.deepEqual(seen, ['validating', 'in_progress', 'finalizing', 'completed']);
  assert.deepEqual(b.request_counts, { total: 3, completed: 3, failed: 0 });
  assert.equal(b.metadata?.who, 'test');
  assert.ok(b.output_file_id && !b.error_file_id);
  const text = await (await sdk.files.content(b.output_file_id)).text();
  const outs = text
    .trim()
    .split('\n')
    .map((l) => parseOutputLine(l));
  assert.equal(outs.length, 3);
  // every line matches its request by custom_id, with the answer an online request gets
  const online = await sdk.chat.completions.create(
    requests(3)[1]!.body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
  );
  const one = outs.find((o) => typeof o !== 'string' && o.custom_id === 'req-1');
  assert.ok(one && typeof one !== 'string' && one.ok);
  assert.equal(one.answer.content, online.choices[0]?.message.content);
  // list (cursor pages) and delete
  const listed = [];
  for await (const x of sdk.batches.list({ limit: 1 })) listed.push(x.id);
  assert.deepEqual(listed, [batch.id]);
  assert.deepEqual(await sdk.files.delete(file.id), { id: file.id, object: 'file', deleted: true });
  await assert.rejects(sdk.files.retrieve(file.id), /404/);
  assert.equal(s.lastKey, KEY);
});

test('an input file the API refuses fails the batch in validating, naming the line', async () => {
  const sdk = new OpenAI({ baseURL: server().baseURL, apiKey: KEY });
  const lines = [
    JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } }),
    JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } }),
  ];
  const file = await sdk.files.create({
    file: await toFile(Buffer.from(lines.join('\n')), 'dup.jsonl'),
    purpose: 'batch',
  });
  const b = await sdk.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  const done = await sdk.batches.retrieve(b.id);
  assert.equal(done.status, 'failed');
  assert.equal(done.errors?.data?.[0]?.line, 2);
  assert.match(done.errors.data[0].message ?? '', /more than once/);
});

test('runBatch: requests split at the file limits, one batch per file, every outcome by custom_id', async () => {
  const { summary, outcomes } = await collect({ reqs: requests(25), limits: { maxRequests: 10 } });
  assert.equal(summary.parts.length, 3, 'split into 10 + 10 + 5');
  assert.deepEqual(
    summary.parts.map((p) => p.requests),
    [10, 10, 5],
  );
  assert.equal(summary.batchesCreated, 3);
  assert.equal(server().batches.list().length, 3);
  assert.equal(summary.ok, 25);
  assert.deepEqual(summary.failures, []);
  assert.ok(summary.complete);
  assert.deepEqual(
    outcomes.map((x) => x.o.custom_id).sort(),
    requests(25)
      .map((r) => r.custom_id)
      .sort(),
  );
  assert.ok(outcomes.every((x) => x.o.ok));
  // the split by bytes too: no file over the limit
  const { summary: s2 } = await collect({ reqs: requests(12), job: 'bytes', limits: { maxBytes: 600 } });
  assert.ok(s2.parts.length >= 3);
  for (const p of readBatchJournal(join(dir(), 'bytes.batch.jsonl')).parts.values())
    assert.ok(p.bytes <= 600, `${p.file}: ${p.bytes} bytes`);
  assert.equal(s2.ok, 12);
});

test('runBatch: failed lines are retried in a follow-up batch; what fails again is reported for an online retry', async () => {
  const s = server();
  let round = 0;
  // req-3 fails once with a 500 (transient), req-4 always with a 400 (the request is wrong)
  s.batches.lineFault = (line) => {
    if (line.custom_id === 'req-3' && round === 0) return { status: 500, message: 'The server had an error' };
    if (line.custom_id === 'req-4') return { status: 400, message: 'Invalid request', code: 'invalid_value' };
    return undefined;
  };
  const { summary, outcomes } = await collect({
    reqs: requests(6),
    onPartApplied: () => {
      round++;
    },
  });
  assert.equal(summary.batchesCreated, 2, 'the first batch and one follow-up');
  const followUp = readBatchJournal(join(dir(), 'job1.batch.jsonl')).parts.get(1);
  assert.equal(followUp?.requests, 1, 'only the transient failure went to the follow-up batch');
  assert.equal(summary.ok, 5);
  assert.equal(summary.failures.length, 1);
  assert.equal(summary.failures[0]?.custom_id, 'req-4');
  assert.equal(summary.failures[0].status, 400);
  assert.match(summary.failures[0].message, /Invalid request/);
  // the first failure of req-3 was marked as one a follow-up answers
  const first3 = outcomes.find((x) => x.o.custom_id === 'req-3');
  assert.ok(first3 && !first3.o.ok && first3.ctx.willRetry);
  assert.ok(outcomes.some((x) => x.o.custom_id === 'req-3' && x.o.ok));
});

test('runBatch: an expired batch gives its partial output; the expired lines go to a follow-up batch', async () => {
  const s = server();
  s.batches.expireAfter = 4; // the first batch expires after 4 of its 10 lines
  const { summary, outcomes } = await collect({
    reqs: requests(10),
    followUpRounds: 1,
    onPartApplied: () => {
      s.batches.expireAfter = undefined;
    },
  });
  const parts = summary.parts;
  assert.equal(parts[0]?.status, 'expired');
  assert.equal(parts[0].ok, 4, 'the partial output of the expired batch');
  assert.equal(parts[0].failed, 6);
  assert.equal(parts[1]?.requests, 6, 'the 6 expired lines in a follow-up batch');
  assert.equal(parts[1].status, 'completed');
  assert.equal(summary.ok, 10);
  const expired = outcomes.filter((x) => !x.o.ok);
  assert.equal(expired.length, 6);
  assert.ok(expired.every((x) => !x.o.ok && x.o.kind === 'expired' && x.ctx.willRetry));
  // without follow-ups, they are reported
  s.batches.expireAfter = 2;
  const r2 = await collect({ reqs: requests(5), job: 'nofollow', followUpRounds: 0 });
  assert.equal(r2.summary.ok, 2);
  assert.deepEqual(
    r2.summary.failures.map((f) => f.kind),
    ['expired', 'expired', 'expired'],
  );
});

test('a batch whose input file the API refuses: every request reported with the reason, no follow-up batch', async () => {
  server().batches.maxRequests = 3;
  const { summary, outcomes } = await collect({ reqs: requests(5) });
  assert.equal(summary.parts[0]?.status, 'failed');
  assert.equal(summary.batchesCreated, 1, 'the same file would be refused again: no follow-up');
  assert.equal(summary.failures.length, 5);
  assert.ok(
    summary.failures.every((f) => /the batch failed: line 4: The file has more than 3 requests/.test(f.message)),
  );
  assert.ok(outcomes.every((x) => !x.o.ok && !x.ctx.willRetry));
});

test('cancel: batches go through cancelling to cancelled; what they did is applied, nothing is sent again', async () => {
  const s = server();
  s.batches.hold('in_progress');
  const journalPath = join(dir(), 'c.batch.jsonl');
  const controller = new AbortController();
  const run = runBatch({
    api: api(),
    journalPath,
    job: 'c',
    model: 'm',
    requests: () => requests(8),
    onOutcome: () => undefined,
    poll: FAST,
    signal: controller.signal,
  });
  // the journal shows the batch in progress (what `curate batch status` prints)
  while (batchJobStatus(journalPath).parts[0]?.status !== 'in_progress') await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await assert.rejects(run, /stopped waiting/);
  assert.equal(s.batches.list()[0]?.status, 'in_progress', 'stopping to wait does not cancel the batch');
  s.batches.timing.cancellingMs = 30;
  const cancelled = await cancelBatchJob(api(), journalPath);
  assert.deepEqual(
    cancelled.map((c) => c.status),
    ['cancelling'],
  );
  s.batches.release();
  const outcomes: BatchOutcome[] = [];
  const summary = await runBatch({
    api: api(),
    journalPath,
    job: 'c',
    model: 'm',
    requests: () => requests(8),
    onOutcome: (o) => void outcomes.push(o),
    poll: FAST,
  });
  assert.equal(summary.parts[0]?.status, 'cancelled');
  assert.equal(summary.batchesCreated, 0, 'no new batch after a cancel');
  assert.deepEqual(listBatchJobs(join(dir(), 'none.jsonl')), []);
  assert.equal(summary.failures.length, 8);
  assert.ok(summary.failures.every((f) => f.kind === 'cancelled'));
  assert.equal(s.batches.list().length, 1);
});

test('the API key is in no file the job writes (journal, input, output and error files) and in no log line', async () => {
  const logs: string[] = [];
  server().batches.lineFault = (line) =>
    line.custom_id === 'req-1' ? { status: 401, message: `Incorrect API key provided: ${KEY}` } : undefined;
  const { summary } = await collect({ reqs: requests(3), log: (l) => logs.push(l), followUpRounds: 0 });
  assert.equal(summary.ok, 2);
  const files = batchFilesDir(join(dir(), 'job1.batch.jsonl'));
  const all = [join(dir(), 'job1.batch.jsonl'), ...readdirSync(files).map((n) => join(files, n))];
  assert.ok(all.length >= 4);
  for (const f of all) assert.ok(!readFileSync(f, 'utf8').includes(KEY), `${f} holds the key`);
  assert.ok(
    readFileSync(join(files, 'job1-0.errors.jsonl'), 'utf8').includes('Incorrect API key provided: [redacted]'),
    'the error file says what the provider said, without the key',
  );
  assert.ok(!logs.join('\n').includes(KEY));
  assert.equal(summary.failures.length, 1);
  assert.match(summary.failures[0]?.message ?? '', /Incorrect API key provided: \[redacted\]/);
});

test('a transient upload failure is retried; a 500 on batch creation is retried by the SDK', async () => {
  const s = server();
  s.addFault({ kind: 'status', status: 503 }, { path: '/v1/files', times: 1 });
  s.addFault({ kind: 'status', status: 500 }, { path: '/v1/batches', times: 1 });
  const { summary } = await collect({ reqs: requests(3) });
  assert.equal(summary.ok, 3);
  assert.equal(s.batches.list().length, 1, 'one batch despite the retried creation');
  assert.equal([...s.batches.files.values()].filter((f) => f.purpose === 'batch').length, 1);
});

test('output files are downloaded to disk and read line by line, also without a final line feed', async () => {
  await collect({ reqs: requests(4) });
  const files = batchFilesDir(join(dir(), 'job1.batch.jsonl'));
  const out = join(files, 'job1-0.output.jsonl');
  assert.ok(existsSync(out));
  const text = readFileSync(out, 'utf8').trimEnd();
  writeFileSync(out, text); // no final LF
  const ids: string[] = [];
  forEachLine(out, (l) => {
    const o = parseOutputLine(l);
    if (typeof o !== 'string') ids.push(o.custom_id);
  });
  assert.deepEqual(ids.sort(), ['req-0', 'req-1', 'req-2', 'req-3']);
});

test('the journal uses only the parts its round lists as built (a round written again after a kill)', async () => {
  const { writeFileSync: write } = await import('node:fs');
  const path = join(dir(), 'j.batch.jsonl');
  const lines = [
    {
      type: 'header',
      version: 1,
      kind: 'batch',
      job: 'j',
      endpoint: '/v1/chat/completions',
      base_url: 'u',
      model: 'm',
      created: 't',
    },
    // the first build: 3 parts journaled, killed before `built`
    ...[0, 1, 2].map((part) => ({
      type: 'part',
      part,
      round: 0,
      file: `j-${part}.jsonl`,
      requests: 10,
      bytes: 100,
      sha256: 'x',
    })),
    // written again (the records changed meanwhile): 2 parts, then built
    ...[0, 1].map((part) => ({
      type: 'part',
      part,
      round: 0,
      file: `j-${part}.jsonl`,
      requests: 12,
      bytes: 120,
      sha256: 'y',
    })),
    { type: 'built', round: 0, parts: [0, 1], requests: 24, depth: 0 },
  ];
  write(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const st = readBatchJournal(path);
  assert.deepEqual([...st.parts.keys()], [0, 1]);
  assert.equal(st.parts.get(1)?.requests, 12);
});

test('input files are written whole, split at the limits, with their sizes', async () => {
  const files = await writeInputFiles(requests(7), dir(), 'x', { maxRequests: 3 });
  assert.deepEqual(
    files.map((f) => f.requests),
    [3, 3, 1],
  );
  for (const f of files) assert.equal(readFileSync(f.path).length, f.bytes);
  await assert.rejects(
    writeInputFiles(
      [{ custom_id: 'big', body: { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(2000) }] } }],
      dir(),
      'z',
      { maxBytes: 1000 },
    ),
    /more than a batch file may hold/,
  );
});

test('input files through the write buffer: requests longer than it, multi-byte text, byte limits, each file hashed as written', async () => {
  const { createHash } = await import('node:crypto');
  // the writer's 1 MiB buffer: requests of 0.3-27 KB (over 1 MiB between the long ones) and four of 1.8 MB,
  // in two-, three- and four-byte characters
  const reqs: BatchRequest[] = Array.from({ length: 400 }, (_, i) => ({
    custom_id: `r-${i}`,
    body: {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: `${'é漢🙂'.repeat(i % 97 === 0 ? 200_000 : 30 + ((i * 7919) % 3000))} ${i}`,
        },
      ],
    },
  }));
  const files = await writeInputFiles(reqs, dir(), 'buf', { maxBytes: 8 * 1024 * 1024 });
  assert.ok(files.length > 1, 'split by bytes');
  const lines: string[] = [];
  for (const f of files) {
    const bytes = readFileSync(f.path);
    assert.ok(bytes.length <= 8 * 1024 * 1024);
    assert.equal(bytes.length, f.bytes);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, `${f.name}: the hash of its bytes`);
    const text = bytes.toString('utf8');
    assert.ok(text.endsWith('\n'));
    lines.push(...text.slice(0, -1).split('\n'));
  }
  assert.equal(lines.length, reqs.length);
  lines.forEach((l, i) => {
    const o = JSON.parse(l) as { custom_id: string; body: BatchRequest['body'] };
    assert.equal(o.custom_id, `r-${i}`);
    assert.deepEqual(o.body, reqs[i]?.body, `request ${i} whole`);
  });
});

test('chat completions give deterministic logprobs and top_logprobs when asked', async () => {
  const sdk = new OpenAI({ baseURL: server().baseURL, apiKey: KEY });
  const ask = () =>
    sdk.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hello' }],
      logprobs: true,
      top_logprobs: 3,
    });
  const a = await ask();
  const b = await ask();
  const lp = a.choices[0]?.logprobs?.content ?? [];
  assert.ok(lp.length > 0);
  assert.equal(lp.map((t) => t.token).join(''), a.choices[0]?.message.content, 'the tokens spell the answer');
  assert.ok(lp.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3));
  assert.deepEqual(b.choices[0]?.logprobs, a.choices[0]?.logprobs);
  const none = await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(none.choices[0]?.logprobs, null);
  assert.ok(chatAnswer(a)?.logprobs);
});

test('the redacting stream finds the key across chunk boundaries', async () => {
  const { redactingStream } = await import('../../src/core/llm/batch/api');
  const { Readable } = await import('node:stream');
  const text = `a ${KEY} b ${KEY}${KEY} c`;
  for (const size of [1, 3, 7, KEY.length, 1000]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
    let out = '';
    for await (const c of Readable.from(chunks).pipe(redactingStream(KEY))) out += (c as Buffer).toString();
    assert.equal(out, 'a [redacted] b [redacted][redacted] c', `chunks of ${size}`);
  }
});

test('batch prices are half the online prices', () => {
  const tokens = { input_tokens: 2_000_000, output_tokens: 1_000_000 };
  const p = { input: 2.5, output: 10 };
  assert.equal(costOf(tokens, p, 'online'), 15);
  assert.equal(costOf(tokens, p, 'batch'), 15 * BATCH_PRICE_FACTOR);
  assert.equal(BATCH_PRICE_FACTOR, 0.5);
  // an operation's estimate, run as a batch
  assert.deepEqual(
    asBatchEstimate({ records: 10, requests: 10, inputTokens: 2_000_000, outputTokens: 1_000_000, cost: 15 }, p),
    { records: 10, requests: 10, inputTokens: 2_000_000, outputTokens: 1_000_000, cost: 7.5 },
  );
});

/** A Files endpoint that reads an upload and throws its bytes away (or redirects it), counting them. */
async function discardingFilesServer(answer: 'file' | 'redirect'): Promise<{ url: string; close: () => void }> {
  const { createServer } = await import('node:http');
  const srv = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (answer === 'redirect') {
        res.writeHead(307, { location: '/elsewhere/v1/files' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'file-1',
          object: 'file',
          bytes,
          created_at: 0,
          filename: 'upload.jsonl',
          purpose: 'batch',
          status: 'processed',
        }),
      );
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => srv.close() };
}

test('an upload streams the file: what is sent is not kept until the server answers', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const size = 48 * 1024 * 1024;
  const file = join(dir(), 'upload.jsonl');
  const line = `${JSON.stringify({ custom_id: 'x', body: { text: 'y'.repeat(900) } })}\n`;
  writeFileSync(file, line.repeat(Math.ceil(size / line.length)));
  const srv = await discardingFilesServer('file');
  try {
    const client = new BatchApiClient({ baseURL: srv.url, apiKey: KEY });
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }, 20);
    const uploaded = await client.upload(file).finally(() => clearInterval(sample));
    assert.ok(uploaded.bytes > size, 'the server read the whole multipart body');
    // undici's default redirect mode kept a copy of every chunk sent until the answer: the whole
    // file (51 MB held here); streamed, 15 MB (this process also runs the server's side)
    assert.ok(peak < size / 2, `at most half the file held at once (held ${(peak / 2 ** 20).toFixed(1)} MB)`);
  } finally {
    srv.close();
  }
});

test('a server that redirects an upload: a clear error naming the base URL, no retries', async () => {
  const file = join(dir(), 'small-upload.jsonl');
  writeFileSync(file, '{"custom_id":"a","body":{}}\n');
  const srv = await discardingFilesServer('redirect');
  try {
    const client = new BatchApiClient({ baseURL: srv.url, apiKey: KEY });
    await assert.rejects(client.upload(file), (err: Error) => {
      assert.match(err.message, /answered with a redirect, which an upload cannot follow/);
      assert.ok(err.message.includes(srv.url), err.message);
      return true;
    });
  } finally {
    srv.close();
  }
});
