// The operations' input: a file's lines read through the dataset store (the same line numbering,
// validity checks and reasons everywhere: editor, CLI, jobs). Files of other formats (.jsonl.gz,
// Parquet, JSON arrays, CSV, TSV) are read as streams of records in the same Lines.
import { JsonlDataset } from './store';
import { rangeLines } from './store/scan-lines';
import type { Line, LineSource } from './filter/fields';
import { detectFormat, readRecords, type Format } from './formats';
import { readGzipLines } from './formats/gzip-lines';

export async function* storeLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const ds = await JsonlDataset.open(path, { signal });
  try {
    yield* snapshotLines(ds, signal);
  } finally {
    ds.close();
  }
}

/**
 * The lines of an open dataset that nobody edits while they are read (a CLI command's, which
 * edits it only afterwards): its file in large chunks, edited lines from memory (the same lines,
 * values and reasons as line views give; one read a chunk instead of one a line: datasetLines).
 */
export async function* snapshotLines(ds: JsonlDataset, signal?: AbortSignal): AsyncGenerator<Line> {
  await ds.ready;
  for (const seg of ds.segments(64 * 1024 * 1024)) {
    if (seg.kind !== 'orig') {
      for (let k = 0; k < seg.lines.length; k++) yield lineOf(ds, seg.logicalStart + k);
      continue;
    }
    for (const chunk of rangeLines(
      ds.fileDescriptor,
      seg.byteStart,
      seg.byteEnd,
      seg.logicalStart,
      ds.maxLineBytes,
      1024 * 1024,
    )) {
      if (signal?.aborted) return;
      yield* chunk;
      await new Promise((r) => setImmediate(r));
    }
  }
}

function lineOf(ds: JsonlDataset, i: number): Line {
  const l = ds.line(i);
  // An invalid line carries its bytes (invalid UTF-8 is not in `raw`); a record is valid UTF-8.
  return l.invalid
    ? { index: i, raw: l.raw, invalid: l.invalid, bytes: l.bytes() }
    : { index: i, raw: l.raw, value: l.value };
}

/** The lines of an open dataset as it is now (its edits included), yielding to the event loop as it goes. */
export async function* datasetLines(ds: JsonlDataset, signal?: AbortSignal): AsyncGenerator<Line> {
  await ds.ready;
  for (let i = 0; i < ds.lineCount; i++) {
    if ((i & 0x3ff) === 0 && signal?.aborted) break;
    yield lineOf(ds, i);
    if ((i & 0x3ff) === 0x3ff) await new Promise((r) => setImmediate(r));
  }
}

/** The records of a non-JSONL file as Lines (0-based index; an element that is not an object is an invalid line). */
export async function* recordLines(path: string, format: Format, signal?: AbortSignal): AsyncGenerator<Line> {
  let index = 0;
  for await (const v of readRecords(path, format, signal ? { signal } : {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      yield { index: index++, raw: '', value: v as Record<string, unknown> };
    else
      yield {
        index: index++,
        raw: '',
        invalid: { reason: `not a JSON object (${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v})` },
      };
  }
}

/** The lines of a file: JSONL (and .ndjson) through the store, .jsonl.gz decompressed, Parquet / JSON / CSV / TSV as records. */
export const openStore = (file: string, signal?: AbortSignal): LineSource => {
  const format = detectFormat(file);
  if (format === 'jsonl.gz') return () => readGzipLines(file, signal);
  if (format && format !== 'jsonl') return () => recordLines(file, format, signal);
  return () => storeLines(file, signal);
};
