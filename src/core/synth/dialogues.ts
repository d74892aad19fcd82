// Dialogues: multi-turn conversations from a topic or persona seed, as `messages` arrays.
//   mode "turns" (default): the conversation is played turn by turn, a model playing the user (from
//     the seed and the transcript so far) and the model answering as the assistant, so each answer
//     responds to the real conversation (UltraChat's two-model setup). 2 x turns requests.
//   mode "whole": one structured request writes the whole conversation.
// Either way the result is validated: roles alternate from the user, no message is empty, exactly
// `turns` exchanges. Seeds: a JSONL file (its `topic`, `persona`, `seed`, `text`, `instruction` or
// `prompt` field, or `--field`), or a text file with one topic per line.
import { basename } from 'node:path';
import { z } from 'zod';
import { defineOperation, UserError } from '../operation';
import type { LlmTask, RecordEstimate, TaskOutcome } from '../jobs/types';
import type { ChatMessage, Usage } from '../llm/client';
import { loadTemplate, promptHash, renderTemplate } from '../llm/prompts';
import { structuredCall, structuredSpec } from '../llm/structured';
import { textCall } from '../llm/text';
import {
  addUsage,
  estimateRecords,
  generated,
  inputFields,
  inputOrigin,
  messagesTokens,
  pricesOf,
  runRecordJob,
  samplingFor,
  seedText,
  RecordTaskOptions,
  ZERO_USAGE,
  type GenResult,
  type LlmDeps,
  type SynthEnv,
  type SynthBatchMode,
} from './common';
import { asBatchEstimate } from '../llm/batch/prices';
import { pick, rng } from './random';
import { assistantPrompt } from './responses';
import { dialogueProblem, dialogueSchema, dialogueUserTemplate, dialogueWholeTemplate } from './templates';

export const DIALOGUE_SEED_FIELDS = ['topic', 'persona', 'seed', 'text', 'instruction', 'prompt'] as const;

export const DialoguesOptions = RecordTaskOptions.extend({
  /** User-assistant exchanges per conversation. */
  turns: z.number().int().min(1).max(50).default(3),
  /** Conversations per seed. */
  perSeed: z.number().int().min(1).max(50).default(1),
  mode: z.enum(['turns', 'whole']).default('turns'),
  /** The simulated users, one drawn per conversation. */
  personas: z.array(z.string().min(1).max(2000)).default([]),
  /** The model playing the user (default: `model`). */
  userModel: z.string().min(1).optional(),
});
export type DialoguesOptions = z.output<typeof DialoguesOptions>;

const TYPICAL_TURN_TOKENS = 250;
const TYPICAL_USER_TOKENS = 60;

function seedLine(kind: string, text: string, persona: string | undefined): string {
  const lines = [kind === 'persona' ? `You are this user: ${text}` : `The conversation is about: ${text}`];
  if (persona) lines.push(`You are this user: ${persona}`);
  return lines.join('\n');
}

function transcript(messages: readonly ChatMessage[]): string {
  const turns = messages.filter((m) => m.role !== 'system');
  if (turns.length === 0) return "The conversation has not started yet. Write the user's first message.";
  return `The conversation so far:\n\n${turns.map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`).join('\n\n')}\n\nWrite the user's next message.`;
}

/** A simulated user's message, without a role label or wrapping quotes it may have added. */
export function cleanUserMessage(text: string): string {
  let t = text.trim().replace(/^(?:\*\*)?(?:user|human)(?:\*\*)?\s*:\s*/i, '');
  if (t.length > 1 && /^["“]/.test(t) && /["”]$/.test(t)) t = t.slice(1, -1).trim();
  return t;
}

function plan(o: DialoguesOptions) {
  const ut = loadTemplate('dialogue-user', dialogueUserTemplate, o.promptsDir);
  const wt = loadTemplate('dialogue-whole', dialogueWholeTemplate, o.promptsDir);
  const { system, tpl: rt } = assistantPrompt(o);
  const clean = (s: string): string => s.replace(/\n{2,}/g, '\n').trim();
  const userSystem = clean(renderTemplate(ut.system, { instructions: o.instructions }));
  const wholeSystem = clean(
    renderTemplate(wt.system, { turns: o.turns, messages: o.turns * 2, instructions: o.instructions }),
  );
  const spec = structuredSpec(dialogueSchema(o.turns), `dialogue_${o.turns}`);
  const hash =
    o.mode === 'turns'
      ? promptHash(ut, userSystem, {
          mode: o.mode,
          turns: o.turns,
          system: system ?? '',
          userModel: o.userModel ?? null,
          responses: [rt.id, rt.version],
        })
      : promptHash(wt, wholeSystem, { mode: o.mode, turns: o.turns, system: system ?? '', schema: spec.jsonSchema });
  const seedOf = (record: Record<string, unknown>): { kind: string; text: string } | undefined => {
    const fields = o.field ? [o.field] : DIALOGUE_SEED_FIELDS;
    for (const f of fields) {
      const t = seedText(record, [f]);
      if (t) return { kind: f, text: t };
    }
    return undefined;
  };
  const estimate = (record: Record<string, unknown>): RecordEstimate => {
    const s = seedOf(record);
    if (!s) return { requests: 0, inputTokens: 0, outputTokens: 0 };
    const base = messagesTokens([
      { role: 'system', content: o.mode === 'turns' ? userSystem : wholeSystem },
      { role: 'user', content: s.text },
    ]);
    if (o.mode === 'whole')
      return {
        requests: o.perSeed,
        inputTokens: o.perSeed * base,
        outputTokens: o.perSeed * o.turns * (TYPICAL_TURN_TOKENS + TYPICAL_USER_TOKENS),
      };
    let input = 0;
    for (let t = 0; t < o.turns; t++) {
      const soFar = t * (TYPICAL_TURN_TOKENS + TYPICAL_USER_TOKENS);
      input += base + soFar + (soFar + TYPICAL_USER_TOKENS + (system ? system.length / 4 : 0));
    }
    return {
      requests: o.perSeed * 2 * o.turns,
      inputTokens: Math.round(o.perSeed * input),
      outputTokens: o.perSeed * o.turns * (Math.min(o.maxTokens, TYPICAL_TURN_TOKENS) + TYPICAL_USER_TOKENS),
    };
  };
  return {
    userSystem,
    wholeSystem,
    system,
    spec,
    hash,
    seedOf,
    estimate,
    ut: { id: ut.id, version: ut.version },
    wt: { id: wt.id, version: wt.version },
    rt,
  };
}

type One =
  | { ok: true; messages: ChatMessage[]; usage: Usage; requests: number; cached: boolean; models: string[] }
  | { ok: false; reason: string; usage: Usage; requests: number; raw?: string };

export function dialoguesTask(o: DialoguesOptions, deps: LlmDeps): LlmTask<GenResult> {
  const P = plan(o);
  const userModel = o.userModel ?? o.model;

  async function byTurns(seed: string, d: number, signal: AbortSignal): Promise<One> {
    const messages: ChatMessage[] = P.system ? [{ role: 'system', content: P.system }] : [];
    let usage = ZERO_USAGE;
    let requests = 0;
    let cached = true;
    const models = new Set<string>();
    for (let t = 0; t < o.turns; t++) {
      const u = await textCall(deps.client, {
        messages: [
          { role: 'system', content: P.userSystem },
          { role: 'user', content: `${seed}\n\n${transcript(messages)}` },
        ],
        params: samplingFor(o, d),
        model: userModel,
        cache: deps.cache,
        template: P.ut,
        sample: d,
        signal,
      });
      usage = addUsage(usage, u.usage);
      requests += u.requests;
      if (!u.ok) return { ok: false, reason: `turn ${t + 1}, user: ${u.reason}`, usage, requests, raw: u.raw };
      cached &&= u.cached;
      const userText = cleanUserMessage(u.text);
      if (!userText)
        return {
          ok: false,
          reason: `turn ${t + 1}, user: the simulated user's message is empty`,
          usage,
          requests,
          raw: u.text,
        };
      messages.push({ role: 'user', content: userText });
      const a = await textCall(deps.client, {
        messages,
        params: samplingFor(o, d),
        model: o.model,
        cache: deps.cache,
        template: P.rt,
        sample: d,
        signal,
      });
      usage = addUsage(usage, a.usage);
      requests += a.requests;
      if (!a.ok) return { ok: false, reason: `turn ${t + 1}, assistant: ${a.reason}`, usage, requests, raw: a.raw };
      cached &&= a.cached;
      models.add(a.model);
      messages.push({ role: 'assistant', content: a.text.trim() });
    }
    return { ok: true, messages, usage, requests, cached, models: [...models] };
  }

  async function whole(seed: string, d: number, signal: AbortSignal): Promise<One> {
    const r = await structuredCall(deps.client, {
      messages: [
        { role: 'system', content: P.wholeSystem },
        { role: 'user', content: seed },
      ],
      spec: P.spec,
      params: samplingFor(o, d),
      model: o.model,
      mode: o.structuredMode,
      cache: deps.cache,
      template: P.wt,
      sample: d,
      signal,
    });
    if (!r.ok) return { ok: false, reason: r.reason, usage: r.usage, requests: r.requests, raw: r.raw };
    const turns: ChatMessage[] = r.value.messages.map((m) => ({ role: m.role, content: m.content.trim() }));
    return {
      ok: true,
      messages: P.system ? [{ role: 'system', content: P.system }, ...turns] : turns,
      usage: r.usage,
      requests: r.requests,
      cached: r.cached,
      models: [r.model],
    };
  }

  return {
    id: 'dialogues',
    model: o.model,
    promptHash: P.hash,
    estimate: P.estimate,
    async run(record, ctx): Promise<TaskOutcome<GenResult>> {
      const s = P.seedOf(record);
      if (!s) {
        const fields = o.field ? [o.field] : DIALOGUE_SEED_FIELDS;
        return {
          ok: false,
          skip: true,
          reason: `no seed: the record has none of the fields ${fields.join(', ')} as text`,
          usage: ZERO_USAGE,
          requests: 0,
        };
      }
      const results = await Promise.all(
        Array.from({ length: o.perSeed }, (_, d) => {
          const persona = o.personas.length
            ? pick(rng(o.seed, 'dialogue-persona', ctx.index, d), o.personas)
            : undefined;
          const seed = seedLine(s.kind, s.text, persona);
          return (o.mode === 'turns' ? byTurns(seed, d, ctx.signal) : whole(seed, d, ctx.signal)).then((r) => ({
            r,
            persona,
          }));
        }),
      );
      const usage = results.reduce((u, x) => addUsage(u, x.r.usage), ZERO_USAGE);
      const requests = results.reduce((n, x) => n + x.r.requests, 0);
      const records: Record<string, unknown>[] = [];
      for (const [d, { r, persona }] of results.entries()) {
        if (!r.ok)
          return {
            ok: false,
            reason: o.perSeed > 1 ? `conversation ${d + 1} of ${o.perSeed}: ${r.reason}` : r.reason,
            usage,
            raw: r.raw,
            requests,
          };
        const problem = dialogueProblem(r.messages);
        if (problem) return { ok: false, reason: `invalid conversation: ${problem}`, usage, requests };
        const out: Record<string, unknown> = {
          ...inputFields(record),
          ...(persona ? { persona } : {}),
          messages: r.messages,
        };
        records.push(
          generated(out, {
            task: 'dialogues',
            fields: persona ? ['messages', 'persona'] : ['messages'],
            model: o.model,
            ...(o.mode === 'turns' && userModel !== o.model ? { models: [o.model, userModel] } : {}),
            prompt_hash: P.hash,
            ...(o.perSeed > 1 ? { sample: d } : {}),
            seed: { file: basename(o.input), line: ctx.line, [s.kind]: s.text },
            rng_seed: o.seed,
            ...(persona ? { persona } : {}),
            usage: r.usage,
            ...(inputOrigin(record) !== undefined ? { input: inputOrigin(record) } : {}),
          }),
        );
      }
      return { ok: true, result: { records }, usage, cached: results.every((x) => x.r.ok && x.r.cached), requests };
    },
  };
}

export function dialoguesOperation(env: SynthEnv) {
  return defineOperation({
    id: 'generate-dialogues',
    title: 'Generate dialogues',
    description:
      'Multi-turn conversations from topic or persona seeds, as `messages` arrays (roles alternate, no empty turn).',
    options: DialoguesOptions,
    estimate: (o, ctx) => estimateRecords(o, plan(o).estimate, ctx, env),
    run: (o, ctx) => {
      if (o.perSeed > 1 && o.temperature === 0)
        throw new UserError('several conversations per seed need a temperature above 0');
      return runRecordJob('dialogues', o, env, ctx, (deps) => dialoguesTask(o, deps));
    },
  });
}

/**
 * Dialogues as a Batch API job: each turn of every conversation is one round of batches (a turn
 * needs the one before it); the registry's batch mode, the estimate at batch prices.
 */
export function dialoguesBatchMode(env: SynthEnv): SynthBatchMode<DialoguesOptions> {
  return {
    estimate: async (o, ctx) => asBatchEstimate(await estimateRecords(o, plan(o).estimate, ctx, env), pricesOf(o)),
    run: (o, ctx, mode) => {
      if (o.perSeed > 1 && o.temperature === 0)
        throw new UserError('several conversations per seed need a temperature above 0');
      return runRecordJob('dialogues', o, env, ctx, (deps) => dialoguesTask(o, deps), mode);
    },
  };
}
