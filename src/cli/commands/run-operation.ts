// The CLI's one runner of a registry operation (src/core/registry.ts): parse the options (a problem
// is a usage error naming the flag), print the estimate and ask above --max-cost, run with progress
// on the terminal, print the summary (or --json), exit 1 when it is incomplete, and 130 with what
// is kept on Ctrl-C. Every LLM and generation subcommand goes through it.
import { UserError } from '../../core/operation';
import type { OperationEntry, Summary } from '../../core/registry';
import { ExitCode, UsageError, type Io, type OptionValues } from '../cli';
import { confirmEstimate, interrupted, progressPrinter, usageErrors } from './llm-common';

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
  try {
    const prepared = usageErrors(() => op.prepare(raw));
    try {
      const est = await prepared.estimate(io.signal);
      if (est) {
        const go = await confirmEstimate(face.name, est, values, io);
        if (go !== true) return go;
      }
      await face.beforeRun?.();
      const result = await prepared.run({
        signal: io.signal,
        log: (l) => io.err(`${inFlags(l, face.flags)}\n`),
        progress: printer.progress,
      });
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
      return interrupted(io, c.kept);
    }
  } catch (err) {
    if (err instanceof UserError)
      throw new UsageError(err.option ? `${err.message}: pass ${flagOf(err.option)}` : err.message);
    throw err;
  }
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
