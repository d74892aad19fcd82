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

export interface ResultSink {
  /** Called once per finished record, in completion order (not index order). */
  apply(i: number, result: TaskResult): void | Promise<void>;
  flush(): Promise<void>;
}

/** What a task returns for one record. Never an exception for a model failure. */
export type TaskOutcome =
  | { ok: true; result: TaskResult; usage: Usage; cached: boolean; requests: number }
  | { ok: false; reason: string; usage: Usage; raw?: string; requests: number };

export interface RecordEstimate {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** A task bound to its options (model, prompt, schema, client): runs one record. */
export interface LlmTask {
  readonly id: string;
  readonly promptHash: string;
  readonly model: string;
  /** Where the prompt came from, for the log: "built-in judge prompt v1 (sha256:…)" or the override file. */
  readonly promptSource?: string;
  run(record: Record<string, unknown>, ctx: { signal: AbortSignal }): Promise<TaskOutcome>;
  estimate(record: Record<string, unknown>): RecordEstimate;
}
