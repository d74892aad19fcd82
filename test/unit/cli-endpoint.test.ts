// `curate`'s LLM jobs as a new user meets them (issue 18), over real HTTP against the project's
// loopback OpenAI-compatible server (the real `openai` SDK, never mocked): a server that is not
// there stops the job at once and leaves no output; a resumed job's estimate counts what is left;
// known OpenAI models have prices and unknown ones ask above a number of requests; a server that
// was given no model is asked which it serves; several models label in one run and agreement is
// measured per model and between models.
import { after, before, beforeEach, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { knownPrice, confirmationNeeded } from '../../src/core/llm/prices';
import { modelFromServer, presets } from '../../src/core/llm/endpoints';
import { startOpenAIServer, type OpenAITestServer, type ChatBody } from '../support/openai-server';
import { curateInProcess, tempDir } from './helpers/store';

let server: OpenAITestServer;
let dir: string;

before(async () => {
  server = await startOpenAIServer({ seedByModel: true });
});
after(async () => {
  // unassigned when before() failed
  await (server as OpenAITestServer | undefined)?.close();
});
beforeEach(() => {
  server.reset();
  server.models = ['test-model'];
  dir = tempDir('dc-cli-ep-');
});

const curate = (args: string[]) => curateInProcess(args, dir);

function dataset(n: number, name = 'd.jsonl', human = 0): string {
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `r${i}`,
      text: `review number ${i}: ${i % 2 ? 'great value' : 'broke in a week'}`,
      ...(i < human ? { annotations: { human: { label: { value: i % 2 ? 'positive' : 'negative' } } } } : {}),
    }),
  );
  writeFileSync(join(dir, name), `${rows.join('\n')}\n`);
  return name;
}

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

const chats = () => server.requests.filter((r) => r.path === '/v1/chat/completions');

describe('curate LLM jobs, the first hour', () => {
  test('an unreachable server (connection refused) stops the job at once, without retries, and writes no output', async () => {
    const f = dataset(6);
    const port = await closedPort();
    const r = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      `http://127.0.0.1:${port}/v1`,
      '--model',
      'm',
      '--out',
      'out.jsonl',
    ]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/v1: connection refused\\. Is the server running`),
    );
    assert.doesNotMatch(r.err, /retry/);
    assert.equal((r.err.match(/connection refused \(fatal\)/g) ?? []).length, 1, 'one request, not one per record');
    assert.equal(existsSync(join(dir, 'out.jsonl')), false, 'no output file');
    assert.equal(existsSync(join(dir, 'out.jsonl.curator-journal')), false, 'no journal');
  });

  test('a resumed job: the estimate counts only the records left, so --max-cost no longer trips for one request', async () => {
    const f = dataset(10);
    // The 10th record's request fails with a 401: the job stops with nine records done and journaled.
    server.addFault(
      { kind: 'status', status: 401, body: { error: { message: 'bad key' } } },
      { times: 1, when: (req) => JSON.stringify((req.body as ChatBody).messages ?? []).includes('review number 9') },
    );
    const common = [
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--model',
      'local-model',
      '--out',
      'out.jsonl',
      '--concurrency',
      '1',
      '--price-in',
      '1000',
      '--price-out',
      '1000',
    ];
    const first = await curate([...common, '--yes']);
    assert.equal(first.code, 1, first.err);
    assert.match(first.err, /HTTP 401/);
    const full = Number(/about \$(\d+\.\d+)/.exec(first.err)?.[1]);
    assert.ok(full > 0, first.err);
    // Above a third of the whole job's cost: the full estimate would ask (and, with no terminal, refuse).
    const again = await curate([...common, '--max-cost', (full / 3).toFixed(4)]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /annotate: 10 record\(s\) \(resuming: 1 left to do\), about 1 request\(s\)/);
    assert.equal(chats().length, 9 + 1 + 1, 'nine, the failed tenth, and the tenth again');
  });

  test('known OpenAI models are priced; an unknown model asks above --max-requests (default 1000)', async () => {
    const f = dataset(12);
    const priced = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--model',
      'gpt-4o-mini-2024-07-18',
      '--out',
      'a.jsonl',
    ]);
    assert.equal(priced.code, 0, priced.err);
    assert.match(priced.err, /about 12 request\(s\), \d+ input and \d+ output tokens, about \$0\.00\d+/);
    const unknown = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--model',
      'my-finetune',
      '--out',
      'b.jsonl',
      '--max-requests',
      '10',
    ]);
    assert.equal(unknown.code, 2, unknown.err);
    assert.match(unknown.err, /price unknown/);
    assert.match(
      unknown.err,
      /the price of this model is unknown and the job makes about 12 requests, above --max-requests 10; pass --yes/,
    );
    assert.equal(chats().length, 12, 'only the priced run sent requests');
    // The core's rule, as VS Code applies it too.
    assert.deepEqual(knownPrice('gpt-4.1-mini'), { input: 0.4, output: 1.6 });
    assert.equal(knownPrice('llama3.1:70b'), undefined);
    assert.equal(
      confirmationNeeded({ requests: 5000, cost: 0 }, { confirmCostAbove: 1, confirmRequestsAbove: 1000 })?.startsWith(
        'the price of this model is unknown',
      ),
      true,
    );
    assert.equal(
      confirmationNeeded({ requests: 5000, cost: 0.5 }, { confirmCostAbove: 1, confirmRequestsAbove: 1000 }),
      undefined,
    );
    assert.match(
      confirmationNeeded({ requests: 5, cost: 2 }, { confirmCostAbove: 1, confirmRequestsAbove: 1000 }) ?? '',
      /about \$2\.00, is above \$1/,
    );
  });

  test('no model given: the server is asked (GET /v1/models); several served is a question; --preset names the endpoint', async () => {
    const f = dataset(3);
    server.models = ['Qwen/Qwen2.5-7B-Instruct'];
    const r = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--out',
      'o.jsonl',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.ok(
      chats().length > 0 && chats().every((c) => (c.body as ChatBody).model === 'Qwen/Qwen2.5-7B-Instruct'),
      'the served model was used',
    );
    assert.equal(server.counts.models, 1);
    server.models = ['a-model', 'b-model'];
    const two = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--out',
      'p.jsonl',
    ]);
    assert.equal(two.code, 2);
    assert.match(two.err, /serves 2: a-model, b-model; name one with --model/);
    const bad = await curate(['annotate', f, '--labels', 'positive,negative', '--preset', 'vlm', '--out', 'q.jsonl']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--preset must be one of openai, azure, ollama, vllm, lmstudio, llamacpp/);
    // vLLM and LM Studio have no model to guess: none in the preset (no "YOUR-MODEL").
    assert.equal('model' in presets.vllm, false);
    assert.equal('model' in presets.lmstudio, false);
    assert.equal(await modelFromServer(server.baseURL, undefined, { choose: async (ms) => ms[1] }), 'b-model');
  });

  test('annotate --models a,b: one suggestion per model side by side; agreement per model, with people, and between models', async () => {
    const f = dataset(16, 'd.jsonl', 8);
    const r = await curate([
      'annotate',
      f,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--models',
      'model-a,model-b',
      '--out',
      'out.jsonl',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /annotate: 32 ok/);
    assert.match(r.out, /model-a \/ model-b: agree on \d+ of 16 record\(s\), kappa/);
    assert.match(r.out, /model-a \/ people: 8 record\(s\), accuracy/);
    const recs = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { annotations: { suggestions: { label: { agent: string; value: string }[] } } });
    for (const rec of recs)
      assert.deepEqual(rec.annotations.suggestions.label.map((s) => s.agent).sort(), ['model-a', 'model-b']);
    const a = await curate(['agreement', 'out.jsonl', '--json']);
    assert.equal(a.code, 0, a.err);
    const rep = JSON.parse(a.out) as {
      models: {
        model: string;
        suggested: number;
        vsReference: { reference: string; metrics: { n: number; accuracy: number } };
      }[];
      modelPairs: { a: string; b: string; metrics: { n: number; accuracy: number } }[];
    };
    assert.deepEqual(
      rep.models.map((m) => [m.model, m.suggested, m.vsReference.reference, m.vsReference.metrics.n]),
      [
        ['model-a', 16, 'human', 8],
        ['model-b', 16, 'human', 8],
      ],
    );
    // Each model's accuracy against people, counted here from the records.
    for (const m of rep.models) {
      let agree = 0;
      recs
        .slice(0, 8)
        .forEach(
          (rec, i) =>
            (agree +=
              rec.annotations.suggestions.label.find((s) => s.agent === m.model)?.value ===
              (i % 2 ? 'positive' : 'negative')
                ? 1
                : 0),
        );
      assert.equal(m.vsReference.metrics.accuracy, agree / 8, m.model);
    }
    const same = recs.filter((rec) => new Set(rec.annotations.suggestions.label.map((s) => s.value)).size === 1).length;
    assert.deepEqual(
      rep.modelPairs.map((p) => [p.a, p.b, p.metrics.n, p.metrics.accuracy]),
      [['model-a', 'model-b', 16, same / 16]],
    );
    const text = await curate(['agreement', 'out.jsonl']);
    assert.match(
      text.out,
      /several models suggest labels \(model-a, model-b\): "suggestion" above is the most confident of any; per model:/,
    );
  });
});
