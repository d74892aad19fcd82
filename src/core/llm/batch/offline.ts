// Offline batch files for a cluster: `exportRequests` writes a task's requests in the OpenAI batch
// input format, which `vllm run-batch -i requests.jsonl -o results.jsonl --model M` reads;
// `importResults` applies an OpenAI or vLLM output file to the records, by custom_id, refusing
// lines whose record changed since the export (their custom_id is no record's now).
import { renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RecordSource, ResultSink } from '../../jobs/types';
import { writeNewFile } from './file-apply';
import { CHAT_ENDPOINT, inputLine, outcomesOf } from './format';
import { fsyncDir } from './journal';
import { BatchApplier, recordRequests, type ApplySummary, type BatchTaskAdapter } from './records';

export interface ExportSummary {
  path: string;
  requests: number;
  bytes: number;
  skipped: Array<{ i: number; line: number; reason: string }>;
}

/** Writes the requests of the source's records to `out` (atomically: temporary file, fsync, rename). */
export async function exportRequests(
  source: RecordSource,
  adapter: BatchTaskAdapter,
  out: string,
  opts: { limit?: number } = {},
): Promise<ExportSummary> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  const summary: ExportSummary = { path: out, requests: 0, bytes: 0, skipped: [] };
  summary.bytes = await writeNewFile(tmp, { flags: 'w', mode: 0o644 }, async (put) => {
    for await (const r of recordRequests(source, adapter, {
      ...opts,
      onSkip: (i, line, reason) => summary.skipped.push({ i, line, reason }),
    })) {
      put(`${inputLine(r, CHAT_ENDPOINT)}\n`);
      summary.requests++;
    }
  });
  renameSync(tmp, out);
  fsyncDir(dirname(out));
  return summary;
}

export interface ImportSummary extends ApplySummary {
  /** Lines of the results file that are not output lines. */
  badLines: Array<{ line: number; reason: string }>;
  outcomes: number;
}

/** Applies an OpenAI or vLLM batch output file to the records (then flushes the sink). */
export async function importResults(
  resultsPath: string,
  source: RecordSource,
  sink: ResultSink,
  adapter: BatchTaskAdapter,
  opts: { limit?: number } = {},
): Promise<ImportSummary> {
  const applier = new BatchApplier(source, sink, adapter, opts);
  await applier.index();
  const badLines: ImportSummary['badLines'] = [];
  let outcomes = 0;
  for await (const o of outcomesOf(resultsPath, (line, reason) => badLines.push({ line, reason }))) {
    outcomes++;
    await applier.apply(o);
  }
  await applier.flush();
  await sink.flush();
  return { ...applier.finish(), badLines, outcomes };
}
