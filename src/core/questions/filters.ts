// Filters and the review queue per question. A record's answer to a question is the person's
// (submitted), else the top model suggestion's (./layout.ts). The checks, each named for reports:
//   quality >= 4, quality <= 2          a rating's bounds (minRating, maxRating)
//   topics has refund                   the answer includes a label (multi-label, label, span labels)
//   topics lacks spam                   ... or does not
//   pii answered by a person            a person answered (answered: 'human'), or anyone did ('any')
//   pii answer fits                     the answer fits the question and the record (a span still at its text)
// A record without an answer fails a bound or a "has" (it has nothing), passes a "lacks".
// The review queue adds two reasons per question: the models disagree (their answers differ; for
// ratings by more than a spread), and the suggestion does not fit the record any more.
import { z } from 'zod';
import { UserError } from '../operation';
import { defaultFields, type FieldMap } from '../schema/annotation';
import { answersOf, type QuestionAnswers } from './layout';
import { QuestionOptions, resolveQuestion } from './resolve';
import type { Question } from './schema';
import { labelSetOf, ranksOf, ratingOf, spansOf } from './values';

export const QuestionFilterOptions = QuestionOptions.extend({
  minRating: z.number().optional(),
  maxRating: z.number().optional(),
  /** Keep records whose answer has every one of these labels. */
  hasLabels: z.array(z.string().min(1)).default([]),
  /** Keep records whose answer has none of these labels. */
  lacksLabels: z.array(z.string().min(1)).default([]),
  /** Keep records a person answered ('human') or anyone answered ('any'). */
  answered: z.enum(['human', 'any']).optional(),
  /** Keep records whose answer fits the question and the record (drop spans that moved, ratings off the scale). */
  validAnswers: z.boolean().default(false),
  /** The labels of a question described by its type (span labels, multi-labels), when not declared. */
  labels: z.array(z.string().min(1)).optional(),
});
export type QuestionFilterOptions = z.input<typeof QuestionFilterOptions>;

type Rec = Record<string, unknown>;

export interface QuestionCheck {
  name: string;
  test(value: Rec): boolean;
}

/** The labels an answer carries: a label, the labels of a multi-label answer, the labels of its spans. */
function answerLabels(v: unknown): string[] | undefined {
  const set = labelSetOf(v);
  if (set) return set;
  const spans = spansOf(v);
  return spans ? [...new Set(spans.map((s) => s.label))] : undefined;
}

/**
 * The question checks the options ask for (none: []). `input` is the dataset, for its
 * declarations; `question` the question's name (required with any check).
 */
export function questionChecks(
  o: z.output<typeof QuestionFilterOptions> & { question?: string },
  input: string | undefined,
  fields: FieldMap = defaultFields,
): QuestionCheck[] {
  const wants =
    o.minRating !== undefined ||
    o.maxRating !== undefined ||
    o.hasLabels.length > 0 ||
    o.lacksLabels.length > 0 ||
    o.answered !== undefined ||
    o.validAnswers;
  if (!wants) return [];
  const name = o.question;
  if (!name || name === fields.question) {
    if (o.validAnswers || o.minRating !== undefined || o.maxRating !== undefined)
      throw new UserError(
        'the rating bounds and the answer check need a question (a declared question, or one described by its type)',
        2,
        'question',
      );
  }
  const q: Question | undefined = input && name ? resolveQuestion({ ...o, input, question: name, fields }) : undefined;
  if (o.validAnswers && !q)
    throw new UserError(`checking answers needs the question "${name}" declared (or its type given)`);
  if ((o.minRating !== undefined || o.maxRating !== undefined) && q && q.type !== 'rating')
    throw new UserError(`"${q.name}" is a ${q.type} question, not a rating`);
  const qn = name ?? fields.question;
  // The answer: with a declaration, read and checked through the layout; without, the raw values.
  const single = qn === fields.question;
  const read = (v: Rec): QuestionAnswers['current'] => {
    const ann = v[fields.annotations];
    const human = ann && typeof ann === 'object' ? (ann as Rec).human : undefined;
    const h = human && typeof human === 'object' ? (human as Rec)[qn] : undefined;
    const decided = !!h && typeof h === 'object' && 'value' in h && (h as Rec).status === 'submitted';
    // the single-label question's answer is the top-level label (the person's when decided, else the source's or a model's), as the rules read it
    if (single && v[fields.label] !== undefined && v[fields.label] !== null)
      return { value: v[fields.label], source: decided ? 'human' : 'model' };
    if (q) return answersOf(v, q, fields).current;
    if (h && typeof h === 'object' && 'value' in h && (h as Rec).status !== 'discarded')
      return { value: (h as Rec).value, source: 'human' };
    const sug = ann && typeof ann === 'object' ? (ann as Rec).suggestions : undefined;
    const list = sug && typeof sug === 'object' ? (sug as Rec)[qn] : undefined;
    if (Array.isArray(list)) {
      let best: Rec | undefined;
      for (const item of list as unknown[]) {
        if (!item || typeof item !== 'object' || !('value' in item)) continue;
        const s = item as Rec;
        if (
          (s.type ?? 'model') === 'model' &&
          (!best || (typeof s.score === 'number' ? s.score : -1) > (typeof best.score === 'number' ? best.score : -1))
        )
          best = s;
      }
      if (best) return { value: best.value, source: 'model' };
    }
    return undefined;
  };
  const checks: QuestionCheck[] = [];
  if (o.minRating !== undefined) {
    const min = o.minRating;
    checks.push({ name: `${qn} >= ${min}`, test: (v) => (ratingOf(read(v)?.value) ?? -Infinity) >= min });
  }
  if (o.maxRating !== undefined) {
    const max = o.maxRating;
    checks.push({ name: `${qn} <= ${max}`, test: (v) => (ratingOf(read(v)?.value) ?? Infinity) <= max });
  }
  for (const l of o.hasLabels)
    checks.push({ name: `${qn} has ${l}`, test: (v) => answerLabels(read(v)?.value)?.includes(l) ?? false });
  for (const l of o.lacksLabels)
    checks.push({ name: `${qn} lacks ${l}`, test: (v) => !(answerLabels(read(v)?.value)?.includes(l) ?? false) });
  if (o.answered === 'human')
    checks.push({ name: `${qn} answered by a person`, test: (v) => read(v)?.source === 'human' });
  if (o.answered === 'any') checks.push({ name: `${qn} answered`, test: (v) => read(v) !== undefined });
  if (o.validAnswers && q)
    checks.push({
      name: `${qn} answer fits`,
      test: (v) => {
        const c = answersOf(v, q, fields).current;
        return c !== undefined && c.problem === undefined;
      },
    });
  return checks;
}

// ---------------------------------------------------------------------------------------------
// The review queue

export const QuestionReviewOptions = QuestionOptions.extend({
  /** Send records whose models disagree on the question (2 or more models' answers differ). */
  modelsDisagree: z.boolean().default(false),
  /** Ratings: models disagree when their ratings differ by more than this. */
  maxRatingSpread: z.number().min(0).default(0),
});

export type QuestionReviewReason = 'models-disagree' | 'invalid-suggestion';

/**
 * Extra review reasons for a record and question: the models disagree (ratings: spread above
 * maxRatingSpread; rankings: different best candidates; others: different answers), and the top
 * suggestion does not fit the record (a span no longer at its text).
 */
export function questionReviewReasons(
  v: Rec,
  q: Question,
  o: z.output<typeof QuestionReviewOptions>,
  fields: FieldMap = defaultFields,
): QuestionReviewReason[] {
  const a = answersOf(v, q, fields);
  const out: QuestionReviewReason[] = [];
  const models = new Map<string, unknown>();
  for (const s of a.suggestions)
    if (s.type === 'model' && !s.problem && !models.has(s.agent ?? `#${s.position}`))
      models.set(s.agent ?? `#${s.position}`, s.value);
  if (o.modelsDisagree && models.size >= 2) {
    const values = [...models.values()];
    let disagree: boolean;
    if (q.type === 'rating') {
      const rs = values.map(ratingOf).filter((x): x is number => x !== undefined);
      disagree = rs.length >= 2 && Math.max(...rs) - Math.min(...rs) > o.maxRatingSpread;
    } else if (q.type === 'ranking') {
      const firsts = values.map((x) => {
        const m = ranksOf(x);
        return m ? [...m].sort((p, r) => p[1] - r[1])[0]?.[0] : undefined;
      });
      disagree = new Set(firsts).size > 1;
    } else disagree = new Set(values.map((x) => JSON.stringify(x))).size > 1;
    if (disagree) out.push('models-disagree');
  }
  const top = a.suggestions.filter((s) => s.type === 'model').sort((x, y) => (y.score ?? -1) - (x.score ?? -1))[0];
  if (top?.problem) out.push('invalid-suggestion');
  return out;
}
