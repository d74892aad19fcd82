// Jobs over the dataset store: records read from a JsonlDataset, results applied to it as edits of
// the changed lines only, saved atomically (the journal makes each result durable before that).
import { copyFileSync, existsSync } from 'node:fs';
import { JsonlDataset, type Edit } from '../store';
import { applyResult, type TaskResult } from '../llm/apply-result';
import type { RecordSource, ResultSink, SourceRecord } from './types';

export class StoreRecordSource implements RecordSource {
  constructor(readonly dataset: JsonlDataset) {}
  count(): number {
    return this.dataset.lineCount;
  }
  get(i: number): SourceRecord {
    const l = this.dataset.line(i);
    if (l.invalid) return { lineNumber: i + 1, invalid: l.invalid };
    if (l.lossy) return { lineNumber: i + 1, invalid: { reason: `not edited: ${l.lossy.reason}` } };
    return { lineNumber: i + 1, value: l.value };
  }
}

export interface StoreSinkOptions {
  /** Called after each result is in the dataset (the editor refreshes that record), with the store edit made. */
  onApplied?(i: number, edit: Edit): void;
  /** Save at flush (default true). */
  save?: boolean;
}

export class StoreResultSink implements ResultSink {
  constructor(
    readonly dataset: JsonlDataset,
    private readonly opts: StoreSinkOptions = {},
  ) {}

  apply(i: number, result: TaskResult): void {
    const l = this.dataset.line(i);
    if (!l.value || l.invalid || l.lossy) return;
    const edit = this.dataset.replaceLine(i, applyResult(l.value, result));
    this.opts.onApplied?.(i, edit);
  }

  async flush(): Promise<void> {
    if (this.opts.save !== false && this.dataset.dirty) await this.dataset.save();
  }
}

/**
 * Opens the file a job writes: the input itself (in place), or a copy of it at `out` (made once;
 * a resumed job continues on the copy it made).
 */
export async function openJobTarget(input: string, out?: string): Promise<JsonlDataset> {
  if (out && !existsSync(out)) copyFileSync(input, out);
  const ds = await JsonlDataset.open(out ?? input);
  await ds.ready;
  return ds;
}
