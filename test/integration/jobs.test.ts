// A label job over a file open in the Curation Editor while the person edits it (issue 14): the job
// reads from and writes into the editor's document (the same source and sink the VS Code command
// gives the operation), and the person deletes a record above the job's position, deletes another
// and undoes that (a line inserted above), and edits the text of a third meanwhile, each as one
// undoable edit of the document. Every result must land
// on the record it was computed for, the edited record must get an answer for its new text, and
// nothing lands on the wrong record, in the editor or on disk.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { JobSummary } from '../../src/core/jobs/runner';
import { StoreRecordSource } from '../../src/core/jobs/store-io';
import type { ResultSink } from '../../src/core/jobs/types';
import { editorSink } from '../../src/extension/llmCommands';
import { llmOperations } from '../../src/core/llm/tasks';
import { lastUserText, startOpenAIServer, type ChatBody } from '../support/openai-server';
import { activateExtension, openInCurationEditor, scratchFile, waitFor } from './helpers';

const labelFor = (text: string): string => (text.length % 2 === 0 ? 'even' : 'odd');
function requestText(body: ChatBody): string {
  const m = /"text":"((?:[^"\\]|\\.)*)"/.exec(lastUserText(body));
  return m ? (JSON.parse(`"${m[1]}"`) as string) : '?';
}

/** A file of `n` records `{ id, text }`, the texts `review <i>` (`bangs`: followed by 0-2 `!`). */
function reviews(name: string, n: number, bangs = true): Promise<vscode.Uri> {
  const text = (i: number) => `review ${i}${bangs ? '!'.repeat(i % 3) : ''}`;
  return scratchFile(
    name,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: text(i) })).join('\n')}\n`,
  );
}

/** The server's answer to a label request: the label of its text, and a rationale naming it. */
function answer(body: ChatBody): { content: string } {
  const text = requestText(body);
  return { content: JSON.stringify({ label: labelFor(text), confidence: 0.5, rationale: `for: ${text}` }) };
}

type Rec = {
  id: number;
  text: string;
  label?: string;
  annotations?: { suggestions?: { label?: { value: unknown; rationale?: string }[] } };
};

/** A label job run as the VS Code command runs it (the operation, in place), over the open document into `sink`. */
async function labelJob(
  doc: Awaited<ReturnType<typeof openInCurationEditor>>,
  uri: vscode.Uri,
  baseURL: string,
  sink: ResultSink,
  concurrency: number,
): Promise<JobSummary> {
  const ops = llmOperations({
    apiKey: () => 'sk-integration',
    openSource: async () => new StoreRecordSource(doc.store),
    openSink: async () => sink,
  });
  const options = ops.label.options.parse({
    input: uri.fsPath,
    inPlace: true,
    baseURL,
    model: 'm',
    labels: ['even', 'odd'],
    noCache: true,
    concurrency,
  });
  return ops.label.run(options, {
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
  });
}

describe('Jobs over an open file while the person edits it', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a label job keeps every answer on its own record while the person deletes a record above its position, undoes a deletion and edits a text', async () => {
    const api = await activateExtension();
    const server = await startOpenAIServer({ latencyMs: 30 });
    const N = 40;
    const uri = await reviews('job-while-editing.jsonl', N);
    const doc = await openInCurationEditor(api, uri);
    let asked = 0;
    let deleted: Rec | undefined;
    let edited: number | undefined;
    let undone: Promise<void> | undefined;
    const undo = async (): Promise<void> => {
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      await vscode.commands.executeCommand('undo');
    };
    server.respond = (req) => {
      const text = requestText(req.body as ChatBody);
      asked++;
      if (asked === 12) {
        // The person deletes a record above the job's position (one undoable edit).
        deleted = doc.store.line(4).value as Rec;
        doc.deleteLines([4], 'Delete a record');
      } else if (asked === 18) {
        // ... deletes another one, undoes that (the record comes back: a line inserted above) ...
        doc.deleteLines([6], 'Delete a record');
        undone = undo();
      } else if (asked === 26) {
        // ... and rewrites the text of an early record, already answered.
        edited = 2;
        doc.edit({ op: 'setField', index: 2, path: ['text'], value: 'review 2, rewritten while the job ran' });
      }
      return { content: JSON.stringify({ label: labelFor(text), confidence: 0.5, rationale: `for: ${text}` }) };
    };
    try {
      const summary = await labelJob(doc, uri, server.baseURL, editorSink(doc), 2);
      assert.ok(deleted && edited !== undefined && undone, 'the person edited while the job ran');
      await undone;
      const check = (recs: Rec[], where: string): void => {
        assert.equal(recs.length, N - 1, `${where}: the deleted record is gone`);
        assert.ok(!recs.some((r) => r.id === deleted!.id), `${where}: the deleted record is gone`);
        recs.forEach((r, i) => {
          const s = r.annotations?.suggestions?.label ?? [];
          assert.equal(s.length, 1, `${where}, line ${i + 1} (${r.text}): one answer`);
          assert.equal(
            s[0]!.rationale,
            `for: ${r.text}`,
            `${where}, line ${i + 1}: the answer computed for its own text`,
          );
          assert.equal(s[0]!.value, labelFor(r.text));
        });
      };
      const inEditor = Array.from({ length: doc.store.lineCount }, (_, i) => doc.store.line(i).value as Rec);
      check(inEditor, 'in the editor');
      assert.equal(inEditor[2]!.text, 'review 2, rewritten while the job ran');
      // The job saved its results with the person's edits (the store's save), and the file says the same.
      const onDisk = readFileSync(uri.fsPath, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Rec);
      check(onDisk, 'on disk');
      assert.ok(summary.ok >= N - 1);
    } finally {
      await server.close();
    }
  });

  it('a label job inside VS Code keeps its connections alive: a few for 60 requests, not one each', async () => {
    // VS Code's proxy support wraps every request of an extension in an agent of its own, which
    // asks the server to close the connection after the answer unless the request says otherwise
    // (microsoft/vscode#173861): each request would pay a new connection (a TLS handshake, for a
    // hosted endpoint).
    const api = await activateExtension();
    const server = await startOpenAIServer({ latencyMs: 5 });
    const N = 60;
    const uri = await reviews('job-connections.jsonl', N, false);
    const doc = await openInCurationEditor(api, uri);
    server.respond = (req) => answer(req.body as ChatBody);
    try {
      const summary = await labelJob(doc, uri, server.baseURL, editorSink(doc), 4);
      assert.equal(summary.ok, N);
      assert.equal(server.counts.chat, N);
      assert.ok(
        server.counts.connections <= 4,
        `${server.counts.connections} connections for ${N} requests, 4 at a time`,
      );
    } finally {
      await server.close();
    }
  });

  it('a long job over an open file saves its results as it goes while the person has no unsaved edits; the editor shows every one, none is dropped by its own saves', async () => {
    const api = await activateExtension();
    const server = await startOpenAIServer({ latencyMs: 10 });
    const N = 120;
    const uri = await reviews('job-saves-as-it-goes.jsonl', N);
    const doc = await openInCurationEditor(api, uri);
    const labeledOnDisk = (): number => (readFileSync(uri.fsPath, 'utf8').match(/"label":"(even|odd)"/g) ?? []).length;
    const seenOnDisk: number[] = [];
    let dirty = false;
    server.respond = (req) => {
      seenOnDisk.push(labeledOnDisk());
      dirty ||= doc.isDirty;
      return answer(req.body as ChatBody);
    };
    try {
      // The product's sink (as "Label…" gives the operation), saving every 20 results instead of 50,000.
      const summary = await labelJob(doc, uri, server.baseURL, editorSink(doc, { saveEvery: 20 }), 4);
      assert.equal(summary.ok, N);
      assert.ok(
        seenOnDisk.some((c) => c >= 20 && c < N),
        `results reached the file while the job ran: ${[...new Set(seenOnDisk)].join(', ')}`,
      );
      assert.equal(dirty, false, 'the document never showed unsaved changes');
      // VS Code's file watcher saw each save: none may be taken for another program's change
      // (which would reload the file and drop the results not yet saved).
      await new Promise((r) => setTimeout(r, 1500));
      const recs = Array.from({ length: doc.store.lineCount }, (_, i) => doc.store.line(i).value as Rec);
      assert.equal(recs.length, N);
      recs.forEach((r, i) => assert.equal(r.label, labelFor(r.text), `line ${i + 1} in the editor`));
      assert.equal(labeledOnDisk(), N, 'every result on disk');
      assert.equal(doc.store.dirty, false);
      await waitFor('the editor at rest', () => (!doc.isDirty ? true : undefined));
    } finally {
      await server.close();
    }
  });
});
