// What a task offers to run as a batch: the request body it would send online for a record, and
// its result from an answer that came back in a batch's output file (validated as an online
// answer is, without the repair round: an invalid answer is a failure, retried online or in a
// follow-up batch). The tasks of src/core/llm/tasks.ts carry it as `task.batch`.
import type { TaskResult } from '../apply-result';
import type { ChatMessage, Usage } from '../client';
import type { LlmTask } from '../../jobs/types';

export interface BatchAnswer {
  content: string | null;
  refusal: string | null;
  model?: string;
  usage: Usage;
}

export interface BatchFacet {
  request(
    record: Record<string, unknown>,
  ): { body: Record<string, unknown>; messages: ChatMessage[] } | { skip: string };
  accept(answer: BatchAnswer): { ok: true; result: TaskResult } | { ok: false; reason: string };
}

/** The task's batch facet, if it has one (the single-request tasks: label, rationale, judge, critique). */
export function batchFacet(task: LlmTask): BatchFacet | undefined {
  const f = (task as LlmTask & { batch?: BatchFacet }).batch;
  return f && typeof f.request === 'function' && typeof f.accept === 'function' ? f : undefined;
}

/** One sample of a k-sample task (self-consistency): its answer, or why there is none. */
export type SampleOutcome =
  | {
      ok: true;
      value: string;
      confidence: number;
      rationale?: string;
      model: string;
      time: string;
      usage: Usage;
      cached?: boolean;
      requests?: number;
    }
  | { ok: false; reason: string; usage: Usage; requests?: number };

/**
 * What a k-sample task (self-consistency) offers to run as a batch: its k request bodies for a
 * record (one request per sample: the online run's, each with its own seed), a sample from an
 * answer, one sample online (what `retryOnline` sends for the samples a batch left missing), and
 * the online run's aggregation of the k samples (majority, agreement share as confidence).
 */
export interface SamplesFacet {
  k: number;
  request(
    record: Record<string, unknown>,
  ): { bodies: Array<Record<string, unknown>>; messages: ChatMessage[] } | { skip: string };
  accept(answer: BatchAnswer): SampleOutcome;
  sample(record: Record<string, unknown>, s: number, signal: AbortSignal): Promise<SampleOutcome>;
  /** The task's result from the k samples (by sample index), as the online run gives it. */
  result(samples: readonly SampleOutcome[]): { ok: true; result: TaskResult } | { ok: false; reason: string };
}

/** The task's k-sample batch facet, if it has one (self-consistency of a label question). */
export function samplesFacet(task: LlmTask): SamplesFacet | undefined {
  const f = (task as LlmTask & { batchSamples?: SamplesFacet }).batchSamples;
  return f && typeof f.request === 'function' && typeof f.result === 'function' ? f : undefined;
}
