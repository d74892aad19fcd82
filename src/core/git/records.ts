// What identifies a record across two versions of a file (docs/git.md): its id when it has one,
// else its content outside the annotation fields. Shared by the semantic diff and the merge driver.
import { createHash } from 'node:crypto';
import { read, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { canonicalJson } from '../llm/cache';
import { defaultFields, type FieldMap } from '../schema/annotation';
import type { JsonlDataset } from '../store';

/**
 * The top-level fields that count as a record's id, in this order: the first one a record has with
 * a string (not empty) or a number is its key. `--key FIELD` (KeyOptions.keyField) names another.
 */
export const ID_FIELDS = [
  'id',
  '_id',
  'uuid',
  'record_id',
  'example_id',
  'sample_id',
  'prompt_id',
  'question_id',
] as const;

export interface KeyOptions {
  /** A dotted path that holds each record's id (instead of ID_FIELDS). */
  keyField?: string;
  fields?: FieldMap;
}

type Rec = Record<string, unknown>;
export const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The record keys that hold annotations under a field map (never part of a record's content). */
export function annotationKeys(fields: FieldMap = defaultFields): Set<string> {
  return new Set([fields.label, fields.rationale, fields.judge, fields.judges, fields.annotations]);
}

function at(v: unknown, path: string): unknown {
  let cur = v;
  for (const k of path.split('.')) {
    if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

const idValue = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== ''
    ? JSON.stringify(v)
    : typeof v === 'number' && Number.isFinite(v)
      ? String(v)
      : undefined;

/** The id of a record (as JSON text: `"abc"` or `17`), undefined when it has none. */
export function recordId(value: Rec, opts: KeyOptions = {}): string | undefined {
  if (opts.keyField) return idValue(at(value, opts.keyField));
  for (const f of ID_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(value, f)) continue;
    const id = idValue(value[f]);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** A hash of the record's content outside the annotation fields (key order does not count). */
export function contentHash(value: Rec, keys: ReadonlySet<string>): string {
  const rest: Rec = Object.fromEntries(Object.entries(value).filter(([k]) => !keys.has(k)));
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url').slice(0, 24);
}

/**
 * The key of a line: `id:<id>` for a record with an id, `content:<hash>` for one without, `line:<hash
 * of its bytes>` for a line that is not a record. The same key on both sides is the same record.
 */
export function lineKey(
  value: Rec | undefined,
  bytes: Buffer,
  keys: ReadonlySet<string>,
  opts: KeyOptions = {},
): string {
  if (!value) return `line:${createHash('sha256').update(bytes).digest('base64url').slice(0, 24)}`;
  const id = recordId(value, opts);
  return id !== undefined ? `id:${id}` : `content:${contentHash(value, keys)}`;
}

/** A short, human form of a key (the id, or "record without id"). */
export function keyLabel(key: string): string {
  if (key.startsWith('id:')) return `id ${key.slice(3).replace(/#\d+$/, '')}`;
  if (key.startsWith('content:')) return 'record without id';
  return 'invalid line';
}

/** A hash of a line's exact bytes (16 bytes): equal hashes, equal lines. */
export function bytesHash(bytes: Buffer): Buffer {
  return createHash('sha1').update(bytes).digest().subarray(0, 16);
}

/**
 * Every line of a file by key, with a hash of its bytes: what a diff or a merge keeps in memory
 * (never the records themselves; they are read again by offset when needed). A key seen again gets
 * `#2`, `#3`... (duplicates pair in order).
 */
export interface KeyIndex {
  /** key -> 0-based line index. */
  byKey: Map<string, number>;
  /** Line index -> key. */
  keys: string[];
  /** 16 bytes per line: the hash of its bytes. */
  hashes: Buffer;
  /** The line's record (parsed again), undefined for a line that is not one. */
  value(i: number): Rec | undefined;
  /** The line's bytes without its line feed (a CR of a CRLF stays). */
  bytes(i: number): Buffer;
  /** Whether the line ended with a line feed (only the last line may not). */
  eol(i: number): boolean;
  close(): Promise<void>;
}

function parseRecord(bytes: Buffer): Rec | undefined {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const aborted = () => Object.assign(new Error('interrupted'), { name: 'AbortError' });

/** Builds a KeyIndex line by line: keys (duplicates numbered), byte hashes, where each line is. */
class Collector {
  readonly keys: string[] = [];
  readonly byKey = new Map<string, number>();
  private readonly dups = new Map<string, number>();
  private hashes = Buffer.alloc(16 * 1024);
  /** Per line: its byte offset in the file, or -1 for a line held in `held`. */
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly held = new Map<number, Buffer>();
  private readonly annotation: ReadonlySet<string>;

  constructor(private readonly opts: KeyOptions) {
    this.annotation = annotationKeys(opts.fields);
  }

  add(bytes: Buffer, offset: number, value?: Rec | null): void {
    const i = this.keys.length;
    let key = lineKey(
      value === undefined ? parseRecord(bytes) : (value ?? undefined),
      bytes,
      this.annotation,
      this.opts,
    );
    if (this.byKey.has(key)) {
      // a duplicate key (rare): numbered; only duplicates are counted, in a map of their own
      const c = (this.dups.get(key) ?? 1) + 1;
      this.dups.set(key, c);
      key = `${key}#${c}`;
    }
    this.byKey.set(key, i);
    this.keys.push(key);
    if (offset >= 0) {
      this.starts.push(offset);
      this.ends.push(offset + bytes.length);
    } else {
      this.starts.push(-1);
      this.ends.push(-1);
      this.held.set(i, Buffer.from(bytes));
    }
    if ((i + 1) * 16 > this.hashes.length) {
      const bigger = Buffer.alloc(this.hashes.length * 2);
      this.hashes.copy(bigger);
      this.hashes = bigger;
    }
    bytesHash(bytes).copy(this.hashes, i * 16);
  }

  /** Adds the lines of bytes [from, to) of the open file `fd` (lines end with LF; the last one may not), in 1 MiB reads. */
  async addRange(fd: number, from: number, to: number, signal?: AbortSignal): Promise<void> {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let carry = Buffer.alloc(0);
    let pos = from; // file offset of carry[0]
    while (pos + carry.length < to) {
      if (signal?.aborted) throw aborted();
      const want = Math.min(chunk.length, to - pos - carry.length);
      const bytesRead = await new Promise<number>((res, rej) =>
        read(fd, chunk, 0, want, pos + carry.length, (err, n) => (err ? rej(err) : res(n))),
      );
      if (bytesRead <= 0) break;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        this.add(buf.subarray(start, nl), pos + start);
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      pos += start;
    }
    if (carry.length) this.add(carry, pos);
  }

  index(
    fd: number,
    lastHasEol: () => boolean,
    eolOf: (i: number) => boolean | undefined,
    close: () => Promise<void>,
  ): KeyIndex {
    const n = this.keys.length;
    const bytes = (i: number): Buffer => {
      const h = this.held.get(i);
      if (h) return h;
      const b = Buffer.allocUnsafe(this.ends[i]! - this.starts[i]!);
      readSync(fd, b, 0, b.length, this.starts[i]!);
      return b;
    };
    return {
      byKey: this.byKey,
      keys: this.keys,
      hashes: this.hashes.subarray(0, n * 16),
      value: (i) => parseRecord(bytes(i)),
      bytes,
      eol: (i) => eolOf(i) ?? (i < n - 1 || lastHasEol()),
      close,
    };
  }
}

/**
 * Indexes a file in one sequential pass (1 MiB reads, the event loop breathing between them):
 * per line its key, a hash of its bytes and its offset; records are parsed once for their key
 * and again only when asked for.
 */
export async function indexFile(path: string, opts: KeyOptions = {}, signal?: AbortSignal): Promise<KeyIndex> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const c = new Collector(opts);
    await c.addRange(fh.fd, 0, size, signal);
    let last = -1;
    if (size > 0) {
      const b = Buffer.alloc(1);
      readSync(fh.fd, b, 0, 1, size - 1);
      last = b[0]!;
    }
    return c.index(
      fh.fd,
      () => last === 10,
      () => undefined,
      () => fh.close().catch(() => undefined),
    );
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Indexes an open dataset as it is now, its unsaved edits included (the curation editor's): the
 * unedited stretches are read from its file by byte range, as a file is; the edited lines come from
 * the store. The dataset stays open: `close()` does not close it.
 */
export async function indexDataset(ds: JsonlDataset, opts: KeyOptions = {}, signal?: AbortSignal): Promise<KeyIndex> {
  await ds.ready;
  const fd = ds.fileDescriptor;
  const c = new Collector(opts);
  const eols = new Map<number, boolean>();
  for (const seg of ds.segments(64 << 20)) {
    if (seg.kind === 'orig') await c.addRange(fd, seg.byteStart, seg.byteEnd, signal);
    else {
      for (const l of seg.lines) {
        const i = c.keys.length;
        c.add(l.bytes, -1);
        eols.set(i, l.eol !== '');
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  const size = ds.byteLength;
  let last = -1;
  if (size > 0) {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    last = b[0]!;
  }
  return c.index(
    fd,
    () => last === 10,
    (i) => eols.get(i),
    () => Promise.resolve(),
  );
}

export function sameBytes(a: KeyIndex, i: number, b: KeyIndex, j: number): boolean {
  return a.hashes.compare(b.hashes, j * 16, j * 16 + 16, i * 16, i * 16 + 16) === 0;
}

/** Equal as JSON values, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
