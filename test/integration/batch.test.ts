// Batch jobs in VS Code (issue 16): "Label Records with LLM as a Batch…" asks the label task's
// questions, sends the records as one batch to the loopback server's Batch API (no online
// request), and the results land in the curation editor and on disk. An unfinished batch job (a
// window closed while its batches ran) is picked up again as on activation: polled in the
// background, its results applied, without a second batch; one whose batches are at another
// endpoint than the settings' is not followed. A generation run as a batch ("Generate … as a
// Batch") is picked up the same way: its output written, no second batch; so is a label cascade
// run as a batch (stage 1's batch polled, then stage 2 on the records stage 1 was unsure of). "Generate Responses as a
// Batch…" run from its command: one batch, the responses in the output file, no online request.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { generateEntries, llmEntries } from '../../src/core/registry';
import { defaultGenerateOutput } from '../../src/core/synth';
import { lastUserText, startOpenAIServer, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { activateExtension, scratchFile, waitFor } from './helpers';

type Rec = { id: number; text: string; label?: string; annotations?: { suggestions?: { label?: unknown[] } } };

const records = (n: number): string =>
  `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `batch review ${i}` })).join('\n')}\n`;

const onDisk = (uri: vscode.Uri): Rec[] =>
  readFileSync(uri.fsPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

const labeled = (uri: vscode.Uri, n: number): true | undefined => {
  const recs = onDisk(uri);
  return recs.length === n && recs.every((r) => r.label === 'good' || r.label === 'bad') ? true : undefined;
};

/** Answers each question with its default (Enter) until the server holds a batch; if none comes, says what the server saw. */
async function answerUntilBatch(s: OpenAITestServer): Promise<void> {
  try {
    await waitFor('the batch', async () => {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return s.batches.list().length > 0 ? true : undefined;
    });
  } catch (err) {
    const seen = s.requests.map((r) => `${r.method} ${r.path}`).join(', ');
    throw new Error(`${err instanceof Error ? err.message : String(err)}; the server saw ${seen || 'no request'}`, {
      cause: err,
    });
  }
}

describe('Run as Batch', () => {
  const cfg = () => vscode.workspace.getConfiguration('datasetCurator');
  const G = vscode.ConfigurationTarget.Global;
  let server: OpenAITestServer | undefined;

  afterEach(async () => {
    for (const k of ['llm.baseUrl', 'llm.model', 'labels']) await cfg().update(k, undefined, G);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await server?.close();
    server = undefined;
  });

  it('Label Records with LLM as a Batch: the questions, one batch, the results in the editor and on disk', async () => {
    const api = await activateExtension();
    const s = (server = await startOpenAIServer());
    await cfg().update('llm.baseUrl', s.baseURL, G);
    await cfg().update('llm.model', 'm', G);
    await cfg().update('labels', ['good', 'bad'], G);
    const uri = await scratchFile('batch-run.jsonl', records(6));
    void vscode.commands.executeCommand('datasetCurator.labelBatch', uri);
    // The questions: the label set (pre-filled from the settings), then zero-shot.
    await answerUntilBatch(s);
    await waitFor('the results on disk', () => labeled(uri, 6));
    const doc = await waitFor('the document', () => api.editors.documentFor(uri));
    await waitFor('the results in the editor', () =>
      Array.from({ length: doc.store.lineCount }, (_, i) => doc.store.line(i).value as Rec).every(
        (r) => typeof r.label === 'string',
      )
        ? true
        : undefined,
    );
    assert.equal(s.batches.list().length, 1);
    assert.equal(s.batches.list()[0]?.status, 'completed');
    assert.equal(s.counts.chat, 0, 'no online request');
    for (const r of onDisk(uri)) assert.equal(r.annotations?.suggestions?.label?.length, 1);
  });

  it('Self-Consistency Labels with LLM as a Batch: k samples a record in one batch, the majority on disk', async () => {
    await activateExtension();
    const s = (server = await startOpenAIServer());
    await cfg().update('llm.baseUrl', s.baseURL, G);
    await cfg().update('llm.model', 'm', G);
    await cfg().update('labels', ['good', 'bad'], G);
    const uri = await scratchFile('batch-consistency.jsonl', records(3));
    void vscode.commands.executeCommand('datasetCurator.consistencyBatch', uri);
    // The questions, each with its default (the label set from the settings, the samples, ...).
    await answerUntilBatch(s);
    await waitFor('the results on disk', () => labeled(uri, 3));
    assert.equal(s.batches.list().length, 1);
    const b = s.batches.list()[0];
    assert.ok(b);
    assert.equal(b.status, 'completed');
    assert.ok(b.request_counts.total >= 3 * 2, 'k requests a record');
    assert.equal(b.request_counts.total % 3, 0);
    assert.equal(s.counts.chat, 0, 'no online request');
  });

  it('an unfinished batch job is picked up again as on activation: polled, its results applied, no second batch', async () => {
    const api = await activateExtension();
    assert.ok(vscode.workspace.isTrusted, 'the test workspace is trusted');
    const s = (server = await startOpenAIServer());
    s.batches.hold('in_progress');
    const uri = await scratchFile('batch-resume.jsonl', records(4));
    // A batch job whose run stopped waiting (the window closed while its batch ran).
    const ac = new AbortController();
    const prepared = llmEntries({ apiKey: () => undefined }).label.prepare({
      input: uri.fsPath,
      inPlace: true,
      baseURL: s.baseURL,
      model: 'm',
      labels: ['good', 'bad'],
      noCache: true,
    });
    assert.ok(prepared.batch, 'label has a batch mode');
    const first = prepared.batch.run({ signal: ac.signal, progress: () => undefined, log: () => undefined });
    await waitFor('the batch polled', () =>
      s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')) ? true : undefined,
    );
    ac.abort();
    await assert.rejects(first, (err: Error) => err.name === 'AbortError');
    assert.equal(s.batches.list()[0]?.status, 'in_progress', 'stopping to wait cancels nothing');

    // Its batches are at another endpoint than the settings': not followed.
    await cfg().update('llm.baseUrl', 'http://127.0.0.1:9/v1', G);
    assert.deepEqual(await api.batches.resume(), []);

    await cfg().update('llm.baseUrl', s.baseURL, G);
    const resumed = api.batches.resume();
    await waitFor('polled again', () => (api.batches.pending().length === 1 ? true : undefined));
    s.batches.release();
    await waitFor('the results on disk', () => labeled(uri, 4));
    assert.equal(s.batches.list().length, 1, 'the same batch, no second one');
    assert.equal(s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/batches').length, 1);
    assert.equal(s.counts.chat, 0);
    // The notification that the results landed; dismissed, the run ends.
    await vscode.commands.executeCommand('notifications.clearAll');
    const [summary] = await resumed;
    assert.ok(summary && 'ok' in summary, 'a job`s summary');
    assert.equal(summary.ok, 4);
    assert.equal(summary.batch?.batchesCreated, 0);
    assert.deepEqual(api.batches.pending(), []);
  });

  it('an unfinished label cascade run as a batch is picked up again as on activation: stage 1 polled, stage 2 on the unsure records', async () => {
    const api = await activateExtension();
    const s = (server = await startOpenAIServer());
    // small is sure of the even items, large of item 1
    s.respond = (req) => {
      const body = req.body as ChatBody;
      const i = Number(/batch review (\d+)/.exec(lastUserText(body))?.[1]);
      const small = body.model === 'small';
      const confidence = small ? (i % 2 === 0 ? 0.95 : 0.4) : i === 1 ? 0.9 : 0.5;
      return { content: JSON.stringify({ label: small ? 'good' : 'bad', confidence, rationale: `${body.model}` }) };
    };
    s.batches.hold('in_progress');
    const uri = await scratchFile('batch-cascade-resume.jsonl', records(4));
    // The cascade stopped waiting while stage 1's batch ran (the window closed).
    const ac = new AbortController();
    const prepared = llmEntries({ apiKey: () => undefined }).label.prepare({
      input: uri.fsPath,
      inPlace: true,
      baseURL: s.baseURL,
      model: 'small',
      labels: ['good', 'bad'],
      cascade: ['small', 'large'],
      escalateBelow: 0.8,
      noCache: true,
    });
    assert.ok(prepared.batch, 'label has a batch mode');
    const first = prepared.batch.run({ signal: ac.signal, progress: () => undefined, log: () => undefined });
    await waitFor('stage 1 polled', () =>
      s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')) ? true : undefined,
    );
    ac.abort();
    await assert.rejects(first, (err: Error) => err.name === 'AbortError');

    await cfg().update('llm.baseUrl', s.baseURL, G);
    const resumed = api.batches.resume();
    await waitFor('polled again', () => (api.batches.pending().length === 1 ? true : undefined));
    s.batches.release();
    // The notification that the results landed; dismissed, the run ends.
    let ended = false;
    void resumed.then(
      () => (ended = true),
      () => (ended = true),
    );
    await waitFor('the cascade ends', async () => {
      await vscode.commands.executeCommand('notifications.clearAll');
      return ended ? true : undefined;
    });
    const [summary] = await resumed;
    assert.deepEqual(
      onDisk(uri).map((r) => r.label),
      ['good', 'bad', 'good', 'bad'],
    );
    const posts = s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/batches').length;
    assert.equal(posts, 2, 'stage 1`s batch once, then stage 2`s');
    assert.equal(s.counts.chat, 0);
    assert.deepEqual(
      summary && 'cascade' in summary ? summary.cascade?.stages.map((x) => x.records) : undefined,
      [4, 2],
    );
    assert.deepEqual(api.batches.pending(), []);
  });

  it('an unfinished generation batch job is picked up again as on activation: its output written, no second batch', async () => {
    const api = await activateExtension();
    const s = (server = await startOpenAIServer());
    s.batches.hold('in_progress');
    const uri = await scratchFile(
      'batch-gen-prompts.jsonl',
      `${['Name a prime number', 'Why is the sky blue?', 'Say hello'].map((p) => JSON.stringify({ prompt: p })).join('\n')}\n`,
    );
    const out = uri.fsPath.replace(/\.jsonl$/, '-responses.jsonl');
    // "Generate Responses as a Batch" whose run stopped waiting (the window closed while its batch ran)
    const ac = new AbortController();
    const prepared = generateEntries({ apiKey: () => undefined }).responses.prepare({
      input: uri.fsPath,
      output: out,
      baseURL: s.baseURL,
      model: 'm',
      n: 2,
      noCache: true,
      force: true,
    });
    assert.ok(prepared.batch, 'generate responses has a batch mode');
    const first = prepared.batch.run({ signal: ac.signal, progress: () => undefined, log: () => undefined });
    await waitFor('the batch polled', () =>
      s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')) ? true : undefined,
    );
    ac.abort();
    await assert.rejects(first, (err: Error) => err.name === 'AbortError');
    assert.equal(existsSync(out), false, 'nothing written while the batch runs');

    await cfg().update('llm.baseUrl', s.baseURL, G);
    const resumed = api.batches.resume();
    await waitFor('polled again', () => (api.batches.pending().length === 1 ? true : undefined));
    s.batches.release();
    await waitFor('the output on disk', () =>
      existsSync(out) && readFileSync(out, 'utf8').trimEnd().split('\n').length === 6 ? true : undefined,
    );
    assert.equal(s.batches.list().length, 1, 'the same batch, no second one');
    assert.equal(s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/batches').length, 1);
    assert.equal(s.counts.chat, 0, 'no online request');
    await vscode.commands.executeCommand('notifications.clearAll');
    const [summary] = await resumed;
    assert.ok(summary && 'ok' in summary, 'a job`s summary');
    assert.equal(summary.ok, 3);
    assert.equal(summary.batch?.batchesCreated, 0);
    assert.deepEqual(api.batches.pending(), []);
  });

  it('Generate Responses as a Batch: the questions, one batch, the responses in the output file', async () => {
    await activateExtension();
    const s = (server = await startOpenAIServer());
    await cfg().update('llm.baseUrl', s.baseURL, G);
    await cfg().update('llm.model', 'm', G);
    const uri = await scratchFile(
      'batch-gen-command.jsonl',
      `${['Name a prime number', 'Why is the sky blue?'].map((p) => JSON.stringify({ prompt: p })).join('\n')}\n`,
    );
    const out = defaultGenerateOutput(uri.fsPath, 'responses');
    void vscode.commands.executeCommand('datasetCurator.generateResponsesBatch', uri);
    // The questions (the output file, the task's), each with its default.
    await answerUntilBatch(s);
    const lines = await waitFor('the responses on disk', () => {
      if (!existsSync(out)) return undefined;
      const l = readFileSync(out, 'utf8').trimEnd().split('\n');
      return l.length === 2 ? l.map((x) => JSON.parse(x) as { prompt?: string; response?: unknown }) : undefined;
    });
    assert.deepEqual(
      lines.map((r) => r.prompt),
      ['Name a prime number', 'Why is the sky blue?'],
    );
    assert.equal(s.batches.list().length, 1);
    assert.equal(s.batches.list()[0]?.status, 'completed');
    assert.equal(s.counts.chat, 0, 'no online request');
  });
});
