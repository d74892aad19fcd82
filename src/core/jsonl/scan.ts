// Finds line starts by scanning bytes for '\n' with Buffer.indexOf, in chunks, never holding the
// file as one string. Used in a worker thread (scan-worker.ts) and, for the first chunk, inline.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const DEFAULT_CHUNK = 4 * 1024 * 1024;

/**
 * Scans [from, to) of an open file, calling `emit` with the start offsets of the lines that begin
 * after each '\n' (batches, ascending). Returns the offset where it stopped.
 */
export function scanRange(
  fd: number,
  from: number,
  to: number,
  emit: (starts: Float64Array, scannedTo: number) => void,
  opts: { chunkSize?: number; shouldStop?: () => boolean; batch?: number } = {},
): number {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const buf = Buffer.allocUnsafe(chunkSize);
  const batchSize = opts.batch ?? 65536;
  let batch = new Float64Array(batchSize);
  let nb = 0;
  let pos = from;
  while (pos < to) {
    if (opts.shouldStop?.()) break;
    const want = Math.min(chunkSize, to - pos);
    const got = readSync(fd, buf, 0, want, pos);
    if (got <= 0) break;
    let i = buf.indexOf(10, 0);
    while (i !== -1 && i < got) {
      batch[nb++] = pos + i + 1;
      if (nb === batchSize) {
        emit(batch, pos + i + 1);
        batch = new Float64Array(batchSize);
        nb = 0;
      }
      i = buf.indexOf(10, i + 1);
    }
    pos += got;
    if (nb > 0) {
      emit(batch.slice(0, nb), pos);
      nb = 0;
    } else emit(new Float64Array(0), pos);
  }
  return pos;
}

/** Scans a whole file in this thread (tests, small files). */
export function scanFileSync(path: string, chunkSize?: number): Float64Array {
  const fd = openSync(path, 'r');
  try {
    const parts: Float64Array[] = [];
    let size = 0;
    const total = fstatSync(fd).size;
    scanRange(fd, 0, total, (s) => {
      parts.push(s);
      size += s.length;
    }, { chunkSize });
    const out = new Float64Array(size);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
