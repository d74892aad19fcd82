// Self-instruct (Wang et al. 2023) with optional personas/attributes and Evol-Instruct (Xu et al.
// 2024) evolutions: from seed instructions, generate new ones in rounds; keep a candidate only when
// its ROUGE-L to every instruction in the pool (seeds and kept ones) is below the threshold; stop at
// the target, or when the acceptance rate over the last `window` candidates falls below
// `minAcceptance` (the model keeps repeating the pool), or after `rounds` rounds, and say which.
//
// Reproducible: a round's prompts depend only on the pool at the round's start and on generators
// keyed by (seed, round, request); its candidates are checked in request order. So a run gives the
// same instructions at any concurrency, a re-run is answered by the response cache, and a resume
// rebuilds the same pool.
//
// Journal (`<output>.curator-journal/<job>.jsonl`), one line per event, each one write():
//   {"type":"header", ...}
//   {"type":"answer","round":1,"q":0,"ok":true,"items":[{instruction,input}],...}   per request
//   {"type":"round","round":1,"decisions":[{q,k,status,reason?,similarity?,nearest?,record?}],...}
//   {"type":"end","stop":{...}}
// A round's decisions are one line, so a kill leaves a round decided or not at all. On resume the
// pool is rebuilt from the decided rounds, the answers of the undecided round are reused (only the
// missing ones are requested), and it is decided again: no request redone, no record lost or doubled.
import { setMaxListeners } from 'node:events';
import { basename } from 'node:path';
import { z } from 'zod';
import { defineOperation, UserError, type Estimate, type OperationContext } from '../operation';
import { JournalWriter, scanJournal, setJournalAside } from '../jobs/journal';
import { estimateTokens, type ChatMessage, type LlmClient, type Usage } from '../llm/client';
import { BatchAnswers, prefetchAnswers } from '../llm/batch/answers';
import { BatchApiClient } from '../llm/batch/api';
import { finishBatchJob, writeBatchJobOptions } from '../llm/batch/job-options';
import { BatchCancelledError } from '../llm/batch/run';
import { asBatchEstimate, costOf as costOfUsage } from '../llm/batch/prices';
import { loadTemplate, promptHash, renderTemplate, type PromptTemplate } from '../llm/prompts';
import { structuredCall, structuredSpec } from '../llm/structured';
import {
  addUsage,
  batchInfoOf,
  costOf,
  GenerateCancelledError,
  generated,
  hashOf,
  messagesTokens,
  prepareOutput,
  readSeedList,
  samplingFor,
  SynthOptions,
  synthJobId,
  pricesOf,
  withLlm,
  ZERO_USAGE,
  type BatchModeOptions,
  type GenerateBatchInfo,
  type GenerateSummary,
  type SynthBatchMode,
  type SynthEnv,
  type Where,
} from './common';
import { OutputWriter, type Selector } from './output';
import { pick, rng, sample, shuffle } from './random';
import { SimilarityPool, tokenize } from './similarity';
import {
  EVOLUTION_NAMES,
  EVOLUTIONS,
  EvolvedAnswer,
  evolveTemplate,
  InstructionsAnswer,
  instructionsTemplate,
  type Evolution,
} from './templates';

export const SEED_FIELDS = ['instruction', 'prompt', 'question', 'messages', 'text'] as const;

export const InstructionsOptions = SynthOptions.extend({
  /** More seed files besides `input`. */
  seedFiles: z.array(z.string().min(1)).default([]),
  /** The seed records' instruction field; default the first of instruction, prompt, question, messages (first user turn), text. */
  field: z.string().min(1).optional(),
  /** The field the generated instruction goes to. */
  outputField: z.string().min(1).default('instruction'),
  target: z.number().int().min(1).max(10_000_000).default(100),
  /** ROUGE-L at or above which a candidate is a near-copy of an instruction in the pool. */
  similarity: z.number().gt(0).max(1).default(0.7),
  /** Instructions asked for per request. */
  perRequest: z.number().int().min(1).max(50).default(8),
  requestsPerRound: z.number().int().min(1).max(1000).default(8),
  /** At most this many rounds. */
  rounds: z.number().int().min(1).max(100_000).default(100),
  /** Instructions shown per request, of which up to `generatedDemonstrations` already generated (self-instruct: 6 seeds + 2 generated). */
  demonstrations: z.number().int().min(1).max(32).default(8),
  generatedDemonstrations: z.number().int().min(0).max(32).default(2),
  /** One is drawn per request: "a nurse on a night shift", ... */
  personas: z.array(z.string().min(1).max(2000)).default([]),
  /** One value per attribute is drawn per request, e.g. {topic: [...], difficulty: [...], format: [...]}. */
  attributes: z
    .record(
      z.string().regex(/^[A-Za-z][\w -]{0,39}$/, 'attribute names are words'),
      z.array(z.string().min(1).max(500)).min(1),
    )
    .default({}),
  /** Evol-Instruct operations; each request is an evolution with probability `evolveShare`. */
  evolve: z.array(z.enum(EVOLUTION_NAMES as [Evolution, ...Evolution[]])).default([]),
  evolveShare: z.number().min(0).max(1).default(0.5),
  minWords: z.number().int().min(1).default(3),
  maxWords: z.number().int().min(1).default(150),
  /** Stop when fewer than this share of the last `window` candidates was kept. */
  minAcceptance: z.number().min(0).max(1).default(0.1),
  window: z.number().int().min(1).default(100),
})
  .refine((o) => o.generatedDemonstrations <= o.demonstrations, {
    error: 'generatedDemonstrations cannot be more than demonstrations',
    path: ['generatedDemonstrations'],
  })
  .refine((o) => o.maxWords >= o.minWords, { error: 'maxWords must be at least minWords', path: ['maxWords'] });
export type InstructionsOptions = z.output<typeof InstructionsOptions>;

// ---- journal entries -------------------------------------------------------------------------

interface Item {
  instruction: string;
  input: string;
}

type AnswerEntry = {
  type: 'answer';
  round: number;
  q: number;
  usage: Usage;
  cached?: boolean;
} & ({ ok: true; items: Item[]; model: string } | { ok: false; reason: string });

export type Decision = {
  q: number;
  k: number;
  status: 'accepted' | 'rejected';
  /** similar | duplicate | short | long | empty | target */
  reason?: string;
  similarity?: number;
  nearest?: string;
  /** The accepted record. */
  record?: Record<string, unknown>;
  instruction: string;
};

interface RoundEntry {
  type: 'round';
  round: number;
  decisions: Decision[];
  failed: { q: number; reason: string }[];
}

type Entry =
  | {
      type: 'header';
      version: 1;
      job: string;
      task: string;
      model: string;
      prompt_hash: string;
      created: string;
      seeds?: string;
    }
  | AnswerEntry
  | RoundEntry
  | { type: 'end'; time: string; stop: GenerateSummary['stop'] };

/** Output order: round by round, in each round the order the candidates were checked. */
export const acceptedInRounds: Selector = (e) => {
  if (e.type !== 'round' || typeof e.round !== 'number' || !Array.isArray(e.decisions)) return undefined;
  const records = (e.decisions as Decision[])
    .filter((d) => d.status === 'accepted' && d.record)
    .map((d) => d.record as Record<string, unknown>);
  return { key: e.round, records };
};

// ---- requests --------------------------------------------------------------------------------

interface Seed {
  text: string;
  /** {file, line} of a seed, {generated: n} of the n-th kept instruction. */
  ref: { file: string; line: number } | { generated: number };
}

interface Planned {
  q: number;
  kind: 'generate' | 'evolve';
  messages: ChatMessage[];
  op?: Evolution;
  parent?: string;
  from?: Seed['ref'];
  persona?: string;
  attributes?: Record<string, string>;
  demonstrations?: unknown[];
}

interface Prepared {
  gen: { template: PromptTemplate; system: string };
  evo: { template: PromptTemplate; system: string };
  hash: string;
}

function prepare(o: InstructionsOptions): Prepared {
  const gt = loadTemplate('instructions', instructionsTemplate, o.promptsDir);
  const et = loadTemplate('evolve', evolveTemplate, o.promptsDir);
  const clean = (s: string): string => s.replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '');
  const gen = {
    template: gt,
    system: clean(renderTemplate(gt.system, { count: o.perRequest, instructions: o.instructions })),
  };
  const evo = { template: et, system: clean(renderTemplate(et.system, { instructions: o.instructions })) };
  const hash = promptHash(gt, gen.system, {
    evolve: o.evolve.length ? [et.id, et.version, evo.system, et.user] : null,
    schema: 'instructions-1',
  });
  return { gen, evo, hash };
}

function drivers(persona: string | undefined, attributes: Record<string, string> | undefined): string {
  const lines: string[] = [];
  if (persona) lines.push(`Write instructions this person would give: ${persona}`);
  for (const [k, v] of Object.entries(attributes ?? {})) lines.push(`${k[0]?.toUpperCase()}${k.slice(1)}: ${v}`);
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}

/** The requests of a round, from the pool at its start. */
function planRound(o: InstructionsOptions, p: Prepared, round: number, seeds: Seed[], accepted: string[]): Planned[] {
  const generatedItems: Seed[] = accepted.map((text, n) => ({ text, ref: { generated: n + 1 } }));
  const pool = [...seeds, ...generatedItems];
  const out: Planned[] = [];
  const attrNames = Object.keys(o.attributes).sort();
  for (let q = 0; q < o.requestsPerRound; q++) {
    const r = rng(o.seed, 'instructions', round, q);
    if (o.evolve.length && r() < o.evolveShare) {
      const parent = pick(r, pool) as Seed;
      const op = pick(r, o.evolve) as Evolution;
      const user = renderTemplate(p.evo.template.user, { method: EVOLUTIONS[op], instruction: parent.text });
      out.push({
        q,
        kind: 'evolve',
        op,
        parent: parent.text,
        from: parent.ref,
        messages: [
          { role: 'system', content: p.evo.system },
          { role: 'user', content: user },
        ],
      });
      continue;
    }
    const kGen = Math.min(o.generatedDemonstrations, generatedItems.length);
    const demos = shuffle(r, [...sample(r, seeds, o.demonstrations - kGen), ...sample(r, generatedItems, kGen)]);
    const persona = o.personas.length ? pick(r, o.personas) : undefined;
    let attributes: Record<string, string> | undefined;
    if (attrNames.length) {
      attributes = {};
      for (const a of attrNames) attributes[a] = pick(r, o.attributes[a] as string[]) as string;
    }
    const examples = demos.map((d, i) => `${i + 1}. ${d.text.replace(/\s*\n\s*/g, ' ')}`).join('\n');
    const user = renderTemplate(p.gen.template.user, {
      examples,
      drivers: drivers(persona, attributes),
      count: o.perRequest,
    });
    out.push({
      q,
      kind: 'generate',
      messages: [
        { role: 'system', content: p.gen.system },
        { role: 'user', content: user },
      ],
      demonstrations: demos.map((d) => d.ref),
      ...(persona ? { persona } : {}),
      ...(attributes ? { attributes } : {}),
    });
  }
  return out;
}

// ---- the job ---------------------------------------------------------------------------------

function wordCount(text: string): number {
  return tokenize(text).length;
}

export async function loadSeeds(o: InstructionsOptions, signal?: AbortSignal): Promise<Seed[]> {
  const fields = o.field ? [o.field] : SEED_FIELDS;
  const seeds: Seed[] = [];
  for (const f of [o.input, ...o.seedFiles]) {
    for (const s of await readSeedList(f, fields, signal))
      seeds.push({ text: s.text, ref: { file: basename(f), line: s.line } });
  }
  if (seeds.length === 0)
    throw new UserError(
      `no seed instructions in ${[o.input, ...o.seedFiles].join(', ')} (looked for ${fields.join(', ')})`,
    );
  return seeds;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

async function runInstructions(
  o: InstructionsOptions,
  env: SynthEnv,
  ctx: OperationContext,
  batch?: BatchModeOptions,
): Promise<GenerateSummary> {
  const started = performance.now();
  const seeds = await loadSeeds(o, ctx.signal);
  const p = prepare(o);
  const jobId = o.jobId ?? synthJobId('instructions', o, p.hash);
  const { journalDir, journalPath } = prepareOutput(o, jobId, [o.input, ...o.seedFiles]);
  return withLlm(o, env, ctx, async ({ client: online, cache, log }) => {
    // As a batch: each round's requests are one batch (answers.ts prefetchAnswers), answered
    // before the round is decided as online; its options beside its journals (batchJobs.ts resumes it).
    let answered: { client: BatchAnswers; api: BatchApiClient; info: GenerateBatchInfo } | undefined;
    if (batch) {
      writeBatchJobOptions(journalDir, jobId, 'generate-instructions', o);
      answered = {
        client: new BatchAnswers(online, batch.retryOnline === true),
        api: new BatchApiClient({ baseURL: o.baseURL, apiKey: await env.apiKey(), log }),
        info: batchInfoOf([], 0, 0, 0),
      };
      log(`instructions with ${o.model} as a batch job (${jobId})`);
    }
    const client = answered?.client ?? online;
    // 1) what an earlier run did
    let header: Extract<Entry, { type: 'header' }> | undefined;
    const answers = new Map<string, AnswerEntry>();
    const decided = new Map<number, RoundEntry>();
    let ended: Extract<Entry, { type: 'end' }> | undefined;
    const scan = (): number =>
      scanJournal(journalPath, (entry) => {
        const e = entry as Entry; // a line this job wrote (a kind it does not know is passed over)
        switch (e.type) {
          case 'header':
            header = e;
            break;
          case 'answer':
            answers.set(`${e.round}:${e.q}`, e);
            break;
          case 'round':
            decided.set(e.round, e);
            break;
          case 'end':
            ended = e;
            break;
        }
      });
    let goodLength = scan();
    if (header && (header.task !== 'instructions' || header.prompt_hash !== p.hash || header.model !== o.model)) {
      throw new UserError(
        `the journal ${journalPath} belongs to a different job (task, prompt or model changed); remove it or use another output`,
      );
    }
    // The rounds were drawn from the seeds (their demonstrations, the similarity pool): a journal
    // written from other seeds (edited, added, removed, moved; or not recorded) is not resumed.
    const seedsHash = hashOf(seeds.map((x) => [x.text, x.ref]));
    if (header && header.seeds !== seedsHash) {
      const aside = setJournalAside(journalPath, 'seeds-changed');
      log(
        `the seed instructions changed since the journal of ${jobId} was written: it is set aside as ${aside} and the job starts over (the response cache answers what it can)`,
      );
      header = undefined;
      ended = undefined;
      answers.clear();
      decided.clear();
      goodLength = scan();
    }
    const journal = new JournalWriter<Entry>(journalPath, goodLength);
    if (!header)
      journal.append({
        type: 'header',
        version: 1,
        job: jobId,
        task: 'instructions',
        model: o.model,
        prompt_hash: p.hash,
        created: new Date().toISOString(),
        seeds: seedsHash,
      });
    const writer = new OutputWriter(journalPath, o.output, acceptedInRounds, {
      log,
      onWrite: (n) => env.onOutput?.(o.output, n),
    });

    const pool = new SimilarityPool(o.similarity);
    for (const s of seeds) pool.add(s.text);
    const accepted: string[] = [];
    const rejectedBy: Record<string, number> = {};
    const recent: boolean[] = []; // the last `window` decisions (target leftovers excluded)
    let examined = 0;
    let rejected = 0;
    const failed: Where[] = [];
    let requests = 0;
    let cachedAnswers = 0;
    let resumed = 0;
    let tokens: Usage = { ...ZERO_USAGE };
    let cost = 0;
    let round = 0;
    let stop: GenerateSummary['stop'] | undefined;

    const note = (d: Decision): void => {
      if (d.status === 'accepted') {
        pool.add(d.instruction);
        accepted.push(d.instruction);
      } else rejectedBy[d.reason ?? 'rejected'] = (rejectedBy[d.reason ?? 'rejected'] ?? 0) + 1;
      if (d.reason === 'target') return;
      if (d.status === 'rejected') rejected++;
      examined++;
      recent.push(d.status === 'accepted');
      if (recent.length > o.window) recent.shift();
    };
    const rate = (): number => (recent.length ? recent.filter(Boolean).length / recent.length : 1);
    // the answers from the batch cost the batch price; those sent online (retryOnline) the online one
    const costNow = (): number =>
      answered
        ? costOfUsage(answered.client.fromBatch, pricesOf(o), 'batch') +
          costOfUsage(answered.client.fromOnline, pricesOf(o))
        : cost;
    const summary = (complete: boolean): GenerateSummary => ({
      task: 'instructions',
      jobId,
      output: o.output,
      records: writer.records,
      inputs: seeds.length,
      ok: accepted.length,
      failed,
      skipped: [],
      requests,
      cached: cachedAnswers,
      resumed,
      tokens,
      cost: costNow(),
      elapsedMs: performance.now() - started,
      journal: journalPath,
      complete,
      ...(answered ? { batch: { ...answered.info, retriedOnline: answered.client.onlineRequests } } : {}),
      stop: stop ?? {
        reason: 'done',
        message: `stopped in round ${round} with ${accepted.length} of ${o.target} instructions`,
      },
      instructions: {
        target: o.target,
        accepted: accepted.length,
        rejected,
        rejectedBy,
        rounds: round,
        acceptanceRate: examined ? accepted.length / examined : 0,
        pool: pool.size,
        similarity: o.similarity,
      },
    });
    const report = (phase: string): void =>
      ctx.progress({
        done: Math.min(accepted.length, o.target),
        total: o.target,
        unit: 'instructions',
        message: `round ${round}${phase ? ` ${phase}` : ''}: ${accepted.length} of ${o.target} kept · ${rejected} rejected (${rejectedBy.similar ?? 0} near-copies) · acceptance ${pct(rate())} · ${requests} requests · $${costNow().toFixed(4)}`,
      });

    // 2) replay decided rounds (the pool as it was)
    for (const r of [...decided.keys()].sort((a, b) => a - b)) {
      if (r !== round + 1) break; // rounds are decided in order; anything else is not ours
      const entry = decided.get(r) as RoundEntry;
      for (const d of entry.decisions) note(d);
      for (const f of entry.failed) failed.push({ where: `round ${r}, request ${f.q + 1}`, reason: f.reason });
      resumed += o.requestsPerRound - entry.failed.length;
      round = r;
    }
    if (round > 0) log(`resuming: ${round} round(s) from the journal, ${accepted.length} instruction(s) kept so far`);

    const stopCheck = (roundFailed: number): GenerateSummary['stop'] | undefined => {
      if (accepted.length >= o.target)
        return { reason: 'target', message: `target reached: ${accepted.length} instructions in ${round} round(s)` };
      if (recent.length >= o.window && rate() < o.minAcceptance) {
        return {
          reason: 'low-acceptance',
          message: `stopped early: only ${pct(rate())} of the last ${recent.length} candidates were kept (below ${pct(o.minAcceptance)}); ${accepted.length} of ${o.target} instructions. The model keeps repeating the pool: add personas or attributes, evolutions, a higher temperature, more seeds, or a higher similarity threshold`,
        };
      }
      if (roundFailed === o.requestsPerRound) {
        return {
          reason: 'failures',
          message: `stopped: every request of round ${round} failed (${failed.at(-1)?.reason ?? '?'}); run again to retry`,
        };
      }
      if (round >= o.rounds)
        return {
          reason: 'rounds',
          message: `stopped after the last of ${o.rounds} round(s): ${accepted.length} of ${o.target} instructions`,
        };
      return undefined;
    };
    const ending = ended;
    if (ending) stop = ending.stop;
    else if (round > 0) stop = stopCheck(-1);

    const spec = structuredSpec(InstructionsAnswer, 'instructions_answer');
    const evoSpec = structuredSpec(EvolvedAnswer, 'evolved_instruction');
    const model = o.model;
    // Cancellation, or a fatal error (bad key, model or URL) in one request, stops every request.
    const inner = new AbortController();
    // read afresh each time (TypeScript would keep a narrowing of inner.signal.aborted across awaits)
    const aborted = (): boolean => inner.signal.aborted;
    setMaxListeners(0, inner.signal); // one listener per request in flight
    const onAbort = (): void => inner.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    let fatal: { error: unknown } | undefined; // what the first fatal failure threw
    const ask = (pl: Planned, c: LlmClient) => {
      const common = {
        params: samplingFor(o, pl.q),
        model,
        mode: o.structuredMode,
        cache,
        sample: pl.q,
        signal: inner.signal,
      };
      return pl.kind === 'evolve'
        ? structuredCall(c, {
            ...common,
            messages: pl.messages,
            spec: evoSpec,
            template: { id: p.evo.template.id, version: p.evo.template.version },
          })
        : structuredCall(c, {
            ...common,
            messages: pl.messages,
            spec,
            template: { id: p.gen.template.id, version: p.gen.template.version },
          });
    };
    report('');
    try {
      while (!stop) {
        if (aborted()) break;
        round++;
        const plan = planRound(o, p, round, seeds, accepted);
        const got = new Map<number, AnswerEntry>();
        for (const pl of plan) {
          const a = answers.get(`${round}:${pl.q}`);
          if (a && (a.ok || !o.retryFailed)) {
            got.set(pl.q, a);
            resumed++;
          }
        }
        // the round's requests, at most `concurrency` at a time
        const todo = plan.filter((pl) => !got.has(pl.q));
        // as a batch: the round's requests not answered yet are one batch (resumed, not sent again,
        // when an earlier run sent it), then the round runs as online with the batch's answers
        if (answered && todo.length) {
          const a = answered;
          report('(batch)');
          let r: Awaited<ReturnType<typeof prefetchAnswers>>;
          try {
            r = await prefetchAnswers({
              api: a.api,
              journalDir,
              job: jobId,
              client: a.client,
              ...(batch?.poll ? { poll: batch.poll } : {}),
              signal: inner.signal,
              progress: ctx.progress,
              log,
              async pass() {
                for (const pl of todo) {
                  if (aborted()) return;
                  // a request without an answer yet is noted for the batch; its result is not used here
                  await ask(pl, a.client).catch(() => undefined);
                }
              },
            });
          } catch (err) {
            // the batch job was cancelled (`curate batch cancel`): nothing more is sent
            if (err instanceof BatchCancelledError)
              throw new GenerateCancelledError({
                ...summary(false),
                batch: { ...batchInfoOf([err.summary], 0, 0), waiting: true },
              });
            throw err;
          }
          const info = batchInfoOf(r.jobs, r.newRequests, r.batchesCreated, r.rounds);
          a.info = {
            ...info,
            newRequests: a.info.newRequests + info.newRequests,
            batchesCreated: a.info.batchesCreated + info.batchesCreated,
            rounds: a.info.rounds + info.rounds,
          };
        }
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < todo.length && !aborted()) {
            const pl = todo[next++] as Planned;
            let res;
            try {
              res = await ask(pl, client);
            } catch (err) {
              if (!aborted()) {
                fatal = { error: err };
                inner.abort(err);
              }
              return;
            }
            requests += res.requests;
            if (!res.cached) {
              tokens = addUsage(tokens, res.usage);
              cost += costOf(o, res.usage.input_tokens, res.usage.output_tokens);
            } else cachedAnswers++;
            let entry: AnswerEntry;
            if (res.ok) {
              const v = res.value;
              const items: Item[] = 'instructions' in v ? v.instructions : [v];
              entry = {
                type: 'answer',
                round,
                q: pl.q,
                ok: true,
                items,
                model: res.model,
                usage: res.usage,
                cached: res.cached,
              };
            } else entry = { type: 'answer', round, q: pl.q, ok: false, reason: res.reason, usage: res.usage };
            journal.append(entry);
            got.set(pl.q, entry);
            report('(asking)');
          }
        };
        await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, todo.length)) }, worker));
        if (aborted()) break; // the round is decided by the next run, from the answers journaled

        // decide, in request order
        const decisions: Decision[] = [];
        const roundFailed: RoundEntry['failed'] = [];
        for (const pl of plan) {
          const a = got.get(pl.q) as AnswerEntry;
          if (!a.ok) {
            roundFailed.push({ q: pl.q, reason: a.reason });
            continue;
          }
          a.items.forEach((item, k) => {
            const instruction = item.instruction.trim();
            const d: Decision = { q: pl.q, k, status: 'rejected', instruction };
            const words = wordCount(instruction);
            if (!instruction) d.reason = 'empty';
            else if (words < o.minWords) d.reason = 'short';
            else if (words > o.maxWords) d.reason = 'long';
            else if (accepted.length >= o.target) d.reason = 'target';
            else {
              const c = pool.check(instruction);
              if (c.tooSimilar && c.nearest) {
                d.reason = c.nearest.text.trim() === instruction ? 'duplicate' : 'similar';
                d.similarity = Math.round(c.nearest.similarity * 1000) / 1000;
                d.nearest = c.nearest.text;
              } else {
                d.status = 'accepted';
                const input = item.input.trim();
                const record: Record<string, unknown> = { [o.outputField]: instruction };
                if (input) record.input = input;
                d.record = generated(record, {
                  task: 'instructions',
                  fields: input ? [o.outputField, 'input'] : [o.outputField],
                  model: a.model,
                  prompt_hash: p.hash,
                  round,
                  sample: pl.q,
                  seed: pl.kind === 'evolve' ? { evolved_from: pl.from } : { demonstrations: pl.demonstrations },
                  rng_seed: o.seed,
                  ...(pl.persona ? { persona: pl.persona } : {}),
                  ...(pl.attributes ? { attributes: pl.attributes } : {}),
                  ...(pl.kind === 'evolve' ? { evolution: { op: pl.op as string, parent: pl.parent as string } } : {}),
                  job: jobId,
                });
              }
            }
            note(d);
            decisions.push(d);
          });
        }
        for (const f of roundFailed) failed.push({ where: `round ${round}, request ${f.q + 1}`, reason: f.reason });
        if (roundFailed.length === plan.length) {
          // Not decided: the next run asks again (a failed request is retried).
          stop = stopCheck(roundFailed.length);
          round--;
          break;
        }
        journal.append({ type: 'round', round, decisions, failed: roundFailed });
        writer.touch();
        report('');
        stop = stopCheck(roundFailed.length);
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      journal.sync();
      await writer
        .flush()
        .catch((e: unknown) => log(`writing ${o.output} failed: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (aborted()) {
      journal.close();
      round = Math.max(0, round - 1); // the round in progress was not decided
      if (fatal) throw fatal.error;
      throw new GenerateCancelledError(summary(false));
    }
    const finalStop = stop as GenerateSummary['stop'];
    // the run returned: not resumed on activation (a re-run retries what failed)
    if (batch) finishBatchJob(journalDir, jobId);
    if (finalStop.reason === 'failures') {
      journal.close(); // kept: a re-run retries the failed requests
      return summary(false);
    }
    if (!ending) journal.append({ type: 'end', time: new Date().toISOString(), stop: finalStop });
    log(finalStop.message);
    const s = summary(true);
    s.journal = journal.retire();
    return s;
  });
}

// ---- estimate --------------------------------------------------------------------------------

/** Assumed share of candidates kept, for the estimate (the real one is in the summary). */
const ASSUMED_ACCEPTANCE = 0.5;

async function estimateInstructions(o: InstructionsOptions, signal: AbortSignal): Promise<Estimate> {
  const seeds = await loadSeeds(o, signal);
  const p = prepare(o);
  const avgSeed = seeds.reduce((n, s) => n + estimateTokens(s.text), 0) / seeds.length;
  const perRequestIn =
    messagesTokens([{ role: 'system', content: p.gen.system }]) + o.demonstrations * (avgSeed + 3) + 40;
  const perRequestOut = o.perRequest * (avgSeed + 12);
  const perCandidate = o.evolve.length ? (1 - o.evolveShare) * o.perRequest + o.evolveShare : o.perRequest;
  // whole rounds: a round's requests are all sent
  const rounds = Math.min(o.rounds, Math.ceil(o.target / (perCandidate * ASSUMED_ACCEPTANCE) / o.requestsPerRound));
  const requests = rounds * o.requestsPerRound;
  const inputTokens = Math.round(requests * perRequestIn);
  const outputTokens = Math.round(requests * perRequestOut);
  return { records: o.target, requests, inputTokens, outputTokens, cost: costOf(o, inputTokens, outputTokens) };
}

/**
 * Instructions as a Batch API job (the registry's batch mode): each round's requests one batch,
 * built from the pool at the round's start and decided in request order as online, so the output
 * is the online run's on a deterministic endpoint. The estimate: the online one at batch prices.
 */
export function instructionsBatchMode(env: SynthEnv): SynthBatchMode<InstructionsOptions> {
  return {
    estimate: async (o, ctx) => asBatchEstimate(await estimateInstructions(o, ctx.signal), pricesOf(o)),
    run: (o, ctx, mode) => runInstructions(o, env, ctx, mode),
  };
}

export function instructionsOperation(env: SynthEnv) {
  return defineOperation({
    id: 'generate-instructions',
    title: 'Generate instructions (self-instruct)',
    description:
      'New instructions from seeds, in rounds, kept only when no instruction in the pool is a near-copy (ROUGE-L), with optional personas, attributes and Evol-Instruct evolutions.',
    options: InstructionsOptions,
    estimate: (o, ctx) => estimateInstructions(o, ctx.signal),
    run: (o, ctx) => runInstructions(o, env, ctx),
  });
}
