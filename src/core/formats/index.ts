// Other dataset formats: JSON arrays, CSV, Parquet and gzip-compressed JSONL are read as streams of
// records (never the whole file as one string) and can be converted to JSONL; JSONL (and the
// others) can be converted to Parquet. CSV parsing is csv-parse's (RFC 4180 quoting, BOM, CRLF);
// JSON arrays are split into elements by a small byte-level scanner and each element is parsed
// with JSON.parse, so memory is bounded by the largest element; Parquet is read a row group at a
// time (parquet.ts); `.jsonl.gz` is decompressed as a stream (gzip-lines.ts).
import {
  createReadStream,
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import { BufferedWriter, cleanStaleTemps, fsyncDir, tempPathFor } from '../store/files';
import { abortError } from '../store/errors';
import { readGzipLines, readJsonlLines } from './gzip-lines';
import { readParquetRows, writeParquet, type ParquetWriteResult } from './parquet';
import { hasUnsafeInteger, parseJsonExact, toJsonText } from './json-text';
import { detectFormat, type Format } from './detect';
import { readHubSplit } from './hf';

export { detectFormat, type Format };

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** A Hugging Face dataset folder's split (default train). */
  split?: string;
  /** Bytes read per step (tests make it small to hit boundaries). */
  chunkSize?: number;
}

/**
 * The elements of a JSON array file, one at a time. Throws FormatError (with the byte offset)
 * when the file is not one JSON array.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- reads synchronously, but is one of readRecords' async generators
export async function* readJsonArray(path: string, opts: ReadOptions = {}): AsyncGenerator {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(opts.chunkSize ?? 1024 * 1024);
  let pos = 0;
  let depth = 0;
  let inString = false;
  let escape = false;
  let started = false;
  let ended = false;
  let parts: Buffer[] = [];
  let elemStart = -1; // index in the current chunk where the pending element begins
  let sawValue = false;
  const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const finishElement = (buf: Buffer, end: number, at: number): unknown => {
    if (elemStart !== -1) parts.push(buf.subarray(elemStart, end));
    elemStart = -1;
    const bytes = Buffer.concat(parts);
    parts = [];
    elemStart = -1;
    const text = bytes.toString('utf8').trim();
    if (text === '') throw new FormatError(`empty array element before byte ${at}`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new FormatError(
        `invalid JSON in the array element ending at byte ${at}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  try {
    for (;;) {
      if (opts.signal?.aborted) throw abortError();
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) break;
      const buf = chunk.subarray(0, n);
      const out: unknown[] = [];
      if (parts.length > 0) elemStart = 0; // an element continues from the previous chunk
      for (let i = 0; i < n; i++) {
        const c = buf[i]!;
        if (ended) {
          if (!ws(c)) throw new FormatError(`unexpected data after the end of the JSON array at byte ${pos + i}`);
          continue;
        }
        if (!started) {
          if (ws(c) || (pos + i < 3 && [0xef, 0xbb, 0xbf][pos + i] === c)) continue;
          if (c !== 0x5b)
            throw new FormatError(
              `not a JSON array: it starts with ${JSON.stringify(String.fromCharCode(c))} at byte ${pos + i}`,
            );
          started = true;
          continue;
        }
        if (inString) {
          if (escape) escape = false;
          else if (c === 0x5c) escape = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) {
          inString = true;
          if (elemStart === -1 && parts.length === 0) elemStart = i;
          sawValue = true;
        } else if (c === 0x5b || c === 0x7b) {
          if (elemStart === -1 && parts.length === 0) elemStart = i;
          depth++;
          sawValue = true;
        } else if (c === 0x5d || c === 0x7d) {
          if (depth === 0) {
            if (c !== 0x5d) throw new FormatError(`unexpected "}" at byte ${pos + i}`);
            if (sawValue) out.push(finishElement(buf, i, pos + i));
            ended = true;
          } else depth--;
        } else if (c === 0x2c && depth === 0) {
          if (!sawValue) throw new FormatError(`empty array element at byte ${pos + i}`);
          out.push(finishElement(buf, i, pos + i));
          sawValue = false;
        } else if (!ws(c)) {
          if (elemStart === -1 && parts.length === 0) elemStart = i;
          sawValue = true;
        }
      }
      if (elemStart !== -1 && !ended) {
        parts.push(Buffer.from(buf.subarray(elemStart)));
        elemStart = -1;
      }
      pos += n;
      for (const v of out) yield v;
    }
    if (!started) throw new FormatError('not a JSON array: the file is empty');
    if (!ended) throw new FormatError(`the JSON array is not closed (file ends at byte ${pos})`);
  } finally {
    closeSync(fd);
  }
}

/** The rows of a CSV (or TSV) file with a header line, as records of strings (values are not guessed). */
export async function* readCsv(
  path: string,
  opts: ReadOptions & { delimiter?: string } = {},
): AsyncGenerator<Record<string, string>> {
  const parser = createReadStream(path, { highWaterMark: opts.chunkSize ?? 1024 * 1024 }).pipe(
    parseCsv({
      columns: true,
      bom: true,
      delimiter: opts.delimiter ?? ',',
      skip_empty_lines: true,
      relax_quotes: false,
    }),
  );
  try {
    for await (const row of parser) {
      if (opts.signal?.aborted) throw abortError();
      yield row as Record<string, string>;
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new FormatError(`invalid CSV: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    parser.destroy();
  }
}

/** The records of a gzip-compressed JSONL file; an invalid line stops the read with its line number and reason. */
async function* readJsonlGz(path: string, opts: ReadOptions): AsyncGenerator<Record<string, unknown>> {
  for await (const l of readGzipLines(path, opts.signal)) {
    if (!l.value) throw new FormatError(`line ${l.index + 1}: ${l.invalid?.reason ?? 'not a JSON object'}`);
    yield l.value;
  }
}

/** The records of a JSON array, CSV, TSV, Parquet or gzip-compressed JSONL file. */
export function readRecords(
  path: string,
  format: Format,
  opts: ReadOptions & { onRowGroup?: (done: number, total: number) => void } = {},
): AsyncGenerator {
  switch (format) {
    case 'parquet':
      return readParquetRows(path, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onRowGroup ? { onRowGroup: opts.onRowGroup } : {}),
      });
    case 'jsonl.gz':
      return readJsonlGz(path, opts);
    case 'hub':
      return readHubSplit(path, opts.split ?? 'train', opts.signal);
    case 'json':
      return readJsonArray(path, opts);
    case 'csv':
      return readCsv(path, opts);
    case 'tsv':
      return readCsv(path, { ...opts, delimiter: '\t' });
    case 'jsonl':
      throw new FormatError('the file is JSONL already: open it as a dataset');
  }
}

export interface ConvertResult {
  records: number;
  bytes: number;
}

/** Converts a JSON array / CSV / TSV / Parquet / JSONL.gz file to JSONL (one compact JSON value a line), atomically. */
export async function convertToJsonl(
  input: string,
  output: string,
  opts: ReadOptions & { format?: Format; onProgress?: (records: number) => void } = {},
): Promise<ConvertResult> {
  const format = opts.format ?? detectFormat(input);
  if (!format)
    throw new FormatError(
      `cannot tell the format of ${input} from its extension: use .json, .csv, .tsv, .parquet or .jsonl.gz (or pass the format)`,
    );
  const target = resolve(output);
  if (resolve(input) === target) throw new FormatError('the output must be another file than the input');
  cleanStaleTemps(target); // a killed conversion's temp file
  const tmp = tempPathFor(target);
  let fd = -1;
  let records = 0;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    fchmodSync(fd, 0o644);
    const w = new BufferedWriter(fd, 4 * 1024 * 1024);
    for await (const v of readRecords(input, format, opts)) {
      if (v === undefined) continue;
      w.write(Buffer.from(`${toJsonText(v)}\n`, 'utf8'));
      records++;
      if ((records & 0x3fff) === 0) opts.onProgress?.(records);
    }
    w.flush();
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, target);
    fsyncDir(dirname(target));
    opts.onProgress?.(records);
    return { records, bytes: w.written };
  } catch (err) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}

/** The records of any input this module reads, JSONL included (an invalid JSONL line stops with its number and reason). */
export async function* readAnyRecords(
  path: string,
  format: Format,
  opts: ReadOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  if (format === 'jsonl') {
    for await (const l of readJsonlLines(path, opts.signal)) {
      if (!l.value) throw new FormatError(`line ${l.index + 1}: ${l.invalid?.reason ?? 'not a JSON object'}`);
      // integers past 2^53 (an INT64 column converted to JSONL): read again, exact
      yield hasUnsafeInteger(l.value) ? (parseJsonExact(l.raw) as Record<string, unknown>) : l.value;
    }
    return;
  }
  let n = 0;
  for await (const v of readRecords(path, format, opts)) {
    n++;
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new FormatError(`record ${n} is not a JSON object`);
    yield v as Record<string, unknown>;
  }
}

/** Converts a JSONL (or JSON array, CSV, TSV, JSONL.gz) file to Parquet, atomically (two passes: the schema, then the rows). */
export async function convertToParquet(
  input: string,
  output: string,
  opts: ReadOptions & {
    format?: Format;
    overwrite?: boolean;
    rowGroupSize?: number;
    onProgress?: (records: number) => void;
  } = {},
): Promise<ParquetWriteResult> {
  const format = opts.format ?? detectFormat(input);
  if (!format) throw new FormatError(`cannot tell the format of ${input} from its extension`);
  if (format === 'parquet') throw new FormatError('the input is Parquet already');
  if (resolve(input) === resolve(output)) throw new FormatError('the output must be another file than the input');
  return writeParquet(output, () => readAnyRecords(input, format, opts), {
    overwrite: opts.overwrite ?? true,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.rowGroupSize ? { rowGroupSize: opts.rowGroupSize } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
