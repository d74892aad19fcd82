// Runs a core operation in VS Code: a cancellable progress notification ("record x of y", tokens,
// cost, errors, ETA), a status bar item, lines in the output channel. The operation itself is the
// core's; this is only its face.
import * as vscode from 'vscode';
import type { z } from 'zod';
import type { Operation, Progress } from '../core/operation';
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

export async function runWithProgress<S extends z.ZodType, R>(
  op: Operation<S, R>,
  options: z.output<S>,
  face: JobFace,
  log: Log,
): Promise<R | undefined> {
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
        return op.run(options, {
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
