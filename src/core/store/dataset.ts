// A JSONL dataset of any size, indexed rather than loaded: the byte offsets of its lines (8 bytes
// a line) are found by a scan in a worker thread; records are read one at a time with positioned
// reads and parsed on demand; edits live in an overlay (a piece table of invertible,
// JSON-serializable edits); saves are atomic and checked, and copy untouched bytes as they are.
import { randomBytes } from 'node:crypto';
import { close, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startStoreWorker } from './worker-file';
import { DEFAULT_MAX_LINE_BYTES, MAX_RECORD_DEPTH, checkLineBytes, lossyReason, tooDeep } from './check';
import { ConflictError, EditError, LossyEditError, NotADatasetError, SaveError, abortError } from './errors';
import {
  cleanStaleTemps,
  fingerprintChange,
  fingerprintFd,
  fingerprintPath,
  resolveWriteTarget,
  type Fingerprint,
} from './files';
import { cleanStaleLock } from './lock';
import { PieceTable, type Eol, type Item, type LineRef, type Piece } from './pieces';
import { TempFile, asSaveError, destinationOf } from './replace';
import { bytesInPlace, worthCloning, writePieces } from './save-copy';
import { batchCapacity, DEFAULT_CHUNK, Offsets, scanRange } from './scan';
import type { ScanJob, ScanMessage } from './scan-worker';

/** Bytes read ahead when original lines are read in order (JsonlDataset.readAt). */
const READ_AHEAD = 256 * 1024;

export type { Eol, LineRef } from './pieces';

/** One logical line as the editor shows it. */
export interface LineView {
  /** 0-based logical index. */
  readonly index: number;
  /** 1-based line number (logical: after the overlay's inserts and deletes). */
  readonly lineNumber: number;
  /** The text without its terminator (invalid UTF-8 shown as U+FFFD: for display only). */
  readonly raw: string;
  /** The terminator: '\n', '\r\n' or '' (last line without a final newline). */
  readonly eol: Eol;
  /** The exact bytes of the line, without the terminator. */
  bytes(): Buffer;
  /** The parsed record, when the line is a valid JSON object. */
  readonly value?: Record<string, unknown>;
  /** Why the line is not a record. */
  readonly invalid?: { reason: string };
  /** Why a structured edit of this record would lose information (computed on first access). */
  readonly lossy?: { reason: string };
  /** True when the overlay changed or inserted this line. */
  readonly edited: boolean;
}

/** A line's new content: a JSON value (written compactly), or `{ raw }` text kept as typed. */
export type LineInput = unknown; // any JSON value, or { raw: string }

/**
 * An invertible, JSON-serializable edit (the editor keeps them for undo/redo and hot exit).
 * `setField` and `replaceLine` make `replace` edits.
 */
export type Edit =
  | { type: 'replace'; index: number; before: LineRef; after: LineRef }
  | { type: 'insert'; index: number; line: LineRef }
  | { type: 'delete'; index: number; line: LineRef };

export function invertEdit(e: Edit): Edit {
  switch (e.type) {
    case 'replace':
      return { type: 'replace', index: e.index, before: e.after, after: e.before };
    case 'insert':
      return { type: 'delete', index: e.index, line: e.line };
    case 'delete':
      return { type: 'insert', index: e.index, line: e.line };
  }
}

export interface ScanProgress {
  bytes: number;
  totalBytes: number;
  lines: number;
}

export interface OpenOptions {
  signal?: AbortSignal;
  onProgress?: (p: ScanProgress) => void;
  /** Bytes read per scan step (tests make it tiny to hit chunk boundaries). Default 4 MiB. */
  chunkSize?: number;
  /**
   * Where the scan runs: a worker thread (`true`), this thread in async steps (`false`), or
   * by size (default: files up to 16 MiB are scanned at once in open(), larger ones in a worker).
   */
  worker?: boolean;
  /** Lines longer than this are shown, not parsed. Default 64 MiB. */
  maxLineBytes?: number;
  /**
   * The scan of what follows the first chunk waits for `startScan()` or for someone to read
   * `ready`; records of the first chunk are readable at once.
   */
  deferScan?: boolean;
  /**
   * The removal of stale temps in the file's folder (see cleanStaleTemps) waits for `startScan()`
   * or for someone to read `ready`: it reads the folder, 10 ms and more in a folder of thousands
   * of files, which an editor showing the first record need not wait for.
   */
  deferCleanup?: boolean;
}

export interface SaveOptions {
  signal?: AbortSignal;
  /** Overwrite even if the file changed on disk (the user chose to, after a ConflictError). */
  force?: boolean;
  /**
   * Longest wait (ms) for the file's write lock while another writer saves it; then LockedError
   * (a ConflictError). Default 30 000 (see ./lock.ts).
   */
  lockWaitMs?: number;
}

/** One stretch of the logical lines, for readers that stream the dataset (stats, export). */
export type Segment =
  | { kind: 'orig'; logicalStart: number; count: number; byteStart: number; byteEnd: number }
  | { kind: 'lines'; logicalStart: number; lines: { bytes: Buffer; eol: Eol }[] };

const SYNC_SCAN_BYTES = 16 * 1024 * 1024;
const FIRST_CHUNK = 1024 * 1024;

/**
 * The read buffer and offsets batch of an open's first chunk, shared by every open (the scan of
 * it is synchronous, and its offsets are copied): an open allocates neither. Its own, each open,
 * were 1.1 MiB of memory outside V8's heap for a large file, whose growth is what sets off V8's
 * collections there: in the editor's extension host a major collection began as the page of a
 * 1 GB file loaded, in 2 to 8 of 9-15 opens a run (bench/editor.ts), never for a 1 KB file.
 */
let firstChunkScratch: { buffer: Buffer; batch: Float64Array } | undefined;

function isRawInput(v: unknown): v is { raw: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'raw' && typeof (v as { raw: unknown }).raw === 'string';
}

/**
 * Throws unless `v` is plain JSON that JSON.stringify writes without loss, at most
 * MAX_RECORD_DEPTH levels deep. Iterative: a hostile value cannot overflow the stack.
 */
function assertJson(root: unknown, rootWhere = 'value'): void {
  const stack: [unknown, string, number][] = [[root, rootWhere, 0]];
  while (stack.length > 0) {
    const [v, where, depth] = stack.pop()!;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) throw new EditError(`${where} is ${v}, which JSON cannot hold`);
        continue;
      case 'object': {
        if (v === null) continue;
        if (depth >= MAX_RECORD_DEPTH)
          throw new EditError(
            `${rootWhere} is nested more than ${MAX_RECORD_DEPTH} levels deep (the limit for a record)`,
          );
        if (Array.isArray(v)) {
          for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${where}[${i}]`, depth + 1]);
          continue;
        }
        if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
          throw new EditError(`${where} is not a plain JSON object`);
        }
        for (const [k, x] of Object.entries(v)) stack.push([x, `${where}.${k}`, depth + 1]);
        continue;
      }
      default:
        throw new EditError(`${where} is ${typeof v}, which JSON cannot hold`);
    }
  }
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Sets a member as an own data property: `__proto__` is a key like any other, never the prototype. */
function define(o: Record<string, unknown>, k: string, value: unknown): void {
  Object.defineProperty(o, k, { value, writable: true, enumerable: true, configurable: true });
}

/** The bytes of a line reference (an edit's before/after text). */
export function refBytes(ref: LineRef): Buffer {
  return 'text' in ref ? Buffer.from(ref.text, 'utf8') : Buffer.from(ref.base64, 'base64');
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown, lineNumber: number): void {
  if (path.length === 0) throw new EditError('the field path is empty');
  let cur: unknown = root;
  for (let k = 0; k < path.length; k++) {
    const key = path[k]!;
    const last = k === path.length - 1;
    const shown = path.slice(0, k + 1).join('.');
    if (Array.isArray(cur)) {
      const idx = typeof key === 'number' ? key : /^\d+$/.test(key) ? Number(key) : NaN;
      if (!Number.isInteger(idx) || idx < 0 || idx > cur.length) {
        throw new EditError(`line ${lineNumber}: ${shown} is not an index of the array (0..${cur.length})`);
      }
      if (last) {
        if (value === undefined) cur.splice(idx, 1);
        else cur[idx] = value;
        return;
      }
      if (cur[idx] === undefined || cur[idx] === null) cur[idx] = typeof path[k + 1] === 'number' ? [] : {};
      cur = cur[idx];
    } else if (cur !== null && typeof cur === 'object') {
      // Own members only: a path through "__proto__" or "constructor" names the record's own key
      // (or creates one), never the prototype chain.
      const obj = cur as Record<string, unknown>;
      const name = String(key);
      if (last) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a JSON member named by the edit's path, removed in place (key order kept)
        if (value === undefined) delete obj[name];
        else define(obj, name, value);
        return;
      }
      if (!own(obj, name) || obj[name] === undefined || obj[name] === null)
        define(obj, name, typeof path[k + 1] === 'number' ? [] : {});
      cur = obj[name];
    } else {
      throw new EditError(
        `line ${lineNumber}: cannot set ${path.join('.')}: ${path.slice(0, k).join('.')} is not an object or array`,
      );
    }
  }
}

/** One field a structured edit sets (`value` undefined: removes it). */
export interface FieldEdit {
  path: (string | number)[];
  value: unknown;
}

/**
 * The compact JSON text of a record after setting fields: what JsonlDataset.setFields and the
 * single-record edit (line-edit.ts) write. Throws EditError for a line that is not a JSON object,
 * a bad path or a value JSON cannot hold, LossyEditError for a record that re-serializing would
 * change beyond the fields set. `view.value` is changed in place.
 */
export function recordWithFields(
  view: Pick<LineView, 'lineNumber' | 'value' | 'invalid' | 'lossy'>,
  edits: readonly FieldEdit[],
): string {
  if (!view.value)
    throw new EditError(
      `line ${view.lineNumber} is not a JSON object (${view.invalid?.reason ?? 'invalid'}); replace its raw text instead`,
    );
  if (view.lossy) throw new LossyEditError(view.lineNumber, view.lossy.reason);
  const rec = view.value;
  for (const { path, value } of edits) {
    if (value !== undefined) assertJson(value, path.join('.') || 'value');
    setPath(rec, path, value === undefined ? undefined : structuredClone(value), view.lineNumber);
  }
  const text = JSON.stringify(rec);
  if (tooDeep(text))
    throw new EditError(
      `line ${view.lineNumber} would be nested more than ${MAX_RECORD_DEPTH} levels deep (the limit for a record)`,
    );
  return text;
}

export class JsonlDataset {
  private _path: string;
  private fd = -1;
  private size = 0;
  private fp!: Fingerprint;
  private offs = new Offsets();
  private scanDone = false;
  private endsWithNewline = false;
  private defaultEol: Eol = '\n';
  /** Identifies the indexed file version that `{orig}` references point into. */
  private base = '';
  /**
   * Bytes of the indexed file read ahead when original lines are read in order (a job's pass, a
   * save's sink, an export): one read of READ_AHEAD bytes serves the lines after it, where each
   * line was a read of its own (100,000 records: 500,000 reads, 2.3 s of `curate label --batch`).
   * Bound to `base`: a save or a revert re-bases the dataset and the window is not used again.
   */
  private window: { base: string; start: number; bytes: Buffer; length: number } | undefined;
  /** The original line read last (readOrig): the next one is a read in order. */
  private lastOrig = -2;
  private readonly table = new PieceTable();
  private worker: Worker | undefined;
  private stopFlag: Int32Array | undefined;
  private saving = false;
  private closed = false;
  /** Lines longer than this are shown, not parsed. */
  readonly maxLineBytes: number;
  private _ready: Promise<void> = Promise.resolve();
  private _indexedBy: 'open' | 'worker' | 'thread' = 'open';
  /** Starts the rest of a deferred scan (set while it waits). */
  private pendingScan: (() => void) | undefined;
  /** Removes the stale temps of the file's folder (with `deferCleanup`: waits for startScan). */
  private pendingClean: (() => void) | undefined;
  /** Counts startIndex() calls: a scan of an earlier one (before a revert) stops. */
  private scanGen = 0;
  /** Counts the changes of the lines (every edit, undo, redo; a revert): see `revision`. */
  private _revision = 0;

  private constructor(path: string, opts: OpenOptions) {
    this._path = resolve(path);
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Opens a dataset; resolves as soon as the first lines are readable while indexing goes on. */
  // eslint-disable-next-line @typescript-eslint/require-await -- a Promise API: an abort or a bad path rejects, never throws at the call
  static async open(path: string, opts: OpenOptions = {}): Promise<JsonlDataset> {
    if (opts.signal?.aborted) throw abortError();
    const ds = new JsonlDataset(path, opts);
    const real = resolveWriteTarget(ds._path);
    if (opts.deferCleanup) ds.pendingClean = () => cleanStaleTemps(real);
    else cleanStaleTemps(real);
    cleanStaleLock(real);
    ds.startIndex(opts);
    return ds;
  }

  get path(): string {
    return this._path;
  }

  /**
   * Resolves when the full index is built; rejects if the scan failed or was aborted.
   * Reading it starts a deferred scan.
   */
  get ready(): Promise<void> {
    this.startScan();
    return this._ready;
  }

  /** The same promise as `ready`, without starting a deferred scan (for observers). */
  get indexDone(): Promise<void> {
    return this._ready;
  }

  /** True while a deferred scan has not started. */
  get scanDeferred(): boolean {
    return this.pendingScan !== undefined;
  }

  /**
   * Starts the deferred rest of the scan, and removes the folder's stale temps (`deferCleanup`);
   * no-op if not deferred, already started, done, or closed.
   */
  startScan(): void {
    const clean = this.pendingClean;
    this.pendingClean = undefined;
    if (clean && !this.closed) clean();
    const run = this.pendingScan;
    this.pendingScan = undefined;
    if (run && !this.closed) run();
  }

  get indexed(): boolean {
    return this.scanDone;
  }

  /** Changes whenever the lines may have changed (an edit, undo or redo, a revert); a save keeps it. */
  get revision(): number {
    return this._revision;
  }

  /** Where the index was built: all in open(), by the worker thread, or in steps on this thread (diagnostics). */
  get indexedBy(): 'open' | 'worker' | 'thread' {
    return this._indexedBy;
  }

  /** Lines of the indexed file (complete lines known so far while scanning). */
  private get origCount(): number {
    return this.scanDone ? this.offs.length : Math.max(0, this.offs.length - 1);
  }

  get lineCount(): number {
    return this.scanDone ? this.table.length : this.origCount;
  }

  get dirty(): boolean {
    return this.scanDone && !this.table.pristine(this.offs.length);
  }

  /** Size in bytes of the indexed file. */
  get byteLength(): number {
    return this.size;
  }

  /** The open descriptor of the indexed file version (for streaming readers in this process, workers included). */
  get fileDescriptor(): number {
    this.assertOpen();
    return this.fd;
  }

  /** Bytes of memory the line index holds (capacity of the offsets array). */
  get indexBytes(): number {
    return this.offs.data.byteLength;
  }

  // --- indexing -------------------------------------------------------------------------------

  private startIndex(opts: OpenOptions): void {
    this._revision++;
    this.fd = openSync(this._path, 'r');
    const st = fstatSync(this.fd);
    if (st.isDirectory()) {
      closeSync(this.fd);
      throw new NotADatasetError(this._path, 'is a folder, not a dataset file');
    }
    this.fp = fingerprintFd(this.fd);
    this.size = this.fp.size;
    this.base = randomBytes(6).toString('hex');
    // A deferred scan starts small: the first chunk's lines are all an open needs, and an 8 MB array
    // at each open of a large file (zeroed, counted as external memory) made V8 collect garbage
    // more and longer while the editor opened (docs/performance.md); the scan grows it.
    this.offs = new Offsets(opts.deferScan ? 4096 : Math.min(1 << 20, Math.max(1024, Math.ceil(this.size / 512))));
    this.scanDone = false;
    this.pendingScan = undefined;
    const gen = ++this.scanGen;
    this.table.reset(0);
    if (this.size > 0) {
      this.offs.push(0);
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, this.size - 1);
      this.endsWithNewline = last[0] === 10;
    } else this.endsWithNewline = false;

    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    const report = (bytes: number) => opts.onProgress?.({ bytes, totalBytes: this.size, lines: this.origCount });
    const onStarts = (s: Float64Array) => {
      let n = s.length;
      while (n > 0 && s[n - 1]! >= this.size) n--;
      this.offs.pushAll(n === s.length ? s : s.subarray(0, n));
    };
    const finish = () => {
      this.scanDone = true;
      this.offs.trim();
      this.table.reset(this.offs.length);
      this.defaultEol = this.firstEol();
      report(this.size);
    };

    const syncAll = opts.worker === undefined && this.size <= SYNC_SCAN_BYTES;
    const first = syncAll ? this.size : Math.min(this.size, opts.chunkSize ?? FIRST_CHUNK);
    // (a file indexed whole at open, up to SYNC_SCAN_BYTES, is read in reads of FIRST_CHUNK too)
    const firstChunk = Math.min(chunk, Math.max(1, first), FIRST_CHUNK);
    firstChunkScratch ??= {
      buffer: Buffer.allocUnsafe(FIRST_CHUNK),
      batch: new Float64Array(batchCapacity(FIRST_CHUNK)),
    };
    const scanned = scanRange(this.fd, 0, first, (s) => onStarts(s), { chunkSize: firstChunk, ...firstChunkScratch });
    this._indexedBy = 'open';
    if (scanned >= this.size) {
      finish();
      this._ready = Promise.resolve();
      return;
    }
    report(scanned);
    const signal = opts.signal;
    this._ready = new Promise<void>((resolveReady, rejectReady) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) rejectReady(err);
        else {
          finish();
          resolveReady();
        }
      };
      const onAbort = () => {
        if (this.pendingScan === run) this.pendingScan = undefined;
        else if (gen === this.scanGen) this.stopScan();
        done(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      // In this thread, in steps that let the event loop run (also the fallback when the worker fails).
      const inThread = (from: number) => {
        this._indexedBy = 'thread';
        let pos = from;
        const step = () => {
          if (settled || this.closed || gen !== this.scanGen) return;
          try {
            const until = Math.min(this.size, pos + Math.max(chunk, 4 * 1024 * 1024));
            pos = scanRange(this.fd, pos, until, (s) => onStarts(s), { chunkSize: chunk });
            report(pos);
            if (pos >= this.size) done();
            else setImmediate(step);
          } catch (err) {
            done(err instanceof Error ? err : new Error(String(err)));
          }
        };
        setImmediate(step);
      };

      // The rest of the scan: at once, or when startScan() is called.
      const run = () => {
        if (settled || gen !== this.scanGen) return;
        // The offsets sized once from the first chunk's lines (+4%): grown by doubling to the end
        // and trimmed, a 1 GB file's index left 2-3 times its size of garbage (external memory),
        // which set off major collections in the editor's host as its page started.
        // A worker writes them into the offsets themselves (shared), which only grow past it.
        const capacity =
          opts.deferScan && scanned > 0 ? Math.ceil((this.offs.length / scanned) * this.size * 1.04) + 1024 : 0;
        const useWorker = opts.worker !== false;
        if (capacity && !useWorker) this.offs.reserve(capacity);
        const into = capacity && useWorker ? { offsets: this.offs.share(capacity), at: this.offs.length } : undefined;
        const stop = new SharedArrayBuffer(8);
        this.stopFlag = new Int32Array(stop, 0, 1);
        const writtenCell = new Uint32Array(stop, 4, 1);
        const job: ScanJob = {
          path: this._path,
          from: scanned,
          to: this.size,
          chunkSize: opts.chunkSize,
          stop,
          ...(into ? { into } : {}),
        };
        const w = useWorker ? startStoreWorker(job) : undefined;
        if (!w) {
          inThread(scanned);
          return;
        }
        let scannedTo = scanned;
        this.worker = w;
        this._indexedBy = 'worker';
        w.on('message', (m: ScanMessage) => {
          if (settled) return;
          if ('written' in m) {
            Atomics.load(writtenCell, 0); // (what the worker wrote before its count is seen)
            this.offs.length = (into?.at ?? 0) + m.written;
            // the start after a last '\n' is the end of the file, not a line
            while (this.offs.length > 0 && this.offs.get(this.offs.length - 1) >= this.size) this.offs.length--;
            scannedTo = m.scannedTo;
            report(scannedTo);
          } else if ('starts' in m) {
            onStarts(m.starts);
            scannedTo = m.scannedTo;
            report(scannedTo);
          } else if ('done' in m) {
            this.worker = undefined;
            void w.terminate();
            if (m.scannedTo >= this.size) done();
            else inThread(m.scannedTo);
          } else {
            this.worker = undefined;
            void w.terminate();
            inThread(scannedTo);
          }
        });
        w.on('error', () => {
          if (settled || this.worker !== w) return;
          this.worker = undefined;
          inThread(scannedTo);
        });
      };
      if (opts.deferScan) this.pendingScan = run;
      else run();
    });
    // Callers may await ready later; an early failure must not go unhandled meanwhile.
    this._ready.catch(() => undefined);
  }

  private stopScan(): void {
    if (this.stopFlag) Atomics.store(this.stopFlag, 0, 1);
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }

  // --- reading --------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this._path} is closed`);
  }

  /** Bytes [start, end) of original line `n`, terminator included. */
  private origRange(n: number): { start: number; end: number } {
    const start = this.offs.get(n);
    const end = n + 1 < this.offs.length ? this.offs.get(n + 1) : this.size;
    return { start, end };
  }

  /**
   * Reads `buf.length` bytes of the indexed file at `start` into `buf`; returns the bytes read
   * (fewer at its end). From the read-ahead window when it holds them; `inOrder` (a line read
   * right after the one before it) fills the window from `start` first.
   */
  private readAt(buf: Buffer, start: number, inOrder: boolean): number {
    const end = start + buf.length;
    let w = this.window;
    if (w && w.base !== this.base) w = this.window = undefined;
    if (w && start >= w.start && end <= w.start + w.length) {
      w.bytes.copy(buf, 0, start - w.start, end - w.start);
      return buf.length;
    }
    if (inOrder && buf.length <= READ_AHEAD / 4) {
      const bytes = w?.bytes ?? Buffer.allocUnsafe(READ_AHEAD);
      const want = Math.min(bytes.length, Math.max(0, this.size - start));
      let length = 0;
      while (length < want) {
        const r = readSync(this.fd, bytes, length, want - length, start + length);
        if (r <= 0) break;
        length += r;
      }
      this.window = { base: this.base, start, bytes, length };
      const n = Math.min(length, buf.length);
      bytes.copy(buf, 0, 0, n);
      return n;
    }
    let got = 0;
    while (got < buf.length) {
      const r = readSync(this.fd, buf, got, buf.length - got, start + got);
      if (r <= 0) break;
      got += r;
    }
    return got;
  }

  private readOrig(n: number): { bytes: Buffer; eol: Eol } {
    const { start, end } = this.origRange(n);
    const buf = Buffer.allocUnsafe(end - start);
    const got = this.readAt(buf, start, n === this.lastOrig + 1);
    this.lastOrig = n;
    let len = got;
    let eol: Eol = '';
    if (len > 0 && buf[len - 1] === 10) {
      len--;
      eol = '\n';
      if (len > 0 && buf[len - 1] === 13) {
        len--;
        eol = '\r\n';
      }
    }
    return { bytes: buf.subarray(0, len), eol };
  }

  private item(index: number): Item {
    this.assertOpen();
    if (!Number.isInteger(index) || index < 0 || index >= this.lineCount) {
      throw new RangeError(`line index ${index} is out of range: the dataset has ${this.lineCount} line(s)`);
    }
    return this.scanDone ? this.table.get(index) : { orig: index };
  }

  private content(it: Item): { bytes: Buffer; eol: Eol } {
    return 'orig' in it ? this.readOrig(it.orig) : { bytes: refBytes(it.ref), eol: it.ref.eol };
  }

  /** The line at a 0-based logical index, parsed on demand. */
  line(index: number): LineView {
    const it = this.item(index);
    const { bytes, eol } = this.content(it);
    const check = checkLineBytes(bytes, this.maxLineBytes);
    let lossy: { reason: string } | undefined | null = null;
    const raw = bytes.toString('utf8');
    const view: LineView = {
      index,
      lineNumber: index + 1,
      raw,
      eol,
      bytes: () => Buffer.from(bytes),
      ...(check.value ? { value: check.value } : {}),
      ...(check.invalid ? { invalid: check.invalid } : {}),
      get lossy() {
        if (lossy === null) {
          const r = check.value ? lossyReason(raw) : undefined;
          lossy = r ? { reason: r } : undefined;
        }
        return lossy;
      },
      edited: !('orig' in it),
    };
    return view;
  }

  /** The line's terminator (for an original line, from its last two bytes only). */
  private eolOf(index: number): Eol {
    const it = this.item(index);
    if ('ref' in it) return it.ref.eol;
    const { start, end } = this.origRange(it.orig);
    const tail = Buffer.alloc(Math.min(2, end - start));
    const got = tail.length ? this.readAt(tail, end - tail.length, false) : 0;
    if (got === 0 || tail[got - 1] !== 10) return '';
    return got === 2 && tail[0] === 13 ? '\r\n' : '\n';
  }

  /** The line's content as an edit reference (bytes read now; `orig` lets undo restore the original). */
  private refOf(index: number): LineRef {
    const it = this.item(index);
    if ('ref' in it) return it.ref;
    const { bytes, eol } = this.readOrig(it.orig);
    const body = isUtf8(bytes) ? { text: bytes.toString('utf8') } : { base64: bytes.toString('base64') };
    return { ...body, eol, orig: it.orig, base: this.base };
  }

  /** The first original line whose start is at or after byte `b` (binary search of the index). */
  private lineAtOrAfter(b: number, lo: number, hi: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offs.get(mid) < b) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The stretches of the logical dataset: original byte ranges (split at line boundaries into
   * pieces of about `maxBytes` when given) and edited/new lines. Streaming readers (stats,
   * export) read the byte ranges from `path` while the file is unchanged.
   */
  segments(maxBytes = Infinity): Segment[] {
    this.assertOpen();
    if (!this.scanDone) throw new Error('the dataset is still being indexed; await ready first');
    const out: Segment[] = [];
    let logical = 0;
    for (const pc of this.table.pieces) {
      if (pc.kind === 'orig') {
        let from = pc.from;
        while (from < pc.to) {
          const byteStart = this.offs.get(from);
          const pieceEnd = pc.to < this.offs.length ? this.offs.get(pc.to) : this.size;
          let to = pc.to;
          if (pieceEnd - byteStart > maxBytes)
            to = Math.max(from + 1, Math.min(pc.to, this.lineAtOrAfter(byteStart + maxBytes, from + 1, pc.to)));
          const byteEnd = to < this.offs.length ? this.offs.get(to) : this.size;
          out.push({ kind: 'orig', logicalStart: logical, count: to - from, byteStart, byteEnd });
          logical += to - from;
          from = to;
        }
      } else {
        out.push({
          kind: 'lines',
          logicalStart: logical,
          lines: pc.lines.map((r) => ({ bytes: refBytes(r), eol: r.eol })),
        });
        logical += pc.lines.length;
      }
    }
    return out;
  }

  // --- editing --------------------------------------------------------------------------------

  private assertEditable(): void {
    this.assertOpen();
    if (!this.scanDone) throw new EditError('the dataset is still being indexed; edits are possible once it is ready');
    if (this.saving) throw new EditError('a save is in progress; try again when it has finished');
  }

  private toItem(ref: LineRef): Item {
    return ref.orig !== undefined && ref.base === this.base ? { orig: ref.orig } : { ref };
  }

  private refFromInput(v: LineInput, eol: Eol): LineRef {
    if (isRawInput(v)) {
      if (/[\r\n]/.test(v.raw)) throw new EditError('the raw text of a line cannot contain line breaks');
      return { text: v.raw, eol };
    }
    assertJson(v);
    return { text: JSON.stringify(v), eol };
  }

  /** Sets one field of a record (path of keys and indices; `undefined` removes it). Applies it and returns the edit. */
  setField(index: number, path: (string | number)[], value: unknown): Edit {
    return this.setFields(index, [{ path, value }]);
  }

  /**
   * Sets several fields of one record as one edit (one undo step): e.g. the edits from
   * diffFields(record, withHumanLabel(record, ...)). Throws LossyEditError on records that a structured
   * edit would change beyond the fields set (duplicate keys, big integers, ...).
   */
  setFields(index: number, edits: FieldEdit[]): Edit {
    this.assertEditable();
    const view = this.line(index);
    const text = recordWithFields(view, edits);
    const before = this.refOf(index);
    const edit: Edit = { type: 'replace', index, before, after: { text, eol: view.eol } };
    this.applyEdit(edit);
    return edit;
  }

  /** Replaces a whole line with a JSON value (written compactly) or `{ raw: text }`. */
  replaceLine(index: number, value: LineInput): Edit {
    this.assertEditable();
    const before = this.refOf(index);
    const edit: Edit = { type: 'replace', index, before, after: this.refFromInput(value, before.eol) };
    this.applyEdit(edit);
    return edit;
  }

  /** Inserts a line before logical `index` (index === lineCount appends). */
  insertLine(index: number, value: LineInput): Edit {
    this.assertEditable();
    if (!Number.isInteger(index) || index < 0 || index > this.lineCount) {
      throw new RangeError(`insert position ${index} is out of range (0..${this.lineCount})`);
    }
    const edit: Edit = { type: 'insert', index, line: this.refFromInput(value, this.defaultEol) };
    this.applyEdit(edit);
    return edit;
  }

  deleteLine(index: number): Edit {
    this.assertEditable();
    const edit: Edit = { type: 'delete', index, line: this.refOf(index) };
    this.applyEdit(edit);
    return edit;
  }

  /** Applies an edit (again: redo, or restoring a hot-exit backup). */
  applyEdit(edit: Edit): void {
    this.assertEditable();
    this._revision++;
    switch (edit.type) {
      case 'replace': {
        // A replace changes a line's content, never its terminator: the line keeps the one it has
        // now (after a save, a line that was last without one may have got one on disk).
        const eol = this.eolOf(edit.index);
        let item = this.toItem(edit.after);
        if ('ref' in item && item.ref.eol !== eol) item = { ref: { ...item.ref, eol } };
        this.table.remove(edit.index);
        this.table.insert(edit.index, item);
        return;
      }
      case 'insert':
        this.table.insert(edit.index, this.toItem(edit.line));
        return;
      case 'delete':
        this.table.remove(edit.index);
        return;
    }
  }

  /** Reverts an edit made by setField, replaceLine, insertLine, deleteLine or applyEdit. */
  undoEdit(edit: Edit): void {
    this.applyEdit(invertEdit(edit));
  }

  // --- saving ---------------------------------------------------------------------------------

  /** True when the file on disk is no longer the version that was indexed. */
  /**
   * False when another program rewrote the indexed file in place (same file, other bytes): the
   * lines not edited here can then no longer be read as they were, so nothing may be saved from
   * them. (A program that replaces the file, as editors and git do, leaves the indexed version
   * readable through the open descriptor.)
   */
  sourceIntact(): boolean {
    this.assertOpen();
    const now = fingerprintFd(this.fd);
    return now.size === this.fp.size && now.sample === this.fp.sample;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- a Promise API: a closed dataset or an unreadable file rejects, never throws at the call
  async hasChangedOnDisk(): Promise<boolean> {
    this.assertOpen();
    return fingerprintChange(this.fp, fingerprintPath(this._path)) !== undefined;
  }

  /** Writes the dataset over its file, atomically; throws ConflictError if it changed underneath. */
  async save(opts: SaveOptions = {}): Promise<void> {
    if (!this.scanDone) await this.ready;
    if (this.saveInFlight) await this.saveSettled();
    // No await before writeTo: edits are refused from this moment until the save ends.
    await this.tracked(this.writeTo(this._path, !opts.force, opts.signal, opts.lockWaitMs));
  }

  /**
   * Saves the dataset with the records at `indices` (ascending) replaced by what `replace` makes of
   * each (a JSON value, validated as replaceLine does; undefined keeps the line), each made only
   * when the save reaches its line, and its terminator kept. For a job that applies tens of
   * thousands of results to a file no editor holds: written in one pass, not held as edits until a
   * save (their lines and the piece table's). Only on a dataset without unsaved edits (an
   * EditError otherwise); atomic, and refused when the file changed underneath, as save() is.
   * Returns how many lines it replaced.
   */
  async saveReplacing(
    indices: readonly number[],
    replace: (line: LineView) => LineInput, // undefined: the line stays as it is
    opts: SaveOptions = {},
  ): Promise<number> {
    if (!this.scanDone) await this.ready;
    if (this.saveInFlight) await this.saveSettled();
    if (this.dirty)
      throw new EditError('lines can be replaced during a save only when the dataset has no unsaved edits');
    const n = this.lineCount;
    indices.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= n || (k > 0 && i <= (indices[k - 1] as number)))
        throw new RangeError(`line index ${i} is out of order or out of range (0..${n - 1}, ascending)`);
    });
    let replaced = 0;
    const pieces = function* (this: JsonlDataset): Generator<Piece> {
      let from = 0;
      for (const i of indices) {
        const line = this.line(i);
        const value = replace(line);
        if (value === undefined) continue;
        const ref = this.refFromInput(value, line.eol);
        if (i > from) yield { kind: 'orig', from, to: i };
        yield { kind: 'lines', lines: [ref] };
        replaced++;
        from = i + 1;
      }
      if (from < n) yield { kind: 'orig', from, to: n };
    }.call(this);
    await this.tracked(this.writeTo(this._path, !opts.force, opts.signal, opts.lockWaitMs, pieces));
    if (replaced > 0) this._revision++;
    return replaced;
  }

  /** Writes the dataset to another path (same atomic machinery) and continues on that file. */
  async saveAs(path: string, opts: SaveOptions = {}): Promise<void> {
    if (!this.scanDone) await this.ready;
    if (this.saveInFlight) await this.saveSettled();
    const target = resolve(path);
    await this.tracked(this.writeTo(target, target === this._path, opts.signal, opts.lockWaitMs));
  }

  /** The save under way, if any. */
  private saveInFlight: Promise<void> | undefined;

  /**
   * Resolves once no save is under way. Edits are refused during a save, so a person's edit that
   * comes meanwhile (the editor's page; a job's save in between) waits here; so does a save asked
   * for while another is still settling (VS Code cancels a custom editor's save when it starts the
   * next one, e.g. while the first waits for the write lock). Callers skip it when no save is in
   * flight, so that edits are refused from their call on.
   */
  async saveSettled(): Promise<void> {
    while (this.saveInFlight) await this.saveInFlight.catch(() => undefined);
  }

  private tracked(p: Promise<void>): Promise<void> {
    this.saveInFlight = p;
    const clear = () => {
      if (this.saveInFlight === p) this.saveInFlight = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private checkUnchanged(): void {
    const why = fingerprintChange(this.fp, fingerprintPath(this._path));
    if (why) throw new ConflictError(this._path, why);
  }

  /**
   * Writes the dataset to `target`; `replacing` (saveReplacing) gives the logical lines' pieces
   * instead of the piece table's, made as the write reaches them.
   */
  private async writeTo(
    target: string,
    check: boolean,
    signal?: AbortSignal,
    lockWaitMs?: number,
    replacing?: Iterable<Piece>,
  ): Promise<void> {
    this.assertEditable();
    if (signal?.aborted) throw abortError();
    if (check) this.checkUnchanged();
    if (!this.sourceIntact()) {
      throw new SaveError(
        target,
        'rewritten-in-place',
        new Error(
          `${this._path} was rewritten in place by another program, so the lines not edited here can no longer be read as they were`,
        ),
      );
    }
    const { dest, like } = destinationOf(target, this.fd);
    cleanStaleTemps(dest);
    this.saving = true;
    const snapshot = replacing ? undefined : this.table.snapshot();
    const total = this.table.length;
    const src = { fd: this.fd, size: this.size, offs: this.offs, endsWithNewline: this.endsWithNewline };
    // When enough of the file's bytes stay where they are, the temp file starts as a kernel copy
    // of the file and only the rest is written here (save-copy.ts: worthCloning). Only when
    // saving over the indexed file, which was just checked to be unchanged (the source of the copy),
    // and with the piece table's pieces (lines made during the write have no length before it).
    const clone =
      snapshot !== undefined &&
      check &&
      target === this._path &&
      this.size > 0 &&
      worthCloning(bytesInPlace(snapshot, src, total, this.defaultEol), this.size);
    let temp: TempFile | undefined;
    try {
      temp = TempFile.start(target, dest, like, clone ? this._path : undefined);
      const out = await temp.open();
      const { offs: newOffs, size: newSize } = await writePieces({
        pieces: replacing ?? (snapshot as Piece[]),
        src,
        out,
        clone,
        total,
        eol: this.defaultEol,
        signal,
      });
      temp.finish(newSize, { readBack: true });
      if (signal?.aborted) throw abortError();
      // Re-check right before the rename, under the lock: a change during the write must not be overwritten.
      const readBack = await temp.commit({
        ...(check ? { check: () => this.checkUnchanged() } : {}),
        signal,
        lockWaitMs,
      });
      // Re-base onto the new file: its line offsets are the ones just written.
      const oldFd = this.fd;
      this.fd = readBack;
      // Closing the last descriptor of the replaced file frees its blocks (~0.2 s for 1 GB on
      // ext4): done in libuv's thread pool, not on this thread.
      close(oldFd, () => undefined);
      this._path = target;
      this.fp = fingerprintFd(this.fd);
      this.size = newSize;
      // An empty last line without a terminator is kept as a line (undo may still refer to it),
      // though a re-scan of the file would not see it.
      newOffs.trim();
      this.offs = newOffs;
      this.endsWithNewline = newSize > 0 && this.lastByte() === 10;
      this.base = randomBytes(6).toString('hex');
      this.table.reset(newOffs.length);
      this.defaultEol = this.firstEol();
    } catch (err) {
      await temp?.discard();
      throw asSaveError(target, err);
    } finally {
      this.saving = false;
    }
  }

  /** The first line's terminator, the one new lines get (LF when it has none). */
  private firstEol(): Eol {
    const end = this.offs.length > 1 ? this.offs.get(1) : this.size;
    if (end < 2) return '\n';
    const b = Buffer.alloc(2);
    readSync(this.fd, b, 0, 2, end - 2);
    return b[1] === 10 && b[0] === 13 ? '\r\n' : '\n';
  }

  private lastByte(): number {
    const b = Buffer.alloc(1);
    readSync(this.fd, b, 0, 1, this.size - 1);
    return b[0]!;
  }

  /** Drops every edit and indexes the file on disk again. */
  async revert(opts: OpenOptions = {}): Promise<void> {
    this.assertOpen();
    this.stopScan();
    closeSync(this.fd);
    this.fd = -1;
    this.startIndex(opts);
    await this.ready;
  }

  close(): void {
    if (this.closed) return;
    this.pendingScan = undefined;
    this.pendingClean = undefined;
    this.stopScan();
    this.closed = true;
    this.window = undefined;
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }
}
