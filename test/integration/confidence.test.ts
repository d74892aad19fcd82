// "Compare Logprob Confidence with Self-Consistency…" (issue 16): the registry's confidence
// operation, which `curate confidence` runs too, from its VS Code command on the sample against
// the loopback server (logprobs served): the label set and the samples asked, then the report
// opens beside as a Markdown document with the words `curate confidence` prints and the records
// one by one; the file is not touched. As a batch: one batch job, the same report.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { confidenceReportLines } from '../../src/core/llm/batch/compare-run';
import { quietContext } from '../../src/core/operation';
import { confidenceEntry } from '../../src/core/registry';
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { activateExtension, scratchFile, waitFor } from './helpers';

const LABELS = ['positive', 'negative', 'neutral'];

describe('Compare Logprob Confidence with Self-Consistency', () => {
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

  /** Runs the command on a copy of the sample, accepting its questions; resolves with the report shown. */
  async function runCommand(command: string, name: string): Promise<{ uri: vscode.Uri; text: string }> {
    await activateExtension();
    const s = (server = await startOpenAIServer());
    await cfg().update('llm.baseUrl', s.baseURL, G);
    await cfg().update('llm.model', 'm', G);
    await cfg().update('labels', LABELS, G);
    const uri = await scratchFile(name); // the sample (samples/reviews.jsonl)
    const before = readFileSync(uri.fsPath, 'utf8');
    void vscode.commands.executeCommand(command, uri);
    const title = `# Logprob confidence vs self-consistency: ${name}`;
    const shown = await waitFor(
      'the report beside',
      async () => {
        const editor = vscode.window.visibleTextEditors.find((e) => e.document.getText().startsWith(title));
        if (editor) return editor;
        // the questions: the label set (from the settings), the samples (5)
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return undefined;
      },
      50_000,
    );
    assert.equal(shown.document.languageId, 'markdown');
    assert.equal(readFileSync(uri.fsPath, 'utf8'), before, 'the file is not touched');
    return { uri, text: shown.document.getText() };
  }

  /** The report's words as the core gives them for the same records and measures (what `curate confidence` prints). */
  async function coreLines(uri: vscode.Uri): Promise<string[]> {
    const s = server;
    assert.ok(s);
    const raw = { input: uri.fsPath, baseURL: s.baseURL, model: 'm', labels: LABELS, k: 5, noCache: true };
    const report = await confidenceEntry({ apiKey: () => 'sk-test' })
      .prepare(raw)
      .run(quietContext());
    // all but the last line (requests, cache and tokens differ between two runs)
    return confidenceReportLines(report).slice(0, -1);
  }

  it('on the sample: the report opens beside, in the words of curate confidence, with every record', async () => {
    const { uri, text } = await runCommand('datasetCurator.confidence', 'confidence.jsonl');
    const records = readFileSync(uri.fsPath, 'utf8').trimEnd().split('\n').length;
    assert.match(text, new RegExp(`- ${records} of ${records} record\\(s\\) measured both ways with m: logprobs`));
    assert.match(text, /- same label: \d+%; Pearson /);
    for (const line of await coreLines(uri)) assert.ok(text.includes(`- ${line}`), `the report has: ${line}`);
    const rows = text.split('\n').filter((l) => /^\| \d+ \| /.test(l));
    assert.equal(rows.length, records, 'a row a record');
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      assert.ok(LABELS.includes(cells[2] ?? ''), row);
      assert.ok(LABELS.includes(cells[4] ?? ''), row);
    }
    assert.equal(server?.batches.list().length, 0, 'online: no batch');
  });

  it('as a batch: one batch job for both measures, the same report', async () => {
    const { uri, text } = await runCommand('datasetCurator.confidenceBatch', 'confidence-batch.jsonl');
    const batches = server?.batches.list() ?? [];
    assert.equal(batches.length, 1, 'one batch');
    assert.equal(batches[0]?.status, 'completed');
    for (const line of await coreLines(uri)) assert.ok(text.includes(`- ${line}`), `the report has: ${line}`);
  });
});
