// What identifies a record across two versions of a file (docs/git.md): its id when it has one,
// else its content outside the annotation fields. Shared by the semantic diff and the merge driver.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../llm/cache';
import { defaultFields, type FieldMap } from '../schema/annotation';
import type { JsonlDataset } from '../store';

/**
 * The top-level fields that count as a record's id, in this order: the first one a record has with
 * a string (not empty) or a number is its key. `--key FIELD` (KeyOptions.keyField) names another.
 */
export const ID_FIELDS = ['id', '_id', 'uuid', 'record_id', 'example_id', 'sample_id', 'prompt_id', 'question_id'] as const;

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

const idValue = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? JSON.stringify(v) : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

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
export function lineKey(value: Rec | undefined, bytes: Buffer, keys: ReadonlySet<string>, opts: KeyOptions = {}): string {
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
 * (never the records themselves). A key seen again gets `#2`, `#3`... (duplicates pair in order).
 */
export interface KeyIndex {
  /** key -> 0-based line index. */
  byKey: Map<string, number>;
  /** Line index -> key. */
  keys: string[];
  /** 16 bytes per line: the hash of its bytes. */
  hashes: Buffer;
}

export async function indexKeys(ds: JsonlDataset, opts: KeyOptions = {}, signal?: AbortSignal): Promise<KeyIndex> {
  await ds.ready;
  const keys = annotationKeys(opts.fields);
  const n = ds.lineCount;
  const out: KeyIndex = { byKey: new Map(), keys: new Array<string>(n), hashes: Buffer.alloc(n * 16) };
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if ((i & 0x3ff) === 0x3ff) {
      if (signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
      await new Promise((r) => setImmediate(r));
    }
    const l = ds.line(i);
    const bytes = l.bytes();
    let key = lineKey(l.invalid ? undefined : l.value, bytes, keys, opts);
    const c = (seen.get(key) ?? 0) + 1;
    seen.set(key, c);
    if (c > 1) key = `${key}#${c}`;
    out.byKey.set(key, i);
    out.keys[i] = key;
    bytesHash(bytes).copy(out.hashes, i * 16);
  }
  return out;
}

export function sameBytes(a: KeyIndex, i: number, b: KeyIndex, j: number): boolean {
  return a.hashes.compare(b.hashes, j * 16, j * 16 + 16, i * 16, i * 16 + 16) === 0;
}

/** Equal as JSON values, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
