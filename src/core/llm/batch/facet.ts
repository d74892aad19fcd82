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
