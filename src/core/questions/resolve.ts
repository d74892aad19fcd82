// Which question an operation works on: the one its options name, from the dataset's declarations
// (.curator/questions.json) or from the options themselves (the CLI's --multi-label, --rating 1-5,
// --rank FIELD, --spans A,B --field F, --text). No question type and no declaration: undefined, and
// the operation does what it always did with the single `label` question.
import { z } from 'zod';
import { UserError } from '../operation';
import { defaultFields, type FieldMap } from '../schema/annotation';
import { declaredQuestion, findQuestionsFile, questionsFor } from './declarations';
import { Question, QuestionType, describeQuestion } from './schema';

/** The options every question-aware operation takes (annotate, agreement, filter, review-queue), flat, as the CLI flags map onto them. */
export const QuestionOptions = z.object({
  /** The question's type when it is not declared (or to state it: a declared question of another type is an error). */
  questionType: QuestionType.optional(),
  /** rating: the scale [min, max]. */
  scale: z.tuple([z.number().int(), z.number().int()]).optional(),
  /** ranking: the list field of candidates; span: the text field; text: the field answered or corrected. */
  questionField: z.string().min(1).optional(),
  /** span: whether spans may overlap. */
  allowOverlapping: z.boolean().optional(),
  /** The declaration file; default: the nearest .curator/questions.json in the dataset's folder or above. */
  questionsFile: z.string().optional(),
});
export type QuestionOptions = z.input<typeof QuestionOptions>;

/** The annotate operation's few-shot demonstrations for a question of another type: records a person answered, with the answer. */
export const AnswerExamples = z.object({
  answerExamples: z.array(z.object({ record: z.record(z.string(), z.unknown()), value: z.unknown() })).default([]),
});

export interface ResolveInput extends QuestionOptions {
  /** The dataset (for its declarations). */
  input: string;
  /** The question's name; default: the layout's single-label question (FieldMap.question). */
  question?: string;
  labels?: readonly string[];
  fields?: FieldMap;
}

/** The parts of a question the options give (only those given). */
function overrides(o: ResolveInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o.labels && o.labels.length > 0) out.labels = [...o.labels];
  if (o.scale) {
    out.min = o.scale[0];
    out.max = o.scale[1];
  }
  if (o.questionField) out.field = o.questionField;
  if (o.allowOverlapping !== undefined) out.allowOverlapping = o.allowOverlapping;
  return out;
}

const NEEDS: Partial<Record<QuestionType, [string, string]>> = {
  'multi-label': ['labels', 'at least two labels'],
  label: ['labels', 'at least two labels'],
  rating: ['min', 'a scale, e.g. 1-5'],
  ranking: ['field', 'the list field of candidates to rank'],
  span: ['field', 'the text field the spans are in'],
};

/**
 * The question the options ask about, or undefined for today's single label (no type given and
 * nothing declared under that name). A type given in the options that contradicts the declaration
 * is an error; options of the same type refine it (other labels, another scale or field).
 */
export function resolveQuestion(o: ResolveInput): Question | undefined {
  const fields = o.fields ?? defaultFields;
  const name = o.question ?? fields.question;
  const file = o.questionsFile ?? findQuestionsFile(o.input);
  const declared = file ? declaredQuestion(o.input, name, file) : undefined;
  let q: Question | undefined;
  if (!o.questionType) q = declared;
  else if (declared && declared.type !== o.questionType) {
    throw new UserError(
      `"${name}" is declared as ${describeQuestion(declared)} in ${file}, not as a ${o.questionType} question`,
    );
  } else {
    const merged: Record<string, unknown> = { ...(declared ?? { name, type: o.questionType }), ...overrides(o) };
    const need = NEEDS[o.questionType];
    if (need && merged[need[0]] === undefined)
      throw new UserError(`the ${o.questionType} question "${name}" needs ${need[1]}`);
    if (o.questionType === 'span' && merged.labels === undefined)
      throw new UserError(`the span question "${name}" needs its span labels, e.g. EMAIL,PHONE`);
    const p = Question.safeParse(merged);
    if (!p.success) throw new UserError(`the ${o.questionType} question "${name}": ${z.prettifyError(p.error)}`);
    q = p.data;
  }
  if (q && q.type !== 'label' && q.name === fields.question) {
    throw new UserError(
      `"${q.name}" is the dataset's single-label question (the top-level ${fields.label}); give the ${q.type} question its own name, e.g. topics`,
      2,
      'question',
    );
  }
  return q;
}

/** Every declared question of a dataset (empty: only today's single label). */
export function datasetQuestions(input: string, questionsFile?: string): Question[] {
  return questionsFor(input, questionsFile ?? findQuestionsFile(input)).questions;
}
