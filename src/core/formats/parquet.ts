// Parquet in and out, in pure JavaScript (hyparquet reads, hyparquet-writer writes: no native
// module, so the extension installs on every platform; docs/interop.md says why these two).
//
// Reading streams one row group at a time (the footer first, then each group's column chunks),
// so memory is bounded by the largest row group, never the file. Nested lists and structs come
// back as arrays and objects; INT64 as BigInt, written to JSON with every digit (json-text.ts).
// Snappy, gzip, zstd, brotli and lz4 pages are read (hyparquet-compressors).
//
// Writing infers a schema from the records (a first pass over them): strings, 64-bit integers,
// doubles, booleans, lists (3-level LIST) and structs nest as deep as the data does; a column
// whose values disagree in kind (a string here, an object there) is written as JSON text. The
// file is written to a temporary file beside the target, fsynced and renamed into place.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, fchmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fsyncDir, tempPathFor } from '../store/files';
import { abortError } from '../store/errors';

// ---------------------------------------------------------------------------------------------
// Types of the libraries (the parts used here), loaded lazily: neither is needed to open a JSONL file.

interface SchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT32' | 'INT64' | 'INT96' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
  repetition_type?: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  converted_type?: string;
  logical_type?: { type: string };
  num_children?: number;
}
interface FileMetaData {
  num_rows: bigint;
  schema: SchemaElement[];
  row_groups: { num_rows: bigint }[];
  key_value_metadata?: { key: string; value?: string }[];
  created_by?: string;
}
interface AsyncBuffer {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer> | ArrayBuffer;
}
interface Hyparquet {
  asyncBufferFromFile(path: string): Promise<AsyncBuffer>;
  parquetMetadataAsync(file: AsyncBuffer): Promise<FileMetaData>;
  parquetReadObjects(options: {
    file: AsyncBuffer;
    metadata: FileMetaData;
    rowStart: number;
    rowEnd: number;
    compressors?: unknown;
    utf8?: boolean;
  }): Promise<Record<string, unknown>[]>;
}
interface Writer {
  offset: number;
  index: number;
  buffer: ArrayBuffer;
  view: DataView;
  ensure(size: number): void;
  finish(): void;
  flush?(): void;
  getBuffer(): ArrayBuffer;
  getBytes(): Uint8Array;
}
interface HyparquetWriter {
  ByteWriter: new () => Writer;
  parquetWriteRows(options: {
    writer: Writer;
    rows: AsyncIterable<Record<string, unknown>>;
    columns: { name: string }[];
    schema: SchemaElement[];
    rowGroupSize?: number | number[];
    kvMetadata?: { key: string; value: string }[];
    createdBy?: string;
  }): Promise<void> | void;
}

interface Libs {
  hyparquet: Hyparquet;
  compressors: unknown;
  writer: HyparquetWriter;
}
let libs: Libs | undefined;

/**
 * The libraries, loaded on first use: bundled they are dist/parquet.js beside the bundle that asks
 * (built from parquet-libs.ts); from TypeScript (tests, tsx) the source module.
 */
function load(): Libs {
  if (libs) return libs;
  const bundled = join(__dirname, 'parquet.js');
  // a computed path: the bundler leaves it to run time (the libraries stay out of the main bundle)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous lazy load of a run-time path; import() would be async and an ES module load
  libs = require(existsSync(bundled) ? bundled : join(__dirname, 'parquet-libs')) as Libs;
  return libs;
}
function loadReader(): { hp: Hyparquet; compressors: unknown } {
  const l = load();
  return { hp: l.hyparquet, compressors: l.compressors };
}
function loadWriter(): HyparquetWriter {
  return load().writer;
}

export class ParquetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetError';
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ParquetInfo {
  rows: number;
  rowGroups: number;
  columns: string[];
  createdBy?: string;
}

async function open(
  path: string,
): Promise<{ hp: Hyparquet; compressors: unknown; file: AsyncBuffer; metadata: FileMetaData }> {
  const { hp, compressors } = loadReader();
  const file = await hp.asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await hp.parquetMetadataAsync(file);
  } catch (err) {
    throw new ParquetError(`${path} is not a Parquet file: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { hp, compressors, file, metadata };
}

/** The top-level column names of a Parquet schema. */
function topColumns(schema: SchemaElement[]): string[] {
  const out: string[] = [];
  let i = 1;
  const skip = (k: number): number => {
    let next = k + 1;
    for (let c = 0; c < (schema[k]?.num_children ?? 0); c++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    out.push(schema[i]!.name);
    i = skip(i);
  }
  return out;
}

/** Row count, row groups and columns (from the footer only). */
export async function parquetInfo(path: string): Promise<ParquetInfo> {
  const { metadata } = await open(path);
  return {
    rows: Number(metadata.num_rows),
    rowGroups: metadata.row_groups.length,
    columns: topColumns(metadata.schema),
    ...(metadata.created_by ? { createdBy: metadata.created_by } : {}),
  };
}

export interface ParquetReadOptions {
  signal?: AbortSignal;
  /** First row (0-based) and the row after the last; default the whole file. */
  rowStart?: number;
  rowEnd?: number;
  /** Called after each row group with the rows read so far. */
  onRowGroup?: (rowsDone: number, rowsTotal: number) => void;
}

/** The rows of a Parquet file as objects, one row group at a time. */
export async function* readParquetRows(
  path: string,
  opts: ParquetReadOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const { hp, compressors, file, metadata } = await open(path);
  const total = Number(metadata.num_rows);
  const from = Math.max(0, opts.rowStart ?? 0);
  const to = Math.min(total, opts.rowEnd ?? total);
  let start = 0;
  for (const rg of metadata.row_groups) {
    const end = start + Number(rg.num_rows);
    const a = Math.max(start, from);
    const b = Math.min(end, to);
    if (a < b) {
      if (opts.signal?.aborted) throw abortError();
      let rows: Record<string, unknown>[];
      try {
        rows = await hp.parquetReadObjects({ file, metadata, rowStart: a, rowEnd: b, compressors, utf8: true });
      } catch (err) {
        throw new ParquetError(
          `cannot read rows ${a + 1}-${b} of ${path}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      for (const r of rows) {
        // a null list or struct comes back undefined: every column is in every row, as in the file
        for (const k of Object.keys(r)) if (r[k] === undefined) r[k] = null;
        yield r;
      }
      opts.onRowGroup?.(b - from, to - from);
    }
    start = end;
    if (start >= to) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema inference

/** The kind of a column's values, merged over every record. */
export type Kind =
  | { t: 'null' }
  | { t: 'bool' }
  | { t: 'int' }
  | { t: 'float' }
  | { t: 'string' }
  | { t: 'json' }
  | { t: 'list'; of: Kind }
  | { t: 'struct'; fields: Map<string, Kind> };

const NULL: Kind = { t: 'null' };

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return NULL;
  switch (typeof v) {
    case 'boolean':
      return { t: 'bool' };
    case 'bigint':
      return v >= -(2n ** 63n) && v < 2n ** 63n ? { t: 'int' } : { t: 'float' };
    case 'number':
      // an integer past 2^53 is a rounded double already (JSON.parse): kept as the double it is
      return Number.isSafeInteger(v) ? { t: 'int' } : { t: 'float' };
    case 'string':
      return { t: 'string' };
    default:
      break;
  }
  if (Array.isArray(v)) {
    let of: Kind = NULL;
    for (const x of v) of = merge(of, kindOf(x));
    return { t: 'list', of };
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const fields = new Map<string, Kind>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) fields.set(k, kindOf(x));
    return fields.size ? { t: 'struct', fields } : { t: 'json' };
  }
  return { t: 'json' };
}

function merge(a: Kind, b: Kind): Kind {
  if (a.t === 'null') return b;
  if (b.t === 'null') return a;
  if (a.t === 'json' || b.t === 'json') return { t: 'json' };
  if (a.t === b.t) {
    if (a.t === 'list' && b.t === 'list') return { t: 'list', of: merge(a.of, b.of) };
    if (a.t === 'struct' && b.t === 'struct') {
      const fields = new Map(a.fields);
      for (const [k, v] of b.fields) fields.set(k, merge(fields.get(k) ?? NULL, v));
      return { t: 'struct', fields };
    }
    return a;
  }
  if ((a.t === 'int' && b.t === 'float') || (a.t === 'float' && b.t === 'int')) return { t: 'float' };
  return { t: 'json' };
}

/** The schema of a set of records: their top-level keys in order of first appearance, each with its merged kind. */
export class SchemaBuilder {
  readonly columns = new Map<string, Kind>();
  rows = 0;
  add(record: Record<string, unknown>): void {
    this.rows++;
    for (const [k, v] of Object.entries(record)) this.columns.set(k, merge(this.columns.get(k) ?? NULL, kindOf(v)));
  }
}

function leaf(name: string, k: Kind): SchemaElement {
  switch (k.t) {
    case 'bool':
      return { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' };
    case 'int':
      return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
    case 'float':
      return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
    case 'json':
      return { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' };
    default: // string, and a column of nulls only
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  }
}

function elements(name: string, k: Kind, out: SchemaElement[]): void {
  if (k.t === 'list') {
    out.push({ name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 });
    out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    elements('element', k.of, out);
  } else if (k.t === 'struct') {
    out.push({ name, repetition_type: 'OPTIONAL', num_children: k.fields.size });
    for (const [f, fk] of k.fields) elements(f, fk, out);
  } else out.push(leaf(name, k));
}

/** The Parquet schema (flattened, as the footer holds it) of the inferred columns. */
export function parquetSchema(columns: Map<string, Kind>): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: columns.size }];
  for (const [name, k] of columns) elements(name, k, out);
  return out;
}

/** A value shaped for its column: integers as BigInt, mismatched values as JSON text. */
function shape(v: unknown, k: Kind): unknown {
  if (v === null || v === undefined) return null;
  switch (k.t) {
    case 'int':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'float':
      return typeof v === 'bigint' ? Number(v) : v;
    case 'json':
      return v; // the writer writes it as JSON text; a reader gives the value back
    case 'list':
      return (v as unknown[]).map((x) => shape(x, k.of));
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [f, fk] of k.fields) out[f] = shape((v as Record<string, unknown>)[f], fk);
      return out;
    }
    default:
      return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A hyparquet-writer Writer over a file descriptor: flushes every megabyte. */
function fdWriter(Base: new () => Writer, fd: number): Writer {
  const w = new Base(); // keeps `offset`, the bytes written in all
  const flush = () => {
    if (w.index === 0) return;
    writeSync(fd, new Uint8Array(w.buffer, 0, w.index));
    w.index = 0;
  };
  w.ensure = (size: number) => {
    if (w.index > 1 << 20) flush();
    if (w.index + size > w.buffer.byteLength) {
      const next = new ArrayBuffer(Math.max(w.buffer.byteLength * 2, w.index + size));
      new Uint8Array(next).set(new Uint8Array(w.buffer, 0, w.index));
      w.buffer = next;
      w.view = new DataView(next);
    }
  };
  w.finish = flush;
  return w;
}

export interface ParquetWriteOptions {
  signal?: AbortSignal;
  /** Rows per row group (default 10,000: a reader streams one group at a time). */
  rowGroupSize?: number;
  kvMetadata?: { key: string; value: string }[];
  /** Replace an existing file (default false). */
  overwrite?: boolean;
  onProgress?: (rows: number) => void;
}

export interface ParquetWriteResult {
  rows: number;
  bytes: number;
  columns: Map<string, Kind>;
}

/**
 * Writes records to a Parquet file: `records` is called twice (the schema from the first pass, the
 * rows from the second), so it must give the same records each time (a file read again).
 */
export async function writeParquet(
  out: string,
  records: () => AsyncIterable<Record<string, unknown>>,
  opts: ParquetWriteOptions = {},
): Promise<ParquetWriteResult> {
  const schema = new SchemaBuilder();
  for await (const r of records()) {
    if ((schema.rows & 1023) === 0 && opts.signal?.aborted) throw abortError();
    schema.add(r);
  }
  if (schema.columns.size === 0)
    throw new ParquetError('no columns to write: the input has no records (or only empty ones)');
  const elements = parquetSchema(schema.columns);
  const hw = loadWriter();
  const target = resolve(out);
  const tmp = tempPathFor(target);
  let fd = -1;
  let rows = 0;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    fchmodSync(fd, 0o644);
    const w = fdWriter(hw.ByteWriter, fd);
    const kinds = [...schema.columns];
    async function* shaped(): AsyncGenerator<Record<string, unknown>> {
      for await (const r of records()) {
        if ((rows & 1023) === 0) {
          if (opts.signal?.aborted) throw abortError();
          opts.onProgress?.(rows);
        }
        const row: Record<string, unknown> = {};
        for (const [name, k] of kinds) row[name] = shape(r[name], k);
        rows++;
        yield row;
      }
    }
    await hw.parquetWriteRows({
      writer: w,
      rows: shaped(),
      columns: kinds.map(([name]) => ({ name })),
      schema: elements,
      rowGroupSize: opts.rowGroupSize ?? 10_000,
      createdBy: 'dataset-curator (hyparquet-writer)',
      ...(opts.kvMetadata ? { kvMetadata: opts.kvMetadata } : {}),
    });
    w.finish();
    const bytes = w.offset;
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    if (!opts.overwrite) {
      // link() fails when the target exists: no replacing a file the user did not ask to replace
      const { linkSync } = await import('node:fs');
      linkSync(tmp, target);
      unlinkSync(tmp);
    } else renameSync(tmp, target);
    fsyncDir(dirname(target));
    opts.onProgress?.(rows);
    return { rows, bytes, columns: schema.columns };
  } catch (err) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    if (err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ParquetError(`${out} exists (pass overwrite to replace it)`);
    throw err;
  }
}
