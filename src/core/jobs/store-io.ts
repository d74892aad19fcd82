// Jobs over the dataset store: records read from a JsonlDataset, results applied to it as edits of
// the changed lines only, saved atomically (the journal makes each result durable before that).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../operation';
import { defaultFields, type FieldMap } from '../schema/annotation';
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
  /** Where the annotation lives in a record (default field names otherwise). */
  fields?: FieldMap;
}

export class StoreResultSink implements ResultSink {
  constructor(
    readonly dataset: JsonlDataset,
    private readonly opts: StoreSinkOptions = {},
  ) {}

  apply(i: number, result: TaskResult): void {
    const l = this.dataset.line(i);
    if (!l.value || l.invalid || l.lossy) return;
    const edit = this.dataset.replaceLine(i, applyResult(l.value, result, this.opts.fields ?? defaultFields));
    this.opts.onApplied?.(i, edit);
  }

  async flush(): Promise<void> {
    if (this.opts.save !== false && this.dataset.dirty) await this.dataset.save();
  }
}

/**
 * Opens the file a job writes: the input itself (in place), or a copy of it at `out`, made once
 * through the store's atomic save (a killed copy leaves no half file); a resumed job, or the next
 * judge of several, continues on the copy. An existing `out` with another number of lines than
 * the input is not a copy of it: refused rather than annotated by line number.
 */
export async function openJobTarget(input: string, out?: string): Promise<JsonlDataset> {
  const ds = await JsonlDataset.open(input);
  try {
    await ds.ready;
    if (!out || resolve(out) === resolve(input)) return ds;
    if (!existsSync(out)) {
      await ds.saveAs(out);
      return ds;
    }
  } catch (err) {
    ds.close();
    throw err;
  }
  const lines = ds.lineCount;
  ds.close();
  const existing = await JsonlDataset.open(out);
  try {
    await existing.ready;
  } catch (err) {
    existing.close();
    throw err;
  }
  if (existing.lineCount !== lines) {
    existing.close();
    throw new UserError(`${out} exists and has ${existing.lineCount} line(s), ${input} has ${lines}: it is not a copy of it. Remove it or choose another output.`);
  }
  return existing;
}
