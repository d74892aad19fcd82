// Preferences: for each prompt, N candidate responses (from one or several models and/or
// temperatures), all rated in one request by a judge model against a rubric (zod-validated: every
// candidate gets an integer rating and a rationale), shown to the judge in a seeded random order
// (position bias). Written in distilabel's DPO columns: `prompt`, `prompt_id`, `chosen` (the highest
// rating) and `rejected` (the lowest) as message lists with the prompt turn, `chosen_rating`,
// `rejected_rating`, `chosen_model`, `rejected_model`; and every candidate for review:
// `generations`, `generation_models`, `ratings`, `rationales` (distilabel's UltraFeedback columns).
// A prompt whose ratings tie (or differ by less than `minMargin`) is skipped, with the reason and
// its candidates and ratings in the journal.
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineOperation } from '../operation';
import type { LlmTask, RecordEstimate, TaskOutcome } from '../jobs/types';
import type { ChatMessage } from '../llm/client';
import { loadTemplate, promptHash, renderTemplate } from '../llm/prompts';
import { structuredCall, structuredSpec } from '../llm/structured';
import { textCall, type TextResult } from '../llm/text';
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
  type SynthEnv,
  type SynthBatchMode,
} from './common';
import { asBatchEstimate } from '../llm/batch/prices';
import { rng, shuffle } from './random';
import { assistantPrompt, TYPICAL_RESPONSE_TOKENS } from './responses';
import { preferenceJudgeTemplate, preferenceRatingsSchema } from './templates';

export const PreferencesOptions = RecordTaskOptions.extend({
  /** Candidate responses per prompt. */
  candidates: z.number().int().min(2).max(16).default(2),
  /** Candidate models, used in turn (default: `model`). */
  models: z.array(z.string().min(1)).default([]),
  /** Candidate temperatures, used in turn with each model (default: `temperature`). */
  temperatures: z.array(z.number().min(0).max(2)).default([]),
  /** The judge (default: `model`). */
  judgeModel: z.string().min(1).optional(),
  rubric: z
    .string()
    .min(1)
    .default('How well the response follows the instruction: helpful, correct, honest, complete and clear.'),
  scaleMin: z.number().int().default(1),
  scaleMax: z.number().int().default(10),
  /** The chosen rating must exceed the rejected one by at least this; less is skipped (a tie is always skipped). */
  minMargin: z.number().min(0).default(1),
  /** The judge's answer budget (it writes a rationale per candidate). */
  judgeMaxTokens: z.number().int().positive().default(1024),
  allowTruncated: z.boolean().default(false),
}).refine((o) => o.scaleMax > o.scaleMin, { error: 'scaleMax must be above scaleMin', path: ['scaleMax'] });
export type PreferencesOptions = z.output<typeof PreferencesOptions>;

/** Candidate k: its model, temperature and sample index. */
export function candidatePlan(o: PreferencesOptions): { model: string; temperature: number }[] {
  const models = o.models.length ? o.models : [o.model];
  const temps = o.temperatures.length ? o.temperatures : [o.temperature];
  const combos = models.flatMap((model) => temps.map((temperature) => ({ model, temperature })));
  return Array.from(
    { length: o.candidates },
    (_, k) => combos[k % combos.length] as { model: string; temperature: number },
  );
}

function plan(o: PreferencesOptions) {
  const { system, tpl: rt } = assistantPrompt(o);
  const jt = loadTemplate('preference-judge', preferenceJudgeTemplate, o.promptsDir);
  const judgeSystem = renderTemplate(jt.system, {
    rubric: o.rubric,
    min: o.scaleMin,
    max: o.scaleMax,
    instructions: o.instructions,
  })
    .replace(/\n{2,}/g, '\n')
    .trim();
  const candidates = candidatePlan(o);
  const judgeModel = o.judgeModel ?? o.model;
  const spec = structuredSpec(
    preferenceRatingsSchema(o.candidates, o.scaleMin, o.scaleMax),
    `preference_ratings_${o.candidates}_${o.scaleMin}_${o.scaleMax}`,
  );
  const hash = promptHash(jt, judgeSystem, {
    responses: [rt.id, rt.version, system ?? ''],
    candidates,
    judgeModel,
    schema: spec.jsonSchema,
  });
  const judgeMessages = (prompt: string, texts: string[]): ChatMessage[] => {
    const responses = texts.map((t, i) => `Response ${i + 1}:\n${t}`).join('\n\n');
    return [
      { role: 'system', content: judgeSystem },
      { role: 'user', content: renderTemplate(jt.user, { prompt, responses }) },
    ];
  };
  const estimate = (record: Record<string, unknown>): RecordEstimate => {
    const p = promptOf(record, o.field, system);
    if (typeof p === 'string') return { requests: 0, inputTokens: 0, outputTokens: 0 };
    const gen = Math.min(o.maxTokens, TYPICAL_RESPONSE_TOKENS);
    const judgeIn = messagesTokens(judgeMessages(p.text, [])) + o.candidates * (gen + 6);
    return {
      requests: o.candidates + 1,
      inputTokens: o.candidates * messagesTokens(p.messages) + judgeIn,
      outputTokens: o.candidates * gen + o.candidates * 60,
    };
  };
  return {
    system,
    candidates,
    judgeModel,
    spec,
    hash,
    judgeMessages,
    estimate,
    rt,
    jt: { id: jt.id, version: jt.version },
  };
}

export function preferencesTask(o: PreferencesOptions, deps: LlmDeps): LlmTask<GenResult> {
  const P = plan(o);
  return {
    id: 'preferences',
    model: o.model,
    promptHash: P.hash,
    estimate: P.estimate,
    async run(record, ctx): Promise<TaskOutcome<GenResult>> {
      const p = promptOf(record, o.field, P.system);
      if (typeof p === 'string') return { ok: false, skip: true, reason: p, usage: ZERO_USAGE, requests: 0 };
      // 1) the candidates
      const results: TextResult[] = await Promise.all(
        P.candidates.map((c, k) =>
          textCall(deps.client, {
            messages: p.messages,
            params: samplingFor(o, k, c.temperature),
            model: c.model,
            cache: deps.cache,
            template: P.rt,
            sample: k,
            signal: ctx.signal,
            allowTruncated: o.allowTruncated,
          }),
        ),
      );
      let usage = results.reduce((u, r) => addUsage(u, r.usage), ZERO_USAGE);
      let requests = results.reduce((n, r) => n + r.requests, 0);
      let cached = results.every((r) => r.ok && r.cached);
      const bad = results.findIndex((r) => !r.ok);
      if (bad >= 0) {
        const r = results[bad] as Extract<TextResult, { ok: false }>;
        return {
          ok: false,
          reason: `candidate ${bad + 1} (${P.candidates[bad]?.model}): ${r.reason}`,
          usage,
          raw: r.raw,
          requests,
        };
      }
      const texts = results.map((r) => (r.ok ? r.text : ''));
      const models = results.map((r) => (r.ok ? r.model : ''));
      // 2) the judge, seeing the candidates in a seeded random order
      const order = shuffle(
        rng(o.seed, 'preference-judge', ctx.index),
        texts.map((_, k) => k),
      );
      const judged = await structuredCall(deps.client, {
        messages: P.judgeMessages(
          p.text,
          order.map((k) => texts[k] as string),
        ),
        spec: P.spec,
        params: { temperature: 0, max_tokens: o.judgeMaxTokens, seed: o.seed },
        model: P.judgeModel,
        mode: o.structuredMode,
        cache: deps.cache,
        template: P.jt,
        sample: 0,
        signal: ctx.signal,
      });
      usage = addUsage(usage, judged.usage);
      requests += judged.requests;
      cached = cached && judged.cached;
      if (!judged.ok)
        return { ok: false, reason: `judge (${P.judgeModel}): ${judged.reason}`, usage, raw: judged.raw, requests };
      const ratings: number[] = new Array<number>(texts.length);
      const rationales: string[] = new Array<string>(texts.length);
      order.forEach((k, pos) => {
        const r = judged.value[`response_${pos + 1}`] as { rating: number; rationale: string };
        ratings[k] = r.rating;
        rationales[k] = r.rationale;
      });
      // 3) chosen: the highest rating, rejected: the lowest (the first candidate among equals)
      let best = 0;
      let worst = 0;
      ratings.forEach((r, k) => {
        if (r > (ratings[best] as number)) best = k;
        if (r < (ratings[worst] as number)) worst = k;
      });
      const margin = (ratings[best] as number) - (ratings[worst] as number);
      const detail = { generations: texts, generation_models: models, ratings, rationales, judge_model: judged.model };
      if (margin === 0)
        return {
          ok: false,
          skip: true,
          reason: `tie: every candidate was rated ${ratings[best]}`,
          detail,
          usage,
          requests,
        };
      if (margin < o.minMargin)
        return {
          ok: false,
          skip: true,
          reason: `ratings ${ratings.join(', ')} differ by ${margin}, less than the minimum margin ${o.minMargin}`,
          detail,
          usage,
          requests,
        };
      const turn = (k: number): ChatMessage[] => [...p.messages, { role: 'assistant', content: texts[k] as string }];
      const out: Record<string, unknown> = {
        ...inputFields(record),
        prompt: p.text,
        prompt_id: createHash('sha256').update(p.text).digest('hex'),
        chosen: turn(best),
        chosen_rating: ratings[best],
        chosen_model: models[best],
        rejected: turn(worst),
        rejected_rating: ratings[worst],
        rejected_model: models[worst],
        generations: texts,
        generation_models: models,
        ratings,
        rationales,
      };
      const uniqueModels = [...new Set(models)];
      const rec = generated(out, {
        task: 'preferences',
        fields: [
          'prompt',
          'prompt_id',
          'chosen',
          'chosen_rating',
          'chosen_model',
          'rejected',
          'rejected_rating',
          'rejected_model',
          'generations',
          'generation_models',
          'ratings',
          'rationales',
        ],
        model: uniqueModels.length === 1 ? uniqueModels[0] : undefined,
        ...(uniqueModels.length > 1 ? { models: uniqueModels } : {}),
        judge_model: judged.model,
        prompt_hash: P.hash,
        seed: { file: basename(o.input), line: ctx.line },
        rng_seed: o.seed,
        usage,
        ...(inputOrigin(record) !== undefined ? { input: inputOrigin(record) } : {}),
      });
      return { ok: true, result: { records: [rec] }, usage, cached, requests };
    },
  };
}

export function preferencesOperation(env: SynthEnv) {
  return defineOperation({
    id: 'generate-preferences',
    title: 'Generate preference pairs',
    description:
      'N candidate responses per prompt, rated by a judge; the best and the worst become a DPO pair (ties skipped), every candidate kept for review.',
    options: PreferencesOptions,
    estimate: (o, ctx) => estimateRecords(o, plan(o).estimate, ctx, env),
    run: (o, ctx) => runRecordJob('preferences', o, env, ctx, (deps) => preferencesTask(o, deps)),
  });
}

/**
 * Preference pairs as a Batch API job: the candidates of every prompt in one round of batches,
 * then their judge's requests in the next (the registry's batch mode; the estimate at batch prices).
 */
export function preferencesBatchMode(env: SynthEnv): SynthBatchMode<PreferencesOptions> {
  return {
    estimate: async (o, ctx) => asBatchEstimate(await estimateRecords(o, plan(o).estimate, ctx, env), pricesOf(o)),
    run: (o, ctx, mode) => runRecordJob('preferences', o, env, ctx, (deps) => preferencesTask(o, deps), mode),
  };
}
