// The write lock of a file: every writer of a dataset (the CLI, the jobs, the editor's save, the
// writers of output files) holds it across its last "did the file change?" check and the rename
// that replaces the file, so two writers can never both pass the check and then both rename (one
// edit silently lost). See docs/design-notes-store.md, "Write lock".
//
//   <folder>/.<name>.curate-lock   created with O_EXCL; holds {"pid","host","time","token"} as JSON
//
// A holder killed with kill -9 leaves the file behind. It is stale, and taken over, when its
// process is gone (same host: signal 0 says so), or when it is older than STALE_MS (another host
// sharing the folder, or a pid reused since). The lock is only held for a check, a rename and a
// folder fsync (milliseconds), so STALE_MS is far above any honest holder. A takeover goes through
// a second exclusive file (`.curate-lock.break`), so that two waiters that both saw a stale lock
// cannot remove a fresh one.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { abortError, LockedError } from './errors';
import { processAlive, tempPathFor } from './files';

/** A lock older than this is stale whoever holds it (ms). */
export const STALE_MS = 60_000;
/** How long a writer waits for the lock by default before giving up with LockedError (ms). */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

export interface LockInfo {
  pid: number;
  host: string;
  /** When it was taken (ms since the epoch). */
  time: number;
  token: string;
}

export interface LockOptions {
  /** Longest wait for a lock another writer holds (ms). Default 30 000; 0: one try. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** The lock file of `target` (the file as it is on disk: callers pass the resolved path). */
export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.curate-lock`);
}

const HOST = hostname();

function readInfo(path: string): { info?: LockInfo; mtimeMs: number } | undefined {
  let mtimeMs: number;
  let text: string;
  try {
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.time === 'number' &&
      typeof v.token === 'string'
    ) {
      return { info: { pid: v.pid, host: v.host, time: v.time, token: v.token }, mtimeMs };
    }
  } catch {
    // being written right now, or torn by a crash: judged by its age alone
  }
  return { mtimeMs };
}

/** Why a lock is stale, or undefined while its holder may still be at work. */
export function staleReason(seen: { info?: LockInfo; mtimeMs: number }, now = Date.now()): string | undefined {
  const age = now - seen.mtimeMs;
  if (age > STALE_MS) return `it is ${Math.round(age / 1000)} s old`;
  const i = seen.info;
  if (i && i.host === HOST && !processAlive(i.pid)) return `process ${i.pid} is gone`;
  return undefined;
}

/** A held lock: release() removes it (only if it is still ours). */
export class FileLock {
  private released = false;
  constructor(
    readonly path: string,
    readonly info: LockInfo,
  ) {}

  /** True while the lock file on disk is still this one (not taken over as stale). */
  stillHeld(): boolean {
    if (this.released) return false;
    return readInfo(this.path)?.info?.token === this.info.token;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (readInfo(this.path)?.info?.token !== this.info.token) return;
    try {
      unlinkSync(this.path);
    } catch {
      // gone already
    }
  }
}

/**
 * Creates the lock whole or not at all: its content is written to a temp file (named like the
 * store's temp files, so a killed writer's leftover is cleaned by the next open), which is then
 * hard-linked to the lock's name (link() fails when the name exists: exclusive, like O_EXCL). A
 * lock file is so never seen empty or torn, and a killed creator leaves no lock that looks alive.
 * File systems without hard links fall back to O_EXCL and a write.
 */
function tryCreate(path: string, target: string): FileLock | undefined {
  const info: LockInfo = { pid: process.pid, host: HOST, time: Date.now(), token: randomBytes(8).toString('hex') };
  const tmp = tempPathFor(target);
  writeFileSync(tmp, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
  try {
    linkSync(tmp, path);
    return new FileLock(path, info);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  } finally {
    unlinkSync(tmp);
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return new FileLock(path, info);
}

/** Removes a stale lock, if it is still the one judged stale; under `.break` so only one waiter does. */
function breakStale(path: string, seen: { info?: LockInfo; mtimeMs: number }): void {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another waiter is breaking it; a breaker killed midway is itself stale after a while.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > 10_000) unlinkSync(breaker);
    } catch {
      // gone meanwhile
    }
    return;
  }
  closeSync(fd);
  try {
    const now = readInfo(path);
    const same = now !== undefined && now.mtimeMs === seen.mtimeMs && now.info?.token === seen.info?.token;
    if (same) unlinkSync(path);
  } catch {
    // gone meanwhile
  } finally {
    try {
      unlinkSync(breaker);
    } catch {
      // ignore
    }
  }
}

/** Removes the lock of `target` if it is stale (a killed writer's); true if it did. */
export function cleanStaleLock(target: string): boolean {
  const path = lockPathFor(target);
  const seen = readInfo(path);
  if (!seen || staleReason(seen) === undefined) return false;
  breakStale(path, seen);
  return readInfo(path) === undefined;
}

/** Waits `ms`, or less when `signal` aborts (a cancelled save stops waiting at once). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Takes the write lock of `target` (a resolved path), waiting up to `waitMs` for another writer
 * and taking over a stale lock. Throws LockedError when the wait ends, AbortError when aborted.
 */
export async function acquireLock(target: string, opts: LockOptions = {}): Promise<FileLock> {
  const path = lockPathFor(target);
  const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const started = Date.now();
  let delay = 2;
  for (;;) {
    if (opts.signal?.aborted) throw abortError();
    const got = tryCreate(path, target);
    if (got) return got;
    const seen = readInfo(path);
    if (seen && staleReason(seen) !== undefined) {
      breakStale(path, seen);
      continue;
    }
    if (Date.now() - started >= waitMs) {
      const i = seen?.info;
      throw new LockedError(
        target,
        path,
        i
          ? `process ${i.pid} on ${i.host === HOST ? 'this machine' : i.host} since ${new Date(i.time).toISOString()}`
          : 'another writer',
      );
    }
    // Jittered backoff: 2 ms doubling to 100 ms (a save holds the lock for milliseconds).
    await sleep(delay * (0.5 + Math.random()), opts.signal);
    delay = Math.min(100, delay * 2);
  }
}

/** Runs `fn` under the write lock of `target`; the lock is released however `fn` ends. */
export async function withLock<T>(
  target: string,
  opts: LockOptions,
  fn: (lock: FileLock) => T | Promise<T>,
): Promise<T> {
  const lock = await acquireLock(target, opts);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
