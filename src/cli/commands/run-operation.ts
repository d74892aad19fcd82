// The CLI's one runner of a registry operation (src/core/registry.ts): parse the options (a problem
// is a usage error naming the flag), print the estimate and ask above --max-cost, run with progress
// on the terminal, print the summary (or --json), exit 1 when it is incomplete, and 130 with what
// is kept on Ctrl-C. Every LLM and generation subcommand goes through it. With --batch (an
// operation that has a batch mode: label, rationale, judge, critique, consistency, generate responses|preferences|dialogues) the same run goes through the
// Batch API: the estimate at batch prices, progress while the batches are polled, Ctrl-C stops
// waiting without cancelling them, and the same command run again resumes the same batches.
import { UserError, type Progress } from '../../core/operation';
import type { OperationEntry, Prepared, PreparedBatch, Summary } from '../../core/registry';
import { ExitCode, UsageError, type Io, type OptionValues } from '../cli';
import { confirmEstimate, estimateProgress, interrupted, progressPrinter, usageErrors } from './llm-common';

export interface CliFace<R> {
  /** How the command calls itself in its output ("annotate", "generate responses"). */
  name: string;
  /** After the estimate is confirmed, before the run (the CLI writes a job's copy then). */
  beforeRun?(): Promise<void>;
  /** Extra JSON and lines after the summary (the judges' agreement), from the result. */
  after?(result: R): Promise<{ json?: Record<string, unknown>; lines?: string[] }>;
  /** Options the core's log lines name, and the flags that set them here (replaceExisting: --replace). */
  flags?: Readonly<Record<string, string>>;
}

/** A core log line in the command line's words: the options it names become their flags. */
function inFlags(line: string, flags: Readonly<Record<string, string>> | undefined): string {
  if (!flags) return line;
  return line.replace(/\b[a-z][A-Za-z]*\b/g, (w) => flags[w] ?? w);
}

/** The flag of an option (maxTokens: --max-tokens). */
export function flagOf(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export async function runOperation<R>(
  op: OperationEntry<R>,
  raw: Record<string, unknown>,
  values: OptionValues,
  io: Io,
  face: CliFace<R>,
): Promise<number> {
  const printer = progressPrinter(io);
  const asBatch = values.batch === true;
  if (values['retry-online'] === true && !asBatch)
    throw new UsageError('--retry-online goes with --batch (it sends what the batch left failed online)');
  const flags = { ...face.flags, retryOnline: '--retry-online' };
  try {
    const prepared = usageErrors(() => op.prepare(raw));
    const batch = asBatch ? batchModeOf(prepared, face.name) : undefined;
    const target = targetOf(raw);
    try {
      const est = await (batch ?? prepared).estimate({ signal: io.signal, progress: estimateProgress(printer) });
      printer.done();
      if (est) {
        const go = await confirmEstimate(
          batch ? `${face.name} (as a batch, at batch prices)` : face.name,
          est,
          values,
          io,
        );
        if (go !== true) return go;
      }
      await face.beforeRun?.();
      const ctx = {
        signal: io.signal,
        log: (l: string) => io.err(`${inFlags(l, flags)}\n`),
        progress: batch ? batchProgress(io, printer.progress) : printer.progress,
      };
      if (batch)
        io.err(
          `${face.name}: waiting for the batches (up to 24 hours). Ctrl-C stops waiting without cancelling them: ` +
            `run the same command again to resume, or \`curate batch cancel ${target}\` to cancel them.\n`,
        );
      const result = await (batch
        ? batch.run(ctx, { retryOnline: values['retry-online'] === true })
        : prepared.run(ctx));
      printer.done();
      const summary = prepared.summarize(result);
      const more = (await face.after?.(result)) ?? {};
      if (values.json) io.out(`${JSON.stringify(more.json ? { ...result, ...more.json } : result, null, 2)}\n`);
      else print(face.name, summary, more.lines ?? [], io);
      return summary.outcome === 'ok' ? ExitCode.ok : ExitCode.failure;
    } catch (err) {
      printer.done();
      const c = prepared.cancelled(err);
      if (!c) throw err;
      // Finished records are journaled and saved; the same command resumes.
      if (values.json) io.out(`${JSON.stringify(c.result, null, 2)}\n`);
      const code = interrupted(io, c.kept);
      if (batch) io.err(`curate: to cancel the batches: curate batch cancel ${target}\n`);
      return code;
    }
  } catch (err) {
    if (err instanceof UserError)
      throw new UsageError(err.option ? `${err.message}: pass ${flagOf(err.option)}` : err.message);
    throw err;
  }
}

/** The operation's batch mode, or a usage error naming why there is none. */
function batchModeOf<R>(prepared: Prepared<R>, name: string): PreparedBatch<R> {
  if (!prepared.batch)
    throw new UsageError(
      `${name} cannot run as a batch (label, rationale, judge, critique, consistency and every generation can); run it without --batch`,
    );
  return prepared.batch;
}

/** The file whose journal holds the job (what `curate batch status|cancel` take): the output copy, else the input. */
function targetOf(raw: Record<string, unknown>): string {
  const input = typeof raw.input === 'string' ? raw.input : '';
  return raw.inPlace === true ? input : typeof raw.output === 'string' ? raw.output : input;
}

/**
 * Progress of a batch job: on a terminal, the one-line printer; elsewhere (CI logs, a pipe) each
 * new state of a batch on its own line (a batch job waits for hours: its log says how it goes).
 */
function batchProgress(io: Io, onTerminal: (p: Progress) => void): (p: Progress) => void {
  if (io.isTTY) return onTerminal;
  let last = '';
  return (p) => {
    const line = p.message ?? `${p.done}/${p.total ?? '?'} ${p.unit ?? ''}`;
    // "batch X: in_progress · 3 done, ..." : a new line when the state (before the counts) changes
    const state = line.split(' · ')[0] ?? line;
    if (state === last) return;
    last = state;
    io.err(`${line}\n`);
  };
}

function print(name: string, s: Summary, after: string[], io: Io): void {
  io.out(`${name}: ${s.headline}\n`);
  for (const l of [...s.details, ...after]) io.out(`  ${l}\n`);
  for (const [what, items] of [
    ['failed', s.failures],
    ['skipped', s.skipped],
  ] as const) {
    for (const x of items.slice(0, 20)) io.out(`  ${what} ${x.where}: ${x.reason}\n`);
    if (items.length > 20) io.out(`  ... and ${items.length - 20} more ${what}\n`);
  }
  if (s.note) io.out(`${s.note}\n`);
}

/** The flags of an operation that can run as a batch (the runner reads them). */
export const batchFlags = {
  batch: { type: 'boolean' },
  'retry-online': { type: 'boolean' },
} as const;

export const batchUsage =
  '  --batch   run it as a Batch API job (half the price, results within 24 hours; label, rationale, judge, critique,\n' +
  '            consistency: its k samples as k requests);\n' +
  '            Ctrl-C stops waiting (the batches go on), the same command resumes them; curate batch status|cancel FILE\n' +
  '  --retry-online   with --batch: what the batch left failed goes through the online path';
