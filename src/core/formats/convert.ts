// Operation `convert`: a file of another format to JSONL (CSV, TSV, JSON arrays, Parquet a row
// group at a time, .jsonl.gz, a split of a Hugging Face dataset folder), or JSONL (or any of those)
// to Parquet, chosen by the output's extension. Written atomically; an existing output is replaced
// only when asked.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineOperation, UserError } from '../operation';
import { convertToJsonl, convertToParquet, detectFormat, FormatError, type Format } from './index';
import { parquetInfo, ParquetError } from './parquet';

export const CONVERT_INPUTS = ['csv', 'tsv', 'json', 'parquet', 'jsonl', 'jsonl.gz', 'hub'] as const;

export const ConvertOptions = z.object({
  file: z.string().min(1),
  /** FILE.jsonl, or FILE.parquet to write Parquet. */
  out: z.string().min(1),
  /** The input's format when its extension does not say. */
  format: z.enum(CONVERT_INPUTS).optional(),
  overwrite: z.boolean().default(false),
  /** Rows per Parquet row group. */
  rowGroupSize: z.number().int().min(1).optional(),
  /** A Hugging Face dataset folder: the split to read. */
  split: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/)
    .default('train'),
});
export type ConvertOptions = z.output<typeof ConvertOptions>;

export interface ConvertReport {
  out: string;
  to: 'jsonl' | 'parquet';
  records: number;
  bytes: number;
  /** Parquet output: its columns. */
  columns?: number;
  ms: number;
}

export const convertOperation = defineOperation({
  id: 'convert',
  title: 'Convert',
  description: 'Converts CSV, TSV, JSON arrays, Parquet and .jsonl.gz to JSONL, or JSONL to Parquet.',
  options: ConvertOptions,
  async run(options, ctx): Promise<ConvertReport> {
    const format: Format | undefined = options.format ?? detectFormat(options.file);
    const toParquet = /\.parquet$/i.test(options.out);
    if (!format)
      throw new UserError(`cannot tell the format of ${options.file}: give the format (${CONVERT_INPUTS.join(', ')})`);
    if (!toParquet && format === 'jsonl')
      throw new UserError(
        `${options.file} is JSONL already: open it as a dataset (or convert it to Parquet with an .parquet output)`,
      );
    if (!existsSync(options.file)) throw new UserError(`no such file: ${options.file}`);
    if (existsSync(options.out) && !options.overwrite)
      throw new UserError(`${options.out} exists; it is replaced only when asked to overwrite it`, 2, 'overwrite');
    const started = Date.now();
    // Parquet knows its row count: progress as a share
    const total = format === 'parquet' ? (await parquetInfo(options.file).catch(() => undefined))?.rows : undefined;
    const onProgress = (n: number) =>
      ctx.progress({ done: n, ...(total !== undefined ? { total } : {}), unit: 'records', message: 'converting' });
    try {
      if (toParquet) {
        const r = await convertToParquet(options.file, options.out, {
          format,
          split: options.split,
          signal: ctx.signal,
          overwrite: true,
          onProgress,
          ...(options.rowGroupSize ? { rowGroupSize: options.rowGroupSize } : {}),
        });
        return {
          out: resolve(options.out),
          to: 'parquet',
          records: r.rows,
          bytes: r.bytes,
          columns: r.columns.size,
          ms: Date.now() - started,
        };
      }
      const r = await convertToJsonl(options.file, options.out, {
        format,
        split: options.split,
        signal: ctx.signal,
        onProgress,
      });
      return { out: resolve(options.out), to: 'jsonl', records: r.records, bytes: r.bytes, ms: Date.now() - started };
    } catch (err) {
      if (
        err instanceof FormatError ||
        err instanceof ParquetError ||
        (format === 'hub' && err instanceof Error && /has no Parquet files/.test(err.message))
      )
        throw new UserError(`${options.file}: ${err.message}`, 1);
      throw err;
    }
  },
});
