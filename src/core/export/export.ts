// The `export` and `import` operations: a dataset to a training format (each row validated against
// the format's schema), written as JSONL, Parquet or the Hugging Face layout, and back into the
// annotation layout. The input may be JSONL, .ndjson, .jsonl.gz, Parquet, JSON, CSV or TSV.
// Nothing is written when no row can be: the report says why each record was skipped, and the
// faces exit 1 (a training run must never start on an empty file).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeLinesAtomic } from '../write-lines';
import { z } from 'zod';
import { defineOperation, UserError, type OperationContext } from '../operation';
import { iterateLines, throwIfAborted, type LineSource } from '../filter/fields';
import { exactIntegers, openInput } from '../formats/inputs';
import { toJsonText } from '../formats/json-text';
import { ParquetError, writeParquet } from '../formats/parquet';
import { datasetCard, hubDataFile } from '../formats/hf';
import {
  describeZodError,
  ExportFormat,
  exportRecord,
  ExportOptions,
  importRecord,
  LLAMA_FACTORY_FORMATS,
  FORMATS,
} from './formats';
import { writeDatasetInfo } from './llama-factory';
import { ReadinessCheck, type Readiness } from './readiness';

export interface Skipped {
  index: number;
  reason: string;
}

export type Container = 'jsonl' | 'parquet' | 'hub';

export interface ExportReport {
  format: ExportFormat;
  /** The file written (the Parquet file in the Hugging Face layout); absent when no row was written. */
  out?: string;
  container?: Container;
  /** Other files written: LLaMA-Factory's dataset_info.json, the dataset card. */
  files?: string[];
  /** Rows written (or produced). */
  written: number;
  /** Records that the format cannot hold, with the reason (the first 1,000). */
  skipped: Skipped[];
  skippedCount: number;
  /** Invalid lines, never exported. */
  invalid: number;
  /** The most common reasons for skipping, most frequent first. */
  reasons?: { reason: string; count: number }[];
  /** Fine-tune readiness of the rows written (training formats). */
  readiness?: Readiness;
}

/** Streams JSON rows to a new file, atomically (temp, fsync, rename, fsync the folder). */
export function writeJsonl(
  out: string,
  rows: AsyncIterable<string>,
  signal: AbortSignal,
  overwrite = false,
): Promise<number> {
  return writeLinesAtomic(out, rows, signal, overwrite);
}

/** A fresh report for a format. */
export function emptyReport(format: ExportFormat): ExportReport {
  return { format, written: 0, skipped: [], skippedCount: 0, invalid: 0 };
}

const reasonCounts = new WeakMap<ExportReport, Map<string, number>>();

/** The skip reasons of a report, counted (a reason's record-specific tail after ":" kept). */
function countReason(report: ExportReport, reason: string): void {
  let m = reasonCounts.get(report);
  if (!m) reasonCounts.set(report, (m = new Map<string, number>()));
  if (m.size < 1000 || m.has(reason)) m.set(reason, (m.get(reason) ?? 0) + 1);
  report.reasons = [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([r, count]) => ({ reason: r, count }));
}

/** The exported rows (objects); `report` is filled as they go; `seen` collects the columns used. */
export async function* exportObjects(
  source: LineSource,
  options: ExportOptions,
  ctx: OperationContext,
  report: ExportReport,
  seen?: Set<string>,
  onRow?: (row: Record<string, unknown>, index: number) => void,
): AsyncGenerator<Record<string, unknown>> {
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
      if (seen) for (const k of Object.keys(r.row)) seen.add(k);
      onRow?.(r.row, line.index);
      yield r.row;
    } else {
      report.skippedCount++;
      countReason(report, r.reason);
      if (report.skipped.length < 1000) report.skipped.push({ index: line.index, reason: r.reason });
    }
  }
}

/** The rows (JSON text) of the exported lines: exportObjects' rows as text; `report` is filled as they go. */
export async function* exportRows(...args: Parameters<typeof exportObjects>): AsyncGenerator<string> {
  for await (const row of exportObjects(...args)) yield toJsonText(row);
}

/**
 * OpenAI's fine-tuning formats: their exports check readiness (OpenAI's tokenizer, context and
 * price) unless told not to. Other training formats check it when asked (a model, a context
 * length, or `readiness: true`): their trainers tokenize with their own models' tokenizers.
 */
export const READINESS_BY_DEFAULT: ReadonlySet<ExportFormat> = new Set(['sft', 'openai-preference']);

/** Exports lines in memory: the rows and the report. */
export async function exportLines(
  source: LineSource,
  options: ExportOptions,
  ctx: OperationContext,
): Promise<{ rows: Record<string, unknown>[]; report: ExportReport }> {
  const report = emptyReport(ExportOptions.parse(options).format);
  const rows: Record<string, unknown>[] = [];
  for await (const row of exportObjects(source, options, ctx, report)) rows.push(row);
  return { rows, report };
}

/** The formats the export offers: the row formats, and `parquet` (the records as they are, in Parquet). */
export const EXPORT_CHOICES = [...FORMATS, 'parquet'] as const;

export const ExportOperationOptions = ExportOptions.extend({
  format: z.enum(EXPORT_CHOICES),
  file: z.string().min(1),
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
  /** Write the Hugging Face layout into `out` (a folder): data/<split>-00000-of-00001.parquet and README.md. */
  hub: z.boolean().default(false),
  /** The split's name in the Hugging Face layout. */
  split: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only')
    .default('train'),
  /** LLaMA-Factory formats: add the file's entry to dataset_info.json beside it. */
  datasetInfo: z.boolean().default(true),
  /** Rows per Parquet row group. */
  rowGroupSize: z.number().int().min(1).default(10_000),
  /** Fine-tune readiness (tokens per row against the context, training tokens, cost); default on for training formats. */
  readiness: z.boolean().optional(),
  /** The model to fine-tune: its tokenizer, context length and training price. */
  model: z.string().min(1).optional(),
  contextLength: z.number().int().min(1).optional(),
  /** US dollars per million training tokens. */
  pricePerMillion: z.number().min(0).optional(),
  epochs: z.number().int().min(1).max(100).default(3),
});
export type ExportOperationOptions = z.output<typeof ExportOperationOptions>;

/** Where the rows go: JSONL, a Parquet file (`--format parquet` or an `.parquet` output), or the Hugging Face layout. */
export function containerOf(options: { format: string; out: string; hub?: boolean }): Container {
  if (options.hub) return 'hub';
  if (options.format === 'parquet' || /\.parquet$/i.test(options.out)) return 'parquet';
  return 'jsonl';
}

/** A generator's first item pulled ahead: nothing is written until one row exists. */
async function peek<T>(it: AsyncGenerator<T>): Promise<{ first: IteratorResult<T>; rest: AsyncGenerator<T> }> {
  const first = await it.next();
  async function* rest(): AsyncGenerator<T> {
    if (first.done) return;
    yield first.value;
    yield* it;
  }
  return { first, rest: rest() };
}

/** Operation `export`. */
export function createExportOperation(open: (file: string, signal?: AbortSignal) => LineSource = openInput) {
  return defineOperation({
    id: 'export',
    title: 'Export',
    description:
      'Writes the records in a training format (OpenAI SFT or preference, TRL DPO, prompt-completion or KTO, Alpaca, ShareGPT, Argilla, distilabel) as JSONL, Parquet or the Hugging Face layout.',
    options: ExportOperationOptions,
    async run(options, ctx): Promise<ExportReport> {
      const format: ExportFormat = options.format === 'parquet' ? 'records' : options.format;
      const rowOptions = { ...options, format };
      const container = containerOf(options);
      const out = resolve(options.out);
      if (resolve(options.file) === out) throw new UserError('The output file must differ from the input.');
      const r: ExportReport = { ...emptyReport(format), container };
      const seen = new Set<string>();
      const check =
        (options.readiness ??
        (READINESS_BY_DEFAULT.has(format) || options.model !== undefined || options.contextLength !== undefined))
          ? new ReadinessCheck({
              ...(options.model ? { model: options.model } : {}),
              ...(options.contextLength ? { contextLength: options.contextLength } : {}),
              ...(options.pricePerMillion !== undefined ? { pricePerMillion: options.pricePerMillion } : {}),
              epochs: options.epochs,
              openai: READINESS_BY_DEFAULT.has(format),
            })
          : undefined;
      const onRow = check ? (row: Record<string, unknown>, index: number) => check.add(row, index) : undefined;
      const finish = () => {
        if (check && r.written) r.readiness = check.result();
      };
      if (container === 'jsonl') {
        const { first, rest } = await peek(exportRows(open(options.file, ctx.signal), rowOptions, ctx, r, seen, onRow));
        if (first.done) return r;
        await writeJsonl(out, rest, ctx.signal, options.overwrite);
        r.out = out;
      } else {
        const target = container === 'hub' ? join(out, hubDataFile(options.split)) : out;
        if (container === 'hub') mkdirSync(dirname(target), { recursive: true });
        // two passes over the input: the first fills the report and the schema, the second writes
        let pass = 0;
        // the records as they are keep their 64-bit integers exact (the formats' rows hold no such numbers)
        const src = () =>
          format === 'records' ? exactIntegers(open(options.file, ctx.signal)) : open(options.file, ctx.signal);
        const rows = () =>
          pass++ === 0
            ? exportObjects(src(), rowOptions, ctx, r, seen, onRow)
            : exportObjects(src(), rowOptions, ctx, emptyReport(format));
        let result;
        try {
          result = await writeParquet(target, rows, {
            signal: ctx.signal,
            overwrite: options.overwrite,
            rowGroupSize: options.rowGroupSize,
          });
        } catch (err) {
          if (err instanceof ParquetError && r.written === 0) return r;
          if (err instanceof ParquetError) throw new UserError(err.message, 1);
          throw err;
        }
        r.out = target;
        if (container === 'hub') {
          const card = join(out, 'README.md');
          writeFileSync(
            card,
            datasetCard(out, {
              columns: result.columns,
              split: options.split,
              rows: result.rows,
              bytes: result.bytes,
              format,
              source: options.file.split(/[\\/]/).pop() ?? options.file,
            }),
          );
          r.files = [card];
        }
      }
      if (LLAMA_FACTORY_FORMATS.has(format) && options.datasetInfo && container !== 'hub') {
        r.files = [...(r.files ?? []), await writeDatasetInfo(out, format, seen, ctx.signal)];
      }
      finish();
      ctx.log(`${r.written} ${r.format} rows written, ${r.skippedCount} records skipped, ${r.invalid} invalid lines`);
      return r;
    },
  });
}

export const exportOperation = createExportOperation();

export const ImportOperationOptions = z.object({
  file: z.string().min(1),
  format: ExportFormat,
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
  /** Argilla: user names for Argilla user ids (name -> UUID). */
  argillaUsers: z.record(z.string(), z.uuid()).default({}),
});

export interface ImportReport {
  format: ExportFormat;
  /** Absent when no row could be imported (nothing is written). */
  out?: string;
  written: number;
  skipped: Skipped[];
  skippedCount: number;
}

/** Operation `import`: rows of a format to records in the annotation layout. */
export function createImportOperation(open: (file: string, signal?: AbortSignal) => LineSource = openInput) {
  return defineOperation({
    id: 'import',
    title: 'Import',
    description:
      'Reads a training-format file (SFT, preference, DPO, prompt-completion, KTO, Alpaca, ShareGPT, Argilla, distilabel; JSONL, Parquet, JSONL.gz, JSON) into the annotation layout.',
    options: ImportOperationOptions,
    async run(options, ctx): Promise<ImportReport> {
      const skipped: Skipped[] = [];
      let skippedCount = 0;
      async function* rows(): AsyncGenerator<string> {
        let n = 0;
        for await (const line of iterateLines(open(options.file, ctx.signal))) {
          if ((n++ & 1023) === 0) ctx.progress({ done: n - 1, unit: 'records', message: 'importing' });
          try {
            if (!line.value) throw new Error(line.invalid?.reason ?? 'not a JSON object');
            yield toJsonText(importRecord(options.format, line.value, options.argillaUsers));
          } catch (e) {
            skippedCount++;
            if (skipped.length < 1000)
              skipped.push({
                index: line.index,
                reason: e instanceof z.ZodError ? describeZodError(e) : e instanceof Error ? e.message : String(e),
              });
          }
        }
      }
      const { first, rest } = await peek(rows());
      if (first.done) return { format: options.format, written: 0, skipped, skippedCount };
      const written = await writeJsonl(resolve(options.out), rest, ctx.signal, options.overwrite);
      return { format: options.format, out: resolve(options.out), written, skipped, skippedCount };
    },
  });
}

export const importOperation = createImportOperation();
