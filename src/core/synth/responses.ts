// Responses: for each record with an instruction (or prompt, question...) or a `messages`
// conversation ending with a user turn, generate the response, or the next assistant turn;
// optionally several per record (one output record each, `origin.sample` 0..n-1).
//   instruction -> `output` beside it (Alpaca: instruction/input/output)
//   prompt, question, ... -> `response` beside it
//   messages -> the conversation with the assistant's turn appended
import { basename } from 'node:path';
import { z } from 'zod';
import { defineOperation } from '../operation';
import type { LlmTask, RecordEstimate, TaskOutcome } from '../jobs/types';
import { loadTemplate, promptHash, renderTemplate, type PromptTemplate } from '../llm/prompts';
import { textCall } from '../llm/text';
import {
  addUsage,
  estimateRecords,
  generated,
  inputFields,
  inputOrigin,
  messagesTokens,
  pricesOf,
  promptOf,
  runRecordJob,
  samplingFor,
  RecordTaskOptions,
  ZERO_USAGE,
  type GenResult,
  type LlmDeps,
  type SynthBatchMode,
  type SynthEnv,
} from './common';
import { asBatchEstimate } from '../llm/batch/prices';
import { responsesTemplate } from './templates';

export const ResponsesOptions = RecordTaskOptions.extend({
  /** Responses per record. */
  n: z.number().int().min(1).max(50).default(1),
  /** Where the response goes (not for messages); default `output` beside `instruction`, else `response`. */
  responseField: z.string().min(1).optional(),
  /** Keep answers cut off at max_tokens. */
  allowTruncated: z.boolean().default(false),
});
export type ResponsesOptions = z.output<typeof ResponsesOptions>;
type RecordTaskOptions = z.output<typeof RecordTaskOptions>;

/** Typical output tokens of a response, for estimates (capped by maxTokens). */
export const TYPICAL_RESPONSE_TOKENS = 400;

/** The assistant's side of a generation: the `responses` template (overridable) and its system prompt. */
export function assistantPrompt(o: RecordTaskOptions): {
  template: PromptTemplate;
  system?: string;
  tpl: { id: string; version: string };
} {
  const template = loadTemplate('responses', responsesTemplate, o.promptsDir);
  const system = renderTemplate(template.system, { instructions: o.system ?? '' }).trim() || undefined;
  return { template, system, tpl: { id: template.id, version: template.version } };
}

/** The task's fixed parts: system prompt, prompt hash, per-record estimate. */
function plan(o: ResponsesOptions) {
  const { template, system, tpl } = assistantPrompt(o);
  const hash = promptHash(template, system ?? '', { n: o.n });
  const estimate = (record: Record<string, unknown>): RecordEstimate => {
    const p = promptOf(record, o.field, system);
    if (typeof p === 'string') return { requests: 0, inputTokens: 0, outputTokens: 0 };
    return {
      requests: o.n,
      inputTokens: o.n * messagesTokens(p.messages),
      outputTokens: o.n * Math.min(o.maxTokens, TYPICAL_RESPONSE_TOKENS),
    };
  };
  return { system, hash, tpl, estimate };
}

export function responsesTask(o: ResponsesOptions, deps: LlmDeps): LlmTask<GenResult> {
  const { system, hash, tpl, estimate } = plan(o);
  return {
    id: 'responses',
    model: o.model,
    promptHash: hash,
    estimate,
    async run(record, ctx): Promise<TaskOutcome<GenResult>> {
      const p = promptOf(record, o.field, system);
      if (typeof p === 'string') return { ok: false, skip: true, reason: p, usage: ZERO_USAGE, requests: 0 };
      const results = await Promise.all(
        Array.from({ length: o.n }, (_, k) =>
          textCall(deps.client, {
            messages: p.messages,
            params: samplingFor(o, k),
            model: o.model,
            cache: deps.cache,
            template: tpl,
            sample: k,
            signal: ctx.signal,
            allowTruncated: o.allowTruncated,
          }),
        ),
      );
      const usage = results.reduce((u, r) => addUsage(u, r.usage), ZERO_USAGE);
      const requests = results.reduce((n, r) => n + r.requests, 0);
      const bad = results.findIndex((r) => !r.ok);
      if (bad >= 0) {
        const r = results[bad] as Extract<(typeof results)[number], { ok: false }>;
        return {
          ok: false,
          reason: o.n > 1 ? `response ${bad + 1} of ${o.n}: ${r.reason}` : r.reason,
          usage,
          raw: r.raw,
          requests,
        };
      }
      const base = inputFields(record);
      const fromMessages = Array.isArray(record[p.field]);
      const target = fromMessages ? p.field : (o.responseField ?? (p.field === 'instruction' ? 'output' : 'response'));
      const records = results.map((r, k) => {
        if (!r.ok) throw new Error('unreachable');
        const out: Record<string, unknown> = { ...base };
        if (fromMessages) out[p.field] = [...p.messages, { role: 'assistant', content: r.text }];
        else {
          if (system && out.system === undefined) out.system = system;
          out[target] = r.text;
        }
        return generated(out, {
          task: 'responses',
          fields: [target],
          model: r.model,
          prompt_hash: hash,
          ...(o.n > 1 ? { sample: k } : {}),
          seed: { file: basename(o.input), line: ctx.line },
          rng_seed: o.seed,
          usage: r.usage,
          ...(inputOrigin(record) !== undefined ? { input: inputOrigin(record) } : {}),
        });
      });
      return { ok: true, result: { records }, usage, cached: results.every((r) => r.ok && r.cached), requests };
    },
  };
}

export function responsesOperation(env: SynthEnv) {
  return defineOperation({
    id: 'generate-responses',
    title: 'Generate responses',
    description:
      'The response to each record’s instruction or prompt, or the next assistant turn of its conversation; optionally several per record.',
    options: ResponsesOptions,
    estimate: (o, ctx) => estimateRecords(o, plan(o).estimate, ctx, env),
    run: (o, ctx) => runRecordJob('responses', o, env, ctx, (deps) => responsesTask(o, deps)),
  });
}

/** Responses as a Batch API job (one request per response; the registry's batch mode): the estimate at batch prices. */
export function responsesBatchMode(env: SynthEnv): SynthBatchMode<ResponsesOptions> {
  return {
    estimate: async (o, ctx) => asBatchEstimate(await estimateRecords(o, plan(o).estimate, ctx, env), pricesOf(o)),
    run: (o, ctx, mode) => runRecordJob('responses', o, env, ctx, (deps) => responsesTask(o, deps), mode),
  };
}
