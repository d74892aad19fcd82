// Question declarations: what a dataset asks of people and models, declared once beside the data.
// Six types, after Argilla's (label_selection, multi_label_selection, rating, ranking, text, span):
//
//   label        one label from `labels`                         value "billing"
//   multi-label  any of `labels` (none is an answer too)         value ["billing", "refund"]
//   rating       an integer on a scale [min, max]                value 4
//   ranking      an order of the candidates in a list `field`    value [{"value": "2", "rank": 1}, {"value": "1", "rank": 2}]
//   text         free text, e.g. a corrected `field`             value "The corrected answer."
//   span         labelled spans of a text `field`                value [{"label": "EMAIL", "start": 9, "end": 26, "text": "ana@example.com"}]
//
// Declarations live in `.curator/questions.json` (the nearest one in the dataset's folder or above;
// see ./declarations.ts). Without one, a dataset has today's single `label` question and nothing
// changes. Records keep the answers in the annotation layout (docs/record-layout.md): a person's
// under annotations.human.<name>, the models' under annotations.suggestions.<name>.
import { z } from 'zod';

export const QUESTION_TYPES = ['label', 'multi-label', 'rating', 'ranking', 'text', 'span'] as const;
export const QuestionType = z.enum(QUESTION_TYPES);
export type QuestionType = z.infer<typeof QuestionType>;

/** A question's name: the key under annotations.suggestions / annotations.human. */
export const QuestionName = z
  .string()
  .regex(/^[A-Za-z0-9_][\w-]{0,199}$/, 'letters, digits, _ and - (at most 200), e.g. "topics" or "pii"')
  .refine(
    (n) => !['__proto__', 'constructor', 'prototype'].includes(n),
    'not a name a JavaScript object can hold as a key',
  );

const LabelName = z
  .string()
  .min(1)
  .max(200)
  .refine((l) => l !== '__proto__', 'not a label a JavaScript object can hold as a key');

/** Display text and a description per label (Argilla's option `text` and `description`), optional. */
const LabelInfo = z.record(
  z.string(),
  z.object({ text: z.string().min(1).optional(), description: z.string().min(1).optional() }),
);

const Base = {
  name: QuestionName.describe('The key of its answers: annotations.human.<name>, annotations.suggestions.<name>.'),
  /** Shown to people (Argilla's title); default: the name. */
  title: z.string().min(1).max(500).optional().describe('Shown to people; default: the name.'),
  /** One line on what the question asks (Argilla's description). */
  description: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe('One line on what the question asks (people and the model see it).'),
  /** How to answer it: shown to annotators and given to the model as instructions. */
  guidelines: z
    .string()
    .optional()
    .describe('How to answer it: shown to annotators and given to the model as instructions.'),
  /** Whether a record needs an answer to count as done (Argilla's `required`). */
  required: z
    .boolean()
    .default(true)
    .describe("Whether a record needs an answer to count as done (Argilla's required)."),
};

function uniqueLabels(labels: readonly string[]): boolean {
  return new Set(labels).size === labels.length;
}

export const LabelQuestion = z.object({
  ...Base,
  type: z.literal('label'),
  labels: z.array(LabelName).min(2).refine(uniqueLabels, 'labels must be unique'),
  labelInfo: LabelInfo.optional(),
});

export const MultiLabelQuestion = z.object({
  ...Base,
  type: z.literal('multi-label'),
  labels: z.array(LabelName).min(2).refine(uniqueLabels, 'labels must be unique'),
  labelInfo: LabelInfo.optional(),
});

export const RatingQuestion = z
  .object({
    ...Base,
    type: z.literal('rating'),
    /** The scale, both ends included (integers). Argilla's ratings are 0..10 at most. */
    min: z.number().int(),
    max: z.number().int(),
  })
  .refine((q) => q.max > q.min, { error: 'a rating scale needs max above min', path: ['max'] })
  .refine((q) => q.max - q.min <= 100, { error: 'a rating scale has at most 101 points', path: ['max'] });

export const RankingQuestion = z
  .object({
    ...Base,
    type: z.literal('ranking'),
    /** The record's list field whose items are ranked (e.g. `generations`): candidate i is `"i"` (1-based) unless `options` names them. */
    field: z.string().min(1).optional(),
    /**
     * Names of the candidates (Argilla's option values): with `field`, the list's items in order
     * (default "1", "2", ...); without, the record's fields of those names (Argilla's way: fields
     * `response-1`, `response-2` ranked by a question with those options).
     */
    options: z.array(LabelName).min(2).refine(uniqueLabels, 'options must be unique').optional(),
  })
  .refine((q) => q.field !== undefined || q.options !== undefined, {
    error: 'a ranking needs the list field of candidates (field) or the fields to rank (options)',
    path: ['field'],
  });

export const TextQuestion = z.object({
  ...Base,
  type: z.literal('text'),
  /** The field the text answers or corrects (shown to the model); none: a free answer about the record. */
  field: z.string().min(1).optional(),
  useMarkdown: z.boolean().default(false),
});

export const SpanQuestion = z.object({
  ...Base,
  type: z.literal('span'),
  /** The text field the spans are in. */
  field: z.string().min(1),
  labels: z.array(LabelName).min(1).refine(uniqueLabels, 'labels must be unique'),
  labelInfo: LabelInfo.optional(),
  /** Whether spans may overlap (Argilla's allow_overlapping). */
  allowOverlapping: z.boolean().default(false),
});

export const Question = z.discriminatedUnion('type', [
  LabelQuestion,
  MultiLabelQuestion,
  RatingQuestion,
  RankingQuestion,
  TextQuestion,
  SpanQuestion,
]);
export type Question = z.output<typeof Question>;
export type QuestionInput = z.input<typeof Question>;
export type LabelQuestion = z.output<typeof LabelQuestion>;
export type MultiLabelQuestion = z.output<typeof MultiLabelQuestion>;
export type RatingQuestion = z.output<typeof RatingQuestion>;
export type RankingQuestion = z.output<typeof RankingQuestion>;
export type TextQuestion = z.output<typeof TextQuestion>;
export type SpanQuestion = z.output<typeof SpanQuestion>;

/** The questions of a dataset; names are unique. */
export const Questions = z.array(Question).superRefine((qs, ctx) => {
  const seen = new Set<string>();
  qs.forEach((q, i) => {
    if (seen.has(q.name))
      ctx.addIssue({ code: 'custom', message: `two questions are named "${q.name}"`, path: [i, 'name'] });
    seen.add(q.name);
  });
});

// ---------------------------------------------------------------------------------------------
// Values, per type

/** One span: [start, end) in Unicode code points of the field's text (as Python and Argilla count), its label, and the text it covers. */
export const SpanValue = z.object({
  label: z.string().min(1),
  start: z.number().int().min(0),
  end: z.number().int().min(1),
  /** The covered text, kept so a later edit of the field that moves it is caught, not silently shifted. */
  text: z.string().optional(),
});
export type SpanValue = z.infer<typeof SpanValue>;

/** One ranked candidate: Argilla's ranking value item. Equal ranks are ties. */
export const RankValue = z.object({ value: z.string().min(1), rank: z.number().int().min(1) });
export type RankValue = z.infer<typeof RankValue>;

/** The value type of each question type. */
export interface ValueOf {
  label: string;
  'multi-label': string[];
  rating: number;
  ranking: RankValue[];
  text: string;
  span: SpanValue[];
}
export type AnswerValue = ValueOf[QuestionType];

/** The candidate names of a ranking question for a list of n candidates. */
export function candidateIds(q: RankingQuestion, n: number): string[] {
  if (q.options && q.options.length >= n) return q.options.slice(0, n);
  return Array.from({ length: n }, (_, i) => q.options?.[i] ?? String(i + 1));
}

/** The labels a question offers (label, multi-label, span), else none. */
export function labelsOf(q: Question): readonly string[] {
  return q.type === 'label' || q.type === 'multi-label' || q.type === 'span' ? q.labels : [];
}

/** A short description of a question for messages and `curate questions`: `topics (multi-label: billing, refund, other)`. */
export function describeQuestion(q: Question): string {
  switch (q.type) {
    case 'label':
    case 'multi-label':
      return `${q.name} (${q.type}: ${q.labels.join(', ')})`;
    case 'rating':
      return `${q.name} (rating ${q.min}-${q.max})`;
    case 'ranking':
      return `${q.name} (ranking of ${q.field ?? q.options?.join(', ')}${q.field && q.options ? `: ${q.options.join(', ')}` : ''})`;
    case 'text':
      return `${q.name} (text${q.field ? ` for ${q.field}` : ''})`;
    case 'span':
      return `${q.name} (spans of ${q.field}: ${q.labels.join(', ')})`;
  }
}
