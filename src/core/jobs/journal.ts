// The job journal: append-only JSONL next to the output, `<file>.curator-journal/<job-id>.jsonl`.
//
//   {"type":"header","version":1,"job":"…","task":"label","model":"…","prompt_hash":"sha256:…","created":"…"}
//   {"type":"record","i":0,"line":1,"status":"ok","cached":false,"result":{…TaskResult…}}
//   {"type":"record","i":5,"line":6,"status":"failed","reason":"…"}
//   {"type":"record","i":7,"line":8,"status":"skipped","reason":"invalid JSON: …"}
//   {"type":"end","time":"…"}
//
// Each entry is one write() as soon as the record finishes (so a SIGKILL loses nothing already
// written: the data is in the page cache), and fsync runs in batches (every 64 entries or 100 ms)
// for power loss. A torn last line is cut off when the journal is reopened. The last entry for a
// record index wins. The journal never holds the API key (results and reasons only; reasons come
// from the client, which redacts the key).
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { ensureGitIgnored } from '../store/files';
import { dirname } from 'node:path';
import type { TaskResult } from '../llm/apply-result';
import { scanLines } from '../scan-lines';
import type { Usage } from '../llm/client';

export interface JournalHeader {
  type: 'header';
  version: 1;
  job: string;
  task: string;
  model: string;
  prompt_hash: string;
  created: string;
}

export type JournalRecord<R = TaskResult> =
  | { type: 'record'; i: number; line: number; status: 'ok'; cached: boolean; result: R; usage?: Usage }
  | { type: 'record'; i: number; line: number; status: 'failed'; reason: string; usage?: Usage }
  | { type: 'record'; i: number; line: number; status: 'skipped'; reason: string; usage?: Usage; detail?: unknown };

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
 * when the journal is reopened for writing).
 */
export function scanJournal<E = JournalEntry>(path: string, onEntry: (entry: E) => void): number {
  if (!existsSync(path)) return 0;
  // Read in chunks, never the whole file at once: a generation job's journal holds its records.
  const fd = openSync(path, 'r');
  try {
    return scanLines(fd, (buf, start, end) => {
      const text = buf.toString('utf8', start, end);
      if (!text.trim()) return;
      let e: E;
      try {
        e = JSON.parse(text) as E;
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
  state.goodLength = scanJournal<JournalEntry<R>>(path, (e) => {
    if (e.type === 'header') state.header = e;
    else if (e.type === 'record' && Number.isInteger(e.i)) {
      if (lean) {
        delete (e as { result?: unknown }).result;
        delete (e as { detail?: unknown }).detail;
      }
      state.records.set(e.i, e);
    }
    else if (e.type === 'end') state.ended = true;
  });
  return state;
}

export class JournalWriter<E extends { type: string } = JournalEntry> {
  private fd: number;
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    goodLength?: number,
    private readonly batch = { records: 64, ms: 100 },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    ensureGitIgnored(dirname(path)); // journals never show in `git status`
    this.fd = openSync(path, 'a');
    if (goodLength !== undefined && fstatSync(this.fd).size > goodLength) ftruncateSync(this.fd, goodLength);
  }

  append(entry: E): void {
    if (this.closed) throw new Error('journal is closed');
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    if (++this.pending >= this.batch.records) this.sync();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.sync(), this.batch.ms);
      this.timer.unref();
    }
  }

  sync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0 || this.closed) return;
    this.pending = 0;
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    closeSync(this.fd);
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
