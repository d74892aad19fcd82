// The `export` and `import` operations: a JSONL file to a training format (each row validated
// against the format's schema), and back into the annotation layout.
import { resolve } from 'node:path';
import { writeLinesAtomic } from '../write-lines';
import { openStore } from '../sources';
import { z } from 'zod';
import { defineOperation, UserError, type OperationContext } from '../operation';
import { iterateLines, throwIfAborted, type LineSource } from '../filter/fields';
import { ExportFormat, exportRecord, ExportOptions, importRecord } from './formats';

export interface Skipped {
  index: number;
  reason: string;
}

export interface ExportReport {
  format: ExportFormat;
  out?: string;
  /** Rows written (or produced). */
  written: number;
  /** Records that the format cannot hold, with the reason (the first 1,000). */
  skipped: Skipped[];
  skippedCount: number;
  /** Invalid lines, never exported. */
  invalid: number;
}

/** Streams JSON rows to a new file, atomically (temp, fsync, rename, fsync the folder). */
export function writeJsonl(out: string, rows: AsyncIterable<string>, signal: AbortSignal, overwrite = false): Promise<number> {
  return writeLinesAtomic(out, rows, signal, overwrite);
}

/** A fresh report for a format. */
export function emptyReport(format: ExportFormat): ExportReport {
  return { format, written: 0, skipped: [], skippedCount: 0, invalid: 0 };
}

/** The rows (JSON) of the exported lines; `report` is filled as they go. */
export async function* exportRows(source: LineSource, options: ExportOptions, ctx: OperationContext, report: ExportReport): AsyncGenerator<string> {
  const o = ExportOptions.parse(options);
  let n = 0;
  for await (const line of iterateLines(source)) {
    if ((n++ & 1023) === 0) {
      throwIfAborted(ctx.signal);
      ctx.progress({ done: n - 1, unit: 'records', message: 'exporting' });
    }
    if (!line.value) {
      report.invalid++;
      continue;
    }
    const r = exportRecord(line.value, line.index, o);
    if (r.ok) {
      report.written++;
      yield JSON.stringify(r.row);
    } else {
      report.skippedCount++;
      if (report.skipped.length < 1000) report.skipped.push({ index: line.index, reason: r.reason });
    }
  }
}

/** Exports lines in memory: the rows and the report. */
export async function exportLines(source: LineSource, options: ExportOptions, ctx: OperationContext): Promise<{ rows: Record<string, unknown>[]; report: ExportReport }> {
  const report = emptyReport(ExportOptions.parse(options).format);
  const rows: Record<string, unknown>[] = [];
  for await (const json of exportRows(source, options, ctx, report)) rows.push(JSON.parse(json) as Record<string, unknown>);
  return { rows, report };
}

export const ExportOperationOptions = ExportOptions.extend({
  file: z.string().min(1),
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
});

/** Operation `export`. */
export function createExportOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'export',
    title: 'Export',
    description: 'Writes the records in a training format (OpenAI SFT or preference, DPO, Alpaca, ShareGPT, Argilla, distilabel).',
    options: ExportOperationOptions,
    async run(options, ctx) {
      const out = resolve(options.out);
      if (resolve(options.file) === out) throw new UserError('The output file must differ from the input.');
      const r = emptyReport(options.format);
      await writeJsonl(out, exportRows(open(options.file, ctx.signal), options, ctx, r), ctx.signal, options.overwrite);
      ctx.log(`${r.written} ${r.format} rows written, ${r.skippedCount} records skipped, ${r.invalid} invalid lines`);
      return { ...r, out };
    },
  });
}

export const exportOperation = createExportOperation();

export const ImportOperationOptions = z.object({
  file: z.string().min(1),
  format: ExportFormat,
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
});

/** Operation `import`: rows of a format to records in the annotation layout. */
export function createImportOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'import',
    title: 'Import',
    description: 'Reads a training-format JSONL file (SFT, preference, DPO, Alpaca, ShareGPT, Argilla, distilabel) into the annotation layout.',
    options: ImportOperationOptions,
    async run(options, ctx) {
      const skipped: Skipped[] = [];
      let skippedCount = 0;
      async function* rows(): AsyncGenerator<string> {
        for await (const line of iterateLines(open(options.file, ctx.signal))) {
          try {
            if (!line.value) throw new Error(line.invalid?.reason ?? 'not a JSON object');
            yield JSON.stringify(importRecord(options.format, line.value));
          } catch (e) {
            skippedCount++;
            if (skipped.length < 1000) skipped.push({ index: line.index, reason: e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String(e) });
          }
        }
      }
      const written = await writeJsonl(resolve(options.out), rows(), ctx.signal, options.overwrite);
      return { format: options.format, out: resolve(options.out), written, skipped, skippedCount };
    },
  });
}

export const importOperation = createImportOperation();
