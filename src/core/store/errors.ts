// The store's errors: each message is for the user, as it stands.
import { basename } from 'node:path';
import { UserError } from '../operation';

/** The file changed on disk since it was indexed: saving would overwrite someone else's change. */
export class ConflictError extends Error {
  readonly code = 'ECONFLICT';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(
      `${basename(path)} changed on disk since it was opened (${detail}); nothing was written. Revert to load the new version, or save to another file.`,
    );
    this.name = 'ConflictError';
  }
}

/**
 * Another writer held the file's write lock for longer than this writer waits: nothing was written.
 * A ConflictError, so every face treats it as one (the CLI's exit 3).
 */
export class LockedError extends ConflictError {
  constructor(
    path: string,
    readonly lockPath: string,
    readonly holder: string,
  ) {
    super(path, `another writer holds its lock: ${holder}`);
    this.name = 'LockedError';
    this.message = `${basename(path)} is being saved by another writer (${holder}); nothing was written. Try again in a moment. If that writer is gone, remove ${lockPath}.`;
  }
}

/** The path is not a dataset file: a folder, or binary content. A bad input (the CLI's exit 2). */
export class NotADatasetError extends UserError {
  readonly code = 'ENOTDATASET';
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path} ${why}`);
    this.name = 'NotADatasetError';
  }
}

/** A structured edit of a record that cannot be re-serialized without losing information. */
export class LossyEditError extends Error {
  readonly code = 'ELOSSY';
  constructor(
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(
      `Line ${lineNumber} cannot be edited field by field without losing information: ${reason}. Edit the line's raw text instead.`,
    );
    this.name = 'LossyEditError';
  }
}

/** An edit that cannot be made (invalid line, bad path, value that is not JSON, ...). */
export class EditError extends Error {
  readonly code = 'EEDIT';
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}

/** A save that failed: the original file is untouched, the temp file removed, the edits kept. */
export class SaveError extends Error {
  /** What failed and why, without the editor's "your edits are kept" (a command line has no edits to keep). */
  readonly detail: string;
  constructor(
    readonly path: string,
    readonly code: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const plain = SaveError.explain[code];
    const detail = `Could not save ${path}: ${plain ? `${plain} (${why})` : why}.`;
    super(`${detail} The file on disk was not changed and your edits are kept.`, { cause });
    this.name = 'SaveError';
    this.detail = detail;
  }

  /** What the common failures mean, for the person reading the message. */
  static readonly explain: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied: the file or its folder is read-only',
    EPERM: 'the file or its folder may not be changed (read-only or immutable)',
    EIO: 'the disk reported an input/output error',
  };
}

export function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}
