// The operations' input in any format a user brings: JSONL (and .ndjson) through the dataset store,
// `.jsonl.gz` decompressed as a stream, Parquet a row group at a time, JSON arrays, CSV and TSV as
// streams of records. Every one gives the same Lines (0-based index, the record or why it is not
// one), so export, import and the other operations read them alike.
import { iterateLines, type Line, type LineSource } from '../filter/fields';
import { hasUnsafeInteger, parseJsonExact } from './json-text';
import { openStore } from '../sources';
import { detectFormat, readRecords, type Format } from './index';
import { readGzipLines } from './gzip-lines';

async function* recordLines(path: string, format: Format, signal?: AbortSignal): AsyncGenerator<Line> {
  let index = 0;
  for await (const v of readRecords(path, format, signal ? { signal } : {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) yield { index: index++, raw: '', value: v as Record<string, unknown> };
    else yield { index: index++, raw: '', invalid: { reason: `not a JSON object (${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v})` } };
  }
}

/** The lines of a file in any supported format (by its extension; JSONL when unknown). */
export function openInput(file: string, signal?: AbortSignal): LineSource {
  const format = detectFormat(file) ?? 'jsonl';
  switch (format) {
    case 'jsonl':
      return openStore(file, signal);
    case 'jsonl.gz':
      return () => readGzipLines(file, signal);
    default:
      return () => recordLines(file, format, signal);
  }
}

/** Whether a path names a format the operations read (JSONL, .ndjson, .jsonl.gz, Parquet, JSON, CSV, TSV). */
export function isReadable(file: string): boolean {
  return detectFormat(file) !== undefined;
}

/** The lines with integers past 2^53 read again from their text, exact (BigInt), for Parquet's INT64. */
export function exactIntegers(source: LineSource): LineSource {
  return async function* () {
    for await (const l of iterateLines(source)) {
      if (l.value && l.raw && hasUnsafeInteger(l.value)) yield { ...l, value: parseJsonExact(l.raw) as Record<string, unknown> };
      else yield l;
    }
  };
}
