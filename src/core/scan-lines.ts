// Reads an append-only JSONL file (a job's journal, a response-cache shard) line by line in 1 MiB
// chunks, never the whole file at once.
import { readSync } from 'node:fs';

/**
 * Calls `onLine(buf, start, end, offset)` for each complete line of the open file `fd` (ended by a
 * line feed; `buf[start..end)` is the line without it, `offset` its position in the file), up to
 * `size` bytes. Returns the byte length of the complete lines: a torn tail beyond it is not passed.
 */
export function scanLines(
  fd: number,
  onLine: (buf: Buffer, start: number, end: number, offset: number) => void,
  size = Infinity,
): number {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0; // file offset of carry[0]
  let good = 0;
  while (pos + carry.length < size) {
    const n = readSync(fd, chunk, 0, chunk.length, pos + carry.length);
    if (n <= 0) break;
    const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      onLine(buf, start, nl, pos + start);
      start = nl + 1;
      good = pos + start;
    }
    carry = Buffer.from(buf.subarray(start));
    pos += start;
  }
  return good;
}
