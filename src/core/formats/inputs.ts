// The operations' input in any format a user brings: JSONL (and .ndjson) through the dataset store,
// `.jsonl.gz` decompressed as a stream, Parquet a row group at a time, JSON arrays, CSV and TSV as
// streams of records. Every one gives the same Lines (0-based index, the record or why it is not
// one), so export, import and the other operations read them alike (sources.ts' openStore).
import { iterateLines, type LineSource } from '../filter/fields';
import { openStore } from '../sources';
import { hasUnsafeInteger, parseJsonExact } from './json-text';

/** The lines of a file in any supported format (by its extension; JSONL when unknown). */
export const openInput = openStore;

/** The lines with integers past 2^53 read again from their text, exact (BigInt), for Parquet's INT64. */
export function exactIntegers(source: LineSource): LineSource {
  return async function* () {
    for await (const l of iterateLines(source)) {
      if (l.value && l.raw && hasUnsafeInteger(l.value))
        yield { ...l, value: parseJsonExact(l.raw) as Record<string, unknown> };
      else yield l;
    }
  };
}
