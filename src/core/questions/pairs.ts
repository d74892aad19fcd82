// Preference pairs from questions, for DPO-style training (TRL's prompt/chosen/rejected, with
// distilabel's prompt_id and ratings beside them):
//   ranking  one record's candidates: the best-ranked is chosen, the worst rejected (or every
//            ordered pair with `pairs: 'all'`); ties are never split into a pair
//   rating   records that answer the same prompt (several responses, each rated): the highest
//            rated response is chosen, the lowest rejected, as distilabel's UltraFeedback-to-DPO
//            does; equal ratings make no pair
// The answer used is the person's (submitted), else the top model suggestion; answers that do not
// fit the question are left out with the reason.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineOperation, UserError } from '../operation';
import { getPath, iterateLines, textOf, throwIfAborted, type LineSource } from '../filter/fields';
import { openStore } from '../sources';
import { writeLinesAtomic } from '../write-lines';
import { defaultFields, FieldMap } from '../schema/annotation';
import { answersOf } from './layout';
import { QuestionOptions, resolveQuestion } from './resolve';
import { candidateIds, type Question, type RankingQuestion, type RatingQuestion } from './schema';
import { rankingCandidates, ranksOf, ratingOf } from './values';

type Rec = Record<string, unknown>;

export interface PreferencePair {
  prompt: string;
  /** sha256 of the prompt (hex), as distilabel's prompt_id. */
  prompt_id: string;
  chosen: unknown;
  rejected: unknown;
  /** Rankings: the candidates' ranks and names; ratings: the ratings. */
  chosen_rank?: number;
  rejected_rank?: number;
  chosen_id?: string;
  rejected_id?: string;
  chosen_rating?: number;
  rejected_rating?: number;
  /** Whose answer made the pair: "human" or "model". */
  source: 'human' | 'model';
}

const PROMPT_FIELDS = ['prompt', 'instruction', 'question', 'input', 'text', 'messages'];

/** The prompt of a record: `field`, else the first of prompt, instruction, question, input, text, messages (its text). */
export function promptOf(record: Rec, field?: string): string | undefined {
  if (field !== undefined) return textOf(getPath(record, field));
  for (const f of PROMPT_FIELDS) {
    const t = textOf(record[f]);
    if (t !== undefined && t !== '') return t;
  }
  return undefined;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Pairs from one record's ranking: best against worst, or every pair of different ranks. */
export function rankingPairs(
  record: Rec,
  q: RankingQuestion,
  opts: { promptField?: string; pairs?: 'best-worst' | 'all'; fields?: FieldMap } = {},
): PreferencePair[] | string {
  const current = answersOf(record, q, opts.fields ?? defaultFields).current;
  if (!current) return `no ranking for "${q.name}"`;
  if (current.problem) return current.problem;
  const prompt = promptOf(record, opts.promptField);
  if (prompt === undefined) return `no prompt (${opts.promptField ?? PROMPT_FIELDS.join(', ')})`;
  const candidates = rankingCandidates(record, q) ?? [];
  const ids = candidateIds(q, candidates.length);
  const ranks = [...(ranksOf(current.value) ?? new Map<string, number>())].sort((a, b) => a[1] - b[1]);
  const item = (id: string) => candidates[ids.indexOf(id)];
  const pair = (a: [string, number], b: [string, number]): PreferencePair => ({
    prompt,
    prompt_id: sha(prompt),
    chosen: item(a[0]),
    rejected: item(b[0]),
    chosen_rank: a[1],
    rejected_rank: b[1],
    chosen_id: a[0],
    rejected_id: b[0],
    source: current.source,
  });
  if (ranks.length < 2) return 'fewer than two ranked candidates';
  if (opts.pairs === 'all') {
    const out: PreferencePair[] = [];
    for (let i = 0; i < ranks.length; i++)
      for (let j = i + 1; j < ranks.length; j++)
        if ((ranks[i] as [string, number])[1] < (ranks[j] as [string, number])[1])
          out.push(pair(ranks[i] as [string, number], ranks[j] as [string, number]));
    return out.length ? out : 'every candidate ties';
  }
  const best = ranks.filter((r) => r[1] === (ranks[0] as [string, number])[1]);
  const worst = ranks.filter((r) => r[1] === (ranks[ranks.length - 1] as [string, number])[1]);
  if ((ranks[0] as [string, number])[1] === (ranks[ranks.length - 1] as [string, number])[1])
    return 'every candidate ties';
  if (best.length > 1) return `${best.length} candidates tie for best`;
  if (worst.length > 1) return `${worst.length} candidates tie for worst`;
  return [pair(best[0] as [string, number], worst[0] as [string, number])];
}

/** Pairs from rated responses grouped by prompt: per prompt, the highest rated against the lowest. */
export function ratingPairs(
  rated: readonly { prompt: string; response: unknown; rating: number; source: 'human' | 'model' }[],
): { pairs: PreferencePair[]; ties: string[]; single: string[] } {
  const byPrompt = new Map<string, typeof rated>();
  for (const r of rated) byPrompt.set(r.prompt, [...(byPrompt.get(r.prompt) ?? []), r]);
  const pairs: PreferencePair[] = [];
  const ties: string[] = [];
  const single: string[] = [];
  for (const [prompt, list] of byPrompt) {
    if (list.length < 2) {
      single.push(prompt);
      continue;
    }
    // the first of the highest and the first of the lowest (stable: file order)
    let hi = list[0] as (typeof list)[number];
    let lo = hi;
    for (const r of list) {
      if (r.rating > hi.rating) hi = r;
      if (r.rating < lo.rating) lo = r;
    }
    if (hi.rating === lo.rating) {
      ties.push(prompt);
      continue;
    }
    pairs.push({
      prompt,
      prompt_id: sha(prompt),
      chosen: hi.response,
      rejected: lo.response,
      chosen_rating: hi.rating,
      rejected_rating: lo.rating,
      source: hi.source === 'human' && lo.source === 'human' ? 'human' : 'model',
    });
  }
  return { pairs, ties, single };
}

export const QuestionPairsOptions = QuestionOptions.extend({
  file: z.string().min(1),
  question: z.string().min(1),
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
  /** The prompt's field; default the first of prompt, instruction, question, input, text, messages. */
  promptField: z.string().min(1).optional(),
  /** Ratings: the rated response's field; default response, then output, completion, generation. */
  responseField: z.string().min(1).optional(),
  /** Rankings: best against worst (default), or every pair of different ranks. */
  pairs: z.enum(['best-worst', 'all']).default('best-worst'),
  fields: FieldMap.optional(),
});
export type QuestionPairsOptions = z.input<typeof QuestionPairsOptions>;

export interface QuestionPairsResult {
  question: string;
  out: string;
  written: number;
  /** Records (rankings) or prompts (ratings) that made no pair, with the reason (the first 50). */
  skipped: { line?: number; prompt?: string; reason: string }[];
  skippedCount: number;
}

/** Operation `pairs`: preference pairs from a ranking or a rating question, written as JSONL. */
export function createQuestionPairsOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'pairs',
    title: 'Preference pairs from a question',
    description:
      'Chosen and rejected responses from a ranking (best against worst) or from ratings of responses to the same prompt.',
    options: QuestionPairsOptions,
    async run(options, ctx): Promise<QuestionPairsResult> {
      const q: Question | undefined = resolveQuestion({ ...options, input: options.file });
      if (!q || (q.type !== 'ranking' && q.type !== 'rating'))
        throw new UserError(
          `preference pairs come from a ranking or a rating question; "${options.question}" is ${q ? `a ${q.type} question` : 'not declared'}`,
        );
      const fields = options.fields ?? defaultFields;
      const rows: PreferencePair[] = [];
      const skipped: QuestionPairsResult['skipped'] = [];
      let skippedCount = 0;
      const skip = (s: QuestionPairsResult['skipped'][number]) => {
        skippedCount++;
        if (skipped.length < 50) skipped.push(s);
      };
      const rated: { prompt: string; response: unknown; rating: number; source: 'human' | 'model' }[] = [];
      let n = 0;
      for await (const l of iterateLines(open(options.file, ctx.signal))) {
        if ((n++ & 1023) === 0) {
          throwIfAborted(ctx.signal);
          ctx.progress({ done: n, unit: 'records' });
        }
        if (!l.value) continue;
        if (q.type === 'ranking') {
          const r = rankingPairs(l.value, q, { promptField: options.promptField, pairs: options.pairs, fields });
          if (typeof r === 'string') skip({ line: l.index + 1, reason: r });
          else rows.push(...r);
        } else {
          const rq: RatingQuestion = q;
          const c = answersOf(l.value, rq, fields).current;
          const rating = c && !c.problem ? ratingOf(c.value) : undefined;
          const prompt = promptOf(l.value, options.promptField);
          const response =
            options.responseField !== undefined
              ? getPath(l.value, options.responseField)
              : ['response', 'output', 'completion', 'generation']
                  .map((f) => l.value?.[f])
                  .find((x) => x !== undefined);
          if (rating === undefined) skip({ line: l.index + 1, reason: c?.problem ?? `no rating for "${q.name}"` });
          else if (prompt === undefined) skip({ line: l.index + 1, reason: 'no prompt' });
          else if (response === undefined)
            skip({
              line: l.index + 1,
              reason: `no response (${options.responseField ?? 'response, output, completion, generation'})`,
            });
          else rated.push({ prompt, response, rating, source: c?.source ?? 'model' });
        }
      }
      if (q.type === 'rating') {
        const r = ratingPairs(rated);
        rows.push(...r.pairs);
        for (const prompt of r.ties) skip({ prompt, reason: 'every response to the prompt has the same rating' });
        for (const prompt of r.single) skip({ prompt, reason: 'one rated response to the prompt: nothing to compare' });
      }
      const written = await writeLinesAtomic(
        options.out,
        rows.map((r) => JSON.stringify(r)),
        ctx.signal,
        options.overwrite,
      );
      ctx.log(`${written} pair(s) from "${q.name}" to ${options.out}; ${skippedCount} skipped`);
      return { question: q.name, out: options.out, written, skipped, skippedCount };
    },
  });
}
