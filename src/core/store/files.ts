// File-level helpers of the store: fingerprints (to detect a change underneath), the temp-file
// naming and clean-up, a buffered writer, and the folder fsync.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  ino: number;
  /** sha1 over sampled regions: first and last 64 KiB and six evenly spaced in between (all of a small file). */
  sample: string;
}

const REGION = 64 * 1024;

export function fingerprintFd(fd: number): Fingerprint {
  const st = fstatSync(fd);
  const size = st.size;
  const hash = createHash('sha1');
  const buf = Buffer.allocUnsafe(REGION);
  const hashRange = (from: number, to: number) => {
    let pos = from;
    while (pos < to) {
      const n = readSync(fd, buf, 0, Math.min(REGION, to - pos), pos);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
  };
  if (size <= REGION * 16) hashRange(0, size);
  else {
    const k = 8;
    for (let r = 0; r < k; r++) {
      const at = r === k - 1 ? size - REGION : Math.floor(((size - REGION) * r) / (k - 1));
      hashRange(at, at + REGION);
    }
  }
  return { size, mtimeMs: st.mtimeMs, ino: st.ino, sample: hash.digest('hex') };
}

export function fingerprintPath(path: string): Fingerprint | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return fingerprintFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Why two fingerprints differ, or undefined when they match. */
export function fingerprintChange(before: Fingerprint, now: Fingerprint | undefined): string | undefined {
  if (!now) return 'the file was deleted or cannot be read';
  if (now.ino !== before.ino) return 'the file was replaced';
  if (now.size !== before.size) return `its size went from ${before.size} to ${now.size} bytes`;
  if (now.mtimeMs !== before.mtimeMs) return 'its modification time changed';
  if (now.sample !== before.sample) return 'its content changed';
  return undefined;
}

// Temp files: ".<name>.curate-<pid>-<random>.tmp" beside the target. A save killed midway leaves
// one; the next open or save of the same file removes those whose process is gone.
export function tempPathFor(target: string): string {
  const rand = Math.floor(Math.random() * 0xffffffff).toString(16);
  return join(dirname(target), `.${basename(target)}.curate-${process.pid}-${rand}.tmp`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes stale temp files of `target` left by saves that were killed. Returns their names. */
export function cleanStaleTemps(target: string, all = false): string[] {
  const dir = dirname(target);
  const re = new RegExp(`^\\.${escapeRe(basename(target))}\\.curate-(\\d+)-[0-9a-f]+\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (!all && alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    // Some file systems refuse fsync on a folder; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    closeSync(fd);
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Test seam: called before each write of a save or conversion with the bytes written so far;
 * throwing simulates a failing disk (ENOSPC, EIO) without filling one.
 */
export const writeHooks: { beforeWrite?: (written: number) => void } = {};

/** Large buffered writes to a file descriptor; copies byte ranges of another file through its buffer. */
export class BufferedWriter {
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes of output so far, counting from offset 0 of the file (the start position included). */
  written: number;
  private filePos: number;
  constructor(
    private readonly fd: number,
    size = 8 * 1024 * 1024,
    start = 0,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.written = start;
    this.filePos = start;
  }

  private writeAll(b: Uint8Array): void {
    writeHooks.beforeWrite?.(this.written);
    let off = 0;
    while (off < b.length) {
      const n = writeSync(this.fd, b, off, b.length - off, this.filePos);
      off += n;
      this.filePos += n;
    }
  }

  flush(): void {
    if (this.used > 0) {
      this.writeAll(this.buf.subarray(0, this.used));
      this.used = 0;
    }
  }

  write(b: Uint8Array): void {
    if (b.length > this.buf.length - this.used) {
      this.flush();
      if (b.length > this.buf.length) {
        this.writeAll(b);
        this.written += b.length;
        return;
      }
    }
    this.buf.set(b, this.used);
    this.used += b.length;
    this.written += b.length;
  }

  /** Copies [from, to) of `src` into the output, reading straight into the write buffer. */
  copyFrom(src: number, from: number, to: number): void {
    let pos = from;
    while (pos < to) {
      if (this.used === this.buf.length) this.flush();
      const want = Math.min(this.buf.length - this.used, to - pos);
      const n = readSync(src, this.buf, this.used, want, pos);
      if (n <= 0) throw new Error(`the original file ended early at byte ${pos} (expected ${to}); it changed underneath`);
      this.used += n;
      this.written += n;
      pos += n;
    }
  }
}
