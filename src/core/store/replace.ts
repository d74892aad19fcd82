// The atomic replacement of a file, shared by every save of the store (JsonlDataset.save and
// saveAs, and the single-record edit of line-edit.ts): a temp file beside the file it replaces,
// started from a kernel copy of the source when most of its bytes stay where they are (a reflink
// where the file system has them, else an in-kernel copy at about `cp` speed, run off this thread),
// written, fsynced once and closed; then, under the file's write lock (./lock.ts), the last check
// that the file did not change underneath, the rename over it and the folder's fsync.
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { copyFile } from 'node:fs/promises';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError, SaveError, abortError } from './errors';
import { fsyncDir, keepOwnerAndMode, resolveWriteTarget, tempPathFor, writeHooks } from './files';
import { withLock } from './lock';

/** The owner and mode a new version of a file keeps. */
export interface OwnerAndMode {
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * The file a save to `target` replaces: `target` with its symlinks resolved (a DVC or git-annex
 * link keeps pointing at the new content; the temp file goes beside the real file), and the
 * owner and mode the new file must keep (those of the file replaced; a new file gets the mode of
 * `sourceFd`, the file it is saved from). Refuses (SaveError) a destination that may not be
 * written: the rename would replace a read-only file (its folder is what rename needs), so it is
 * refused as an in-place write would be. As root, access() ignores permission bits but not
 * read-only mounts or immutable files.
 */
export function destinationOf(target: string, sourceFd: number): { dest: string; like: OwnerAndMode } {
  const dest = resolveWriteTarget(target);
  let like: OwnerAndMode;
  try {
    const st = statSync(dest);
    like = { mode: st.mode, uid: st.uid, gid: st.gid };
  } catch {
    like = { mode: fstatSync(sourceFd).mode };
  }
  try {
    accessSync(dest, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
    if (code !== 'ENOENT') throw new SaveError(target, code, err);
  }
  return { dest, like };
}

/** What a failed save throws: conflicts and aborts as they are, anything else as a SaveError. */
export function asSaveError(target: string, err: unknown): Error {
  if (err instanceof ConflictError || err instanceof SaveError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new SaveError(target, code, err);
}

/**
 * The temp file of one save. `start()` names it and, with `copyOf`, starts the kernel copy in
 * libuv's thread pool (the caller may go on with other work meanwhile); `open()` waits for it.
 * `commit()` replaces the destination; `discard()` removes the temp file (after any failure).
 */
export class TempFile {
  readonly path: string;
  private fd = -1;
  private readBack = -1;
  private renamed = false;
  private copying: Promise<void> | undefined;

  private constructor(
    readonly target: string,
    readonly dest: string,
    private readonly like: OwnerAndMode,
    copyOf: string | undefined,
  ) {
    this.path = tempPathFor(dest);
    if (copyOf !== undefined) {
      this.copying = copyFile(copyOf, this.path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      // Awaited by open() or discard(); a failure must not go unhandled meanwhile.
      this.copying.catch(() => undefined);
    }
  }

  /** Starts the temp file of a save of `target` to `dest` (from destinationOf), a copy of `copyOf` when given. */
  static start(target: string, dest: string, like: OwnerAndMode, copyOf?: string): TempFile {
    return new TempFile(target, dest, like, copyOf);
  }

  /** True when the temp file starts as a copy of the source. */
  get cloned(): boolean {
    return this.copying !== undefined;
  }

  /** The temp file's descriptor for writing, once the kernel copy (if any) is done; the owner and mode set. */
  async open(): Promise<number> {
    if (this.copying) {
      await this.copying;
      this.fd = openSync(this.path, 'r+');
    } else this.fd = openSync(this.path, 'wx', 0o600);
    keepOwnerAndMode(this.fd, this.like);
    return this.fd;
  }

  /**
   * Ends the writing: cuts the file to `size` (a copy of a longer source), fsyncs it (the one
   * fsync of the data) and closes it; with `readBack`, keeps a descriptor of it open for reading
   * (the dataset goes on with the saved version), taken before the rename.
   */
  finish(size: number | undefined, opts: { readBack?: boolean } = {}): void {
    if (size !== undefined && this.copying) ftruncateSync(this.fd, size);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    if (opts.readBack) this.readBack = openSync(this.path, 'r');
  }

  /**
   * Under the write lock of the destination: `check()` (throws ConflictError when the file
   * changed underneath), the rename over the destination, the folder's fsync. Another writer of
   * the same file (another `curate`, a job, an editor) waits meanwhile, so two writers can never
   * both pass the check and then both rename. Returns the read-back descriptor (see finish()),
   * now the caller's.
   */
  async commit(opts: {
    check?: () => void;
    signal?: AbortSignal | undefined;
    lockWaitMs?: number | undefined;
    onRenamed?: () => void;
  }): Promise<number> {
    if (opts.signal?.aborted) throw abortError();
    await withLock(
      this.dest,
      { signal: opts.signal, ...(opts.lockWaitMs !== undefined ? { waitMs: opts.lockWaitMs } : {}) },
      (lock) => {
        opts.check?.();
        writeHooks.beforeRename?.();
        if (!lock.stillHeld()) throw new ConflictError(this.target, 'its write lock was taken over by another writer');
        renameSync(this.path, this.dest);
        this.renamed = true;
        opts.onRenamed?.();
        fsyncDir(dirname(this.dest));
      },
    );
    const fd = this.readBack;
    this.readBack = -1;
    return fd;
  }

  /** After a failure: closes what is open and removes the temp file unless it replaced the destination. */
  async discard(): Promise<void> {
    if (this.fd !== -1) closeSync(this.fd);
    if (this.readBack !== -1) closeSync(this.readBack);
    this.fd = -1;
    this.readBack = -1;
    if (this.copying) await this.copying.catch(() => undefined);
    if (this.renamed) return;
    try {
      unlinkSync(this.path);
    } catch {
      // not created
    }
  }
}

/**
 * Closes `fd`, a descriptor of a file a save just replaced, for a process about to exit (the
 * CLI). The last close of a replaced file is its release: the kernel drops its cached pages and
 * frees its blocks, about 0.2 s a GB here, which a command's caller would otherwise wait for at
 * its exit. So the descriptor is first shared with a small detached process (`sh` waiting for
 * the end of a pipe from this one) that holds the old version until this process has exited and
 * then exits too, doing the release after the command returned. Where no `sh` can be started
 * (Windows, or a failed spawn), the descriptor is simply closed. Not for long-lived processes
 * (the extension closes asynchronously instead): the helper lives as long as this process.
 */
export function closeAfterExit(fd: number): void {
  if (process.platform !== 'win32') {
    try {
      const holder = spawn('/bin/sh', ['-c', 'read -r _ || :'], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore', fd],
      });
      holder.on('error', () => undefined);
      holder.stdin?.on('error', () => undefined);
      // A pipe's end is a net.Socket, whatever the type of ChildProcess.stdin says.
      (holder.stdin as Socket | null)?.unref();
      holder.unref();
    } catch {
      // No holder: this process releases the file itself.
    }
  }
  closeSync(fd);
}
