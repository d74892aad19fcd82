// "Label Records…" and "Judge Records…": the core's LLM operations over a dataset, with the
// endpoint from settings, the key from SecretStorage or OPENAI_API_KEY, an estimate confirmed above
// a cost threshold, progress with cancel, and results that appear in the Curation Editor as they
// arrive (written through the store and saved atomically; the journal makes a killed job resume).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ZodType } from 'zod';
import { llmOperations, type CommonOptions } from '../core/llm/tasks';
import { StoreRecordSource, StoreResultSink } from '../core/jobs/store-io';
import type { RecordSource, SourceRecord } from '../core/jobs/types';
import type { TaskResult } from '../core/llm/apply-result';
import type { JobSummary } from '../core/jobs/runner';
import type { Operation } from '../core/operation';
import { CurationEditorProvider } from './curationEditor';
import { apiKey, readEndpointSettings } from './settings';
import { runWithProgress } from './jobs';
import type { Log } from './log';

type Kind = 'annotate' | 'judge';

/** Whether an endpoint is on this machine (a keyless local server is fine). */
export function isLocal(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '::1' || h === '[::1]';
  } catch {
    return false;
  }
}

/** One record of the store as a job's whole source (the job's index 0 is the record's index). */
class OneRecord implements RecordSource {
  constructor(
    private readonly inner: StoreRecordSource,
    readonly index: number,
  ) {}
  count(): number {
    return 1;
  }
  get(): SourceRecord {
    return this.inner.get(this.index);
  }
}

/**
 * Runs a task over a file (`record` undefined) or over one record of it (the curation editor's
 * "Label This Record" / "Judge This Record": no questions asked, one request).
 */
export async function runLlmCommand(
  kind: Kind,
  uri: vscode.Uri,
  context: vscode.ExtensionContext,
  editors: CurationEditorProvider,
  log: Log,
  record?: number,
): Promise<JobSummary | undefined> {
  const name = record === undefined ? path.basename(uri.fsPath) : `line ${record + 1} of ${path.basename(uri.fsPath)}`;
  const s = readEndpointSettings(uri);
  if (s.ignored.length) {
    void vscode.window.showWarningMessage(
      `This workspace is not trusted, so its settings ${s.ignored.join(', ')} were ignored; requests go to ${s.baseUrl}. Trust the workspace to use them.`,
    );
    log.warn(`untrusted workspace: ignored ${s.ignored.join(', ')}`);
  }
  const key = await apiKey(context.secrets);
  if (!key && !isLocal(s.baseUrl)) {
    const pick = await vscode.window.showWarningMessage(`No API key for ${s.baseUrl}. Set one (kept in SecretStorage) or set OPENAI_API_KEY.`, 'Set API Key');
    if (pick) await vscode.commands.executeCommand('datasetCurator.setApiKey');
    if (!(await apiKey(context.secrets))) return undefined;
  }

  // Open it in the Curation Editor: the results show up there as they arrive.
  await vscode.commands.executeCommand('vscode.openWith', uri, CurationEditorProvider.viewType);
  const doc = editors.documentFor(uri);
  if (!doc) throw new Error(`${name} could not be opened in the Curation Editor`);
  await doc.store.ready;
  if (doc.isDirty) {
    const save = await vscode.window.showWarningMessage(`${name} has unsaved edits. Save them before the job writes its results?`, { modal: true }, 'Save and Run');
    if (save !== 'Save and Run') return undefined;
    await vscode.commands.executeCommand('workbench.action.files.save');
    if (doc.isDirty) return undefined;
  }

  const extra: Record<string, unknown> = {};
  if (record !== undefined) {
    if (kind === 'annotate') {
      const labels = doc.labels();
      if (labels.length < 2) throw new Error('Set the label set first (datasetCurator.labels), or label the whole file once.');
      extra.labels = labels;
    }
    extra.jobId = `${kind}-line-${record + 1}-${Date.now().toString(36)}`;
  } else if (kind === 'annotate') {
    const labels = await vscode.window.showInputBox({
      title: `Label ${name} with ${s.model}`,
      prompt: 'The label set, separated by commas',
      value: doc.labels().join(', '),
      ignoreFocusOut: true,
      validateInput: (v) => (v.split(',').map((x) => x.trim()).filter(Boolean).length >= 2 ? undefined : 'Give at least two labels'),
    });
    if (!labels) return undefined;
    extra.labels = labels.split(',').map((x) => x.trim()).filter(Boolean);
  } else {
    const rubric = await vscode.window.showInputBox({
      title: `Judge ${name} with ${s.taskModels.judge ?? s.model}`,
      prompt: 'The rubric: what makes a record good training data',
      value: 'Overall quality as training data: the label is correct, the text is clear, helpful and safe.',
      ignoreFocusOut: true,
    });
    if (!rubric) return undefined;
    extra.rubric = rubric;
  }

  const ops = llmOperations({
    apiKey: () => apiKey(context.secrets),
    openSource: async () => (record === undefined ? new StoreRecordSource(doc.store) : new OneRecord(new StoreRecordSource(doc.store), record)),
    openSink: async () => {
      const sink = new StoreResultSink(doc.store, { onApplied: (i, edit) => doc.notifyChanged(i, [edit]) });
      if (record === undefined) return sink;
      return { apply: (_i: number, result: TaskResult) => sink.apply(record, result), flush: () => sink.flush() };
    },
    log: (l) => log.info(l),
  });
  const op = ops[kind] as unknown as Operation<ZodType<CommonOptions>, JobSummary>;
  const options = op.options.parse({
    input: uri.fsPath,
    baseURL: s.baseUrl,
    model: s.taskModels[kind === 'annotate' ? 'label' : 'judge'] ?? s.model,
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    concurrency: s.concurrency,
    requestsPerMinute: s.requestsPerMinute,
    tokensPerMinute: s.tokensPerMinute,
    timeoutSeconds: s.timeoutSeconds,
    pricePerMillionInputTokens: s.pricePerMillionInput,
    pricePerMillionOutputTokens: s.pricePerMillionOutput,
    ...extra,
  });
  const est = await op.estimate!(options, { signal: new AbortController().signal });
  log.info(`${kind} ${name}: ${est.records} records, ~${est.requests} requests, ~${est.inputTokens}+${est.outputTokens} tokens, ~$${(est.cost ?? 0).toFixed(4)}`);
  if ((est.cost ?? 0) > s.confirmCostAbove) {
    const go = await vscode.window.showWarningMessage(
      `${kind === 'annotate' ? 'Labeling' : 'Judging'} ${name} takes about ${est.requests} requests and costs about $${(est.cost ?? 0).toFixed(2)}.`,
      { modal: true },
      'Run',
    );
    if (go !== 'Run') return undefined;
  }
  const title = `${kind === 'annotate' ? 'Labeling' : 'Judging'} ${name}`;
  if (record !== undefined) log.info(`${title}: one request`);
  const summary = await runWithProgress(op, options, {
    title,
  }, log);
  doc.notifyChanged(undefined);
  if (!summary) return undefined;
  const msg = `${title}: ${summary.ok} done, ${summary.failed.length} failed, ${summary.skipped.length} skipped, ${summary.cached} from cache; ${summary.requests} requests${summary.cost ? `, $${summary.cost.toFixed(4)}` : ''}.`;
  log.info(msg);
  for (const f of summary.failed) log.warn(`${name}:${f.line}: ${f.reason}`);
  if (summary.failed.length) {
    const action = await vscode.window.showWarningMessage(msg, 'Show Failures', 'Retry Failed');
    if (action === 'Show Failures') log.show();
    if (action === 'Retry Failed') return runLlmCommand(kind, uri, context, editors, log, record);
  } else void vscode.window.showInformationMessage(msg);
  return summary;
}
