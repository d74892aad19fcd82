// Thresholds on the annotation: the judge's score, the model's confidence (its suggestion's score)
// and the agreement between several judges; and the uncertainty-guided split between the LLM and
// people: records the model is unsure about (or the judges disagree on) go to a human review queue.
import { openStore } from '../sources';
import { z } from 'zod';
import { defineOperation } from '../operation';
import { QuestionReviewOptions, questionReviewReasons, type QuestionReviewReason } from '../questions/filters';
import { resolveQuestion } from '../questions/resolve';
import {
  iterateLines,
  judgeOf,
  throwIfAborted,
  topSuggestion,
  humanOf,
  reviewStatusOf,
  type FieldEdit,
  type LineSource,
} from './fields';

/** The judge's score: `judge.score`, else the first of `judges[]`. */
export function judgeScore(value: Record<string, unknown>): number | undefined {
  return judgeOf(value)?.score;
}

/** The model's confidence for a question: the score of its top suggestion (0..1). */
export function confidence(value: Record<string, unknown>, question = 'label'): number | undefined {
  return topSuggestion(value, question)?.score;
}

// Judges' agreement is pure (the editor's page and session read it too): ./judge-agreement.
export { DEFAULT_DISAGREEMENT, judgeAgreement, judgesDisagree, type JudgeAgreement } from './judge-agreement';
import { judgeAgreement } from './judge-agreement';

export const ThresholdOptions = z.object({
  /** Keep records whose judge score is at least this (in the judge's own scale). */
  minScore: z.number().optional(),
  maxScore: z.number().optional(),
  /** Keep records whose model confidence is at least this (0..1). */
  minConfidence: z.number().min(0).max(1).optional(),
  /** The question whose suggestion gives the confidence. */
  question: z.string().default('label'),
  /** Keep records whose judges (judges[], 2 or more) differ by at most this (max - min)... */
  maxJudgeSpread: z.number().min(0).optional(),
  /** ...or whose judges' standard deviation is at most this. */
  maxJudgeStdev: z.number().min(0).optional(),
});
export type ThresholdOptions = z.input<typeof ThresholdOptions>;

/** A named check of a threshold; a record lacking the figure fails it. */
export interface ThresholdCheck {
  name: string;
  test(value: Record<string, unknown>): boolean;
}

/**
 * The checks the options ask for, each named for reports (`judge.score >= 7`, `confidence >= 0.8`).
 * A record without a judge score fails a score bound, one without a suggestion score fails the
 * confidence bound; a record with fewer than two judges passes the agreement bounds (there is no
 * disagreement to measure).
 */
export function thresholdChecks(options: ThresholdOptions): ThresholdCheck[] {
  const o = ThresholdOptions.parse(options);
  const checks: ThresholdCheck[] = [];
  if (o.minScore !== undefined) {
    const min = o.minScore;
    checks.push({ name: `judge.score >= ${min}`, test: (v) => (judgeScore(v) ?? -Infinity) >= min });
  }
  if (o.maxScore !== undefined) {
    const max = o.maxScore;
    checks.push({ name: `judge.score <= ${max}`, test: (v) => (judgeScore(v) ?? Infinity) <= max });
  }
  if (o.minConfidence !== undefined) {
    const min = o.minConfidence;
    checks.push({
      name: `confidence(${o.question}) >= ${min}`,
      test: (v) => (confidence(v, o.question) ?? -Infinity) >= min,
    });
  }
  if (o.maxJudgeSpread !== undefined) {
    const max = o.maxJudgeSpread;
    checks.push({ name: `judge spread <= ${max}`, test: (v) => (judgeAgreement(v)?.spread ?? 0) <= max });
  }
  if (o.maxJudgeStdev !== undefined) {
    const max = o.maxJudgeStdev;
    checks.push({ name: `judge stdev <= ${max}`, test: (v) => (judgeAgreement(v)?.stdev ?? 0) <= max });
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------
// The review queue

export const ReviewQueueOptions = z.object({
  /** Records whose model confidence is below this go to people. */
  minConfidence: z.number().min(0).max(1).default(0.8),
  question: z.string().default('label'),
  /** Records whose judges disagree by more than this (max - min) go to people too. */
  maxJudgeSpread: z.number().min(0).optional(),
  maxJudgeStdev: z.number().min(0).optional(),
  /** Records without a suggestion (no confidence): to people (default) or left to the model. */
  missing: z.enum(['review', 'skip']).default('review'),
  /** Skip records a person already decided (annotations.human.<question>) or reviewed (a review status other than pending: reviewed, rejected). */
  skipDecided: z.boolean().default(true),
  /** The queue's name, written to annotations.review.queue. */
  queue: z.string().min(1).default('low-confidence'),
  // Per question (src/core/questions/filters.ts): models that disagree, suggestions that no longer fit.
  ...QuestionReviewOptions.shape,
  labels: z.array(z.string().min(1)).optional(),
});
export type ReviewQueueOptions = z.input<typeof ReviewQueueOptions>;

export type ReviewReason = 'low-confidence' | 'no-confidence' | 'judges-disagree' | QuestionReviewReason;

export interface ReviewQueue {
  queue: string;
  /** Indices of the records for people, ascending. */
  indices: number[];
  /** Why each one is there. */
  reasons: Record<number, ReviewReason[]>;
  /** Records left to the model (confident enough). */
  automatic: number;
  /** Records skipped: invalid lines, or already decided by a person. */
  skipped: number;
}

/** The uncertainty-guided split: which records people should review. */
export async function reviewQueue(
  source: LineSource,
  options: ReviewQueueOptions = {},
  signal?: AbortSignal,
): Promise<ReviewQueue> {
  const o = ReviewQueueOptions.parse(options);
  const out: ReviewQueue = { queue: o.queue, indices: [], reasons: {}, automatic: 0, skipped: 0 };
  // A declared question (or one described by its type) adds its own reasons (src/core/questions/filters.ts).
  const file = (options as { file?: string }).file;
  const q = file ? resolveQuestion({ ...o, input: file }) : undefined;
  let n = 0;
  for await (const line of iterateLines(source)) {
    if ((n++ & 1023) === 0) throwIfAborted(signal);
    const v = line.value;
    if (!v || line.invalid) {
      out.skipped++;
      continue;
    }
    const status = reviewStatusOf(v);
    if (o.skipDecided && (humanOf(v, o.question) !== undefined || (status !== undefined && status !== 'pending'))) {
      out.skipped++;
      continue;
    }
    const reasons: ReviewReason[] = [];
    const c = confidence(v, o.question);
    if (c === undefined) {
      if (o.missing === 'review') reasons.push('no-confidence');
    } else if (c < o.minConfidence) reasons.push('low-confidence');
    const agree = judgeAgreement(v);
    if (
      agree &&
      ((o.maxJudgeSpread !== undefined && agree.spread > o.maxJudgeSpread) ||
        (o.maxJudgeStdev !== undefined && agree.stdev > o.maxJudgeStdev))
    ) {
      reasons.push('judges-disagree');
    }
    if (q) reasons.push(...questionReviewReasons(v, q, o));
    if (reasons.length > 0) {
      out.indices.push(line.index);
      out.reasons[line.index] = reasons;
    } else out.automatic++;
  }
  out.indices.sort((a, b) => a - b);
  return out;
}

/** The field edits that put records in a review queue: review.status = 'pending', review.queue = name. */
export function markForReview(indices: readonly number[], queue: string): FieldEdit[] {
  const edits: FieldEdit[] = [];
  for (const index of indices) {
    edits.push({ index, path: ['annotations', 'review', 'status'], value: 'pending' });
    edits.push({ index, path: ['annotations', 'review', 'queue'], value: queue });
  }
  return edits;
}

export const ReviewQueueOperationOptions = ReviewQueueOptions.extend({
  file: z.string().min(1),
  /** Also return the edits that mark the records (the caller applies them as one undoable edit). */
  mark: z.boolean().default(false),
});

/** Operation `review-queue`: which records go to people, and (with mark) the edits that queue them. */
export function createReviewQueueOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'review-queue',
    title: 'Review queue',
    description: 'Sends the records the model is unsure about (or the judges disagree on) to a human review queue.',
    options: ReviewQueueOperationOptions,
    async run(options, ctx) {
      ctx.progress({ done: 0, unit: 'records', message: 'reading' });
      const q = await reviewQueue(open(options.file, ctx.signal), options, ctx.signal);
      ctx.progress({ done: q.indices.length + q.automatic + q.skipped, unit: 'records' });
      ctx.log(
        `${q.indices.length} records for review in '${q.queue}', ${q.automatic} left to the model, ${q.skipped} skipped`,
      );
      return { ...q, edits: options.mark ? markForReview(q.indices, q.queue) : [] };
    },
  });
}

export const reviewQueueOperation = createReviewQueueOperation();
