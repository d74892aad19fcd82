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
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TaskResult } from '../llm/apply-result';
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

export type JournalRecord =
  | { type: 'record'; i: number; line: number; status: 'ok'; cached: boolean; result: TaskResult; usage?: Usage }
  | { type: 'record'; i: number; line: number; status: 'failed'; reason: string; usage?: Usage }
  | { type: 'record'; i: number; line: number; status: 'skipped'; reason: string };

export type JournalEntry = JournalHeader | JournalRecord | { type: 'end'; time: string };

export interface JournalState {
  header?: JournalHeader;
  records: Map<number, JournalRecord>;
  ended: boolean;
  /** Byte length of the complete lines (a torn tail beyond it is dropped on open). */
  goodLength: number;
}

export function readJournal(path: string): JournalState {
  const state: JournalState = { records: new Map(), ended: false, goodLength: 0 };
  if (!existsSync(path)) return state;
  const buf = readFileSync(path);
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    const text = buf.toString('utf8', start, nl);
    start = nl + 1;
    state.goodLength = start;
    if (!text.trim()) continue;
    let e: JournalEntry;
    try {
      e = JSON.parse(text) as JournalEntry;
    } catch {
      continue; // a damaged line: the record is redone
    }
    if (e.type === 'header') state.header = e;
    else if (e.type === 'record' && Number.isInteger(e.i)) state.records.set(e.i, e);
    else if (e.type === 'end') state.ended = true;
  }
  return state;
}

export class JournalWriter {
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
    this.fd = openSync(path, 'a');
    if (goodLength !== undefined && fstatSync(this.fd).size > goodLength) ftruncateSync(this.fd, goodLength);
  }

  append(entry: JournalEntry): void {
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
    const done = this.path.replace(/\.jsonl$/, '') + `.done-${Date.now()}.jsonl`;
    renameSync(this.path, done);
    return done;
  }
}
