// curate confidence FILE --labels a,b [--samples 5] [--threshold 0.8]: logprob confidence and
// self-consistency on the same records, and how they agree: the registry's `confidence` operation
// (src/core/registry.ts confidenceEntry, src/core/llm/batch/compare-run.ts), which VS Code runs too.
// Writes nothing to FILE; the answers are cached, so the same command run again asks nothing.
import { existsSync } from 'node:fs';
import { confidenceReportLines } from '../../core/llm/batch/compare-run';
import { UserError } from '../../core/operation';
import { confidenceEntry } from '../../core/registry';
import { assertDatasetFile } from '../../core/store';
import { ExitCode, UsageError, type Command } from '../cli';
import {
  confirmEstimate,
  estimateProgress,
  endpointOptions,
  list,
  llmFlags,
  llmUsage,
  num,
  progressPrinter,
  usageErrors,
} from './llm-common';
import { fieldFlags, fieldMapOf } from './util';

const env = { apiKey: () => process.env.OPENAI_API_KEY };

export const confidence: Command = {
  name: 'confidence',
  summary: 'How logprob confidence agrees with self-consistency on the same records (nothing is written)',
  usage:
    'curate confidence FILE --labels a,b [--samples 5] [--threshold 0.8]\n' +
    '  --samples K     self-consistency samples per record (default 5)\n' +
    '  --threshold T   the confidence below which a record counts as unsure (default 0.8)\n' +
    '  --batch         both measures as a Batch API job (half the price; Ctrl-C stops waiting, the same command resumes;\n' +
    '                  its journal is in FILE.curator-journal)   --retry-online  what the batch left failed, online\n' +
    llmUsage,
  details:
    "Each record is labeled once with --confidence logprobs (the label's probability, normalised over the label\n" +
    'set; the endpoint must give logprobs) and K times by self-consistency (the majority, and the share that agrees\n' +
    'as its confidence). Printed: the share where both give the same label, the Pearson and Spearman correlation of\n' +
    'the two confidences, their mean absolute difference, and the shares below --threshold by both, by one only.\n' +
    '--json adds the records one by one (line, label and confidence by each measure).',
  options: {
    ...llmFlags,
    labels: { type: 'string', short: 'l' },
    samples: { type: 'string', short: 'k' },
    threshold: { type: 'string' },
    batch: { type: 'boolean' },
    'retry-online': { type: 'boolean' },
    ...fieldFlags,
  },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    if (!existsSync(input)) throw new UsageError(`no such file: ${input}`);
    assertDatasetFile(input);
    const labels = list(values.labels);
    if (labels.length < 2) throw new UsageError('--labels needs at least two labels, e.g. --labels positive,negative');
    if (values.out !== undefined) throw new UsageError('curate confidence writes nothing: no --out');
    const raw: Record<string, unknown> = { ...(await endpointOptions(values, input, undefined, io.signal)), labels };
    const k = num(values.samples, 'samples');
    if (k !== undefined) raw.k = k;
    const threshold = num(values.threshold, 'threshold');
    if (threshold !== undefined) raw.threshold = threshold;
    const fields = fieldMapOf(values);
    if (fields !== undefined) raw.fields = fields;
    const prepared = usageErrors(() => confidenceEntry(env).prepare(raw));
    const batch = values.batch === true ? { retryOnline: values['retry-online'] === true } : undefined;
    if (values['retry-online'] === true && !batch)
      throw new UsageError('--retry-online goes with --batch (it sends what the batch left failed online)');
    const printer = progressPrinter(io);
    let estimated = false;
    try {
      const est = await (batch ? prepared.batch : prepared)?.estimate({
        signal: io.signal,
        progress: estimateProgress(printer),
      });
      estimated = true;
      printer.done();
      if (!est) throw new Error('curate confidence has no estimate');
      const go = await confirmEstimate('confidence', est, values, io);
      if (go !== true) return go;
      const ctx = { signal: io.signal, log: (l: string) => io.err(`${l}\n`), progress: printer.progress };
      const report = await (batch && prepared.batch ? prepared.batch.run(ctx, batch) : prepared.run(ctx));
      printer.done();
      if (values.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const l of confidenceReportLines(report)) io.out(`${l}\n`);
        for (const f of report.failed) io.err(`line ${f.line} (${f.measure}): ${f.reason}\n`);
      }
      return report.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
    } catch (err) {
      printer.done();
      if (err instanceof UserError) throw new UsageError(err.message);
      // Stopped while the cost was estimated: nothing was sent (main says "interrupted; nothing was written").
      if (err instanceof Error && err.name === 'AbortError' && estimated) {
        io.err(
          batch
            ? 'curate: stopped waiting for the batches, which go on at the provider (nothing was cancelled); run the same command again to resume.\n'
            : 'curate: interrupted; nothing was written. The answers so far are cached: run it again to go on.\n',
        );
        return ExitCode.interrupted;
      }
      throw err;
    }
  },
};
