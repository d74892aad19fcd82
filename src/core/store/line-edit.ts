// One record of a file edited and saved without indexing the file (`curate set`): the file is
// read only as far as the line (scan.ts findLine), the record is edited as JsonlDataset.setFields
// edits it (same checks, same compact JSON), and the file is replaced atomically by the store's
// machinery (replace.ts): a temp file beside it, started from a kernel copy of the file, where
// only the edited line is written when its length is kept, and the edited line and the bytes
// after it when not; one fsync; under the write lock, the check that the file did not change
// underneath (fingerprint, and the line's own bytes), the rename and the folder's fsync.
// Every byte outside the line is the file's own: copied, never re-serialized.
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
import { TempFile, asSaveError, destinationOf } from './replace';
import { COPY_BUFFER, worthCloning } from './save-copy';
import { findLine } from './scan';

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
 * Sets fields of record `lineNumber` (1-based) of `file` and saves the file atomically. Throws
 * NoSuchLineError, NotADatasetError, EditError or LossyEditError before anything is written;
 * ConflictError when the file changed underneath (nothing written); SaveError when the write
 * failed (the file untouched).
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
  try {
    if (fstatSync(fd).isDirectory()) throw new NotADatasetError(path, 'is a folder, not a dataset file');
    const fp = fingerprintFd(fd);
    const size = fp.size;
    const found = findLine(fd, size, lineNumber);
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
    return await replaceLine(path, fd, fp, found, body, next, opts);
  } finally {
    closeSync(fd);
  }
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

/** Writes the file with line `found` replaced by `next` (its terminator kept) over `path`. */
async function replaceLine(
  path: string,
  fd: number,
  fp: Fingerprint,
  found: { start: number; end: number; eol: '\n' | '\r\n' | '' },
  body: Buffer,
  next: Buffer,
  opts: LineEditOptions,
): Promise<LineEditResult> {
  const { signal } = opts;
  const size = fp.size;
  const lineEnd = found.end + found.eol.length;
  const sameLength = next.length === body.length;
  // The bytes that stay at their offsets: all but the line when its length is kept, else the
  // ones before it.
  const clone = worthCloning(sameLength ? size - body.length : found.start, size);
  const original = Buffer.concat([body, Buffer.from(found.eol, 'latin1')]);
  const { dest, like } = destinationOf(path, fd);
  let temp: TempFile | undefined;
  try {
    temp = TempFile.start(path, dest, like, clone ? path : undefined);
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
    return { changed: true, written, cloned: clone };
  } catch (err) {
    await temp?.discard();
    throw asSaveError(path, err);
  }
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
