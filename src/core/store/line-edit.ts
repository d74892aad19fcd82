// One record of a file edited and saved without indexing the file (`curate set`): the file is
// read only as far as the line, the record is edited as JsonlDataset.setFields edits it (same
// checks, same compact JSON), and the file is replaced atomically by the store's machinery
// (replace.ts): a temp file beside it; one fsync; under the write lock, the check that the file
// did not change underneath (fingerprint, and the line's own bytes), the rename and the folder's
// fsync. Every byte outside the line is the file's own: copied, never re-serialized.
//
// The new file is made while the scan looks for the line, not after it (see Plan): the first
// read of the scan tells where the line probably is; past the middle, the kernel copies the whole
// file meanwhile (then only the line is written, and the bytes after it when its length
// changes); before it, the scan writes what it reads before the line as it reads it. Either way
// the bytes before the line are read once, not once to find the line and once to copy them.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkLineBytes, DEFAULT_MAX_LINE_BYTES, lossyReason } from './check';
import { recordWithFields, type FieldEdit } from './dataset';
import { ConflictError, NotADatasetError, abortError } from './errors';
import {
  BufferedWriter,
  cleanStaleTemps,
  fingerprintChange,
  fingerprintFd,
  fingerprintPath,
  resolveWriteTarget,
  writeHooks,
  type Fingerprint,
} from './files';
import { cleanStaleLock } from './lock';
import { TempFile, asSaveError, destinationOf } from './replace';
import { CLONE_SHARE, COPY_BUFFER, worthCloning } from './save-copy';
import { lineAt, type FoundLine } from './scan';

/** The file has fewer lines than the one asked for. */
export class NoSuchLineError extends Error {
  readonly code = 'ENOLINE';
  constructor(
    readonly path: string,
    readonly lineNumber: number,
    /** How many lines the file has. */
    readonly lines: number,
  ) {
    super(`line ${lineNumber} does not exist: ${path} has ${lines} line(s)`);
    this.name = 'NoSuchLineError';
  }
}

export interface LineEditOptions {
  signal?: AbortSignal;
  /** Longest wait (ms) for the file's write lock (see ./lock.ts). */
  lockWaitMs?: number;
  /** Lines longer than this are not parsed (so not edited field by field). Default 64 MiB. */
  maxLineBytes?: number;
}

export interface LineEditResult {
  /** False when the record already had these values (nothing written). */
  changed: boolean;
  /** Bytes this process wrote (the rest of the file is the kernel's copy). */
  written: number;
  /** True when the temp file started as a kernel copy of the file. */
  cloned: boolean;
  /** How the new file was made (see Plan); absent when nothing was written. */
  plan?: Plan;
}

function readRange(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  let got = 0;
  while (got < buf.length) {
    const r = readSync(fd, buf, got, buf.length - got, start + got);
    if (r <= 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/**
 * The first read of the scan: its lines tell the average line length, so where line N probably
 * is before the scan gets there.
 */
export const FIRST_READ = 1024 * 1024;

/**
 * Files up to this size are scanned first and copied after (plan `after`): the scan is then
 * about the first read, with nothing to overlap.
 */
export const OVERLAP_MIN_BYTES = 2 * FIRST_READ;

/**
 * How the new file is made, decided after the first read of the scan:
 * - `after`: the line is in the first read, or the file is small: the scan is done, then the
 *   file is copied, by the kernel when most bytes stay in place (then only the line is written,
 *   and the bytes after it when its length changes), else through this process.
 * - `clone`: the line is probably in the second half: the kernel copy of the whole file starts
 *   at once, in libuv's thread pool, while this thread reads on to the line; then the line is
 *   written over the copy (and the bytes after it when its length changes).
 * - `stream`: the line is probably in the first half: the scan writes every byte it reads
 *   before the line into the temp file as it reads it, then the line and the bytes after it go
 *   through this process (a single pass over the file). A kernel copy would leave more than half
 *   of the file to rewrite after an edit that changes the length, and the copy cannot start
 *   before the scan knows which edit it is: so the first half of the file is read once, not once
 *   to find the line and once more to copy it.
 */
export type Plan = 'after' | 'clone' | 'stream';

/**
 * Sets fields of record `lineNumber` (1-based) of `file` and saves the file atomically. Throws
 * NoSuchLineError, NotADatasetError, EditError or LossyEditError before the file is replaced
 * (a temp file started meanwhile is removed); ConflictError when the file changed underneath
 * (nothing written); SaveError when the write failed (the file untouched).
 */
export async function setFieldsOfLine(
  file: string,
  lineNumber: number,
  edits: readonly FieldEdit[],
  opts: LineEditOptions = {},
): Promise<LineEditResult> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError();
  const path = resolve(file);
  const real = resolveWriteTarget(path);
  cleanStaleTemps(real);
  cleanStaleLock(real);
  const fd = openSync(path, 'r');
  // The temp file, once one is started (by the scan or the write): removed unless it replaced the file.
  const save: NewFile = { plan: 'after' };
  let replaced = false;
  try {
    if (fstatSync(fd).isDirectory()) throw new NotADatasetError(path, 'is a folder, not a dataset file');
    const fp = fingerprintFd(fd);
    const found = await scanTo(path, fd, fp.size, lineNumber, save, signal);
    if ('lines' in found) throw new NoSuchLineError(file, lineNumber, found.lines);
    const body = readRange(fd, found.start, found.end);
    const check = checkLineBytes(body, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const text = recordWithFields(
      {
        lineNumber,
        ...(check.value ? { value: check.value } : {}),
        ...(check.invalid ? { invalid: check.invalid } : {}),
        get lossy() {
          const r = check.value ? lossyReason(body.toString('utf8')) : undefined;
          return r ? { reason: r } : undefined;
        },
      },
      edits,
    );
    const next = Buffer.from(text, 'utf8');
    if (next.equals(body)) return { changed: false, written: 0, cloned: false };
    try {
      const result = await replaceLine(path, fd, fp, found, body, next, save, opts);
      replaced = true;
      return result;
    } catch (err) {
      throw asSaveError(path, err);
    }
  } finally {
    if (!replaced) await save.temp?.discard();
    closeSync(fd);
  }
}

/** The new file while it is made: the plan, its temp file once started, and for `stream` its descriptor. */
interface NewFile {
  plan: Plan;
  temp?: TempFile;
  /** `stream`: the temp file's descriptor (open for writing), holding the bytes before the line. */
  out?: number;
}

/**
 * Reads `fd` as far as line `n` (1-based; as scan.ts findLine does) and, after the first read,
 * starts the new file as the plan says (Plan), in `save`. Returns the line, or how many lines
 * the file has when it has fewer. Failures to start or write the temp file are SaveErrors.
 */
async function scanTo(
  path: string,
  fd: number,
  size: number,
  n: number,
  save: NewFile,
  signal: AbortSignal | undefined,
): Promise<FoundLine | { lines: number }> {
  let buf = Buffer.allocUnsafe(Math.max(16, Math.min(FIRST_READ, size)));
  let line = 1;
  /** Where line `line` starts. */
  let start = 0;
  let pos = 0;
  /** `stream`: the bytes [0, written) are in the temp file. */
  let written = 0;
  let sinceYield = 0;
  /** `stream`: writes the bytes [written, upTo) of the file, which are in `buf` from `pos` on. */
  const emit = (upTo: number) => {
    if (save.plan !== 'stream' || upTo <= written) return;
    try {
      writeAt(save.out!, buf.subarray(written - pos, upTo - pos), written);
    } catch (err) {
      throw asSaveError(path, err);
    }
    written = upTo;
  };
  while (pos < size) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (got <= 0) break;
    const view = got === buf.length ? buf : buf.subarray(0, got);
    let i = view.indexOf(10);
    while (i !== -1) {
      if (line === n) {
        emit(start);
        return lineAt(fd, start, pos + i + 1);
      }
      line++;
      start = pos + i + 1;
      i = view.indexOf(10, i + 1);
    }
    // Not in the first read: the `line - 1` lines it holds tell where line n probably starts. A
    // line probably past the end (`curate set` of a line the file does not have) starts nothing.
    const estimate = pos === 0 && start > 0 ? ((n - 1) * start) / (line - 1) : Infinity;
    if (pos === 0 && got < size && size > OVERLAP_MIN_BYTES && estimate < size) {
      await startNewFile(path, fd, estimate >= size * CLONE_SHARE, save);
      // `stream` reads as much as the copy's buffer from now on (it stays in a core's cache
      // between the read and the write: save-copy.ts COPY_BUFFER); the first read is written
      // from this buffer first.
      emit(line === n ? start : got);
      if (save.plan === 'stream') buf = Buffer.allocUnsafe(COPY_BUFFER);
    } else emit(line === n ? start : pos + got);
    pos += got;
    sinceYield += got;
    if (sinceYield >= 64 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw abortError();
    }
  }
  // (`stream` wrote the bytes before the line at the end of the read where it started.)
  if (start < size && line === n) return lineAt(fd, start, size);
  return { lines: start < size ? line : line - 1 };
}

/** Starts the temp file of plan `clone` (a kernel copy of the file, running in the thread pool) or `stream`. */
async function startNewFile(path: string, fd: number, clone: boolean, save: NewFile): Promise<void> {
  const { dest, like } = destinationOf(path, fd);
  save.plan = clone ? 'clone' : 'stream';
  try {
    save.temp = TempFile.start(path, dest, like, clone ? path : undefined);
    if (!clone) save.out = await save.temp.open();
  } catch (err) {
    throw asSaveError(path, err);
  }
}

/** Writes all of `b` at `at` (telling the store's write seam first, as BufferedWriter does). */
function writeAt(fd: number, b: Buffer, at: number): void {
  writeHooks.beforeWrite?.(at);
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off, at + off);
}

/** The file did not change since `fp` was taken, and bytes [start, start + bytes.length) are still `bytes`. */
function assertUnchanged(path: string, fp: Fingerprint, start: number, bytes: Buffer): void {
  const why = fingerprintChange(fp, fingerprintPath(path));
  if (why) throw new ConflictError(path, why);
  let now: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      now = readRange(fd, start, start + bytes.length);
    } finally {
      closeSync(fd);
    }
  } catch {
    throw new ConflictError(path, 'the file was deleted or cannot be read');
  }
  if (!now.equals(bytes)) throw new ConflictError(path, 'the edited line changed');
}

/**
 * Writes the file with line `found` replaced by `next` (its terminator kept) over `path`: into the
 * temp file the scan started (`save`), or, plan `after`, into one started here.
 */
async function replaceLine(
  path: string,
  fd: number,
  fp: Fingerprint,
  found: FoundLine,
  body: Buffer,
  next: Buffer,
  save: NewFile,
  opts: LineEditOptions,
): Promise<LineEditResult> {
  const { signal } = opts;
  const size = fp.size;
  const lineEnd = found.end + found.eol.length;
  const sameLength = next.length === body.length;
  const original = Buffer.concat([body, Buffer.from(found.eol, 'latin1')]);
  let clone = save.plan === 'clone';
  if (save.plan === 'after') {
    // The bytes that stay at their offsets: all but the line when its length is kept, else the
    // ones before it.
    clone = worthCloning(sameLength ? size - body.length : found.start, size);
    const { dest, like } = destinationOf(path, fd);
    save.temp = TempFile.start(path, dest, like, clone ? path : undefined);
  }
  const temp = save.temp!;
  const out = save.plan === 'stream' ? save.out! : await temp.open();
  // The bytes before the line are already there (the kernel's copy, or the scan's writes)
  // unless this process copies the whole file now.
  const prefixDone = clone || save.plan === 'stream';
  const w = new BufferedWriter(out, COPY_BUFFER, prefixDone ? found.start : 0);
  if (!prefixDone) await copyRange(w, fd, 0, found.start, signal);
  w.write(next);
  if (!(clone && sameLength)) {
    w.write(Buffer.from(found.eol, 'latin1'));
    await copyRange(w, fd, lineEnd, size, signal);
  }
  w.flush();
  const written = w.written - (clone ? found.start : 0);
  temp.finish(size - body.length + next.length);
  if (signal?.aborted) throw abortError();
  await temp.commit({
    check: () => assertUnchanged(path, fp, found.start, original),
    signal,
    lockWaitMs: opts.lockWaitMs,
  });
  return { changed: true, written, cloned: clone, plan: save.plan };
}

/** Copies [from, to) of `src` through the writer, letting the event loop (and an abort) in every 64 MiB. */
async function copyRange(
  w: BufferedWriter,
  src: number,
  from: number,
  to: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const slice = 64 * 1024 * 1024;
  for (let pos = from; pos < to; pos += slice) {
    w.copyFrom(src, pos, Math.min(to, pos + slice));
    if (to - pos > slice) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw abortError();
    }
  }
}
