// The job journal: append-only JSONL next to the output, `<file>.curator-journal/<job-id>.jsonl`.
//
//   {"type":"header","version":2,"job":"…","task":"label","model":"…","prompt_hash":"sha256:…","created":"…","binding":"key"}
//   {"type":"record","i":0,"line":1,"key":"k2:…","status":"ok","cached":false,"result":{…TaskResult…}}
//   {"type":"record","i":5,"line":6,"key":"k2:…","status":"failed","reason":"…"}
//   {"type":"record","i":7,"line":8,"status":"skipped","reason":"invalid JSON: …"}
//   {"type":"end","time":"…"}
//
// Version 2 binds every entry to the content it was computed from: `key` is the task's key of the
// record (LlmTask.key: a hash of the request the task renders from it, so it does not change when
// the result is applied). `i` and `line` only say where the record was. A resume brings the
// journal in line with the records as they are now (alignJournal in runner.ts): an entry goes to
// the record with its key wherever it is now, an entry whose record changed or is gone is dropped,
// and a record without an entry is done. An entry without a key (an invalid line, skipped) is
// never taken over: the line is looked at again. A journal of version 1 (entries bound to line
// numbers only) is never applied: it is set aside (`<id>.jsonl.v1-<time>`) and the job starts over
// (the response cache answers what it can).
//
// Each entry is one write() as soon as the record finishes (so a SIGKILL loses nothing already
// written: the data is in the page cache), and fsync runs in batches (every 64 entries or 100 ms)
// for power loss, in the thread pool (an fsync of 50 ms on a busy disk would stop the extension
// host's thread, and the editor's answers with it); `sync()` is the synchronous one, for the points
// where the journal must be on disk before the next step. A torn last line is cut off when the
// journal is reopened. The last entry for a key wins. The journal never holds the API key (results
// and reasons only; reasons come from the client, which redacts the key).
import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { ensureGitIgnored } from '../store/files';
import { dirname } from 'node:path';
import type { TaskResult } from '../llm/apply-result';
import { scanLines } from '../scan-lines';
import type { Usage } from '../llm/client';

/** The format of the runner's journals (see above). */
export const JOURNAL_VERSION = 2;

export interface JournalHeader {
  type: 'header';
  /** 2: entries bound to the record's key. 1 (older): bound to line numbers only, never applied. */
  version: number;
  job: string;
  task: string;
  model: string;
  prompt_hash: string;
  created: string;
  /** What entries are bound to: "key" (LlmTask.key of the record). */
  binding?: string;
}

/** `key`: the task's key of the record the entry was computed from (absent: an invalid line). */
export type JournalRecord<R = TaskResult> =
  | { type: 'record'; i: number; line: number; key?: string; status: 'ok'; cached: boolean; result: R; usage?: Usage }
  | { type: 'record'; i: number; line: number; key?: string; status: 'failed'; reason: string; usage?: Usage }
  | {
      type: 'record';
      i: number;
      line: number;
      key?: string;
      status: 'skipped';
      reason: string;
      usage?: Usage;
      detail?: unknown;
    };

export type JournalEntry<R = TaskResult> = JournalHeader | JournalRecord<R> | { type: 'end'; time: string };

export interface JournalState<R = TaskResult> {
  header?: JournalHeader;
  records: Map<number, JournalRecord<R>>;
  ended: boolean;
  /** Byte length of the complete lines (a torn tail beyond it is dropped on open). */
  goodLength: number;
}

/**
 * Calls `onEntry` for each complete, parseable line of a journal (a damaged line is passed over: its
 * work is redone); returns the byte length of the complete lines (a torn tail beyond it is dropped
 * when the journal is reopened for writing). The entries are the objects as parsed: the caller
 * knows the kinds its own writer wrote.
 */
export function scanJournal(path: string, onEntry: (entry: object) => void): number {
  if (!existsSync(path)) return 0;
  // Read in chunks, never the whole file at once: a generation job's journal holds its records.
  const fd = openSync(path, 'r');
  try {
    return scanLines(fd, (buf, start, end) => {
      const text = buf.toString('utf8', start, end);
      if (!text.trim()) return;
      let e: unknown;
      try {
        e = JSON.parse(text);
      } catch {
        return;
      }
      if (e !== null && typeof e === 'object') onEntry(e);
    });
  } finally {
    closeSync(fd);
  }
}

/** `lean`: drop results and details (the caller reads them from the journal itself when needed). */
export function readJournal<R = TaskResult>(path: string, lean = false): JournalState<R> {
  const state: JournalState<R> = { records: new Map(), ended: false, goodLength: 0 };
  state.goodLength = scanJournal(path, (entry) => {
    const e = entry as JournalEntry<R>; // a line JournalWriter wrote
    if (e.type === 'header') state.header = e;
    else if (e.type === 'record' && Number.isInteger(e.i)) {
      if (lean) {
        delete (e as { result?: unknown }).result;
        delete (e as { detail?: unknown }).detail;
      }
      state.records.set(e.i, e);
    } else if (e.type === 'end') state.ended = true;
  });
  return state;
}

/** Where a keyed record entry is in the journal file, and what the runner needs of it without its result. */
export interface EntryRef {
  i: number;
  line: number;
  key: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  /** Byte offset and length of its line in the journal. */
  pos: number;
  len: number;
}

/** A journal read for a resume: the header and the latest keyed entry per index and per key (results stay on disk). */
export interface JournalIndex {
  header?: JournalHeader;
  byIndex: Map<number, EntryRef>;
  byKey: Map<string, EntryRef>;
  ended: boolean;
  goodLength: number;
}

/** Reads a journal's entries without holding their results (they are read back with JournalReader). */
export function indexJournal(path: string): JournalIndex {
  const ix: JournalIndex = { byIndex: new Map(), byKey: new Map(), ended: false, goodLength: 0 };
  if (!existsSync(path)) return ix;
  const fd = openSync(path, 'r');
  try {
    ix.goodLength = scanLines(fd, (buf, start, end, offset) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(buf.toString('utf8', start, end));
      } catch {
        return; // a damaged line: its work is redone
      }
      if (parsed === null || typeof parsed !== 'object') return;
      // a line of the file: a record entry's fields are checked before it is indexed
      const e = parsed as Partial<Record<keyof JournalRecord<unknown>, unknown>>;
      if (e.type === 'header') ix.header = parsed as JournalHeader;
      else if (e.type === 'end') ix.ended = true;
      else if (
        e.type === 'record' &&
        typeof e.i === 'number' &&
        Number.isInteger(e.i) &&
        typeof e.key === 'string' &&
        (e.status === 'ok' || e.status === 'failed' || e.status === 'skipped')
      ) {
        const rec = parsed as JournalRecord<unknown>;
        const ref: EntryRef = {
          i: e.i,
          line: rec.line,
          key: e.key,
          status: e.status,
          pos: offset,
          len: end - start,
          ...(rec.status !== 'ok' ? { reason: rec.reason } : {}),
        };
        ix.byIndex.set(e.i, ref);
        ix.byKey.set(e.key, ref);
      }
    });
  } finally {
    closeSync(fd);
  }
  return ix;
}

/** Reads entries back from a journal by their EntryRef. */
export class JournalReader {
  private fd = -1;
  constructor(readonly path: string) {}
  read<R>(ref: Pick<EntryRef, 'pos' | 'len'>): JournalRecord<R> {
    if (this.fd === -1) this.fd = openSync(this.path, 'r');
    const buf = Buffer.allocUnsafe(ref.len);
    let got = 0;
    while (got < ref.len) {
      const n = readSync(this.fd, buf, got, ref.len - got, ref.pos + got);
      if (n <= 0) throw new Error(`the journal ${this.path} is shorter than its index (offset ${ref.pos})`);
      got += n;
    }
    return JSON.parse(buf.toString('utf8')) as JournalRecord<R>;
  }
  close(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Moves a journal out of the way (it is kept, under a name no job reads): `<path>.<why>-<time>`. */
export function setJournalAside(path: string, why: string): string {
  const aside = `${path}.${why}-${Date.now()}`;
  renameSync(path, aside);
  return aside;
}

export class JournalWriter<E extends { type: string } = JournalEntry> {
  private fd: number;
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private size: number;
  /** A batch's fsync in the thread pool, not yet done. */
  private syncing = false;
  /** What a batch's fsync failed with: the next append or sync says it. */
  private failure: Error | undefined;

  constructor(
    readonly path: string,
    goodLength?: number,
    private readonly batch = { records: 64, ms: 100 },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    ensureGitIgnored(dirname(path)); // journals never show in `git status`
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
    if (goodLength !== undefined && this.size > goodLength) {
      ftruncateSync(this.fd, goodLength);
      this.size = goodLength;
    }
  }

  /** The journal's length in bytes (where the next entry goes). */
  get length(): number {
    return this.size;
  }

  /** Appends one entry (one write); returns where its line is (without the line feed). */
  append(entry: E): { pos: number; len: number } {
    if (this.closed) throw new Error('journal is closed');
    this.throwFailure();
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    const pos = this.size;
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    this.size += line.length;
    if (++this.pending >= this.batch.records) this.syncBatch();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.syncBatch(), this.batch.ms);
      this.timer.unref();
    }
    return { pos, len: line.length - 1 };
  }

  /** Everything appended is on disk when this returns (a synchronous fsync). */
  sync(): void {
    this.clearTimer();
    this.throwFailure();
    // A batch's fsync still running may have started before the last entries.
    if ((this.pending === 0 && !this.syncing) || this.closed) return;
    this.pending = 0;
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    // A batch's fsync still running has this descriptor: it is closed when that is done.
    if (!this.syncing) closeSync(this.fd);
  }

  /** A batch's fsync, in the thread pool; entries appended meanwhile wait for the next. */
  private syncBatch(): void {
    this.clearTimer();
    if (this.pending === 0 || this.closed || this.syncing) return;
    this.pending = 0;
    this.syncing = true;
    fsync(this.fd, (err) => {
      this.syncing = false;
      if (err) this.failure ??= err;
      if (this.closed) closeSync(this.fd);
      else if (this.pending >= this.batch.records) this.syncBatch();
      else if (this.pending > 0 && !this.timer) {
        this.timer = setTimeout(() => this.syncBatch(), this.batch.ms);
        this.timer.unref();
      }
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwFailure(): void {
    if (this.failure) throw new Error(`the journal ${this.path} could not be written to disk: ${this.failure.message}`);
  }

  /** After a complete run: keeps the journal as `<id>.done.jsonl` (so a new run starts afresh). */
  retire(): string {
    this.close();
    return retireJournal(this.path);
  }
}

/** Renames a finished job's journal to `<id>.done-<time>.jsonl`; returns the new path. */
export function retireJournal(path: string): string {
  const done = path.replace(/\.jsonl$/, '') + `.done-${Date.now()}.jsonl`;
  renameSync(path, done);
  return done;
}
