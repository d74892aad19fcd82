// What a job needs from the dataset (a RecordSource) and where its results go (a ResultSink). The
// store (src/core/store) or a file adapter implements these; the job never touches files itself
// apart from its journal.
import type { TaskResult } from '../llm/apply-result';
import type { Usage } from '../llm/client';

export interface SourceRecord {
  /** 1-based line number in the file (for messages and the journal). */
  lineNumber: number;
  value?: Record<string, unknown>;
  invalid?: { reason: string };
}

export interface RecordSource {
  count(): number;
  get(i: number): SourceRecord | Promise<SourceRecord>;
  /**
   * A number that changes whenever something other than the job's own results edits the records
   * (a person in the editor inserting, deleting or editing lines while the job runs). A source
   * that can change under the job says so; the runner then checks every record again at the end.
   */
  revision?(): number;
}

/**
 * What a result was computed from: the record's key (LlmTask.key of the record as the task read
 * it) and the function that computes it. A sink checks that the record at the index still has
 * that key before it applies the result, and finds the record by its key when it moved.
 */
export interface Binding {
  key: string;
  keyOf(record: Record<string, unknown>): string;
}

export interface ResultSink<R = TaskResult> {
  /**
   * Called once per finished record, in completion order (not index order), and again for results
   * taken from the journal. `i` is where the record was when the job read it; `bound` says what the
   * result was computed from (a sink whose records can move must check it). Applying the same
   * result to the same record twice must change nothing.
   */
  apply(i: number, result: R, bound?: Binding): void | Promise<void>;
  flush(): Promise<void>;
  /**
   * Applies many results (ascending `i`, one each, computed from the records as they are now) and
   * makes them durable, as `apply` for each and then `flush` would. Optional: a sink that can write
   * them in one pass (the dataset store: StoreResultSink) has it; the batch job uses it per part.
   */
  applyMany?(items: ReadonlyArray<{ i: number; result: R }>): Promise<void>;
  /**
   * Sends the record at `i` to a human review queue (annotations.review: status pending, queue
   * `queue`); a cascade does it with what its last model is still unsure about. Optional: a sink
   * without it cannot queue records (the caller says so).
   */
  review?(i: number, queue: string): void;
}

/**
 * What a task returns for one record. Never an exception for a model failure. A failure with
 * `skip: true` is a deliberate decision (e.g. a preference pair whose candidates tie): journaled
 * as skipped with its reason (and `detail`), not redone on resume, listed in the summary's skipped.
 */
export type TaskOutcome<R = TaskResult> =
  | { ok: true; result: R; usage: Usage; cached: boolean; requests: number }
  | { ok: false; reason: string; usage: Usage; raw?: string; requests: number; skip?: boolean; detail?: unknown };

export interface RecordEstimate {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** A task bound to its options (model, prompt, schema, client): runs one record. */
export interface LlmTask<R = TaskResult> {
  readonly id: string;
  readonly promptHash: string;
  readonly model: string;
  /** Where the prompt came from, for the log: "built-in judge prompt v1 (sha256:…)" or the override file. */
  readonly promptSource?: string;
  run(
    record: Record<string, unknown>,
    ctx: { signal: AbortSignal; index: number; line: number },
  ): Promise<TaskOutcome<R>>;
  /**
   * What the task reads of a record, hashed (e.g. the rendered request): the journal binds each
   * result to it, so a resume redoes a record whose content changed, finds a moved record, and
   * never applies a result to a record it was not computed for. It must not change when the
   * task's own result is applied to the record. Default: a hash of the whole record.
   */
  key?(record: Record<string, unknown>): string;
  estimate(record: Record<string, unknown>): RecordEstimate;
}
