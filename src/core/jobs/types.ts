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
}

export interface ResultSink<R = TaskResult> {
  /** Called once per finished record, in completion order (not index order). */
  apply(i: number, result: R): void | Promise<void>;
  flush(): Promise<void>;
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
  run(record: Record<string, unknown>, ctx: { signal: AbortSignal; index: number; line: number }): Promise<TaskOutcome<R>>;
  estimate(record: Record<string, unknown>): RecordEstimate;
}
