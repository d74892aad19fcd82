// Batch jobs in VS Code: "Run as Batch" (label, rationale, judge, critique: the registry's batch
// mode through the one runner, jobs.ts runOperation), the batches polled in the background with a
// status bar item, a notification when the results land, and on activation the unfinished batch
// jobs of the workspace's datasets picked up again (their journal and options are beside the file:
// src/core/llm/batch/operation.ts pendingBatchJobs). "Cancel Batch Jobs" cancels a file's batches.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobSummary } from '../core/jobs/runner';
import { BatchApiClient } from '../core/llm/batch/api';
import { isBatchTask, pendingBatchJobs } from '../core/llm/batch/operation';
import { batchJobStatus, cancelBatchJob, listBatchJobs } from '../core/llm/batch/run';
import type { LlmEnv } from '../core/llm/tasks';
import { confidenceEntry, generateEntries, llmEntries } from '../core/registry';
import type { ConfidenceReport } from '../core/llm/batch/compare-run';
import type { GenerateSummary } from '../core/synth';
import type { CurationEditorProvider } from './curationEditor';
import { batchFace, runOperation } from './jobs';
import { documentEnv, doingOf } from './llmCommands';
import { isLocal } from './llmFace';
import type { Log } from './log';
import { apiKey, endpointSettings } from './settings';

/** What a resumed batch job gives: a job's summary, a generation's, a comparison's report (undefined: stopped or failed). */
export type ResumedResult = JobSummary | GenerateSummary | ConfidenceReport | undefined;

/** What the extension's API offers of batch jobs (the integration tests use it). */
export interface BatchJobsApi {
  /** Picks up the workspace's unfinished batch jobs (as on activation); resolves when they end. */
  resume(): Promise<ResumedResult[]>;
  /** The batch journals being polled now. */
  pending(): string[];
}

/** The generations that run as a batch, by registry id (their batch jobs resume too). */
const GENERATORS = {
  'generate-instructions': 'instructions',
  'generate-responses': 'responses',
  'generate-preferences': 'preferences',
  'generate-dialogues': 'dialogues',
} as const;

/** The dataset a batch journal belongs to (`<file>.curator-journal/<job>.batch.jsonl`). */
function datasetOf(journal: string): string {
  return path.dirname(journal).replace(/\.curator-journal$/, '');
}

export function registerBatchJobs(
  context: vscode.ExtensionContext,
  deps: { editors: CurationEditorProvider; log: Log },
): BatchJobsApi {
  const { editors, log } = deps;
  const polling = new Set<string>();

  async function resume(): Promise<ResumedResult[]> {
    // The jobs' options and endpoints are files of the workspace: an untrusted one is not followed.
    if (!vscode.workspace.isTrusted) return [];
    const journals = await vscode.workspace.findFiles('**/*.curator-journal/*.batch.jsonl');
    const datasets = [...new Set(journals.map((u) => datasetOf(u.fsPath)))].sort();
    // The user's key and the output channel (a job whose file is open uses its document's env).
    const userEnv: LlmEnv = { apiKey: () => apiKey(context.secrets), log: (l) => log.info(l) };
    const runs: Array<Promise<ResumedResult>> = [];
    for (const dataset of datasets) {
      const jobs = pendingBatchJobs(dataset, (job, why) => log.warn(`batch job ${job} of ${dataset}: ${why}`));
      for (const job of jobs) {
        if (polling.has(job.journal)) continue;
        const uri = vscode.Uri.file(dataset);
        const s = await endpointSettings(uri);
        if (job.baseURL !== s.baseUrl) {
          log.warn(
            `batch job ${job.job} of ${dataset} is not picked up: its batches are at ${job.baseURL}, the endpoint is ${s.baseUrl}. Point datasetCurator.llm.baseUrl there, or cancel it with "curate batch cancel".`,
          );
          continue;
        }
        if (!(await apiKey(context.secrets)) && !isLocal(job.baseURL)) {
          log.warn(`batch job ${job.job} of ${dataset} is not picked up: no API key (Dataset Curator: Set API Key)`);
          continue;
        }
        const doc = editors.documentFor(uri);
        const refresh = (): void => doc?.notifyChanged(undefined);
        log.info(`batch job ${job.job} of ${dataset}: unfinished; waiting for its batches again`);
        polling.add(job.journal);
        const task = job.task;
        let run: Promise<ResumedResult>;
        if (task === 'confidence') {
          // a comparison of confidences: its report, shown when it lands (nothing is written to the file)
          run = runOperation(
            confidenceEntry(userEnv),
            job.options,
            batchFace<ConfidenceReport>(`Comparing confidence of ${path.basename(dataset)}`, log),
          );
        } else if (isBatchTask(task)) {
          run = runOperation(
            llmEntries(doc ? documentEnv(context, doc, log) : userEnv)[task],
            job.options,
            batchFace(`${doingOf(task)} ${path.basename(dataset)}`, log, refresh),
          );
        } else {
          // a generation as a batch (its dataset is the output file it writes)
          const synth = GENERATORS[task];
          const entry = generateEntries(userEnv)[synth];
          run = runOperation(
            entry,
            job.options,
            batchFace<GenerateSummary>(`Generating ${synth} into ${path.basename(dataset)}`, log, refresh),
          );
        }
        runs.push(run.finally(() => polling.delete(job.journal)));
      }
    }
    return Promise.all(runs);
  }

  context.subscriptions.push(
    vscode.commands.registerCommand('datasetCurator.cancelBatchJobs', async (arg: unknown) => {
      const uri =
        arg instanceof vscode.Uri
          ? arg
          : arg && typeof arg === 'object' && 'uri' in arg && arg.uri instanceof vscode.Uri
            ? arg.uri
            : vscode.window.activeTextEditor?.document.uri;
      if (!uri) {
        void vscode.window.showWarningMessage('Select a dataset file (.jsonl) whose batch jobs to cancel.');
        return;
      }
      const jobs = listBatchJobs(uri.fsPath).filter((j) => j.unfinished);
      if (jobs.length === 0) {
        void vscode.window.showInformationMessage(`${path.basename(uri.fsPath)} has no unfinished batch job.`);
        return;
      }
      const s = await endpointSettings(uri);
      const key = await apiKey(context.secrets);
      const said: string[] = [];
      for (const j of jobs) {
        const at = batchJobStatus(j.path).header?.base_url;
        if (at !== s.baseUrl) {
          said.push(`${j.job}: its batches are at ${at ?? '?'}, not at the endpoint ${s.baseUrl}; not cancelled`);
          continue;
        }
        try {
          const r = await cancelBatchJob(new BatchApiClient({ baseURL: s.baseUrl, apiKey: key }), j.path);
          said.push(
            `${j.job}: ${r.length ? r.map((x) => `${x.batchId} ${x.status}`).join(', ') : 'nothing more is sent'}`,
          );
        } catch (err) {
          said.push(`${j.job}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      for (const l of said) log.info(`Cancel Batch Jobs: ${l}`);
      void vscode.window.showInformationMessage(`Batch jobs of ${path.basename(uri.fsPath)}: ${said.join('; ')}`);
    }),
  );

  // On activation: the unfinished batch jobs of the workspace's datasets are polled again.
  void resume().catch((err: unknown) => log.error('resuming batch jobs failed', err));
  return { resume, pending: () => [...polling] };
}
