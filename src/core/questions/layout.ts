// The record layout of every question type (docs/record-layout.md): a person's answer under
// annotations.human.<question>, each model's under annotations.suggestions.<question>[], side by
// side, through the helpers of src/core/schema/annotation.ts. Values per type are in ./schema.ts.
//
//   "annotations": {
//     "suggestions": {
//       "topics":  [{ "value": ["billing", "refund"], "score": 0.7, "label_scores": {"billing": 0.9, "refund": 0.7, "other": 0.1},
//                     "agent": "gpt-4o-mini", "type": "model", "rationale": "…", "provenance": {…} }],
//       "quality": [{ "value": 4, "score": 0.8, "agent": "gpt-4o-mini", … }],
//       "best":    [{ "value": [{"value": "2", "rank": 1}, {"value": "1", "rank": 2}], … }],
//       "pii":     [{ "value": [{"label": "EMAIL", "start": 9, "end": 24, "text": "ana@example.com"}], … }]
//     },
//     "human": { "topics": { "value": ["billing"], "user": "maria", "status": "submitted", "time": "…" } }
//   }
//
// Only the dataset's single-label question (FieldMap.question, default `label`) also writes the
// top-level `label` field, as today; other questions never write top-level fields (a text question
// correcting `response` keeps `response` as it is, the correction beside it).
import {
  defaultFields,
  diffFields,
  HumanDecision,
  putDecision,
  rejectSuggestion,
  withHumanLabel,
  withSuggestion,
  type FieldEdit,
  type FieldMap,
  type Suggestion,
  type When,
} from '../schema/annotation';
import type { Question } from './schema';
import { checkAnswer } from './values';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

export type { When };

/** A person's or a model's answer to one question, as the editor and the metrics read it. */
export interface AnswerView {
  value: unknown;
  /** Why the value does not fit the question (or the record, for spans and rankings); absent when it fits. */
  problem?: string;
}

export interface SuggestionAnswer extends AnswerView {
  position: number;
  score?: number;
  /** Multi-label: the confidence in each label. */
  labelScores?: Record<string, number>;
  agent?: string;
  type: 'model' | 'human';
  rationale?: string;
  task?: string;
  model?: string;
  time?: string;
}

export interface HumanAnswer extends AnswerView {
  user?: string;
  status: 'submitted' | 'discarded' | 'draft';
  time?: string;
}

/** One question of a record: the person's decision beside every model's suggestion. */
export interface QuestionAnswers {
  question: Question;
  human?: HumanAnswer;
  suggestions: SuggestionAnswer[];
  /** The answer that counts: the person's (submitted), else the top model suggestion (highest score, first on ties). */
  current?: { value: unknown; source: 'human' | 'model'; problem?: string };
}

function annotationsObj(record: Rec, fields: FieldMap): Rec {
  const a = record[fields.annotations];
  return isObj(a) ? a : {};
}

/** Reads one question's answers from a record (wrong types read as absent, never an error). */
export function answersOf(record: Rec, q: Question, fields: FieldMap = defaultFields): QuestionAnswers {
  const ann = annotationsObj(record, fields);
  const suggestions: SuggestionAnswer[] = [];
  const list = isObj(ann.suggestions) ? ann.suggestions[q.name] : undefined;
  if (Array.isArray(list)) {
    list.forEach((raw, position) => {
      if (!isObj(raw) || !('value' in raw)) return;
      const checked = checkAnswer(q, raw.value, record);
      const prov = isObj(raw.provenance) ? raw.provenance : {};
      const labelScores = isObj(raw.label_scores)
        ? Object.fromEntries(
            Object.entries(raw.label_scores).filter((e): e is [string, number] => typeof e[1] === 'number'),
          )
        : undefined;
      suggestions.push({
        position,
        value: checked.ok ? checked.value : raw.value,
        ...(checked.ok ? {} : { problem: checked.reason }),
        ...(typeof raw.score === 'number' ? { score: raw.score } : {}),
        ...(labelScores ? { labelScores } : {}),
        ...(typeof raw.agent === 'string' ? { agent: raw.agent } : {}),
        type: raw.type === 'human' ? 'human' : 'model',
        ...(typeof raw.rationale === 'string' ? { rationale: raw.rationale } : {}),
        ...(typeof prov.task === 'string' ? { task: prov.task } : {}),
        ...(typeof prov.model === 'string' ? { model: prov.model } : {}),
        ...(typeof prov.time === 'string' ? { time: prov.time } : {}),
      });
    });
  }
  let human: HumanAnswer | undefined;
  const h = HumanDecision.safeParse(isObj(ann.human) ? ann.human[q.name] : undefined);
  if (h.success && isObj(ann.human) && ann.human[q.name] !== undefined) {
    const checked = checkAnswer(q, h.data.value, record);
    human = {
      value: checked.ok ? checked.value : h.data.value,
      ...(checked.ok ? {} : { problem: checked.reason }),
      status: h.data.status,
      ...(h.data.user ? { user: h.data.user } : {}),
      ...(h.data.time ? { time: h.data.time } : {}),
    };
  }
  let current: QuestionAnswers['current'];
  if (human && human.status === 'submitted')
    current = { value: human.value, source: 'human', ...(human.problem ? { problem: human.problem } : {}) };
  else {
    const top = topModel(suggestions);
    if (top) current = { value: top.value, source: 'model', ...(top.problem ? { problem: top.problem } : {}) };
  }
  return { question: q, ...(human ? { human } : {}), suggestions, ...(current ? { current } : {}) };
}

/** The model suggestion with the highest score (first on ties; no score counts as -1). */
export function topModel<T extends { type: string; score?: number }>(list: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const s of list) if (s.type === 'model' && (!best || (s.score ?? -1) > (best.score ?? -1))) best = s;
  return best;
}

/**
 * The record with a person's answer to a question (checked and normalized; a value that does not
 * fit throws with the reason). The record is then reviewed. The dataset's single-label question
 * also sets the top-level label, as today.
 */
export function withAnswer(
  record: Rec,
  q: Question,
  value: unknown,
  when: When = {},
  fields: FieldMap = defaultFields,
): Rec {
  const checked = checkAnswer(q, value, record);
  if (!checked.ok) throw new Error(`${q.name}: ${checked.reason}`);
  if (q.type === 'label') return withHumanLabel(record, checked.value as string, when, fields, q.name);
  const ann = structuredClone(annotationsObj(record, fields));
  putDecision(ann, q.name, checked.value, when);
  return { ...record, [fields.annotations]: ann };
}

/** A person's answer as field edits (one undoable edit in the store). */
export function answerEdits(
  record: Rec,
  q: Question,
  value: unknown,
  when: When = {},
  fields: FieldMap = defaultFields,
): FieldEdit[] {
  return diffFields(record, withAnswer(record, q, value, when, fields));
}

/** Takes a person's answer back (the suggestions and the review status stay). */
export function withoutAnswer(record: Rec, q: Question, fields: FieldMap = defaultFields): Rec {
  const ann = structuredClone(annotationsObj(record, fields));
  if (!isObj(ann.human) || !(q.name in ann.human)) return record;
  const { [q.name]: _taken, ...human } = ann.human;
  if (Object.keys(human).length === 0) delete ann.human;
  else ann.human = human;
  return { ...record, [fields.annotations]: ann };
}

/** A model's suggestion for a question, checked first: a value that does not fit throws with the reason. */
export function withQuestionSuggestion(
  record: Rec,
  q: Question,
  suggestion: Suggestion,
  fields: FieldMap = defaultFields,
): Rec {
  const checked = checkAnswer(q, suggestion.value, record);
  if (!checked.ok) throw new Error(`${q.name}: ${checked.reason}`);
  return withSuggestion(record, q.name, { ...suggestion, value: checked.value }, fields);
}

/** Accepts a suggestion as the person's answer (re-checked against the record as it is now). */
export function acceptAnswer(
  record: Rec,
  q: Question,
  position: number,
  when: When = {},
  fields: FieldMap = defaultFields,
): Rec {
  const s = answersOf(record, q, fields).suggestions.find((x) => x.position === position);
  if (!s) throw new Error(`This record has no suggestion ${position + 1} for "${q.name}" to accept.`);
  return withAnswer(record, q, s.value, when, fields);
}

export function acceptAnswerEdits(
  record: Rec,
  q: Question,
  position: number,
  when: When = {},
  fields: FieldMap = defaultFields,
): FieldEdit[] {
  return diffFields(record, acceptAnswer(record, q, position, when, fields));
}

/** Rejects the question's suggestions: kept, the person's decision marked discarded, the record back for review. */
export function rejectAnswerEdits(
  record: Rec,
  q: Question,
  when: When = {},
  fields: FieldMap = defaultFields,
): FieldEdit[] {
  return diffFields(record, rejectSuggestion(record, q.name, when, fields));
}

/** The current value of each question (the person's, else the top model's), for exports and filters. */
export function currentAnswers(
  record: Rec,
  questions: readonly Question[],
  fields: FieldMap = defaultFields,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const q of questions) {
    const c = answersOf(record, q, fields).current;
    if (c && !c.problem) out[q.name] = c.value;
  }
  return out;
}

/** An answer in a record that does not fit its question (for the editor's Problems, hovers and `curate questions`). */
export interface AnswerProblem {
  question: string;
  who: 'human' | 'model';
  /** The model's name, for a suggestion. */
  agent?: string;
  /** The suggestion's position in annotations.suggestions.<question>. */
  position?: number;
  reason: string;
}

/** Every answer of a record that does not fit its question: a span off its text, a rating off the scale, a label not declared. */
export function answerProblems(
  record: Rec,
  questions: readonly Question[],
  fields: FieldMap = defaultFields,
): AnswerProblem[] {
  const out: AnswerProblem[] = [];
  for (const q of questions) {
    const a = answersOf(record, q, fields);
    if (a.human?.problem) out.push({ question: q.name, who: 'human', reason: a.human.problem });
    for (const s of a.suggestions)
      if (s.problem)
        out.push({
          question: q.name,
          who: 'model',
          ...(s.agent ? { agent: s.agent } : {}),
          position: s.position,
          reason: s.problem,
        });
  }
  return out;
}
