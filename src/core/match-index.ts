// The records of a dataset that match a query, as a sorted array of logical line indices (4 bytes
// a match), built in slices that yield to the event loop so that a 1M-record file never blocks
// its host, and kept up to date through edits without a rescan. The curation editor's search,
// next/previous match and the list mode's "only matches" all read it: rows are served by their
// position among the matches, so nothing is materialized for the matches not on screen.
import { readSync } from 'node:fs';
import type { MatchProgress, SearchQuery } from './session/views';
import { matchesQuery, type QueryLine, type QueryOptions } from './query';
import { checkLineBytes, type JsonlDataset } from './store';
import type { LineChange } from './line-change';

/** What an index needs to know of an edit (the store's Edit has these). */
export type { LineChange };

/** Bytes read per step of a build (segments of the file are split at line boundaries to about this). */
const SEGMENT_BYTES = 4 * 1024 * 1024;
/** Time a build works before it yields, in ms. */
const SLICE_MS = 12;
/** More edits than this in one step: rebuild rather than patch. */
const MAX_PATCH_EDITS = 64;

export function queryKey(q: SearchQuery): string {
  const keys = Object.keys(q).sort() as (keyof SearchQuery)[];
  return JSON.stringify(keys.filter((k) => q[k] !== undefined).map((k) => [k, q[k]]));
}

/** A line as a query sees it; its text is decoded only if the query looks at it. */
class LazyLine implements QueryLine {
  private text: string | undefined;
  readonly value: Record<string, unknown> | undefined;
  readonly invalid: { reason: string } | undefined;
  constructor(
    private readonly bytes: Buffer,
    maxLineBytes: number,
  ) {
    const c = checkLineBytes(bytes, maxLineBytes);
    this.value = c.value;
    this.invalid = c.invalid;
  }
  get raw(): string {
    this.text ??= this.bytes.toString('utf8');
    return this.text;
  }
}

/**
 * For a plain-text query, the needle that every matching line contains in its bytes (ASCII,
 * compared case-insensitively), so that the other lines need no parse. A match in a record's
 * decoded string values is in its bytes too unless it went through an escape: the needle has
 * none of the characters JSON escapes, and lines with a \u escape are always checked. Numbers
 * are matched as JavaScript prints them (1e2 as "100"), so a needle that could be part of a
 * printed number gets no shortcut. Two non-ASCII characters lowercase to ASCII letters (U+0130
 * to "i\u0307", U+212A to "k"): lines holding them are checked when the needle has those letters.
 */
export function textNeedle(q: SearchQuery): { needle: Buffer; alsoCheck: Buffer[] } | undefined {
  if (!q.text || q.regex) return undefined;
  const needle = q.text.toLowerCase();
  if (!/^[\x20-\x7e]+$/.test(needle) || /["\\/]/.test(needle) || /^[0-9.+\-einfty]+$/.test(needle)) return undefined;
  const alsoCheck = [Buffer.from('\\u')];
  if (needle.includes('i')) alsoCheck.push(Buffer.from('\u0130'));
  if (needle.includes('k')) alsoCheck.push(Buffer.from('\u212a'));
  return { needle: Buffer.from(needle, 'latin1'), alsoCheck };
}

let lowered = Buffer.allocUnsafe(0);

/** Byte offsets in buf[0, len) where a line may match `needle` (sorted). */
function candidates(buf: Buffer, len: number, n: { needle: Buffer; alsoCheck: Buffer[] }): number[] {
  // ASCII letters lowercased byte by byte (bytes >= 0x80 never lowercase to ASCII but for alsoCheck's).
  if (lowered.length < len) lowered = Buffer.allocUnsafe(len);
  const low = lowered;
  for (let i = 0; i < len; i++) {
    const b = buf[i]!;
    low[i] = b - 65 < 26 && b >= 65 ? b + 32 : b;
  }
  const hits: number[] = [];
  for (let i = low.indexOf(n.needle); i !== -1 && i < len; i = low.indexOf(n.needle, i + 1)) hits.push(i);
  for (const seq of n.alsoCheck)
    for (let i = buf.indexOf(seq); i !== -1 && i < len; i = buf.indexOf(seq, i + 1)) hits.push(i);
  if (n.alsoCheck.length) hits.sort((a, b) => a - b);
  return hits;
}

export class MatchIndex {
  private data = new Uint32Array(1024);
  private n = 0;
  private scannedTo = 0;
  private finished = false;
  private failed: Error | undefined;
  private generation = 0;
  private waiters: (() => void)[] = [];
  private readonly test: (line: QueryLine) => boolean;
  /** Set when the index was used; the owner evicts the least recently used. */
  lastUsed = Date.now();

  /** Throws a clear error for a bad regular expression. */
  constructor(
    private readonly ds: JsonlDataset,
    readonly query: SearchQuery,
    options: QueryOptions = {},
  ) {
    this.test = matchesQuery(query, options);
    this.start();
  }

  progress(): MatchProgress {
    return {
      count: this.n,
      scanned: this.finished ? this.ds.lineCount : this.scannedTo,
      lineCount: this.ds.lineCount,
      done: this.finished,
    };
  }

  get done(): boolean {
    return this.finished;
  }

  get count(): number {
    return this.n;
  }

  /** The record index of the k-th match (0-based), when found. */
  at(k: number): number | undefined {
    return k >= 0 && k < this.n ? this.data[k] : undefined;
  }

  /** Record indices of matches [start, start + count) that are found. */
  slice(start: number, count: number): number[] {
    return Array.from(this.data.subarray(Math.min(start, this.n), Math.min(this.n, start + count)));
  }

  /** The position of the first match at or after record `index` (count when there is none yet). */
  lowerBound(index: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.data[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Resolves once lines up to `index` are scanned (or the build is done); rejects if it failed. */
  async scannedPast(index: number): Promise<void> {
    while (!this.finished && this.scannedTo <= index) {
      if (this.failed) throw this.failed;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.failed) throw this.failed;
  }

  /** Resolves once `count` matches are found at or after record `from`, or the build is done. */
  async found(from: number, count: number): Promise<void> {
    while (!this.finished && this.n - this.lowerBound(from) < count) {
      if (this.failed) throw this.failed;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.failed) throw this.failed;
  }

  async whenDone(): Promise<void> {
    await this.scannedPast(Number.MAX_SAFE_INTEGER);
  }

  /** Stops building (the document is closing). */
  dispose(): void {
    this.generation++;
    this.finished = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private push(index: number): void {
    if (this.n === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = index;
  }

  /** (Re)builds from scratch: after a revert, a reload, a save mid-build or a large edit. */
  rebuild(): void {
    this.start();
  }

  private start(): void {
    const gen = ++this.generation;
    this.n = 0;
    this.scannedTo = 0;
    this.finished = false;
    this.failed = undefined;
    void this.build(gen).catch((err: unknown) => {
      if (gen !== this.generation) return;
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.finished = true;
      this.wake();
    });
  }

  private async build(gen: number): Promise<void> {
    await this.ds.ready;
    if (gen !== this.generation) return;
    const segments = this.ds.segments(SEGMENT_BYTES);
    const fd = this.ds.fileDescriptor;
    const max = this.ds.maxLineBytes;
    const shortcut = textNeedle(this.query);
    let buf = Buffer.allocUnsafe(0);
    let deadline = Date.now() + SLICE_MS;
    const breathe = async () => {
      if (Date.now() < deadline) return true;
      this.wake();
      await new Promise((r) => setImmediate(r));
      deadline = Date.now() + SLICE_MS;
      return gen === this.generation;
    };
    for (const s of segments) {
      if (s.kind === 'lines') {
        for (let k = 0; k < s.lines.length; k++) {
          if (this.test(new LazyLine(s.lines[k]!.bytes, max))) this.push(s.logicalStart + k);
        }
        this.scannedTo = s.logicalStart + s.lines.length;
      } else {
        const len = s.byteEnd - s.byteStart;
        if (buf.length < len) buf = Buffer.allocUnsafe(Math.max(len, SEGMENT_BYTES + 64 * 1024));
        let got = 0;
        while (got < len) {
          const r = readSync(fd, buf, got, len - got, s.byteStart + got);
          if (r <= 0) break;
          got += r;
        }
        const hits = shortcut ? candidates(buf, got, shortcut) : undefined;
        let h = 0;
        let pos = 0;
        for (let k = 0; k < s.count; k++) {
          let nl = buf.indexOf(10, pos);
          if (nl === -1 || nl >= got) nl = got;
          let check = true;
          if (hits) {
            while (h < hits.length && hits[h]! < pos) h++;
            check = h < hits.length && hits[h]! < nl;
          }
          if (check) {
            const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
            if (this.test(new LazyLine(buf.subarray(pos, end), max))) this.push(s.logicalStart + k);
          }
          pos = nl + 1;
          if ((k & 255) === 255) {
            this.scannedTo = s.logicalStart + k + 1;
            if (!(await breathe())) return;
          }
        }
        this.scannedTo = s.logicalStart + s.count;
      }
      if (!(await breathe())) return;
    }
    if (gen !== this.generation) return;
    this.finished = true;
    this.wake();
  }

  /**
   * Edits applied to the dataset since the index was last told (in order; already applied to
   * the store). Shifts and re-tests what they touched; a build in progress starts over.
   */
  applied(edits: readonly LineChange[]): void {
    if (!this.finished || edits.length > MAX_PATCH_EDITS) {
      this.rebuild();
      return;
    }
    const dirty: number[] = [];
    const shift = (from: number, by: number) => {
      for (let k = this.lowerBound(from); k < this.n; k++) this.data[k] = (this.data[k] ?? 0) + by;
      for (let d = 0; d < dirty.length; d++) if ((dirty[d] ?? 0) >= from) dirty[d] = (dirty[d] ?? 0) + by;
    };
    const remove = (index: number) => {
      const k = this.lowerBound(index);
      if (k < this.n && this.data[k] === index) {
        this.data.copyWithin(k, k + 1, this.n);
        this.n--;
      }
    };
    for (const e of edits) {
      if (e.type === 'replace') dirty.push(e.index);
      else if (e.type === 'insert') {
        shift(e.index, 1);
        dirty.push(e.index);
      } else {
        remove(e.index);
        for (let d = dirty.length - 1; d >= 0; d--) if (dirty[d] === e.index) dirty.splice(d, 1);
        shift(e.index + 1, -1);
      }
    }
    for (const index of new Set(dirty)) {
      remove(index);
      if (index >= this.ds.lineCount) continue;
      if (!this.test(this.ds.line(index))) continue;
      const k = this.lowerBound(index);
      this.push(0); // grow by one
      this.data.copyWithin(k + 1, k, this.n - 1);
      this.data[k] = index;
    }
  }
}

/** The few match indices a document keeps (one per recent query), least recently used evicted. */
export class MatchIndexes {
  private readonly byKey = new Map<string, MatchIndex>();

  constructor(
    private readonly ds: () => JsonlDataset,
    private readonly keep = 4,
    /** Read at each lookup (a setting may change): part of the index's key. */
    private readonly options: () => QueryOptions = () => ({}),
  ) {}

  get(query: SearchQuery): MatchIndex {
    const options = this.options();
    const key = `${queryKey(query)}${JSON.stringify(options)}`;
    let m = this.byKey.get(key);
    if (!m) {
      m = new MatchIndex(this.ds(), query, options);
      this.byKey.set(key, m);
      if (this.byKey.size > this.keep) {
        const oldest = [...this.byKey.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]!;
        oldest[1].dispose();
        this.byKey.delete(oldest[0]);
      }
    }
    m.lastUsed = Date.now();
    return m;
  }

  applied(edits: readonly LineChange[]): void {
    for (const m of this.byKey.values()) m.applied(edits);
  }

  /** The content changed in ways edits do not describe (revert, reload, a save mid-build). */
  reset(): void {
    for (const m of this.byKey.values()) m.dispose();
    this.byKey.clear();
  }

  /** After a save: finished indices stay true; builds in progress read old offsets and restart. */
  saved(): void {
    for (const m of this.byKey.values()) if (!m.done) m.rebuild();
  }

  dispose(): void {
    this.reset();
  }
}
