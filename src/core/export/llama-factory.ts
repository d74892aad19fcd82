// LLaMA-Factory's `dataset_info.json`: the entry that names an exported file, its formatting
// (alpaca or sharegpt), whether it is a preference (ranking) dataset, and its columns, as
// hiyouga/LLaMA-Factory's data/README.md describes. An export adds (or replaces) its own entry in
// the `dataset_info.json` beside the file and keeps every other entry as it was.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeLinesAtomic } from '../write-lines';
import { UserError } from '../operation';
import type { ExportFormat } from './formats';

/** The columns the exported rows used (a column is listed only when some row had it). */
export type SeenColumns = Set<string>;

/** The entry for one exported file. */
export function datasetInfoEntry(format: ExportFormat, fileName: string, seen: SeenColumns): Record<string, unknown> {
  const has = (c: string) => seen.has(c);
  switch (format) {
    case 'alpaca':
      return {
        file_name: fileName,
        columns: {
          prompt: 'instruction',
          query: 'input',
          response: 'output',
          ...(has('system') ? { system: 'system' } : {}),
          ...(has('history') ? { history: 'history' } : {}),
        },
      };
    case 'alpaca-ranking':
      return {
        file_name: fileName,
        ranking: true,
        columns: {
          prompt: 'instruction',
          query: 'input',
          chosen: 'chosen',
          rejected: 'rejected',
          ...(has('system') ? { system: 'system' } : {}),
        },
      };
    case 'sharegpt':
      return {
        file_name: fileName,
        formatting: 'sharegpt',
        columns: { messages: 'conversations', ...(has('tools') ? { tools: 'tools' } : {}) },
      };
    case 'sharegpt-ranking':
      return {
        file_name: fileName,
        formatting: 'sharegpt',
        ranking: true,
        columns: { messages: 'conversations', chosen: 'chosen', rejected: 'rejected' },
      };
    default:
      throw new Error(`${format} is not a LLaMA-Factory format`);
  }
}

/** The entry's name: the file's name without its extensions (`train.alpaca.jsonl` -> `train.alpaca`). */
export function datasetInfoName(out: string): string {
  return basename(out).replace(/\.(jsonl|json|parquet)$/i, '');
}

/** Adds (or replaces) the entry in `dataset_info.json` beside `out`; returns the file's path. */
export async function writeDatasetInfo(
  out: string,
  format: ExportFormat,
  seen: SeenColumns,
  signal: AbortSignal,
): Promise<string> {
  const path = join(dirname(out), 'dataset_info.json');
  let info: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      info = parsed as Record<string, unknown>;
    } catch (err) {
      throw new UserError(
        `${path} is not a JSON object (${err instanceof Error ? err.message : String(err)}); the export is written, its entry is not`,
        1,
      );
    }
  }
  info[datasetInfoName(out)] = datasetInfoEntry(format, basename(out), seen);
  await writeLinesAtomic(path, [JSON.stringify(info, null, 2)], signal, true);
  return path;
}
