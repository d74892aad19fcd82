// A JSONL dataset of any size: indexed by the byte offsets of its lines (8 bytes a line), read a
// line at a time with positioned reads, edited through an overlay of invertible edits, saved
// atomically with a check that the file did not change underneath. Untouched lines are copied
// byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkLine, type LineCheck } from './check';
import { scanRange, DEFAULT_CHUNK } from './scan';

// ---------------------------------------------------------------------------------------------
// Errors

/** The file changed on disk since it was indexed: saving would overwrite someone else's change. */
export class ConflictError extends Error {
  readonly code = 'conflict';
  constructor(readonly path: string) {
    super(`${basename(path)} changed on disk since it was opened; not overwritten.`);
    this.name = 'ConflictError';
  }
}

/** A structured edit of a record that cannot be re-serialized without losing information. */
export class LossyEditError extends Error {
  readonly code = 'lossy';
  constructor(lineNumber: number, reason: string) {
    super(`Line ${lineNumber} cannot be edited field by field without losing information: ${reason}. Replace the whole line instead.`);
    this.name = 'LossyEditError';
  }
}

// ---------------------------------------------------------------------------------------------
// Edits: JSON-serializable, invertible (hot-exit backups store them).

/** What a logical line is: an original line of the indexed file, or new content. */
export type LineRef = { orig: number } | { text: string; eol: string } | { base64: string; eol: string };

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

// ---------------------------------------------------------------------------------------------
// The logical line sequence: a piece table over original line ranges and explicit lines.

type Piece = { kind: 'orig'; from: number; to: number } | { kind: 'refs'; refs: LineRef[] };

class Pieces {
  pieces: Piece[] = [];
  private prefix: number[] | undefined;

  reset(count: number): void {
    this.pieces = count > 0 ? [{ kind: 'orig', from: 0, to: count }] : [];
    this.prefix = undefined;
  }

  /** Appends newly indexed original lines (while the scan runs, before any edit). */
  growOriginal(count: number): void {
    const last = this.pieces[this.pieces.length - 1];
    if (this.pieces.length === 1 && last?.kind === 'orig' && last.from === 0) last.to = count;
    else if (this.pieces.length === 0 && count > 0) this.pieces.push({ kind: 'orig', from: 0, to: count });
    this.prefix = undefined;
  }

  get length(): number {
    const p = this.prefixes();
    return p[p.length - 1] ?? 0;
  }

  get pristine(): boolean {
    return this.pieces.length === 0 || (this.pieces.length === 1 && this.pieces[0]?.kind === 'orig' && this.pieces[0].from === 0);
  }

  private prefixes(): number[] {
    if (!this.prefix) {
      const p = [0];
      let t = 0;
      for (const pc of this.pieces) {
        t += pc.kind === 'orig' ? pc.to - pc.from : pc.refs.length;
        p.push(t);
      }
      this.prefix = p;
    }
    return this.prefix;
  }

  private locate(index: number): { piece: number; offset: number } {
    const p = this.prefixes();
    let lo = 0;
    let hi = this.pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((p[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    return { piece: lo, offset: index - (p[lo] ?? 0) };
  }

  get(index: number): LineRef {
    const { piece, offset } = this.locate(index);
    const pc = this.pieces[piece];
    if (!pc) throw new RangeError(`line index ${index} out of range`);
    if (pc.kind === 'orig') return { orig: pc.from + offset };
    const r = pc.refs[offset];
    if (!r) throw new RangeError(`line index ${index} out of range`);
    return r;
  }

  /** Splits so that `index` starts a piece (index may equal length); returns that piece's position. */
  private splitAt(index: number): number {
    if (index >= this.length) return this.pieces.length;
    const { piece, offset } = this.locate(index);
    if (offset === 0) return piece;
    const pc = this.pieces[piece]!;
    const parts: Piece[] =
      pc.kind === 'orig'
        ? [{ kind: 'orig', from: pc.from, to: pc.from + offset }, { kind: 'orig', from: pc.from + offset, to: pc.to }]
        : [{ kind: 'refs', refs: pc.refs.slice(0, offset) }, { kind: 'refs', refs: pc.refs.slice(offset) }];
    this.pieces.splice(piece, 1, ...parts);
    this.prefix = undefined;
    return piece + 1;
  }

  insert(index: number, ref: LineRef): void {
    const at = this.splitAt(index);
    const prev = this.pieces[at - 1];
    if (prev?.kind === 'refs') prev.refs.push(ref);
    else this.pieces.splice(at, 0, { kind: 'refs', refs: [ref] });
    this.prefix = undefined;
    this.normalize();
  }

  remove(index: number): LineRef {
    const ref = this.get(index);
    const at = this.splitAt(index);
    this.splitAt(index + 1);
    this.pieces.splice(at, 1);
    this.prefix = undefined;
    this.normalize();
    return ref;
  }

  set(index: number, ref: LineRef): LineRef {
    const before = this.remove(index);
    this.insert(index, ref);
    return before;
  }

  /**
   * Merges neighbours (adjacent original ranges, adjacent explicit runs) and turns explicit
   * references to original lines back into original ranges, so that undoing every edit gives a
   * pristine table again.
   */
  private normalize(): void {
    const out: Piece[] = [];
    const push = (pc: Piece) => {
      if (pc.kind === 'orig' && pc.to <= pc.from) return;
      if (pc.kind === 'refs' && pc.refs.length === 0) return;
      const last = out[out.length - 1];
      if (last?.kind === 'orig' && pc.kind === 'orig' && last.to === pc.from) last.to = pc.to;
      else if (last?.kind === 'refs' && pc.kind === 'refs') last.refs.push(...pc.refs);
      else out.push(pc.kind === 'refs' ? { kind: 'refs', refs: [...pc.refs] } : { ...pc });
    };
    for (const pc of this.pieces) {
      if (pc.kind === 'orig') push(pc);
      else
        for (const r of pc.refs) {
          if ('orig' in r) push({ kind: 'orig', from: r.orig, to: r.orig + 1 });
          else push({ kind: 'refs', refs: [r] });
        }
    }
    this.pieces = out;
    this.prefix = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Views

export interface LineView extends LineCheck {
  /** 1-based line number, as editors show it. */
  lineNumber: number;
  /** The content without its terminator, decoded (invalid UTF-8 as U+FFFD). */
  raw: string;
  /** The terminator: '\n', '\r\n' or '' (last line without a final newline). */
  eol: string;
  edited: boolean;
  bytes(): Buffer;
}

export interface OpenOptions {
  signal?: AbortSignal;
  onProgress?: (p: { bytes: number; totalBytes: number; lines: number }) => void;
  chunkSize?: number;
  /** Scan in this thread instead of a worker (tests; tiny files always do). */
  inline?: boolean;
}

interface Fingerprint {
  size: number;
  mtimeMs: number;
  sample: string;
}

const TEMP_MARK = '.curator-tmp-';
const INLINE_BYTES = 1024 * 1024;

function workerPath(): string | undefined {
  const js = join(__dirname, 'scan-worker.js');
  if (existsSync(js)) return js;
  const ts = join(__dirname, 'scan-worker.ts');
  if (existsSync(ts)) return ts;
  return undefined;
}

function fingerprint(fd: number): Fingerprint {
  const st = fstatSync(fd);
  const hash = createHash('sha1');
  const piece = 64 * 1024;
  const buf = Buffer.allocUnsafe(piece);
  const size = st.size;
  const offsets = size <= piece * 5 ? [0] : [0, Math.floor(size / 4), Math.floor(size / 2), Math.floor((size * 3) / 4), size - piece];
  for (const off of offsets) {
    const n = readSync(fd, buf, 0, Math.min(piece, size - off), off);
    hash.update(buf.subarray(0, n));
    if (size <= piece * 5) {
      // small file: hash all of it
      let pos = n;
      while (pos < size) {
        const m = readSync(fd, buf, 0, Math.min(piece, size - pos), pos);
        if (m <= 0) break;
        hash.update(buf.subarray(0, m));
        pos += m;
      }
    }
  }
  return { size, mtimeMs: st.mtimeMs, sample: hash.digest('hex') };
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.sample === b.sample;
}

export class JsonlDataset {
  /** Start offsets of the original lines (8 bytes a line), grown as the scan proceeds. */
  private starts: Float64Array = new Float64Array(1024);
  private startCount = 0;
  private size = 0;
  private fd: number;
  private fp: Fingerprint;
  private scanned = false;
  private readonly overlay = new Pieces();
  private cache = new Map<number, LineCheck>();
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  private worker: Worker | undefined;
  private stopFlag: Int32Array | undefined;
  private closed = false;
  ready: Promise<void>;

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.fp = fingerprint(this.fd);
    this.size = this.fp.size;
    this.ready = Promise.resolve();
  }

  /** Opens a dataset; resolves as soon as the first lines are readable, while indexing goes on. */
  static async open(path: string, opts: OpenOptions = {}): Promise<JsonlDataset> {
    const ds = new JsonlDataset(path);
    ds.cleanStrayTemps();
    ds.ready = ds.index(opts);
    // Callers may await ready later; don't let an early failure go unhandled.
    ds.ready.catch(() => undefined);
    return ds;
  }

  // --- indexing -------------------------------------------------------------------------------

  private pushStarts(s: Float64Array): void {
    // Line starts after '\n'; a start at EOF is not a line.
    let n = s.length;
    while (n > 0 && (s[n - 1] ?? 0) >= this.size) n--;
    if (this.startCount + n > this.starts.length) {
      let cap = this.starts.length;
      while (cap < this.startCount + n) cap *= 2;
      const next = new Float64Array(cap);
      next.set(this.starts.subarray(0, this.startCount));
      this.starts = next;
    }
    this.starts.set(n === s.length ? s : s.subarray(0, n), this.startCount);
    this.startCount += n;
    // While scanning, the last known line may not be complete yet: it is not shown.
    this.overlay.growOriginal(this.scanned ? this.startCount : this.startCount - 1);
  }

  private finishScan(): void {
    this.scanned = true;
    this.overlay.growOriginal(this.startCount);
    // Give back the growth slack: exactly 8 bytes a line.
    if (this.starts.length > this.startCount) this.starts = this.starts.slice(0, this.startCount);
  }

  /** Bytes held by the line index (8 a line once indexed). */
  get indexBytes(): number {
    return this.starts.byteLength;
  }

  private async index(opts: OpenOptions): Promise<void> {
    this.starts = new Float64Array(1024);
    this.startCount = 0;
    this.scanned = false;
    this.cache.clear();
    this.overlay.reset(0);
    if (this.size === 0) {
      this.finishScan();
      return;
    }
    this.pushStarts(Float64Array.of(0));
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    // The first part inline, so the first records are readable at once.
    const first = Math.min(this.size, Math.max(INLINE_BYTES, chunk));
    const inline = opts.inline || this.size <= first || !workerPath();
    const to = inline ? this.size : first;
    let scannedTo = 0;
    scanRange(this.fd, 0, to, (s, upTo) => {
      this.pushStarts(s);
      scannedTo = upTo;
    }, { chunkSize: Math.min(chunk, to) });
    opts.onProgress?.({ bytes: scannedTo, totalBytes: this.size, lines: this.startCount });
    if (scannedTo >= this.size) {
      this.finishScan();
      return;
    }
    const from = scannedTo;
    await new Promise<void>((resolve, reject) => {
      const stop = new SharedArrayBuffer(4);
      this.stopFlag = new Int32Array(stop);
      const file = workerPath()!;
      const workerData = { path: this.path, from, to: this.size, chunkSize: opts.chunkSize, stop };
      // From TypeScript sources (unit tests under tsx), load the worker through tsx's require hook.
      const worker = file.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData })
        : new Worker(file, { workerData });
      this.worker = worker;
      const onAbort = () => {
        if (this.stopFlag) Atomics.store(this.stopFlag, 0, 1);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: { starts?: Float64Array; scannedTo?: number; done?: boolean; error?: string }) => {
        if (m.error) {
          reject(new Error(`indexing ${basename(this.path)} failed: ${m.error}`));
          return;
        }
        if (m.starts) this.pushStarts(m.starts);
        if (m.scannedTo !== undefined) opts.onProgress?.({ bytes: m.scannedTo, totalBytes: this.size, lines: this.startCount });
        if (m.done) {
          opts.signal?.removeEventListener('abort', onAbort);
          if (opts.signal?.aborted || (m.scannedTo ?? 0) < this.size) {
            const e = new Error('indexing cancelled');
            e.name = 'AbortError';
            reject(e);
          } else {
            this.finishScan();
            resolve();
          }
          void worker.terminate();
          this.worker = undefined;
        }
      });
      worker.on('error', reject);
    });
  }

  get indexed(): boolean {
    return this.scanned;
  }

  /** Logical lines (valid and invalid), overlay included; grows while indexing. */
  get lineCount(): number {
    return this.overlay.length;
  }

  get dirty(): boolean {
    return !this.overlay.pristine;
  }

  // --- reading --------------------------------------------------------------------------------

  private origRange(i: number): { start: number; end: number } {
    const start = this.starts[i] ?? 0;
    const end = i + 1 < this.startCount ? (this.starts[i + 1] ?? this.size) : this.size;
    return { start, end };
  }

  private readOrig(i: number): { content: Buffer; eol: string } {
    const { start, end } = this.origRange(i);
    const len = end - start;
    const buf = len <= this.readBuf.length ? this.readBuf : Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    let contentEnd = got;
    let eol = '';
    if (contentEnd > 0 && buf[contentEnd - 1] === 10) {
      contentEnd--;
      eol = '\n';
      if (contentEnd > 0 && buf[contentEnd - 1] === 13) {
        contentEnd--;
        eol = '\r\n';
      }
    }
    return { content: Buffer.from(buf.subarray(0, contentEnd)), eol };
  }

  private refBytes(ref: LineRef): { content: Buffer; eol: string } {
    if ('orig' in ref) return this.readOrig(ref.orig);
    if ('text' in ref) return { content: Buffer.from(ref.text, 'utf8'), eol: ref.eol };
    return { content: Buffer.from(ref.base64, 'base64'), eol: ref.eol };
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.lineCount) {
      throw new RangeError(`Line ${index + 1} does not exist: the file has ${this.lineCount} line(s).`);
    }
  }

  /** One logical line (0-based). */
  line(index: number): LineView {
    this.checkIndex(index);
    const ref = this.overlay.get(index);
    const { content, eol } = this.refBytes(ref);
    const key = 'orig' in ref ? ref.orig : -1;
    let check = key >= 0 ? this.cache.get(key) : undefined;
    if (!check) {
      check = checkLine(content);
      if (key >= 0) {
        if (this.cache.size > 256) this.cache.clear();
        this.cache.set(key, check);
      }
    }
    return {
      lineNumber: index + 1,
      raw: content.toString('utf8'),
      eol,
      edited: !('orig' in ref),
      bytes: () => Buffer.from(content),
      ...check,
      // parsed values are shared by the cache: hand out a copy
      value: check.value ? (structuredClone(check.value) as Record<string, unknown>) : undefined,
    };
  }

  // --- editing --------------------------------------------------------------------------------

  private refFor(content: unknown | { raw: string }, eol: string): LineRef {
    if (content && typeof content === 'object' && 'raw' in content && typeof (content as { raw: unknown }).raw === 'string' && Object.keys(content).length === 1) {
      const raw = (content as { raw: string }).raw;
      if (/[\r\n]/.test(raw)) throw new Error('A line cannot contain a line break; JSON escapes them as \\n.');
      return { text: raw, eol };
    }
    return { text: JSON.stringify(content), eol };
  }

  /**
   * The terminator of a line inserted at `index`: none when it becomes the last line of a file
   * without a final newline; else the previous line's, the next line's, the first line's, or \n.
   */
  private insertedEol(index: number): string {
    const eolAt = (i: number) => (i >= 0 && i < this.lineCount ? this.refBytes(this.overlay.get(i)).eol : undefined);
    if (index === this.lineCount && index > 0 && eolAt(index - 1) === '') return '';
    return eolAt(index - 1) || eolAt(index) || eolAt(0) || '\n';
  }

  /** Applies an edit (also the redo of an undone one). */
  applyEdit(edit: Edit): void {
    if (!this.scanned) throw new Error(`${basename(this.path)} is still being indexed; edit it in a moment.`);
    switch (edit.type) {
      case 'replace':
        this.checkIndex(edit.index);
        this.overlay.set(edit.index, edit.after);
        break;
      case 'insert':
        if (edit.index < 0 || edit.index > this.lineCount) throw new RangeError(`cannot insert at line ${edit.index + 1}`);
        this.overlay.insert(edit.index, edit.line);
        break;
      case 'delete':
        this.checkIndex(edit.index);
        this.overlay.remove(edit.index);
        break;
    }
  }

  undoEdit(edit: Edit): void {
    this.applyEdit(invertEdit(edit));
  }

  /** Sets one field of a record; refuses invalid and lossy records. */
  setField(index: number, path: (string | number)[], value: unknown): Edit {
    const line = this.line(index);
    if (line.invalid) throw new Error(`Line ${index + 1} is not a valid record (${line.invalid.reason}); replace the whole line instead.`);
    if (line.lossy) throw new LossyEditError(index + 1, line.lossy.reason);
    if (path.length === 0) throw new Error('An empty field path');
    const rec = line.value as Record<string, unknown>;
    let cur: Record<string | number, unknown> = rec;
    for (let k = 0; k < path.length - 1; k++) {
      const key = path[k]!;
      const next = cur[key];
      if (next === null || typeof next !== 'object') {
        const fresh: Record<string, unknown> | unknown[] = typeof path[k + 1] === 'number' ? [] : {};
        cur[key] = fresh;
        cur = fresh as Record<string | number, unknown>;
      } else cur = next as Record<string | number, unknown>;
    }
    const lastKey = path[path.length - 1]!;
    if (value === undefined) delete cur[lastKey];
    else cur[lastKey] = value;
    return this.replaceLine(index, rec);
  }

  /** Replaces a line with a record (serialized compactly) or with raw text `{raw}`. */
  replaceLine(index: number, content: unknown): Edit {
    this.checkIndex(index);
    const before = this.overlay.get(index);
    const isRaw = !!content && typeof content === 'object' && 'raw' in content && Object.keys(content).length === 1;
    if (!isRaw) {
      const line = this.line(index);
      if (line.lossy) throw new LossyEditError(index + 1, line.lossy.reason);
    }
    const edit: Edit = { type: 'replace', index, before, after: this.refFor(content, this.refBytes(before).eol) };
    this.applyEdit(edit);
    return edit;
  }

  insertLine(index: number, content: unknown): Edit {
    if (index < 0 || index > this.lineCount) throw new RangeError(`cannot insert at line ${index + 1}`);
    const edit: Edit = { type: 'insert', index, line: this.refFor(content, this.insertedEol(index)) };
    this.applyEdit(edit);
    return edit;
  }

  deleteLine(index: number): Edit {
    this.checkIndex(index);
    const edit: Edit = { type: 'delete', index, line: this.overlay.get(index) };
    this.applyEdit(edit);
    return edit;
  }

  // --- saving ---------------------------------------------------------------------------------

  /** Whether the file on disk is no longer the one indexed. */
  async hasChangedOnDisk(): Promise<boolean> {
    try {
      const fd = openSync(this.path, 'r');
      try {
        return !sameFingerprint(fingerprint(fd), this.fp);
      } finally {
        closeSync(fd);
      }
    } catch {
      return true;
    }
  }

  /** Saves atomically over the file; throws ConflictError if it changed underneath (unless force). */
  async save(opts: { signal?: AbortSignal; force?: boolean } = {}): Promise<void> {
    await this.ready;
    if (!opts.force && (await this.hasChangedOnDisk())) throw new ConflictError(this.path);
    // Checked again right before the rename: a change during the write is a conflict too.
    const check = async () => {
      if (!opts.force && (await this.hasChangedOnDisk())) throw new ConflictError(this.path);
    };
    const starts = await this.writeTo(this.path, { signal: opts.signal, beforeRename: check });
    this.rebase(starts);
  }

  /** Writes the current content to another path (atomically); this dataset stays on its file. */
  async saveAs(path: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.ready;
    await this.writeTo(path, { signal: opts.signal });
  }

  /** Drops every edit and indexes the file again (it may have changed on disk). */
  async revert(): Promise<void> {
    this.stopWorker();
    closeSync(this.fd);
    this.fd = openSync(this.path, 'r');
    this.fp = fingerprint(this.fd);
    this.size = this.fp.size;
    this.ready = this.index({});
    await this.ready;
  }

  private rebase(starts: Float64Array): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, 'r');
    this.fp = fingerprint(this.fd);
    this.size = this.fp.size;
    this.starts = starts;
    this.startCount = starts.length;
    this.cache.clear();
    this.overlay.reset(this.startCount);
    this.scanned = true;
  }

  /**
   * Streams the logical content to a temp file beside `target`, fsyncs it, renames it over
   * `target` and fsyncs the folder. Returns the line starts of what it wrote.
   */
  private async writeTo(target: string, opts: { signal?: AbortSignal; beforeRename?: () => Promise<void> }): Promise<Float64Array> {
    const dir = dirname(target);
    const tmp = join(dir, `.${basename(target)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
    const out = openSync(tmp, 'wx', 0o600);
    const newStarts: number[] = [];
    let written = 0;
    // 1 MiB: measured fastest here for page-cache copies (8 MiB was several times slower).
    const outBuf = Buffer.allocUnsafe(1024 * 1024);
    let outLen = 0;
    const flush = () => {
      let off = 0;
      while (off < outLen) off += writeSync(out, outBuf, off, outLen - off);
      outLen = 0;
    };
    const put = (b: Uint8Array) => {
      if (b.length > outBuf.length - outLen) flush();
      if (b.length > outBuf.length) {
        let off = 0;
        while (off < b.length) off += writeSync(out, b, off, b.length - off);
      } else {
        outBuf.set(b, outLen);
        outLen += b.length;
      }
      written += b.length;
    };
    try {
      const total = this.lineCount;
      let index = 0;
      for (const pc of this.overlay.pieces) {
        if (opts.signal?.aborted) {
          const e = new Error('save cancelled');
          e.name = 'AbortError';
          throw e;
        }
        if (pc.kind === 'orig') {
          // Copy the original bytes of lines [from, to) in one run; fix up a missing final
          // newline if these lines are no longer last.
          const start = this.starts[pc.from] ?? 0;
          const end = pc.to < this.startCount ? (this.starts[pc.to] ?? this.size) : this.size;
          for (let i = pc.from; i < pc.to; i++) newStarts.push(written + ((this.starts[i] ?? 0) - start));
          flush();
          let pos = start;
          while (pos < end) {
            const n = readSync(this.fd, outBuf, 0, Math.min(outBuf.length, end - pos), pos);
            if (n <= 0) throw new Error(`${basename(this.path)} was truncated while saving`);
            let off = 0;
            while (off < n) off += writeSync(out, outBuf, off, n - off);
            pos += n;
            written += n;
          }
          index += pc.to - pc.from;
          // A last line without a terminator that is no longer last gets \n.
          if (index < total && end === this.size && !this.endsWithNewline()) put(Buffer.from('\n'));
        } else {
          for (const ref of pc.refs) {
            newStarts.push(written);
            const { content, eol } = this.refBytes(ref);
            put(content);
            index++;
            put(Buffer.from(eol === '' && index < total ? '\n' : eol));
          }
        }
      }
      flush();
      fsyncSync(out);
      closeSync(out);
      try {
        chmodSync(tmp, statSync(target).mode & 0o7777);
      } catch {
        /* new file: keep 0600 | umask default */
        chmodSync(tmp, 0o644);
      }
      await opts.beforeRename?.();
      renameSync(tmp, target);
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch (err) {
      try {
        closeSync(out);
      } catch {
        /* already closed */
      }
      try {
        unlinkSync(tmp);
      } catch {
        /* gone */
      }
      throw err;
    }
    return Float64Array.from(newStarts);
  }

  private endsWithNewline(): boolean {
    if (this.size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(this.fd, b, 0, 1, this.size - 1);
    return b[0] === 10;
  }

  /** Removes temp files of saves that were killed (same folder, our name pattern, not ours). */
  private cleanStrayTemps(): void {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}${TEMP_MARK}`;
    try {
      for (const name of readdirSync(dir)) {
        if (!name.startsWith(prefix)) continue;
        const pid = Number(name.slice(prefix.length).split('-')[0]);
        if (pid === process.pid) continue;
        let alive = false;
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
        if (!alive) unlinkSync(join(dir, name));
      }
    } catch {
      /* unreadable folder: nothing to clean */
    }
  }

  private stopWorker(): void {
    if (this.stopFlag) Atomics.store(this.stopFlag, 0, 1);
    void this.worker?.terminate();
    this.worker = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWorker();
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
