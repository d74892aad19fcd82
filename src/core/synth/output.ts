// A generation job's output file, written from its journal. The journal (append-only, one line per
// finished unit of work, SIGKILL-safe) is the only durable state of a job; the output is a view of
// it: the records of every kept entry in a stable order (input order, or acceptance order), written
// atomically (temp file, fsync, rename) by the shared writer. It is written again while the job
// runs (throttled, so that an editor watching the file shows records as they arrive), when the job
// is cancelled, and at the end. The journal is read through the store, a line at a time: never the
// whole file in memory.
import { existsSync } from 'node:fs';
import { JsonlDataset } from '../store';
import { writeLinesAtomic } from '../write-lines';
import type { ResultSink } from '../jobs/types';

export type GeneratedRecord = Record<string, unknown>;

/** What a journal line contributes to the output: its records, at `key` (a later line with the same key wins). */
export type Selector = (entry: Record<string, unknown>) => { key: number; records: GeneratedRecord[] } | undefined;

/** Writes `out` from the journal; returns the number of records written. */
export async function writeFromJournal(
  journalPath: string,
  out: string,
  select: Selector,
  signal?: AbortSignal,
): Promise<number> {
  if (!existsSync(journalPath)) throw new Error(`the journal ${journalPath} is missing`);
  const ds = await JsonlDataset.open(journalPath, { signal });
  try {
    await ds.ready;
    const at = new Map<number, number>();
    for (let i = 0; i < ds.lineCount; i++) {
      const v = ds.line(i).value; // a torn last line is invalid: not a value
      if (!v) continue;
      const s = select(v);
      if (s) at.set(s.key, i);
    }
    const keys = [...at.keys()].sort((a, b) => a - b);
    let n = 0;
    function* lines(): Generator<string> {
      for (const k of keys) {
        const v = ds.line(at.get(k) as number).value;
        for (const r of (v && select(v)?.records) || []) {
          n++;
          yield JSON.stringify(r);
        }
      }
    }
    await writeLinesAtomic(out, lines(), signal, true);
    return n;
  } finally {
    ds.close();
  }
}

export interface OutputWriterOptions {
  /** Called after each write with the number of records in the file. */
  onWrite?(records: number): void;
  log?(line: string): void;
  /** Shortest time between two writes while the job runs (ms). Default 1000. */
  minIntervalMs?: number;
}

/**
 * Rewrites the output from the journal at most every `minIntervalMs` (and never more often than it
 * takes to write it, times ten: a large output is written less often) while a job runs.
 */
export class OutputWriter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private due = false;
  private closed = false;
  private lastEnd = 0;
  private lastMs = 0;
  records = 0;
  writes = 0;

  constructor(
    readonly journalPath: string,
    readonly out: string,
    private readonly select: Selector,
    private readonly opts: OutputWriterOptions = {},
  ) {}

  /** Something new is in the journal. */
  touch(): void {
    this.due = true;
    if (this.closed || this.timer || this.running) return;
    const wait = Math.max(0, this.lastEnd + Math.max(this.opts.minIntervalMs ?? 1000, this.lastMs * 10) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.write().catch((err: unknown) =>
        this.opts.log?.(
          `writing ${this.out} failed (retried at the end): ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
      void this.running.finally(() => {
        this.running = undefined;
        if (this.due && !this.closed) this.touch();
      });
    }, wait);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    this.due = false;
    const t0 = Date.now();
    this.records = await writeFromJournal(this.journalPath, this.out, this.select);
    this.writes++;
    this.lastEnd = Date.now();
    this.lastMs = this.lastEnd - t0;
    this.opts.onWrite?.(this.records);
  }

  /** The final write (waits for one in progress); no write follows it. Throws if it fails. */
  async flush(): Promise<number> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.write();
    return this.records;
  }
}

/** A runner sink for generation jobs: results are in the journal; the output file is written from it. */
export class JournalOutputSink<R> implements ResultSink<R> {
  constructor(readonly writer: OutputWriter) {}
  apply(): void {
    this.writer.touch();
  }
  async flush(): Promise<void> {
    await this.writer.flush();
  }
}
