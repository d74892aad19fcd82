// Runs a core operation in VS Code: a cancellable progress notification ("record x of y", tokens,
// cost, errors, ETA), a status bar item, lines in the output channel. The operation itself is the
// core's; this is only its face. `runOperation` is the one runner of a registry operation: the
// estimate confirmed above llm.confirmCostAbove, the run, its summary with "Show Failures" and
// "Retry Failed".
import * as vscode from 'vscode';
import type { z } from 'zod';
import type { Operation, OperationContext, Progress } from '../core/operation';
import type { OperationEntry, Summary } from '../core/registry';
import type { EndpointSettings } from './settings';
import { confirmEstimate } from './llmFace';
import type { Log } from './log';

export interface JobFace {
  title: string;
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

export function runWithProgress<S extends z.ZodType, R>(op: Operation<S, R>, options: z.output<S>, face: JobFace, log: Log): Promise<R | undefined> {
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
}

/**
 * Runs an operation of the registry: estimate (confirmed above the threshold), run with progress,
 * the summary (the same words as the CLI's) in a notification and the log. The result, or undefined
 * when it did not run to the end (declined, cancelled, failed: the user was told).
 */
export async function runOperation<R>(op: OperationEntry<R>, raw: Record<string, unknown>, face: RunFace<R>): Promise<R | undefined> {
  const { log } = face;
  for (let options = raw; ; options = face.retry?.(options) ?? options) {
    const prepared = op.prepare(options);
    if (face.confirm) {
      const est = await prepared.estimate(new AbortController().signal);
      if (est && !(await confirmEstimate(face.confirm.what, est, face.confirm.settings, log, face.confirm.action))) return undefined;
    }
    const result = await withProgress((ctx) => prepared.run(ctx), face, log);
    face.ran?.(result);
    if (result === undefined) return undefined;
    const summary = prepared.summarize(result);
    const msg = messageOf(face.title, summary);
    log.info(msg);
    for (const f of summary.failures) log.warn(`${face.title}: ${f.where}: ${f.reason}`);
    for (const f of summary.skipped) log.info(`${face.title}: ${f.where} skipped: ${f.reason}`);
    if (face.quiet) return result;
    if (summary.failures.length > 0) {
      const action = await vscode.window.showWarningMessage(msg, 'Show Failures', 'Retry Failed');
      if (action === 'Show Failures') log.show();
      if (action === 'Retry Failed') continue;
    } else if (summary.outcome !== 'ok') {
      if (await vscode.window.showWarningMessage(msg, 'Show Log')) log.show();
    } else if (await vscode.window.showInformationMessage(msg, ...(summary.skipped.length ? ['Show Skipped'] : []))) log.show();
    return result;
  }
}

/** The notification's words: the CLI's summary, with the per-part details and the closing note. */
export function messageOf(title: string, s: Summary): string {
  const details = s.details.length ? ` (${s.details.join('; ')})` : '';
  return `${title}: ${s.headline}${details}.${s.note ? ` ${s.note[0]?.toUpperCase()}${s.note.slice(1)}.` : ''}`;
}

async function withProgress<R>(run: (ctx: OperationContext) => Promise<R>, face: JobFace, log: Log): Promise<R | undefined> {
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.name = 'Dataset Curator job';
  status.text = `$(sync~spin) ${face.title}`;
  status.show();
  const started = Date.now();
  log.info(`${face.title}: started`);
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: face.title, cancellable: true },
      async (progress, token) => {
        const ac = new AbortController();
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
            const parts = p.message && /\d of \d/.test(p.message)
              ? [p.message, face.detail?.(p)].filter(Boolean)
              : [
                  p.total !== undefined ? `${p.unit ?? 'record'} ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')}` : `${p.done.toLocaleString('en-US')} ${p.unit ?? 'records'}`,
                  face.detail?.(p),
                  p.message,
                  eta,
                ].filter(Boolean);
            const message = parts.join(' · ');
            progress.report({ message, increment: Math.max(0, (share - lastShare) * 100) });
            lastShare = share;
            status.text = `$(sync~spin) ${face.title}: ${p.total ? `${Math.floor(share * 100)}%` : p.done}`;
            status.tooltip = message;
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
      void vscode.window.showInformationMessage(face.cancelled ?? `${face.title} was cancelled. Finished records are kept; run it again to resume.`);
      return undefined;
    }
    log.error(`${face.title} failed`, err);
    void vscode.window.showErrorMessage(`${face.title} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    status.dispose();
    log.info(`${face.title}: ended after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
