// Agreement on one question of any type, between everyone who answered it: the person of this file
// (annotations.human), each model (its suggestion, by agent), and another annotator's copy of the
// file (a gold file: its annotations.human, joined by line or by a key). Human-model, human-human
// and model-model, every pair, with the type's figures (./question-metrics.ts); for ratings also
// Krippendorff's alpha (interval) over all raters. Answers that do not fit the question (a span not
// at its text, a rating off the scale) are counted per rater and left out.
import { z } from 'zod';
import { defineOperation, UserError } from '../operation';
import { getPath, iterateLines, throwIfAborted, type LineSource } from '../filter/fields';
import { openStore } from '../sources';
import { defaultFields, FieldMap } from '../schema/annotation';
import { answersOf } from '../questions/layout';
import { QuestionOptions, resolveQuestion } from '../questions/resolve';
import type { Question } from '../questions/schema';
import { checkAnswer, labelSetOf, ranksOf, spansOf } from '../questions/values';
import {
  classificationMetrics,
  krippendorffAlphaInterval,
  labelKey,
  type ClassificationMetrics,
} from './agreement-core';
import {
  multiLabelAgreement,
  rankingAgreement,
  ratingAgreement,
  spanAgreement,
  textAgreement,
  type MultiLabelAgreement,
  type RankingAgreement,
  type RatingAgreement,
  type SpanAgreement,
  type TextAgreement,
} from './question-metrics';
import { PeopleCounter, type AnnotatorsReport } from './people';

export const QuestionAgreementOptions = QuestionOptions.extend({
  file: z.string().min(1),
  question: z.string().min(1),
  labels: z.array(z.string().min(1)).optional(),
  /** Another annotator's copy of the file (or a gold file): its people's answers are the rater `goldName`. */
  gold: z.string().min(1).optional(),
  /** How gold records are matched: 'index' (line order) or a key path such as 'id'. */
  joinOn: z.string().default('index'),
  /** The gold answers' field instead of the gold file's annotations.human.<question> (a dotted path). */
  goldField: z.string().min(1).optional(),
  /** The gold file's rater name in the report. */
  goldName: z.string().min(1).default('gold'),
  fields: FieldMap.optional(),
});
export type QuestionAgreementOptions = z.input<typeof QuestionAgreementOptions>;

export type PairMetrics =
  ClassificationMetrics | MultiLabelAgreement | RatingAgreement | RankingAgreement | SpanAgreement | TextAgreement;

export interface RaterSummary {
  name: string;
  kind: 'human' | 'model' | 'gold';
  /** Records this rater answered (with a valid answer). */
  answers: number;
  /** Answers that do not fit the question, left out. */
  invalid: number;
}

export interface QuestionAgreementReport {
  question: { name: string; type: Question['type'] };
  records: number;
  raters: RaterSummary[];
  /** Every pair of raters (people first), over the records both answered. */
  pairs: { a: string; b: string; n: number; metrics: PairMetrics }[];
  /** Ratings: Krippendorff's alpha (interval) over every rater and record with 2 or more answers. */
  alpha?: number | null;
  /** A few of the invalid answers, with the reason. */
  problems: { line: number; rater: string; reason: string }[];
  /**
   * Between people: each person's submitted answer (annotations.decisions / annotations.human, by
   * user), compared as equal or not (nominal): Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha.
   */
  people: AnnotatorsReport;
}

type Rec = Record<string, unknown>;

/** Agreement on one question over a file (and a gold file). */
export async function questionAgreement(
  q: Question,
  source: LineSource,
  options: QuestionAgreementOptions,
  gold?: LineSource,
  signal?: AbortSignal,
): Promise<QuestionAgreementReport> {
  const o = QuestionAgreementOptions.parse(options);
  const fields = o.fields ?? defaultFields;
  const goldBy = new Map<string | number, Rec>();
  if (gold) {
    for await (const l of iterateLines(gold)) {
      if (!l.value) continue;
      const key = o.joinOn === 'index' ? l.index : getPath(l.value, o.joinOn);
      if (key !== undefined && key !== null) goldBy.set(typeof key === 'number' ? key : labelKey(key), l.value);
    }
  }
  const raters = new Map<string, RaterSummary>();
  const rater = (name: string, kind: RaterSummary['kind']): RaterSummary => {
    let r = raters.get(name);
    if (!r) raters.set(name, (r = { name, kind, answers: 0, invalid: 0 }));
    return r;
  };
  const rows: Map<string, unknown>[] = [];
  const problems: QuestionAgreementReport['problems'] = [];
  const people = new PeopleCounter(q.name, fields.annotations);
  let records = 0;
  let n = 0;
  for await (const l of iterateLines(source)) {
    if ((n++ & 1023) === 0) throwIfAborted(signal);
    const v = l.value;
    if (!v) continue;
    records++;
    people.add(v);
    const row = new Map<string, unknown>();
    const put = (name: string, kind: RaterSummary['kind'], value: unknown, problem: string | undefined) => {
      const r = rater(name, kind);
      if (problem !== undefined) {
        r.invalid++;
        if (problems.length < 20) problems.push({ line: l.index + 1, rater: name, reason: problem });
      } else {
        r.answers++;
        row.set(name, value);
      }
    };
    const a = answersOf(v, q, fields);
    if (a.human && a.human.status === 'submitted') put('human', 'human', a.human.value, a.human.problem);
    const seen = new Set<string>();
    a.suggestions.forEach((s, i) => {
      if (s.type !== 'model') return;
      const name = s.agent ?? `model#${i + 1}`;
      if (seen.has(name)) return; // one answer per model (its first: a self-consistency vote sits beside its label)
      seen.add(name);
      put(name, 'model', s.value, s.problem);
    });
    if (gold) {
      const key = o.joinOn === 'index' ? l.index : getPath(v, o.joinOn);
      const g =
        key === undefined || key === null ? undefined : goldBy.get(typeof key === 'number' ? key : labelKey(key));
      if (g) {
        if (o.goldField !== undefined) {
          const raw = getPath(g, o.goldField);
          if (raw !== undefined && raw !== null) {
            const c = checkAnswer(q, raw, v);
            put(o.goldName, 'gold', c.ok ? c.value : raw, c.ok ? undefined : c.reason);
          }
        } else {
          const h = answersOf(g, q, fields).human;
          if (h && h.status === 'submitted') {
            // the other annotator's answer, checked against this file's record (spans: the same text)
            const c = checkAnswer(q, h.value, v);
            put(o.goldName, 'gold', c.ok ? c.value : h.value, c.ok ? undefined : c.reason);
          }
        }
      }
    }
    // a record one rater answered adds to no pair and no alpha: only its counts are kept
    if (row.size >= 2) rows.push(row);
  }
  const kindOrder = { human: 0, gold: 1, model: 2 } as const;
  const names = [...raters.values()]
    .sort((x, y) => kindOrder[x.kind] - kindOrder[y.kind] || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((r) => r.name);
  const pairs: QuestionAgreementReport['pairs'] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = names[i] as string;
      const b = names[j] as string;
      const both = rows.filter((r) => r.has(a) && r.has(b)).map((r) => [r.get(a), r.get(b)] as const);
      pairs.push({ a, b, n: both.length, metrics: pairMetrics(q, both) });
    }
  }
  const report: QuestionAgreementReport = {
    question: { name: q.name, type: q.type },
    records,
    raters: names.map((nm) => raters.get(nm) as RaterSummary),
    pairs,
    problems,
    people: people.report(),
  };
  if (q.type === 'rating')
    report.alpha = krippendorffAlphaInterval(rows.map((r) => names.map((nm) => r.get(nm) as number | undefined)));
  return report;
}

function pairMetrics(q: Question, both: readonly (readonly [unknown, unknown])[]): PairMetrics {
  switch (q.type) {
    case 'label':
      return classificationMetrics(both.map(([a, b]) => [labelKey(a), labelKey(b)] as const));
    case 'multi-label':
      return multiLabelAgreement(
        both.map(([a, b]) => [labelSetOf(a) ?? [], labelSetOf(b) ?? []] as const),
        q.labels,
      );
    case 'rating':
      return ratingAgreement(
        both.map(([a, b]) => [a as number, b as number] as const),
        q.min,
        q.max,
      );
    case 'ranking':
      return rankingAgreement(
        both.map(
          ([a, b]) => [ranksOf(a) ?? new Map<string, number>(), ranksOf(b) ?? new Map<string, number>()] as const,
        ),
      );
    case 'span':
      return spanAgreement(both.map(([a, b]) => [spansOf(a) ?? [], spansOf(b) ?? []] as const));
    case 'text':
      return textAgreement(both.map(([a, b]) => [String(a), String(b)] as const));
  }
}

/** Operation `agreement` for a question of any type (`curate agreement FILE --question NAME`). */
export function createQuestionAgreementOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'question-agreement',
    title: 'Agreement on a question',
    description:
      'Agreement between people, models and another annotator on a question of any type (multi-label, rating, ranking, span, text, label).',
    options: QuestionAgreementOptions,
    async run(options, ctx) {
      const q = resolveQuestion({ ...options, input: options.file });
      if (!q)
        throw new UserError(
          `"${options.question}" is not a declared question; declare it in .curator/questions.json or give its type (multi-label with labels, a rating scale, a ranking field, span labels over a field, or text)`,
        );
      ctx.progress({ done: 0, unit: 'records', message: 'reading' });
      const r = await questionAgreement(
        q,
        open(options.file, ctx.signal),
        options,
        options.gold ? open(options.gold, ctx.signal) : undefined,
        ctx.signal,
      );
      ctx.progress({ done: r.records, total: r.records, unit: 'records' });
      return r;
    },
  });
}
