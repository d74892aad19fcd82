// Finds line starts by scanning bytes for '\n' with Buffer.indexOf, in chunks read into one
// reused buffer: the file is never held as one string. Runs in the scan worker (scan-worker.ts)
// and, for the first chunk and for small files or tests, in the calling thread.
import { readSync } from 'node:fs';

export const DEFAULT_CHUNK = 4 * 1024 * 1024;

/** A growable array of byte offsets: 8 bytes a line (a double holds any offset below 2^53). */
export class Offsets {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  private grow(min: number): void {
    let cap = this.data.length;
    while (cap < min) cap = cap < 1 << 20 ? cap * 2 : Math.ceil(cap * 1.5);
    this.reserve(cap);
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  pushAll(vs: Float64Array): void {
    if (this.length + vs.length > this.data.length) this.grow(this.length + vs.length);
    this.data.set(vs, this.length);
    this.length += vs.length;
  }
  /** Makes room for `n` offsets in one step (a copy at most), when the count can be estimated. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = new Float64Array(n);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  /**
   * Room for `n` offsets in memory a scan worker can write into (a SharedArrayBuffer): the worker
   * fills it after `length`, and `length` is moved as it says how far (see scan-worker.ts).
   */
  share(n: number): SharedArrayBuffer {
    const shared = new SharedArrayBuffer(Math.max(n, this.length) * 8);
    const next = new Float64Array(shared);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
    return shared;
  }
  /** Drops spare capacity (after a full scan): a copy, unless the spare is within 1/8 of the offsets. */
  trim(): void {
    if (this.data.length > this.length + Math.max(1024, this.length >>> 3)) this.data = this.data.slice(0, this.length);
  }
  get(i: number): number {
    return this.data[i]!;
  }
}

/** The offsets a batch of scanRange holds for reads of `chunkSize` bytes (for a `batch` of one's own). */
export function batchCapacity(chunkSize = DEFAULT_CHUNK): number {
  return Math.min(65536, Math.max(16, Math.max(1, chunkSize) >> 6));
}

/**
 * Scans [from, to) of an open file and calls `emit` with the offsets just after each '\n'
 * (ascending, in batches; the buffer handed over is owned by the receiver), then with the offset
 * scanned to. Returns the offset where it stopped. `buffer`: the read buffer to use (at least
 * `chunkSize` long). `batch`: the batch array to use again and again: `emit`'s array is then
 * valid only during the call (a receiver that copies it), and the scan allocates nothing.
 */
export function scanRange(
  fd: number,
  from: number,
  to: number,
  emit: (starts: Float64Array, scannedTo: number) => void,
  opts: { chunkSize?: number; shouldStop?: () => boolean; buffer?: Buffer; batch?: Float64Array } = {},
): number {
  const chunkSize = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK);
  const buf = opts.buffer && opts.buffer.length >= chunkSize ? opts.buffer : Buffer.allocUnsafe(chunkSize);
  // The receiver may take the batch's buffer (a worker transfers it, leaving this array detached
  // and empty): each new batch gets its capacity from here, never from the old one.
  const capacity = batchCapacity(chunkSize);
  const reused = opts.batch && opts.batch.length > 0 ? opts.batch : undefined;
  const fresh = () => reused ?? new Float64Array(capacity);
  let batch = fresh();
  let nb = 0;
  let pos = from;
  while (pos < to) {
    if (opts.shouldStop?.()) break;
    const got = readSync(fd, buf, 0, Math.min(chunkSize, to - pos), pos);
    if (got <= 0) break;
    const view = got === buf.length ? buf : buf.subarray(0, got);
    let i = view.indexOf(10);
    while (i !== -1) {
      if (nb === batch.length) {
        emit(batch, pos + i);
        batch = fresh();
        nb = 0;
      }
      batch[nb++] = pos + i + 1;
      i = view.indexOf(10, i + 1);
    }
    pos += got;
    emit(reused ? batch.subarray(0, nb) : batch.slice(0, nb), pos);
    nb = 0;
  }
  return pos;
}

/**
 * Cuts bytes [from, to) of an open file into pieces of about `piece` bytes that start at line
 * starts, without an index: each cut is just after the first '\n' at or after a multiple of
 * `piece`. Returns the boundaries, `from` first and `to` last. Lines longer than a piece make
 * fewer, longer pieces. `piece` may be a function of the bytes left after the last cut: each
 * piece is then that long (pieces that shrink toward the end let threads finish together).
 */
export function lineCuts(fd: number, from: number, to: number, piece: number | ((left: number) => number)): number[] {
  const cuts = [from];
  const buf = Buffer.allocUnsafe(64 * 1024);
  const size = (left: number) => Math.max(1, Math.floor(typeof piece === 'number' ? piece : piece(left)));
  let at = from + size(to - from);
  while (at < to) {
    let pos = at;
    let cut = -1;
    while (pos < to) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
      if (got <= 0) break;
      const nl = buf.subarray(0, got).indexOf(10);
      if (nl !== -1) {
        cut = pos + nl + 1;
        break;
      }
      pos += got;
    }
    if (cut === -1 || cut >= to) break;
    cuts.push(cut);
    at = typeof piece === 'number' ? Math.max(cut, at + piece) : cut + size(to - cut);
  }
  cuts.push(to);
  return cuts;
}

/** A line found by findLine: its bytes [start, end) and its own terminator. */
export interface FoundLine {
  start: number;
  end: number;
  eol: '\n' | '\r\n' | '';
}

/**
 * Finds 1-based line `n` of an open file by scanning from its start, with no index (`curate get`
 * on a huge file reads only as far as the line). Returns the line's content range (terminator
 * excluded) and terminator, or, when the file has fewer lines, how many it has. Lines follow the
 * store's rules: a line ends after each '\n'; a last line without one counts; a CR before the LF
 * belongs to the terminator.
 */
export function findLine(fd: number, size: number, n: number, chunkSize = 1024 * 1024): FoundLine | { lines: number } {
  const buf = Buffer.allocUnsafe(Math.max(16, chunkSize));
  let line = 1;
  let start = 0;
  let pos = 0;
  while (pos < size) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (got <= 0) break;
    const view = got === buf.length ? buf : buf.subarray(0, got);
    let i = view.indexOf(10);
    while (i !== -1) {
      if (line === n) return lineAt(fd, start, pos + i + 1);
      line++;
      start = pos + i + 1;
      i = view.indexOf(10, i + 1);
    }
    pos += got;
  }
  if (start < size && line === n) return lineAt(fd, start, size);
  return { lines: start < size ? line : line - 1 };
}

/** Line [start, end) of `fd` (`end` past its terminator, if any) as a FoundLine. */
export function lineAt(fd: number, start: number, end: number): FoundLine {
  if (end > start) {
    const tail = Buffer.alloc(Math.min(2, end - start));
    readSync(fd, tail, 0, tail.length, end - tail.length);
    if (tail[tail.length - 1] === 10) {
      if (tail.length === 2 && tail[0] === 13) return { start, end: end - 2, eol: '\r\n' };
      return { start, end: end - 1, eol: '\n' };
    }
  }
  return { start, end, eol: '' };
}
