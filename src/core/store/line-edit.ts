// One record of a file edited and saved without indexing the file (`curate set`): the file is
// read only as far as the line, the record is edited as JsonlDataset.setFields edits it (same
// checks, same compact JSON), and the file is replaced atomically by the store's machinery
// (replace.ts): a temp file beside it; one fsync; under the write lock, the check that the file
// did not change underneath (fingerprint, and the line's own bytes), the rename and the folder's
// fsync. Every byte outside the line is the file's own: copied, never re-serialized.
//
// When the line is probably past the middle of the file (the first read of the scan tells), the
// kernel copies the whole file while the scan reads on to the line (see Plan).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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
  type Fingerprint,
} from './files';
import { cleanStaleLock } from './lock';
import { TempFile, asSaveError, closeAfterExit, destinationOf } from './replace';
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
  /**
   * For a process that exits right after (the CLI): the replaced version is released after the
   * exit rather than before it (replace.ts closeAfterExit).
   */
  releaseAfterExit?: boolean;
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
 * - `clone`: the line is probably in the second half of a file past OVERLAP_MIN_BYTES: the kernel
 *   copy of the whole file starts at once, in libuv's thread pool, while this thread reads on to
 *   the line; then the line is written over the copy (and the bytes after it when its length
 *   changes). Whatever the edit, most bytes stay in place, so the copy is never wasted on a save.
 * - `after`: otherwise: the scan ends, then the file is copied, by the kernel when most bytes
 *   stay in place (then only the line is written, and the bytes after it when its length
 *   changes), else through this process. For a line in the first half the copy cannot start
 *   before the edit is known: a same-length edit wants the kernel's copy, one that changes the
 *   length must write more than half of the file through this process anyway, and a kernel copy
 *   under it would be written twice (measured: 5% more CPU than through this process alone).
 *   Writing the bytes before the line while the scan reads them (one pass, no separate scan)
 *   saved 4% of the CPU of an edit that changes the length and cost 18% more for a same-length
 *   one (docs/performance.md), so the scan reads alone.
 */
export type Plan = 'after' | 'clone';

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
    if (replaced && opts.releaseAfterExit) closeAfterExit(fd);
    else closeSync(fd);
  }
}

/** The new file while it is made: the plan, and its temp file once started. */
interface NewFile {
  plan: Plan;
  temp?: TempFile;
}

/**
 * Reads `fd` as far as line `n` (1-based; as scan.ts findLine does) and, after the first read,
 * starts the kernel copy when the plan is `clone` (Plan), in `save`. Returns the line, or how
 * many lines the file has when it has fewer.
 */
async function scanTo(
  path: string,
  fd: number,
  size: number,
  n: number,
  save: NewFile,
  signal: AbortSignal | undefined,
): Promise<FoundLine | { lines: number }> {
  const buf = Buffer.allocUnsafe(Math.max(16, Math.min(FIRST_READ, size)));
  let line = 1;
  /** Where line `line` starts. */
  let start = 0;
  let pos = 0;
  let sinceYield = 0;
  const lines = { line, start };
  while (pos < size) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (got <= 0) break;
    const at = countLines(got === buf.length ? buf : buf.subarray(0, got), pos, n, lines);
    ({ line, start } = lines);
    if (at !== -1) return lineAt(fd, start, pos + at + 1);
    if (pos === 0 && got < size && size > OVERLAP_MIN_BYTES && start > 0) {
      // Not in the first read: the `line - 1` lines it holds tell where line n probably starts.
      // A line probably past the end (a line the file does not have) starts no copy.
      const estimate = ((n - 1) * start) / (line - 1);
      if (estimate >= size * CLONE_SHARE && estimate < size) startCopy(path, fd, save);
    }
    pos += got;
    sinceYield += got;
    if (sinceYield >= 64 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw abortError();
    }
  }
  if (start < size && line === n) return lineAt(fd, start, size);
  return { lines: start < size ? line : line - 1 };
}

/**
 * Counts the lines of `view` (bytes of the file from `base` on) from `at.line`, which starts at
 * `at.start`: returns the index in `view` of line n's '\n', or -1 with `at` moved past the
 * view's last '\n'. A function of its own, with its counters in locals: the same loop in the
 * async scanTo, whose variables a closure shared, cost about 45 ms more CPU over 500,000 lines.
 */
function countLines(view: Buffer, base: number, n: number, at: { line: number; start: number }): number {
  let line = at.line;
  let start = at.start;
  let i = view.indexOf(10);
  while (i !== -1) {
    if (line === n) break;
    line++;
    start = base + i + 1;
    i = view.indexOf(10, i + 1);
  }
  at.line = line;
  at.start = start;
  return i;
}

/** Starts the temp file of plan `clone`: a kernel copy of the file, running in libuv's thread pool. */
function startCopy(path: string, fd: number, save: NewFile): void {
  const { dest, like } = destinationOf(path, fd);
  save.plan = 'clone';
  save.temp = TempFile.start(path, dest, like, path);
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
 * kernel copy the scan started (`save`, plan `clone`), or, plan `after`, into a temp file started here.
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
  const out = await temp.open();
  const w = new BufferedWriter(out, COPY_BUFFER, clone ? found.start : 0);
  if (!clone) await copyRange(w, fd, 0, found.start, signal);
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
