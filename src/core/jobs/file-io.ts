// Simple file-based RecordSource / ResultSink, for tests, scripts and the CLI until the store is
// wired in. Not for large files: the whole file is held in memory.
//   FileRecordSource  reads a JSONL file with readline; blank lines are not records.
//   FileResultSink    collects results and, on flush(), writes the whole file with the results
//                     applied (write to a temp file, then rename: never a half-written output).
import { createReadStream, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkLineText } from '../store/check';
import { applyResult, DEFAULT_LAYOUT, type ResultLayout, type TaskResult } from '../llm/apply-result';
import type { RecordSource, ResultSink, SourceRecord } from './types';

interface Line extends SourceRecord {
  raw: string;
}

export class FileRecordSource implements RecordSource {
  private constructor(
    readonly path: string,
    private readonly lines: Line[],
  ) {}

  static async open(path: string): Promise<FileRecordSource> {
    const lines: Line[] = [];
    const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const raw of rl) {
      n++;
      if (!raw.trim()) continue;
      const c = checkLineText(raw);
      lines.push(c.value ? { lineNumber: n, value: c.value, raw } : { lineNumber: n, invalid: c.invalid ?? { reason: 'invalid' }, raw });
    }
    return new FileRecordSource(path, lines);
  }

  count(): number {
    return this.lines.length;
  }

  get(i: number): SourceRecord {
    const l = this.lines[i];
    if (!l) throw new RangeError(`record ${i} out of range`);
    return l.value ? { lineNumber: l.lineNumber, value: l.value } : { lineNumber: l.lineNumber, invalid: l.invalid ?? { reason: 'invalid' } };
  }

  raw(i: number): string {
    return this.lines[i]?.raw ?? '';
  }
}

export class FileResultSink implements ResultSink {
  readonly results = new Map<number, TaskResult>();
  applied = 0;

  constructor(
    private readonly source: FileRecordSource,
    readonly outPath: string,
    private readonly layout: ResultLayout = DEFAULT_LAYOUT,
  ) {}

  apply(i: number, result: TaskResult): void {
    this.results.set(i, result);
    this.applied++;
  }

  async flush(): Promise<void> {
    const out: string[] = [];
    for (let i = 0; i < this.source.count(); i++) {
      const rec = this.source.get(i);
      const r = this.results.get(i);
      out.push(rec.value && r ? JSON.stringify(applyResult(rec.value, r, this.layout)) : this.source.raw(i));
    }
    const tmp = `${this.outPath}.tmp-${process.pid}`;
    writeFileSync(tmp, out.length ? `${out.join('\n')}\n` : '');
    renameSync(tmp, this.outPath);
  }
}
