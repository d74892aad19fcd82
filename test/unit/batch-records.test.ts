// Batch results bound to records' content: a file edited between submit and download (answers land
// on their own records, edited records are asked again, answers for gone content are refused); a
// vLLM results file imported (vLLM's current and older output formats, its error lines); requests
// exported in the format `vllm run-batch` reads; logprob confidence through a batch.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import { LlmClient } from '../../src/core/llm/client';
import { BatchApiClient } from '../../src/core/llm/batch/api';
import { batchFacet } from '../../src/core/llm/batch/facet';
import { forEachLine, parseOutputLine, readInputFile, type BatchOutcome } from '../../src/core/llm/batch/format';
import { FileApplier } from '../../src/core/llm/batch/file-apply';
import { runBatchJob, runFileBatchJob } from '../../src/core/llm/batch/job';
import { listBatchJobs } from '../../src/core/llm/batch/run';
import { exportRequests, importResults } from '../../src/core/llm/batch/offline';
import { customIdFor, messagesKey, taskAdapter, type BatchTaskAdapter } from '../../src/core/llm/batch/records';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';
import { labelDistribution } from '../support/logprobs-sample';
import { lastUserText } from '../support/openai-server';
import { readJsonl, useLoopbackServer } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-records-');
const FAST = { initialMs: 5, maxMs: 20, factor: 1.5 };
const LABELS = ['positive', 'negative'];
const fixtures = join(__dirname, '..', 'fixtures', 'vllm');

function writeDataset(n: number, name = 'data.jsonl'): string {
  const p = join(dir(), name);
  writeFileSync(
    p,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `review ${i}: ${i % 2 ? 'fine' : 'broken'} item` })).join('\n')}\n`,
  );
  return p;
}

function labelAdapter(
  input: string,
  opts: { confidence?: 'verbal' | 'logprobs' } = {},
): { adapter: BatchTaskAdapter; close: () => void } {
  const client = new LlmClient({ baseURL: server().baseURL, apiKey: 'sk-t', model: 'm' });
  const task = createTask(
    'label',
    LabelOptions.parse({ input, baseURL: server().baseURL, model: 'm', labels: LABELS }),
    { client },
  );
  const facet = batchFacet(task);
  assert.ok(facet, 'the label task runs as a batch');
  return { adapter: taskAdapter(facet, { ...opts, labels: LABELS }), close: () => client.close() };
}

/** What an online request with the record's batch body answers (the loopback server is deterministic). */
async function onlineLabel(adapter: BatchTaskAdapter, record: Record<string, unknown>): Promise<string> {
  const r = adapter.request(record);
  assert.ok(!('skip' in r));
  const sdk = new OpenAI({ baseURL: server().baseURL, apiKey: 'sk-t' });
  const c = await sdk.chat.completions.create(r.body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
  return (JSON.parse(c.choices[0]?.message.content ?? '{}') as { label: string }).label;
}

async function batchRun(file: string, extra: { submitOnly?: boolean; confidence?: 'verbal' | 'logprobs' } = {}) {
  const ds = await openJobTarget(file);
  const { adapter, close } = labelAdapter(file, extra);
  try {
    return await runBatchJob({
      api: new BatchApiClient({ baseURL: server().baseURL, apiKey: 'sk-t' }),
      source: new StoreRecordSource(ds),
      sink: new StoreResultSink(ds),
      adapter,
      journalDir: `${file}.curator-journal`,
      job: 'label-batch',
      model: 'm',
      poll: FAST,
      ...(extra.submitOnly ? { submitOnly: true } : {}),
    });
  } finally {
    close();
    ds.close();
  }
}

test('custom_ids are bound to what the model reads of a record and to the task, not to the line', () => {
  const file = writeDataset(1);
  const { adapter, close } = labelAdapter(file);
  const id = (rec: Record<string, unknown>): string => {
    const r = adapter.request(rec);
    assert.ok(!('skip' in r));
    return customIdFor(r.body, messagesKey(r.messages));
  };
  const rec = { id: 1, text: 'a' };
  assert.equal(id(rec), id({ ...rec }));
  assert.notEqual(id(rec), id({ id: 1, text: 'b' }), 'an edit of the content changes it');
  assert.equal(
    id(rec),
    id({ ...rec, label: 'positive', annotations: { suggestions: {} } }),
    'applying a result does not change it',
  );
  const r = adapter.request(rec);
  assert.ok(!('skip' in r));
  assert.notEqual(
    customIdFor({ ...r.body, model: 'other' }, messagesKey(r.messages)),
    id(rec),
    'another model is another request',
  );
  close();
});

test(
  'the file edited between submit and download: answers land on their own records, edited records are asked again',
  { timeout: 60_000 },
  async () => {
    const s = server();
    const file = writeDataset(8);
    const sent = await batchRun(file, { submitOnly: true });
    assert.equal(sent.batch.newRequests, 8);
    assert.equal(s.batches.list().length, 1);
    assert.deepEqual(
      listBatchJobs(file).map(({ job, unfinished }) => ({ job, unfinished })),
      [{ job: 'label-batch', unfinished: true }],
      'what the extension resumes on activation',
    );

    // while the batch runs: a record inserted at the top (every record moves down a line), record 3
    // edited, record 5 deleted, record 7 duplicated at the end
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const edited = lines.map((l) => JSON.parse(l) as { id: number; text: string });
    (edited[3] as { text: string }).text = 'review 3: changed my mind, it is great';
    const next = [{ id: 100, text: 'a new review' }, ...edited.filter((r) => r.id !== 5), edited[7]];
    writeFileSync(file, `${next.map((r) => JSON.stringify(r)).join('\n')}\n`);

    const done = await batchRun(file);
    assert.equal(
      done.batch.newRequests,
      2,
      'the edited and the new record are sent in a new batch; nothing else again',
    );
    assert.equal(s.batches.list().length, 2);
    assert.equal(done.records.stale.length, 2, 'the answers for the old record 3 and the deleted record 5 are refused');
    assert.deepEqual(done.records.redo, []);
    assert.deepEqual(done.records.failed, []);
    assert.equal(done.records.applied, next.length);
    assert.equal(listBatchJobs(file)[0]?.unfinished, false);

    const out = readJsonl(file);
    assert.equal(out.length, next.length);
    const { adapter, close } = labelAdapter(file);
    for (const [i, r] of out.entries()) {
      assert.equal(r.id, next[i]?.id, `line ${i + 1} is the record it was`);
      assert.equal(r.text, next[i]?.text);
      assert.equal(r.annotations.suggestions.label.length, 1, `line ${i + 1}: one answer`);
      const { annotations: _a, label: _l, ...plain } = r;
      assert.equal(
        r.annotations.suggestions.label[0].value,
        await onlineLabel(adapter, plain),
        `line ${i + 1}: the answer for its content as it is now`,
      );
    }
    close();
  },
);

test(
  'requests exported for `vllm run-batch`, its results file imported (current and older vLLM lines, error lines); a changed record is refused',
  { timeout: 60_000 },
  async () => {
    const file = writeDataset(6);
    const requestsPath = join(dir(), 'requests.jsonl');
    {
      const ds = await openJobTarget(file);
      const { adapter, close } = labelAdapter(file);
      const ex = await exportRequests(new StoreRecordSource(ds), adapter, requestsPath);
      close();
      ds.close();
      assert.equal(ex.requests, 6);
    }
    // the input format: one request a line, the chat completions URL, the task's structured output
    const reqs: Array<{ custom_id: string; body: Record<string, unknown>; url: string }> = [];
    readInputFile(requestsPath, (r) => reqs.push(r));
    assert.equal(reqs.length, 6);
    for (const line of readFileSync(requestsPath, 'utf8').trimEnd().split('\n')) {
      const l = JSON.parse(line) as { method: string; url: string; body: { response_format: { type: string } } };
      assert.equal(l.method, 'POST');
      assert.equal(l.url, '/v1/chat/completions');
      assert.equal(l.body.response_format.type, 'json_schema');
    }

    // "the cluster": each request answered by an OpenAI-compatible server, written as vLLM writes
    const sdk = new OpenAI({ baseURL: server().baseURL, apiKey: 'sk-t' });
    const results: string[] = [];
    for (const [k, r] of reqs.entries()) {
      const body = await sdk.chat.completions.create(
        r.body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
      );
      if (k === 4) results.push(vllmErrorLine(r.custom_id, 'The model `m` does not exist.'));
      else if (k === 5)
        results.push(JSON.stringify({ id: `vllm-${hex()}`, custom_id: r.custom_id, response: body, error: null })); // vLLM 0.4.x: no envelope
      else results.push(vllmLine(r.custom_id, body));
    }
    const resultsPath = join(dir(), 'results.jsonl');
    writeFileSync(resultsPath, `${results.join('\n')}\nnot a json line\n`);

    // record 2 changes after the export
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    lines[2] = JSON.stringify({ id: 2, text: 'review 2: edited after the export' });
    writeFileSync(file, `${lines.join('\n')}\n`);

    const ds = await openJobTarget(file);
    const { adapter, close } = labelAdapter(file);
    const summary = await importResults(resultsPath, new StoreRecordSource(ds), new StoreResultSink(ds), adapter);
    close();
    ds.close();
    assert.equal(summary.outcomes, 6);
    assert.deepEqual(summary.badLines, [{ line: 7, reason: 'not JSON' }]);
    assert.equal(summary.applied, 4, 'records 0, 1, 3 and 5 (the older vLLM line too)');
    assert.deepEqual(summary.stale, [reqs[2]?.custom_id], 'the answer for record 2 as it was is refused');
    assert.deepEqual(
      summary.redo.map((r) => r.line),
      [3],
      'record 2 is to be done again',
    );
    assert.equal(summary.failed.length, 1);
    assert.equal(summary.failed[0]?.line, 5);
    assert.match(summary.failed[0].reason, /HTTP 400.*does not exist/);
    const out = readJsonl(file);
    assert.equal(out[2]?.annotations, undefined, 'the changed record got no answer');
    assert.equal(out[4]?.annotations, undefined);
    for (const i of [0, 1, 3, 5]) assert.equal(out[i]?.annotations.suggestions.label.length, 1);
  },
);

test("vLLM's own example results (its README) parse into answers by custom_id", () => {
  const outs: BatchOutcome[] = [];
  forEachLine(join(fixtures, 'readme-results.jsonl'), (l) => {
    const o = parseOutputLine(l);
    assert.ok(typeof o !== 'string', o as string);
    outs.push(o);
  });
  assert.equal(outs.length, 2);
  const [a, b] = outs;
  assert.ok(a?.ok && b?.ok);
  assert.equal(a.custom_id, 'request-1');
  assert.match(a.answer.content ?? '', /^Hello! It's great to meet you!/);
  assert.deepEqual(a.answer.usage, { input_tokens: 25, output_tokens: 31 });
  assert.equal(a.answer.model, 'meta-llama/Meta-Llama-3-8B-Instruct');
  assert.equal(b.custom_id, 'request-2');
  assert.equal(b.answer.content, '*silence*');
  // the OpenAI error file's lines
  const expired = parseOutputLine(
    JSON.stringify({
      id: 'batch_req_1',
      custom_id: 'x',
      response: null,
      error: {
        code: 'batch_expired',
        message: 'This request could not be executed before the completion window expired.',
      },
    }),
  );
  assert.ok(typeof expired !== 'string' && !expired.ok && expired.kind === 'expired');
  const http = parseOutputLine(
    JSON.stringify({
      id: 'batch_req_2',
      custom_id: 'y',
      response: {
        status_code: 429,
        request_id: 'r',
        body: { error: { message: 'Rate limit', type: 'rate_limit_error' } },
      },
      error: null,
    }),
  );
  assert.ok(
    typeof http !== 'string' &&
      !http.ok &&
      http.kind === 'failed' &&
      http.status === 429 &&
      http.message === 'Rate limit',
  );
  // vLLM's ErrorResponse object as `error`
  const er = parseOutputLine(
    JSON.stringify({
      id: 'vllm-1',
      custom_id: 'z',
      response: { status_code: 404, request_id: 'vllm-batch-1', body: null },
      error: { error: { message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 } },
    }),
  );
  assert.ok(typeof er !== 'string' && !er.ok && er.status === 404 && /does not exist/.test(er.message));
});

test(
  'logprob confidence through a batch: the chosen label normalised over the label set, provenance says logprobs',
  { timeout: 60_000 },
  async () => {
    const file = writeDataset(5);
    const r = await batchRun(file, { confidence: 'logprobs' });
    assert.equal(r.records.applied, 5);
    const sent = server().batches.files;
    const inputFile = [...sent.values()].find((f) => f.purpose === 'batch');
    assert.ok(inputFile);
    const bodies = inputFile.data
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          (
            JSON.parse(l) as {
              body: { logprobs?: boolean; top_logprobs?: number; messages: Array<{ role: string; content: string }> };
            }
          ).body,
      );
    assert.ok(
      bodies.every((b) => b.logprobs === true && b.top_logprobs === 5),
      'the requests ask for logprobs',
    );
    for (const [i, rec] of readJsonl(file).entries()) {
      const s = rec.annotations.suggestions.label[0];
      assert.equal(s.provenance.confidence, 'logprobs');
      assert.equal(typeof s.provenance.verbal_confidence, 'number', 'the stated confidence is kept');
      // the loopback server's distribution over the two labels for this request
      const body = bodies.find((b) => lastUserText(b as never).includes(`review ${rec.id}:`));
      assert.ok(body, `record ${i}`);
      const dist = labelDistribution(LABELS, s.value as string, `${lastUserText(body)}#m#`);
      const p = dist.get(s.value as string) as number;
      const other = [...dist.entries()].filter(([l]) => l !== s.value).reduce((a, [, x]) => a + x, 0);
      assert.ok(Math.abs(s.score - p / (p + other)) < 1e-5, `record ${i}: ${s.score} vs ${p / (p + other)}`);
    }
  },
);

function hex(): string {
  return Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32);
}

/** A line as vllm/entrypoints/openai/run_batch.py writes a success (BatchRequestOutput + BatchResponseData). */
function vllmLine(customId: string, body: unknown): string {
  return JSON.stringify({
    id: `vllm-${hex()}`,
    custom_id: customId,
    response: { status_code: 200, request_id: `vllm-batch-${hex()}`, body },
    error: null,
  });
}

/** A failed request as run_batch.py's make_error_request_output writes it. */
function vllmErrorLine(customId: string, message: string): string {
  return JSON.stringify({
    id: `vllm-${hex()}`,
    custom_id: customId,
    response: { status_code: 400, request_id: `vllm-batch-${hex()}`, body: null },
    error: message,
  });
}

test(
  'a batch job applied to a file in one pass: the same records as through the store (in one save, or as edits an editor shows), other lines byte for byte',
  { timeout: 60_000 },
  async () => {
    const body = [
      JSON.stringify({ id: 0, text: 'review 0: crlf line' }) + '\r\n',
      'not json at all\n',
      JSON.stringify({ id: 1, text: 'review 1' }) + '\n',
      '\n',
      '{"id":2,"big":12345678901234567890}\n',
      JSON.stringify({ id: 3, text: 'review 3: no final newline' }),
    ].join('');
    const viaFile = join(dir(), 'file.jsonl');
    const viaStore = join(dir(), 'store.jsonl');
    const viaEdits = join(dir(), 'edits.jsonl');
    writeFileSync(viaFile, body);
    writeFileSync(viaStore, body);
    writeFileSync(viaEdits, body);
    const { adapter, close } = labelAdapter(viaFile);
    const common = {
      api: new BatchApiClient({ baseURL: server().baseURL }),
      adapter,
      job: 'j',
      model: 'm',
      poll: FAST,
    };
    const f = await runFileBatchJob({ ...common, input: viaFile, journalDir: `${viaFile}.curator-journal` });
    const ds = await openJobTarget(viaStore);
    const sink = new StoreResultSink(ds);
    const applyMany = sink.applyMany.bind(sink);
    let inOneSave = 0;
    sink.applyMany = (items) => {
      inOneSave += ds.dirty ? 0 : items.length;
      return applyMany(items);
    };
    const st = await runBatchJob({
      ...common,
      source: new StoreRecordSource(ds),
      sink,
      journalDir: `${viaStore}.curator-journal`,
    });
    ds.close();
    assert.equal(inOneSave, 3, "the part's results went to the store at once, with no edit held");
    // as an editor holds the file: each result an edit it is told of (what it shows), then a save
    const held = await openJobTarget(viaEdits);
    const told: number[] = [];
    const ed = await runBatchJob({
      ...common,
      source: new StoreRecordSource(held),
      sink: new StoreResultSink(held, { onApplied: (i) => told.push(i) }),
      journalDir: `${viaEdits}.curator-journal`,
    });
    held.close();
    close();
    assert.equal(f.records.applied, 3);
    assert.equal(st.records.applied, 3);
    assert.equal(ed.records.applied, 3);
    assert.deepEqual(told, [0, 2, 5], 'the editor is told of each record as it changes');
    const strip = (t: string): string => t.replace(/"time":"[^"]*"/g, '"time":"T"');
    assert.equal(
      strip(readFileSync(viaFile, 'utf8')),
      strip(readFileSync(viaStore, 'utf8')),
      'the same bytes as the store writes (in one pass: no editor holds it)',
    );
    assert.equal(
      strip(readFileSync(viaEdits, 'utf8')),
      strip(readFileSync(viaStore, 'utf8')),
      'the same bytes through edits (an editor holds it)',
    );
    const lines = readFileSync(viaFile, 'utf8').split('\n');
    assert.equal(lines[1], 'not json at all');
    assert.equal(lines[3], '');
    assert.match(lines[4] ?? '', /12345678901234567890/, 'a number JSON cannot keep: the line is left as it is');
    assert.ok(lines[0]?.endsWith('\r'), 'the CRLF line keeps its terminator');
    assert.ok(!readFileSync(viaFile, 'utf8').endsWith('\n'), 'no final newline added');
  },
);

test('a file that changes while the results are written into it is left alone', async () => {
  const file = writeDataset(3);
  const { adapter, close } = labelAdapter(file);
  const applier = new FileApplier(adapter);
  const writing = applier.write(file);
  writeFileSync(file, `${readFileSync(file, 'utf8')}{"id":99,"text":"added by someone else"}\n`);
  await assert.rejects(writing, /changed while the results were being applied/);
  close();
  assert.match(readFileSync(file, 'utf8'), /added by someone else/);
  assert.ok(!readFileSync(file, 'utf8').includes('annotations'));
});

test(
  'results written over the read and write buffers: a line longer than them, CRLF lines and multi-byte text at their edges stay whole',
  { timeout: 60_000 },
  async () => {
    // rawLines reads 1 MiB at a time and writeNewFile writes through one 1 MiB buffer: this file
    // is 10 MB, with a 2.5 MB untouched line and records whose text (two-, three- and four-byte
    // UTF-8) crosses both buffers' edges at varying offsets.
    const file = join(dir(), 'buffers.jsonl');
    const lines: string[] = [];
    const eols: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const text = `${'é'.repeat(i % 97)}${'漢'.repeat(300 + (i % 89))}${'🙂'.repeat(i % 13)} review ${i} ${'x'.repeat((i * 7919) % 400)}`;
      lines.push(i === 3000 ? `{"id":"huge","blob":"${'y'.repeat(2_500_000)}"}` : JSON.stringify({ id: i, text }));
      eols.push(i % 5 === 0 ? '\r\n' : '\n');
    }
    const original = lines.map((l, i) => `${l}${eols[i] ?? ''}`).join('');
    writeFileSync(file, original);
    const { adapter, close } = labelAdapter(file);
    const applier = new FileApplier(adapter);
    // answers for every record with an even id; the huge line gets none (it is copied as it is)
    let answered = 0;
    for (const line of lines) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (typeof rec.id !== 'number' || rec.id % 2 !== 0) continue;
      const q = adapter.request(rec);
      assert.ok(!('skip' in q));
      const custom_id = customIdFor(q.body, adapter.key ? adapter.key(rec) : messagesKey(q.messages));
      const label = LABELS[rec.id % 4 === 0 ? 0 : 1];
      applier.add({
        custom_id,
        ok: true,
        status: 200,
        answer: {
          content: JSON.stringify({ label, confidence: 0.8, rationale: `since ${rec.id}` }),
          refusal: null,
          finishReason: 'stop',
          model: 'm',
          usage: { input_tokens: 10, output_tokens: 5 },
          logprobs: undefined,
        },
      });
      answered++;
    }
    // an answer for a record that is not in the file
    applier.add({
      custom_id: 'dc1-0000000000000000000000000000000000000000',
      ok: true,
      status: 200,
      answer: {
        content: '{"label":"positive"}',
        refusal: null,
        finishReason: 'stop',
        model: 'm',
        usage: { input_tokens: 1, output_tokens: 1 },
        logprobs: undefined,
      },
    });
    const s = await applier.write(file);
    close();
    assert.equal(s.applied, answered);
    assert.equal(s.answers, answered);
    assert.equal(s.redo.length, lines.length - answered, 'the records without an answer are to be asked again');
    assert.deepEqual(s.stale, ['dc1-0000000000000000000000000000000000000000']);
    const out = readFileSync(file, 'utf8');
    const outLines = out.split('\n');
    assert.equal(outLines.length, lines.length + 1, 'one line per line, and the final newline');
    for (let i = 0; i < lines.length; i++) {
      const got = outLines[i] as string;
      const eolCr = eols[i] === '\r\n';
      assert.equal(got.endsWith('\r'), eolCr, `line ${i + 1} keeps its terminator`);
      const body = eolCr ? got.slice(0, -1) : got;
      const rec = JSON.parse(lines[i] as string) as { id: number | string; text?: string };
      if (typeof rec.id === 'number' && rec.id % 2 === 0) {
        const v = JSON.parse(body) as { text: string; annotations?: { label?: { value?: string } } } & Record<
          string,
          unknown
        >;
        assert.equal(v.text, rec.text, `line ${i + 1}: its text whole`);
        assert.match(body, new RegExp(`since ${rec.id}`), `line ${i + 1}: its own answer`);
      } else assert.equal(body, lines[i], `line ${i + 1}: byte for byte`);
    }
  },
);
