// Runs a core operation in VS Code: a cancellable progress notification ("record x of y", tokens,
// cost, errors, ETA), a status bar item, lines in the output channel. The operation itself is the
// core's; this is only its face. `runOperation` is the one runner of a registry operation: the
// estimate confirmed above llm.confirmCostAbove, the run, its summary with "Show Failures" and
// "Retry Failed".
import * as vscode from 'vscode';
import type { z } from 'zod';
import type { Estimate, EstimateContext, Operation, OperationContext, Progress } from '../core/operation';
import type { OperationEntry, Summary } from '../core/registry';
import type { EndpointSettings } from './settings';
import { confirmEstimate } from './llmFace';
import type { Log } from './log';

export interface JobFace {
  title: string;
  /** In the status bar (the window's progress), not a notification: a job that waits for hours (a batch). */
  background?: boolean;
  /** Extra text after "x of y" (tokens, cost, errors), from the latest progress. */
  detail?: (p: Progress) => string | undefined;
  /** What to say when the user cancels (default: finished records are kept, run again to resume). */
  cancelled?: string;
}

export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s left`;
  return `${Math.floor(m / 60)}h ${m % 60}m left`;
}

/** A job running now: what its status bar item's click shows, and how it is cancelled. */
interface RunningJob {
  id: number;
  title: string;
  started: number;
  /** The latest progress line. */
  message: string;
  /** What a cancel keeps, under "Cancel the Job" (default: finished records). */
  cancelKeeps?: string;
  cancel(): void;
}

const running = new Map<number, RunningJob>();
let nextJobId = 1;

/** The jobs running now, oldest first (tests and the status bar command). */
export function runningJobs(): readonly Pick<RunningJob, 'id' | 'title' | 'message'>[] {
  return [...running.values()];
}

function setJobContext(): void {
  void vscode.commands.executeCommand('setContext', 'datasetCurator.jobRunning', running.size > 0);
}

/**
 * `datasetCurator.showJob`: the status bar item's click. Shows the job (its progress line) and
 * offers to show the output channel or to cancel it (the same cancel as the notification's).
 * With several jobs and none named, asks which.
 */
export function registerJobCommands(context: vscode.ExtensionContext, log: Log): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('datasetCurator.showJob', async (id?: unknown) => {
      let job = typeof id === 'number' ? running.get(id) : undefined;
      if (!job) {
        const jobs = [...running.values()];
        if (jobs.length === 0) {
          void vscode.window.showInformationMessage('No Dataset Curator job is running.');
          return;
        }
        if (jobs.length === 1) job = jobs[0];
        else {
          const pick = await vscode.window.showQuickPick(
            jobs.map((j) => ({ label: j.title, description: j.message, job: j })),
            { title: 'Dataset Curator: running jobs', placeHolder: 'Which job?' },
          );
          job = pick?.job;
        }
      }
      if (!job) return;
      const mins = Math.floor((Date.now() - job.started) / 60000);
      const secs = Math.floor(((Date.now() - job.started) % 60000) / 1000);
      const items: (vscode.QuickPickItem & { act: 'output' | 'cancel' })[] = [
        { label: '$(output) Show the Output', description: 'the "Dataset Curator" output channel', act: 'output' },
        {
          label: '$(stop-circle) Cancel the Job',
          description: job.cancelKeeps ?? 'finished records are kept; run it again to resume',
          act: 'cancel',
        },
      ];
      const pick = await vscode.window.showQuickPick(items, {
        title: `${job.title} · running for ${mins ? `${mins}m ` : ''}${secs}s`,
        placeHolder: job.message || 'starting',
      });
      if (pick?.act === 'output') log.show();
      if (pick?.act === 'cancel' && running.has(job.id)) {
        log.info(`${job.title}: cancel asked from the status bar`);
        job.cancel();
      }
    }),
  );
}

/**
 * A job in the running list and in the status bar (its item's click shows it and cancels it): the
 * job (its `message` is the line the click shows), its status bar item, and `dispose`, which ends it.
 */
function trackJob(
  title: string,
  cancel: () => void,
  cancelKeeps?: string,
): { job: RunningJob; status: vscode.StatusBarItem; dispose(): void } {
  const job: RunningJob = {
    id: nextJobId++,
    title,
    started: Date.now(),
    message: '',
    cancel,
    ...(cancelKeeps ? { cancelKeeps } : {}),
  };
  running.set(job.id, job);
  setJobContext();
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.name = 'Dataset Curator job';
  status.text = `$(sync~spin) ${title}`;
  status.tooltip = `${title}: click to see it or cancel it`;
  status.command = { command: 'datasetCurator.showJob', title: 'Show the job', arguments: [job.id] };
  status.accessibilityInformation = { label: `Dataset Curator job: ${title}. Activate to see it or cancel it.` };
  status.show();
  return {
    job,
    status,
    dispose: () => {
      running.delete(job.id);
      setJobContext();
      status.dispose();
    },
  };
}

export function runWithProgress<S extends z.ZodType, R>(
  op: Operation<S, R>,
  options: z.output<S>,
  face: JobFace,
  log: Log,
): Promise<R | undefined> {
  return withProgress((ctx) => op.run(options, ctx), face, log);
}

export interface RunFace<R> extends JobFace {
  log: Log;
  /** Ask before running above the settings' cost threshold (the LLM operations). */
  confirm?: { what: string; settings: EndpointSettings; action?: string };
  /** After each run (the editor shows the results). */
  ran?(result: R | undefined): void;
  /** The summary goes to the log only (the caller shows the result its own way). */
  quiet?: boolean;
  /** The options of a "Retry Failed" run (default: the same; a job's journal redoes only the failures). */
  retry?(raw: Record<string, unknown>): Record<string, unknown>;
  /**
   * Run the operation as a Batch API job (its registry entry's batch mode): the estimate at batch
   * prices, the batches polled in the background; "Retry Online" sends what the batch left failed
   * through the online path.
   */
  batch?: { retryOnline?: boolean };
}

/**
 * Runs an operation of the registry: estimate (confirmed above the threshold), run with progress,
 * the summary (the same words as the CLI's) in a notification and the log. The result, or undefined
 * when it did not run to the end (declined, cancelled, failed: the user was told).
 */
export async function runOperation<R>(
  op: OperationEntry<R>,
  raw: Record<string, unknown>,
  face: RunFace<R>,
): Promise<R | undefined> {
  const { log } = face;
  let retryOnline = face.batch?.retryOnline === true;
  for (let options = raw; ; options = face.retry?.(options) ?? options) {
    const prepared = op.prepare(options);
    const batch = face.batch ? prepared.batch : undefined;
    if (face.batch && !batch) throw new Error(`${op.title} cannot run as a batch`);
    if (face.confirm) {
      let est: Estimate | undefined;
      try {
        est = await estimateWithProgress(face.title, (ctx) => (batch ?? prepared).estimate(ctx));
      } catch (err) {
        if (!(err instanceof Error && err.name === 'AbortError')) throw err;
        log.info(`${face.title}: cancelled while its cost was estimated; nothing was sent`);
        void vscode.window.showInformationMessage(
          `${face.title} was cancelled while its cost was estimated. Nothing was sent and no file was changed.`,
        );
        return undefined;
      }
      if (est && !(await confirmEstimate(face.confirm.what, est, face.confirm.settings, log, face.confirm.action)))
        return undefined;
    }
    const result = await withProgress(
      (ctx) => (batch ? batch.run(ctx, { retryOnline }) : prepared.run(ctx)),
      face,
      log,
    );
    face.ran?.(result);
    if (result === undefined) return undefined;
    const summary = prepared.summarize(result);
    const msg = messageOf(face.title, summary);
    log.info(msg);
    for (const f of summary.failures) log.warn(`${face.title}: ${f.where}: ${f.reason}`);
    for (const f of summary.skipped) log.info(`${face.title}: ${f.where} skipped: ${f.reason}`);
    if (face.quiet) return result;
    if (summary.failures.length > 0) {
      // A batch's failures were its last word (a follow-up batch was sent already): retried online.
      const retry = batch ? 'Retry Online' : 'Retry Failed';
      const action = await vscode.window.showWarningMessage(msg, 'Show Failures', retry);
      if (action === 'Show Failures') log.show();
      if (action === retry) {
        retryOnline = true;
        continue;
      }
    } else if (summary.outcome !== 'ok') {
      if (await vscode.window.showWarningMessage(msg, 'Show Log')) log.show();
    } else if (await vscode.window.showInformationMessage(msg, ...(summary.skipped.length ? ['Show Skipped'] : [])))
      log.show();
    return result;
  }
}

/** How long an estimate runs before it shows (a small file's never does). */
const ESTIMATE_NOTICE_MS = 400;

/**
 * A job's cost estimate (a pass over the file's records, or a sample of them). When it takes more
 * than a moment it shows as a cancellable notification and as a job in the status bar (whose
 * click cancels it too), with how far it is. Throws an AbortError when it is cancelled.
 */
export async function estimateWithProgress(
  title: string,
  estimate: (ctx: EstimateContext) => Promise<Estimate | undefined>,
): Promise<Estimate | undefined> {
  const ac = new AbortController();
  let last: Progress | undefined;
  let show: ((p: Progress) => void) | undefined;
  const pending = estimate({
    signal: ac.signal,
    progress: (p) => {
      last = p;
      show?.(p);
    },
  });
  const settled = pending.then(
    () => true,
    () => true,
  );
  const quick = await Promise.race([
    settled,
    new Promise<false>((r) => setTimeout(() => r(false), ESTIMATE_NOTICE_MS)),
  ]);
  if (quick) return pending;
  const what = `${title}: estimating the cost`;
  const tracked = trackJob(what, () => ac.abort(), 'nothing was sent yet');
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: what, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let shown = 0;
        show = (p) => {
          const share = p.total ? p.done / p.total : 0;
          progress.report({ message: p.message ?? '', increment: Math.max(0, (share - shown) * 100) });
          shown = share;
          tracked.job.message = p.message ?? '';
          tracked.status.text = `$(sync~spin) ${what}: ${Math.floor(share * 100)}%`;
        };
        if (last) show(last);
        await settled;
      },
    );
  } finally {
    tracked.dispose();
  }
  return pending;
}

/** How a batch run shows: in the status bar while its batches are pending, a notification when they land. */
export function batchFace<R>(title: string, log: Log, ran?: () => void): RunFace<R> {
  const t = `${title} (batch)`;
  return {
    title: t,
    log,
    background: true,
    batch: {},
    cancelled:
      `Stopped waiting for the batches of ${title}: they go on at the provider, nothing was cancelled. ` +
      'Their results are applied when you run it again or reopen this workspace; "Dataset Curator: Cancel Batch Jobs" cancels them.',
    ...(ran ? { ran } : {}),
  };
}

/** The notification's words: the CLI's summary, with the per-part details and the closing note. */
export function messageOf(title: string, s: Summary): string {
  const details = s.details.length ? ` (${s.details.join('; ')})` : '';
  return `${title}: ${s.headline}${details}.${s.note ? ` ${s.note[0]?.toUpperCase()}${s.note.slice(1)}.` : ''}`;
}

async function withProgress<R>(
  run: (ctx: OperationContext) => Promise<R>,
  face: JobFace,
  log: Log,
): Promise<R | undefined> {
  const ac = new AbortController();
  const tracked = trackJob(face.title, () => ac.abort());
  const { job, status } = tracked;
  const started = Date.now();
  log.info(`${face.title}: started`);
  try {
    return await vscode.window.withProgress(
      {
        location: face.background ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
        title: face.title,
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let lastShare = 0;
        let lastLog = 0;
        return run({
          signal: ac.signal,
          log: (line) => log.info(`${face.title}: ${line}`),
          progress: (p) => {
            const share = p.total ? p.done / p.total : 0;
            const elapsed = Date.now() - started;
            // An operation's own message is the whole line ("record x of y · tokens · cost · errors · ETA").
            const eta = p.total && p.done > 0 ? formatEta((elapsed / p.done) * (p.total - p.done)) : '';
            // When an operation's own message already says how far it is (the LLM runner's: "x of
            // y records · tokens · cost · errors · ETA"), it is shown as it is, not repeated.
            const parts =
              p.message && /\d of \d/.test(p.message)
                ? [p.message, face.detail?.(p)].filter(Boolean)
                : [
                    p.total !== undefined
                      ? `${p.unit ?? 'record'} ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')}`
                      : `${p.done.toLocaleString('en-US')} ${p.unit ?? 'records'}`,
                    face.detail?.(p),
                    p.message,
                    eta,
                  ].filter(Boolean);
            const message = parts.join(' · ');
            progress.report({ message, increment: Math.max(0, (share - lastShare) * 100) });
            lastShare = share;
            status.text = `$(sync~spin) ${face.title}: ${p.total ? `${Math.floor(share * 100)}%` : p.done}`;
            status.tooltip = `${message}\nClick to see the job or cancel it.`;
            job.message = message;
            if (Date.now() - lastLog > 2000) {
              lastLog = Date.now();
              log.info(`${face.title}: ${message}`);
            }
          },
        });
      },
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') {
      log.info(`${face.title}: cancelled`);
      void vscode.window.showInformationMessage(
        face.cancelled ?? `${face.title} was cancelled. Finished records are kept; run it again to resume.`,
      );
      return undefined;
    }
    log.error(`${face.title} failed`, err);
    void vscode.window.showErrorMessage(`${face.title} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    tracked.dispose();
    log.info(`${face.title}: ended after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
