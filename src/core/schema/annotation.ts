// The annotation layout: where a record keeps its label, rationale, judge score and reasons, the
// models' suggestions, the human's decision and review status, and provenance. One zod module;
// field names configurable through FieldMap. See docs/record-layout.md.
//
//   { ...your fields...,
//     "label": "positive",                       // the current label (the human's when decided)
//     "rationale": "...",                        // why (model- or human-written)
//     "judge": { "score": 8, "scale": [1, 10], "reasons": "...",
//                "criteria": { "correctness": 8 }, "model": "gpt-4.1" },
//     "annotations": {
//       "suggestions": { "label": [ { "value": "positive", "score": 0.93, "agent": "gpt-4o-mini",
//                                      "type": "model", "rationale": "...",
//                                      "provenance": { "model": "...", "prompt_hash": "sha256:...",
//                                                      "time": "...", "usage": { "input_tokens": 1,
//                                                      "output_tokens": 2 } } } ] },
//       "human": { "label": { "value": "positive", "user": "maria", "status": "submitted",
//                             "time": "..." } },
//       "review": { "status": "reviewed" } } }
import { z } from 'zod';

export const Usage = z.object({ input_tokens: z.number().optional(), output_tokens: z.number().optional() });

export const Provenance = z.object({
  model: z.string().optional(),
  prompt_hash: z.string().optional(),
  time: z.string().optional(),
  usage: Usage.optional(),
  sample: z.number().int().optional(),
  round: z.number().int().optional(),
  seed: z.unknown().optional(),
});
export type Provenance = z.infer<typeof Provenance>;

/** Maps 1:1 onto an Argilla suggestion: {value, score, agent, type}. */
export const Suggestion = z.object({
  value: z.unknown(),
  score: z.number().optional(),
  agent: z.string().optional(),
  type: z.enum(['model', 'human']).default('model'),
  rationale: z.string().optional(),
  provenance: Provenance.optional(),
});
export type Suggestion = z.infer<typeof Suggestion>;

/** Maps onto an Argilla response: {value, user_id, status}. */
export const HumanDecision = z.object({
  value: z.unknown(),
  user: z.string().optional(),
  status: z.enum(['submitted', 'discarded', 'draft']).default('submitted'),
  time: z.string().optional(),
});
export type HumanDecision = z.infer<typeof HumanDecision>;

export const Judge = z.object({
  score: z.number().optional(),
  scale: z.tuple([z.number(), z.number()]).optional(),
  reasons: z.string().optional(),
  criteria: z.record(z.string(), z.number()).optional(),
  model: z.string().optional(),
  provenance: Provenance.optional(),
});
export type Judge = z.infer<typeof Judge>;

export const ReviewStatus = z.enum(['pending', 'reviewed', 'rejected']);

export const Annotations = z.object({
  suggestions: z.record(z.string(), z.array(Suggestion)).optional(),
  human: z.record(z.string(), HumanDecision).optional(),
  review: z.object({ status: z.string(), time: z.string().optional(), queue: z.string().optional() }).optional(),
  tags: z.array(z.string()).optional(),
  origin: z.record(z.string(), z.unknown()).optional(),
});
export type Annotations = z.infer<typeof Annotations>;

/** Where the annotation lives in a record. Every name can be changed (setting / CLI flags). */
export const FieldMap = z.object({
  /** Top-level key of the current (final) label. */
  label: z.string().min(1).default('label'),
  /** Top-level key of the rationale of that label. */
  rationale: z.string().min(1).default('rationale'),
  /** Top-level key of the judge object ({score, scale, reasons, criteria, model}). */
  judge: z.string().min(1).default('judge'),
  /** Top-level key of the annotations object ({suggestions, human, review}). */
  annotations: z.string().min(1).default('annotations'),
  /** The question name the label answers, in annotations.suggestions / annotations.human. */
  question: z.string().min(1).default('label'),
});
export type FieldMap = z.infer<typeof FieldMap>;
export const defaultFields: FieldMap = FieldMap.parse({});

/** A record's annotation, normalized (what the editor, stats and filters read). */
export interface AnnotationView {
  label?: string;
  rationale?: string;
  judge?: Judge;
  suggestions: {
    question: string;
    value: unknown;
    score?: number;
    agent?: string;
    type: 'model' | 'human';
    rationale?: string;
    position: number;
    provenance?: { model?: string; promptHash?: string; time?: string; inputTokens?: number; outputTokens?: number };
  }[];
  human?: { value: unknown; user?: string; status?: string; time?: string };
  reviewStatus?: string;
  /** The human review queue the record was sent to (annotations.review.queue). */
  reviewQueue?: string;
  /** judge.score when it is a finite number. */
  judgeScore?: number;
  /** Provenance of the last model suggestion for the label question. */
  provenance?: { model?: string; promptHash?: string; time?: string; inputTokens?: number; outputTokens?: number };
}

function latestModelProvenance(list: AnnotationView['suggestions'], question: string): AnnotationView['provenance'] {
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i]!;
    if (s.question === question && s.type === 'model' && s.provenance) return s.provenance;
  }
  return undefined;
}

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function labelText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function readAnnotation(record: Rec, fields: FieldMap = defaultFields): AnnotationView {
  const ann = isObj(record[fields.annotations]) ? (record[fields.annotations] as Rec) : {};
  const suggestions: AnnotationView['suggestions'] = [];
  if (isObj(ann.suggestions)) {
    for (const [question, list] of Object.entries(ann.suggestions)) {
      if (!Array.isArray(list)) continue;
      list.forEach((raw, position) => {
        const s = Suggestion.safeParse(raw);
        if (!s.success) return;
        const p = s.data.provenance;
        suggestions.push({
          question,
          value: s.data.value,
          score: s.data.score,
          agent: s.data.agent,
          type: s.data.type,
          rationale: s.data.rationale,
          position,
          provenance: p
            ? { model: p.model, promptHash: p.prompt_hash, time: p.time, inputTokens: p.usage?.input_tokens, outputTokens: p.usage?.output_tokens }
            : undefined,
        });
      });
    }
  }
  const humanRaw = isObj(ann.human) ? ann.human[fields.question ?? 'label'] : undefined;
  const human = humanRaw === undefined ? undefined : HumanDecision.safeParse(humanRaw);
  const judge = Judge.safeParse(record[fields.judge]);
  const review = isObj(ann.review) && typeof ann.review.status === 'string' ? ann.review.status : undefined;
  const rationale = record[fields.rationale];
  return {
    label: labelText(record[fields.label]),
    rationale: typeof rationale === 'string' ? rationale : undefined,
    judge: judge.success ? judge.data : undefined,
    suggestions,
    human: human?.success ? human.data : undefined,
    reviewStatus: review,
    reviewQueue: isObj(ann.review) && typeof ann.review.queue === 'string' ? ann.review.queue : undefined,
    judgeScore: judge.success && typeof judge.data.score === 'number' && Number.isFinite(judge.data.score) ? judge.data.score : undefined,
    provenance: latestModelProvenance(suggestions, fields.question ?? 'label'),
  };
}

function annotationsOf(record: Rec, fields: FieldMap): Rec {
  const a = record[fields.annotations];
  return isObj(a) ? structuredClone(a) : {};
}

interface When {
  time?: string;
  user?: string;
}

/** The human's label, stored beside (never over) the model's suggestions; the record is reviewed. */
export function withHumanLabel(record: Rec, label: string, when: When = {}, fields: FieldMap = defaultFields, question = fields.question ?? 'label'): Rec {
  const ann = annotationsOf(record, fields);
  const human = isObj(ann.human) ? ann.human : {};
  human[question] = { value: label, ...(when.user ? { user: when.user } : {}), status: 'submitted', ...(when.time ? { time: when.time } : {}) };
  ann.human = human;
  ann.review = { ...(isObj(ann.review) ? ann.review : {}), status: 'reviewed', ...(when.time ? { time: when.time } : {}) };
  return { ...record, ...(question === (fields.question ?? 'label') ? { [fields.label]: label } : {}), [fields.annotations]: ann };
}

/** Accepts a model suggestion as the human's decision. */
export function acceptSuggestion(record: Rec, question: string, position: number, when: When = {}, fields: FieldMap = defaultFields): Rec {
  const view = readAnnotation(record, fields);
  const s = view.suggestions.find((x) => x.question === question && x.position === position);
  if (!s) throw new Error(`This record has no suggestion for "${question}" to accept.`);
  const value = labelText(s.value);
  if (value === undefined) throw new Error(`The suggestion for "${question}" is not a label.`);
  return withHumanLabel(record, value, when, fields, question);
}

/** Rejects the model's suggestion: kept, marked discarded, and the record goes back for review. */
export function rejectSuggestion(record: Rec, question: string, when: When = {}, fields: FieldMap = defaultFields): Rec {
  const view = readAnnotation(record, fields);
  const s = view.suggestions.find((x) => x.question === question);
  if (!s) throw new Error(`This record has no suggestion for "${question}" to reject.`);
  const ann = annotationsOf(record, fields);
  const human = isObj(ann.human) ? ann.human : {};
  human[question] = { value: s.value, status: 'discarded', ...(when.user ? { user: when.user } : {}), ...(when.time ? { time: when.time } : {}) };
  ann.human = human;
  ann.review = { ...(isObj(ann.review) ? ann.review : {}), status: 'rejected', ...(when.time ? { time: when.time } : {}) };
  return { ...record, [fields.annotations]: ann };
}

export function setReviewStatus(record: Rec, status: string, fields: FieldMap = defaultFields): Rec {
  const ann = annotationsOf(record, fields);
  ann.review = { ...(isObj(ann.review) ? ann.review : {}), status };
  return { ...record, [fields.annotations]: ann };
}

/** Adds a model's suggestion for a question (several models' suggestions sit side by side). */
export function withSuggestion(record: Rec, question: string, suggestion: Suggestion, fields: FieldMap = defaultFields): Rec {
  const ann = annotationsOf(record, fields);
  const all = isObj(ann.suggestions) ? ann.suggestions : {};
  const list = Array.isArray(all[question]) ? (all[question] as unknown[]) : [];
  // One suggestion per agent and question: a re-run replaces that agent's previous one.
  const kept = list.filter((s) => !(isObj(s) && s.agent === suggestion.agent && s.agent !== undefined));
  all[question] = [...kept, Suggestion.parse(suggestion)];
  ann.suggestions = all;
  if (!isObj(ann.review)) ann.review = { status: 'pending' };
  return { ...record, [fields.annotations]: ann };
}

// ---------------------------------------------------------------------------------------------
// Field edits: what the store applies (JsonlDataset.setFields(index, edits) makes them one
// undoable edit). Each action above has a twin here that returns the edits instead of a record.

/** One field to set (path of keys/indices from the record's top level); `undefined` removes it. */
export interface FieldEdit {
  path: (string | number)[];
  value: unknown;
}

function stableEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The top-level field edits that turn `before` into `after`. */
export function diffFields(before: Rec, after: Rec): FieldEdit[] {
  const edits: FieldEdit[] = [];
  for (const [k, v] of Object.entries(after)) if (!(k in before) || !stableEqual(before[k], v)) edits.push({ path: [k], value: v });
  for (const k of Object.keys(before)) if (!(k in after)) edits.push({ path: [k], value: undefined });
  return edits;
}

export function humanLabelEdits(record: Rec, label: string, when: When = {}, fields: FieldMap = defaultFields, question?: string): FieldEdit[] {
  return diffFields(record, withHumanLabel(record, label, when, fields, question ?? fields.question ?? 'label'));
}

export function suggestionEdits(record: Rec, question: string, suggestion: Suggestion, fields: FieldMap = defaultFields): FieldEdit[] {
  return diffFields(record, withSuggestion(record, question, suggestion, fields));
}

export function acceptSuggestionEdits(record: Rec, question: string, position: number, when: When = {}, fields: FieldMap = defaultFields): FieldEdit[] {
  return diffFields(record, acceptSuggestion(record, question, position, when, fields));
}

export function rejectSuggestionEdits(record: Rec, question: string, when: When = {}, fields: FieldMap = defaultFields): FieldEdit[] {
  return diffFields(record, rejectSuggestion(record, question, when, fields));
}

export function reviewStatusEdits(record: Rec, status: string, fields: FieldMap = defaultFields): FieldEdit[] {
  return diffFields(record, setReviewStatus(record, status, fields));
}

/** A judge's verdict: replaces the judge object (score, scale, reasons, criteria, model, provenance). */
export function judgeEdits(judge: Judge, fields: FieldMap = defaultFields): FieldEdit[] {
  return [{ path: [fields.judge], value: Judge.parse(judge) }];
}

/** The label's rationale (model- or human-written). */
export function rationaleEdits(rationale: string, fields: FieldMap = defaultFields): FieldEdit[] {
  return [{ path: [fields.rationale], value: rationale }];
}

// ---------------------------------------------------------------------------------------------
// Mappings onto other tools' layouts (docs/record-layout.md has the tables).

/** An Argilla record's suggestions and responses (question_name, value, score, agent, type / status, user_id). */
export interface ArgillaAnnotations {
  suggestions: { question_name: string; value: unknown; score?: number; agent?: string; type: 'model' | 'human' }[];
  responses: { question_name: string; value: unknown; user_id?: string; status: string }[];
}

export function toArgilla(record: Rec, fields: FieldMap = defaultFields): ArgillaAnnotations {
  const view = readAnnotation(record, fields);
  const ann = isObj(record[fields.annotations]) ? (record[fields.annotations] as Rec) : {};
  const responses: ArgillaAnnotations['responses'] = [];
  if (isObj(ann.human)) {
    for (const [question, raw] of Object.entries(ann.human)) {
      const h = HumanDecision.safeParse(raw);
      if (h.success) responses.push({ question_name: question, value: h.data.value, ...(h.data.user ? { user_id: h.data.user } : {}), status: h.data.status });
    }
  }
  return {
    suggestions: view.suggestions.map((s) => ({
      question_name: s.question,
      value: s.value,
      ...(s.score !== undefined ? { score: s.score } : {}),
      ...(s.agent !== undefined ? { agent: s.agent } : {}),
      type: s.type,
    })),
    responses,
  };
}

/**
 * Field edits that bring a distilabel row's columns into the layout: `generation` (or the first of
 * `generations`) becomes a model suggestion for the question, `ratings`/`rationales` the judge's
 * score and reasons, `model_name` the agent.
 */
export function fromDistilabel(record: Rec, fields: FieldMap = defaultFields, question = fields.question ?? 'label'): FieldEdit[] {
  const model = typeof record.model_name === 'string' ? record.model_name : undefined;
  const generation = record.generation ?? (Array.isArray(record.generations) ? record.generations[0] : undefined);
  let next: Rec = record;
  if (generation !== undefined) {
    next = withSuggestion(next, question, { value: generation, type: 'model', ...(model ? { agent: model, provenance: { model } } : {}) }, fields);
  }
  const ratings = Array.isArray(record.ratings) ? record.ratings : typeof record.rating === 'number' ? [record.rating] : [];
  const rationales = Array.isArray(record.rationales) ? record.rationales : typeof record.rationale === 'string' ? [record.rationale] : [];
  const score = ratings.find((r): r is number => typeof r === 'number');
  if (score !== undefined) {
    const reasons = rationales.find((r): r is string => typeof r === 'string');
    next = { ...next, [fields.judge]: { score, ...(reasons ? { reasons } : {}), ...(model ? { model } : {}) } };
  }
  return diffFields(record, next);
}
