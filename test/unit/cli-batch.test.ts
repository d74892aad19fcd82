// `curate batch status|cancel|export|import` as a user runs it (src/cli/main.ts under tsx), against
// the loopback server's Batch API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import { BatchApiClient } from '../../src/core/llm/batch/api';
import { batchFacet } from '../../src/core/llm/batch/facet';
import { runBatchJob } from '../../src/core/llm/batch/job';
import { taskAdapter } from '../../src/core/llm/batch/records';
import { LlmClient } from '../../src/core/llm/client';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-cli-batch-');

/** The CLI in a child process (async: the loopback server runs in this process). */
function curate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

function dataset(n: number): string {
  const p = join(dir(), 'data.jsonl');
  writeFileSync(
    p,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `review ${i}` })).join('\n')}\n`,
  );
  return p;
}

test('batch status and cancel: what the journal says, then the batches cancelled', { timeout: 120_000 }, async () => {
  const s = server();
  s.batches.hold('in_progress');
  const file = dataset(5);
  const ds = await openJobTarget(file);
  const client = new LlmClient({ baseURL: s.baseURL, model: 'm' });
  const facet = batchFacet(
    createTask('label', LabelOptions.parse({ input: file, baseURL: s.baseURL, model: 'm', labels: ['a', 'b'] }), {
      client,
    }),
  );
  assert.ok(facet);
  await runBatchJob({
    api: new BatchApiClient({ baseURL: s.baseURL }),
    source: new StoreRecordSource(ds),
    sink: new StoreResultSink(ds),
    adapter: taskAdapter(facet),
    journalDir: `${file}.curator-journal`,
    job: 'label-1',
    model: 'm',
    submitOnly: true,
  });
  ds.close();
  client.close();
  const batchId = s.batches.list()[0]?.id as string;

  const st = await curate(['batch', 'status', file]);
  assert.equal(st.code, 0, st.err);
  assert.match(st.out, /^label-1 \(m\)\n {2}part 0: 5 request\(s\), batch_\w+, (validating|submitted)/);
  assert.ok(st.out.includes(batchId));
  const js = await curate(['batch', 'status', file, '--json']);
  assert.equal(
    (JSON.parse(js.out) as Array<{ job: string; parts: Array<{ batchId: string }> }>)[0]?.parts[0]?.batchId,
    batchId,
  );

  const c = await curate(['batch', 'cancel', file], { OPENAI_API_KEY: 'sk-cli-batch-key' });
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, new RegExp(`label-1: ${batchId} (cancelling|cancelled)`));
  assert.equal(s.lastKey, 'sk-cli-batch-key', 'the key from the environment');
  assert.equal(s.batches.list()[0]?.status, 'cancelled');
  assert.ok(
    !readFileSync(join(`${file}.curator-journal`, 'label-1.batch.jsonl'), 'utf8').includes('sk-cli-batch-key'),
    'the key is not journaled',
  );
  assert.equal((await curate(['batch', 'cancel', join(dir(), 'nope.jsonl')])).code, 2);
});

test(
  'batch export writes what vllm run-batch reads; batch import applies its results by custom_id',
  { timeout: 120_000 },
  async () => {
    const file = dataset(4);
    const requests = join(dir(), 'requests.jsonl');
    const ex = await curate([
      'batch',
      'export',
      file,
      '--task',
      'label',
      '--labels',
      'good,bad',
      '--model',
      'llama',
      '--out',
      requests,
    ]);
    assert.equal(ex.code, 0, ex.err);
    assert.match(
      ex.err,
      /4 request\(s\); run them with: vllm run-batch -i .*requests\.jsonl -o results\.jsonl --model llama/,
    );
    const lines = readFileSync(requests, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { custom_id: string; method: string; url: string; body: Record<string, unknown> });
    assert.equal(lines.length, 4);
    assert.ok(lines.every((l) => l.method === 'POST' && l.url === '/v1/chat/completions' && l.body.model === 'llama'));
    assert.equal(
      (await curate(['batch', 'export', file, '--task', 'label', '--model', 'llama', '--out', requests])).code,
      2,
      'an existing --out needs --force',
    );
    // the requests file given as the results by mistake: said, nothing written
    const mistake = await curate([
      'batch',
      'import',
      file,
      requests,
      '--task',
      'label',
      '--labels',
      'good,bad',
      '--model',
      'llama',
      '--out',
      join(dir(), 'x.jsonl'),
    ]);
    assert.equal(mistake.code, 2);
    assert.match(
      mistake.err,
      /holds no batch output lines \(line 1: a request line \(the batch input\), not a result\)/,
    );

    // the cluster's results, as vLLM writes them
    const sdk = new OpenAI({ baseURL: server().baseURL, apiKey: 'x' });
    const results: string[] = [];
    for (const l of lines) {
      const body = await sdk.chat.completions.create(
        l.body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
      );
      results.push(
        JSON.stringify({
          id: `vllm-${l.custom_id.slice(4, 36)}`,
          custom_id: l.custom_id,
          response: { status_code: 200, request_id: `vllm-batch-${l.custom_id.slice(4, 36)}`, body },
          error: null,
        }),
      );
    }
    const resultsPath = join(dir(), 'results.jsonl');
    writeFileSync(resultsPath, `${results.join('\n')}\n`);
    const out = join(dir(), 'labelled.jsonl');
    const im = await curate([
      'batch',
      'import',
      file,
      resultsPath,
      '--task',
      'label',
      '--labels',
      'good,bad',
      '--model',
      'llama',
      '--out',
      out,
    ]);
    assert.equal(im.code, 0, im.err);
    assert.match(im.err, /4 record\(s\) answered, 0 failed, 0 answer\(s\) refused/);
    const recs = readJsonl(out);
    assert.ok(
      recs.every((r) => ['good', 'bad'].includes(r.label) && r.annotations.suggestions.label[0].agent === 'llama'),
    );
    assert.equal(readFileSync(file, 'utf8').includes('annotations'), false, 'the input is untouched with --out');
    // another model's task gives other custom_ids: nothing applies
    const other = await curate([
      'batch',
      'import',
      file,
      resultsPath,
      '--task',
      'label',
      '--labels',
      'good,bad',
      '--model',
      'other',
      '--in-place',
    ]);
    assert.match(other.err, /0 record\(s\) answered, 0 failed, 4 answer\(s\) refused/);
    assert.equal(
      (await curate(['batch', 'import', file, resultsPath, '--task', 'label', '--model', 'llama'])).code,
      2,
      '--in-place or --out',
    );
  },
);
