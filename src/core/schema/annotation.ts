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
  label: z.string().default('label'),
  rationale: z.string().default('rationale'),
  judge: z.string().default('judge'),
  annotations: z.string().default('annotations'),
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
  const humanRaw = isObj(ann.human) ? ann.human[fields.label === 'label' ? 'label' : fields.label] ?? ann.human.label : undefined;
  const human = HumanDecision.safeParse(humanRaw);
  const judge = Judge.safeParse(record[fields.judge]);
  const review = isObj(ann.review) && typeof ann.review.status === 'string' ? ann.review.status : undefined;
  const rationale = record[fields.rationale];
  return {
    label: labelText(record[fields.label]),
    rationale: typeof rationale === 'string' ? rationale : undefined,
    judge: judge.success ? judge.data : undefined,
    suggestions,
    human: human.success ? human.data : undefined,
    reviewStatus: review,
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
export function withHumanLabel(record: Rec, label: string, when: When = {}, fields: FieldMap = defaultFields, question = 'label'): Rec {
  const ann = annotationsOf(record, fields);
  const human = isObj(ann.human) ? ann.human : {};
  human[question] = { value: label, ...(when.user ? { user: when.user } : {}), status: 'submitted', ...(when.time ? { time: when.time } : {}) };
  ann.human = human;
  ann.review = { ...(isObj(ann.review) ? ann.review : {}), status: 'reviewed', ...(when.time ? { time: when.time } : {}) };
  return { ...record, ...(question === 'label' ? { [fields.label]: label } : {}), [fields.annotations]: ann };
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
