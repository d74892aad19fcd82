// Writes a new JSONL file atomically: lines streamed to a temp file beside the target (created
// exclusively, named as the store names its temp files so that a killed writer's leftover is
// removed by the next writer in that folder), fsynced, renamed over it under the file's write lock,
// the folder fsynced. Used by every operation that writes an output file.
//
// A line given as bytes (a Uint8Array) is written as those bytes: kept lines of `filter --out` and
// `split` are copied, never decoded and re-encoded (invalid UTF-8 stays as it was). A link as the
// output is written through to its target; an output replaced keeps its mode and owner.
import { closeSync, fsyncSync, openSync, statSync, renameSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from './operation';
import {
  BufferedWriter,
  cleanStaleTemps,
  fsyncDir,
  keepOwnerAndMode,
  resolveWriteTarget,
  tempPathFor,
} from './store/files';
import { withLock } from './store/lock';

/** A line to write: text (written as UTF-8) or the line's exact bytes. Without its terminator. */
export type OutputLine = string | Uint8Array;

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const e = new Error('cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

const NL = Buffer.from('\n');

/** Writes each item as one line (a '\n' is added); returns the number of lines written. */
export async function writeLinesAtomic(
  out: string,
  lines: AsyncIterable<OutputLine> | Iterable<OutputLine>,
  signal?: AbortSignal,
  overwrite = false,
): Promise<number> {
  const dest = resolveWriteTarget(out);
  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = statSync(dest);
    existing = { mode: st.mode, uid: st.uid, gid: st.gid };
  } catch {
    existing = undefined;
  }
  if (!overwrite && existing) throw new UserError(`${out} exists; pass overwrite to replace it.`);
  cleanStaleTemps(dest);
  const tmp = tempPathFor(dest);
  let fd = openSync(tmp, 'wx', 0o666);
  let n = 0;
  try {
    if (existing) keepOwnerAndMode(fd, existing);
    const w = new BufferedWriter(fd, 4 * 1024 * 1024);
    for await (const line of lines) {
      if ((n & 1023) === 0) throwIfAborted(signal);
      w.write(typeof line === 'string' ? Buffer.from(line, 'utf8') : line);
      w.write(NL);
      n++;
    }
    w.flush();
    throwIfAborted(signal);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    await withLock(dest, signal ? { signal } : {}, () => {
      renameSync(tmp, dest);
      fsyncDir(dirname(dest));
    });
    return n;
  } catch (e) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // renamed already, or never written
    }
    throw e;
  }
}
