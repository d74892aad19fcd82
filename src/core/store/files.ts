// File-level helpers of the store: fingerprints (to detect a change underneath), the temp-file
// naming and clean-up, a buffered writer, and the folder fsync.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { NotADatasetError } from './errors';
import { basename, dirname, isAbsolute, join } from 'node:path';

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

// Temp files: ".<name>.curate-<host>-<pid>-<random>.tmp" beside the target (<host>: 8 hex digits
// of a hash of the host name), always created exclusively (O_EXCL). A writer killed midway leaves
// one; the next open, save or output write in that folder removes every temp file of ours whose
// process is gone (same host), or that is a day old (another host sharing the folder).
const HOST_TAG = createHash('sha1').update(hostname()).digest('hex').slice(0, 8);
const TEMP_RE = /^\..+\.curate-(?:([0-9a-f]{8})-)?(\d+)-[0-9a-f]+\.tmp$/;
const FOREIGN_TEMP_AGE_MS = 24 * 3600 * 1000;

export function tempPathFor(target: string): string {
  const rand = randomBytes(4).toString('hex');
  return join(dirname(target), `.${basename(target)}.curate-${HOST_TAG}-${process.pid}-${rand}.tmp`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True while process `pid` runs on this machine (signal 0; EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes stale temp files in the folder of `target` left by writers that were killed (those of
 * any file there: a killed `filter --out` is cleaned by the next run of anything in the folder).
 * `all`: also those of live processes, for `target` only (tests). Returns their names.
 */
export function cleanStaleTemps(target: string, all = false): string[] {
  const dir = dirname(target);
  const mine = `.${basename(target)}.curate-`;
  // Temps of an older writer of outputs: "<name>.<pid>.tmp".
  const legacy = new RegExp(`^${escapeRe(basename(target))}\\.(\\d+)\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    const old = m ? undefined : legacy.exec(name);
    if (!m && !old) continue;
    const host = m?.[1];
    const pid = Number(m ? m[2] : old![1]);
    // Without a host tag (older versions) only the target's own temps are judged: the pid may be
    // another machine's.
    if (host === undefined && !name.startsWith(mine) && !old) continue;
    let stale: boolean;
    if (all && (name.startsWith(mine) || old)) stale = true;
    else if (host === undefined || host === HOST_TAG) stale = !processAlive(pid);
    else {
      try {
        stale = Date.now() - statSync(join(dir, name)).mtimeMs > FOREIGN_TEMP_AGE_MS;
      } catch {
        stale = false;
      }
    }
    if (!stale) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/**
 * The file a write to `target` replaces: symlinks resolved (a dataset kept as a link by DVC or
 * git-annex is written through to the file it points at, and the link stays a link). A target
 * that does not exist yet is resolved through its folder.
 */
export function resolveWriteTarget(target: string, depth = 0): string {
  try {
    return realpathSync(target);
  } catch {
    // A dangling link: write where it points (a loop of links: left as it is, the write fails with ELOOP).
    try {
      if (depth < 40 && lstatSync(target).isSymbolicLink()) {
        const to = readlinkSync(target);
        return resolveWriteTarget(isAbsolute(to) ? to : join(dirname(target), to), depth + 1);
      }
    } catch {
      // does not exist
    }
    try {
      return join(realpathSync(dirname(target)), basename(target));
    } catch {
      return target;
    }
  }
}

/**
 * Gives a new file (by its descriptor) the mode and owner of the file it replaces: chmod always;
 * chown where permitted (as root, any owner; otherwise the group, when we are in it). Errors of
 * chown are ignored: a file system without owners, or a group we may not give.
 */
export function keepOwnerAndMode(
  fd: number,
  like: { mode: number; uid?: number | undefined; gid?: number | undefined },
): void {
  if (like.uid !== undefined && like.gid !== undefined && typeof process.getuid === 'function') {
    const st = fstatSync(fd);
    if (st.uid !== like.uid || st.gid !== like.gid) {
      const root = process.getuid() === 0;
      try {
        fchownSync(fd, root || like.uid === st.uid ? like.uid : -1, like.gid);
      } catch {
        // not permitted: the file is ours, with our group
      }
    }
  }
  // After chown, which may clear set-user-ID bits.
  fchmodSync(fd, like.mode & 0o7777);
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

/**
 * Writes `<dir>/.gitignore` ("*") when missing: the folder (a response cache, a job journal) never
 * shows in `git status`, wherever it lives.
 */
export function ensureGitIgnored(dir: string): void {
  try {
    writeFileSync(
      join(dir, '.gitignore'),
      '# Made by Dataset Curator: caches and job journals are not versioned.\n*\n',
      { flag: 'wx' },
    );
  } catch {
    // there already (or a read-only folder: nothing to add)
  }
}

/**
 * Throws NotADatasetError unless `path` is a file whose start looks like text: a folder, or a NUL
 * byte in its first 64 KiB (an executable, an image, UTF-16 text), is not JSONL. For the jobs,
 * which would otherwise skip every line as invalid and report success.
 */
export function assertDatasetFile(path: string): void {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new NotADatasetError(path, 'is a folder, not a dataset file');
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof NotADatasetError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotADatasetError(path, 'does not exist');
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const at = buf.subarray(0, n).indexOf(0);
    if (at !== -1)
      throw new NotADatasetError(
        path,
        `is a binary file (a NUL byte at byte ${at + 1}), not JSONL text (UTF-8, one JSON object a line)`,
      );
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
 * Test seam: called before each write of a save or conversion with the file offset the write
 * starts at; throwing simulates a failing disk (ENOSPC, EIO) without filling one.
 */
export const writeHooks: {
  beforeWrite?: (at: number) => void;
  /**
   * Called between a save's last check that the file is unchanged and its rename: a delay here
   * stands for the scheduler or a slow disk pausing the writer at the worst moment.
   */
  beforeRename?: () => void;
} = {};

/**
 * Large buffered positioned writes to a file descriptor; copies byte ranges of another file
 * through its buffer, and can jump ahead over bytes already in place (a save into a copy of the file).
 */
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
    writeHooks.beforeWrite?.(this.filePos);
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

  /** Goes on writing at `pos` (bytes up to it are already in the file). */
  seek(pos: number): void {
    this.flush();
    this.written = pos;
    this.filePos = pos;
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
      if (n <= 0)
        throw new Error(`the original file ended early at byte ${pos} (expected ${to}); it changed underneath`);
      this.used += n;
      this.written += n;
      pos += n;
    }
  }
}
