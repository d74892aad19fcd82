// "Compare Logprob Confidence with Self-Consistency…" (and "… as a Batch…"): the registry's
// `confidence` operation (src/core/registry.ts confidenceEntry), as `curate confidence` runs it.
// The label set and the samples are asked (pre-filled with this workspace's last answers, else the
// datasetCurator.labels setting); the endpoint and the model are the settings' (the consistency
// task's model override applied); the estimate is confirmed above the cost threshold; nothing is
// written to the file. The report (the CLI's lines and the records one by one) opens as a
// Markdown document beside, and its headline is the notification's.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfidenceReport } from '../core/llm/batch/compare-run';
import { confidenceReportLines } from '../core/llm/batch/compare-run';
import { confidenceEntry } from '../core/registry';
import { batchFace, runOperation } from './jobs';
import { endpointFor, engineOptions } from './llmFace';
import { splitList, type LlmDeps } from './llmCommands';
import { apiKey, modelFor, setting } from './settings';

const LAST = 'datasetCurator.llm.last.confidence';

/** The report as a Markdown document: the summary lines, the failures, the records one by one. */
export function confidenceReportMarkdown(r: ConfidenceReport, fileName: string): string {
  // Labels come from the model: kept to one line and out of the table's syntax.
  const cell = (s: string): string => s.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const out = [`# Logprob confidence vs self-consistency: ${fileName}`, ''];
  for (const l of confidenceReportLines(r)) out.push(`- ${l}`);
  if (r.failed.length) {
    out.push('', '## Failed', '');
    for (const f of r.failed) out.push(`- line ${f.line} (${f.measure}): ${cell(f.reason)}`);
  }
  if (r.rows.length) {
    out.push(
      '',
      '## Records',
      '',
      '| line | logprobs label | logprobs confidence | self-consistency label | self-consistency confidence |',
      '| ---: | --- | ---: | --- | ---: |',
    );
    for (const x of r.rows)
      out.push(
        `| ${x.line} | ${cell(x.logprobs.label)} | ${x.logprobs.confidence.toFixed(3)} | ${cell(x.consistency.label)} | ${x.consistency.confidence.toFixed(3)} |`,
      );
  }
  return `${out.join('\n')}\n`;
}

/** Runs the comparison on a file; resolves with the report, or undefined when it did not run to the end. */
export async function confidenceCommand(
  uri: vscode.Uri,
  deps: LlmDeps,
  opts: { batch?: boolean } = {},
): Promise<ConfidenceReport | undefined> {
  const { context, log } = deps;
  const name = path.basename(uri.fsPath);
  const s = await endpointFor(uri, context, log);
  if (!s) return undefined;
  const model = modelFor('consistency', s);
  const last = context.workspaceState.get<{ labels?: unknown; k?: unknown }>(LAST) ?? {};
  const title = `Compare logprob confidence with self-consistency on ${name} with ${model}`;
  const lastLabels =
    Array.isArray(last.labels) && last.labels.every((x) => typeof x === 'string') ? last.labels : undefined;
  const labelsText = await vscode.window.showInputBox({
    title,
    prompt: 'The label set, separated by commas',
    value: (lastLabels ?? setting('labels', uri)).join(', '),
    ignoreFocusOut: true,
    validateInput: (v) => (splitList(v).length >= 2 ? undefined : 'Give at least two labels'),
  });
  if (labelsText === undefined) return undefined;
  const kText = await vscode.window.showInputBox({
    title,
    prompt: 'Self-consistency samples per record (the majority is its label, the share that agrees its confidence)',
    value: String(typeof last.k === 'number' ? last.k : 5),
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^\d+$/.test(v.trim()) && Number(v) >= 2 && Number(v) <= 50 ? undefined : 'A number from 2 to 50',
  });
  if (kText === undefined) return undefined;
  const labels = splitList(labelsText);
  const k = Number(kText);
  await context.workspaceState.update(LAST, { labels, k });
  const dirty = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && d.isDirty);
  if (dirty || deps.editors.documentFor(uri)?.isDirty)
    log.warn(`${name} has unsaved edits: the comparison reads the file as saved`);

  const raw = {
    input: uri.fsPath,
    inPlace: true,
    ...engineOptions(s),
    model,
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    labels,
    k,
  };
  const entry = confidenceEntry({ apiKey: () => apiKey(context.secrets), log: (l) => log.info(l) });
  const show = (r: ConfidenceReport | undefined): void => {
    if (!r) return;
    for (const l of confidenceReportLines(r)) log.info(`${title}: ${l}`);
    void vscode.workspace
      .openTextDocument({ language: 'markdown', content: confidenceReportMarkdown(r, name) })
      .then((d) => vscode.window.showTextDocument(d, { preview: true, viewColumn: vscode.ViewColumn.Beside }));
  };
  const doing = `Comparing logprob confidence with self-consistency on ${name}`;
  const what = `Compare logprob confidence with self-consistency (${k} samples) on ${name} with ${model}`;
  return opts.batch
    ? runOperation(entry, raw, {
        ...batchFace<ConfidenceReport>(doing, log),
        // not resumed on activation (no options beside its journal): the same command resumes it
        cancelled: `Stopped waiting for the batches of ${doing}: they go on at the provider, nothing was cancelled. Run the same command again to resume them.`,
        confirm: { what: `${what} as a batch (at batch prices)`, settings: s },
        ran: show,
      })
    : runOperation(entry, raw, { title: doing, log, confirm: { what, settings: s }, ran: show });
}
