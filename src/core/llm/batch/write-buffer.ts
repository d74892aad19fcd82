// Writes to a file descriptor through one 1 MiB buffer: each put is copied into it (a string
// encoded straight into it), and the buffer is written each time it fills. One buffer for a whole
// file, not one per line or per write: applying 100,000 batch results held some 45 MB of spent
// buffers until V8 collected them (bench/batch.ts). Used by file-apply.ts and input-files.ts.
import { writeSync } from 'node:fs';

const SIZE = 1 << 20;

export class WriteBuffer {
  private readonly buf = Buffer.allocUnsafe(SIZE);
  private size = 0;
  /** Bytes written to the descriptor so far. */
  written = 0;

  /** `onWrite` sees every byte written, in order (a hash of the file). */
  constructor(
    private readonly fd: number,
    private readonly onWrite?: (bytes: Buffer) => void,
  ) {}

  /** Adds `b`; the caller may reuse a Buffer as soon as this returns. */
  put(b: Buffer | string): void {
    const room = this.buf.length - this.size;
    if (typeof b !== 'string') this.putBytes(b);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a string that surely fits is encoded in place
    else if (b.length * 3 <= room) this.size += this.buf.write(b, this.size);
    else if (b.length * 3 <= this.buf.length) {
      this.flush();
      this.size += this.buf.write(b, this.size);
    } else this.putBytes(Buffer.from(b));
    if (this.size >= this.buf.length) this.flush();
  }

  /** Writes what the buffer holds. */
  flush(): void {
    if (this.size > 0) this.write(this.buf, this.size);
    this.size = 0;
  }

  private putBytes(b: Buffer): void {
    if (b.length > this.buf.length - this.size) {
      this.flush();
      if (b.length >= this.buf.length) {
        this.write(b, b.length);
        return;
      }
    }
    b.copy(this.buf, this.size);
    this.size += b.length;
  }

  /** Writes the first `n` bytes of `b`. */
  private write(b: Buffer, n: number): void {
    const bytes = n === b.length ? b : b.subarray(0, n);
    this.onWrite?.(bytes);
    let off = 0;
    while (off < n) off += writeSync(this.fd, bytes, off, n - off);
    this.written += n;
  }
}
