// The annotation layout: where a record keeps its label, rationale, judge score and reasons, the
// models' suggestions, the human's decision and review status, and provenance. One zod module;
// field names configurable through FieldMap. See docs/record-layout.md.
//
//   { ...your fields...,
//     "label": "positive",                       // the current label (the human's when decided;
//                                                // a model writes it only when there is none)
//     "rationale": "...",                        // why (model- or human-written)
//     "judges": [ { "score": 8, "scale": [1, 10], "reasons": "...",            // every judge's verdict
//                   "criteria": { "correctness": 8 }, "model": "gpt-4.1", "provenance": {...} }, ... ],
//     "judge": { "score": 8, ... },              // the panel's verdict: the one judge, or the mean
//                                                // of several ({score, scale, criteria, reasons,
//                                                //  n, spread, models}); what filters and stats read
//     "annotations": {
//       "suggestions": { "label": [ { "value": "positive", "score": 0.93, "agent": "gpt-4o-mini",
//                                      "type": "model", "rationale": "...",
//                                      "provenance": { "model": "...", "prompt_hash": "sha256:...",
//                                                      "time": "...", "usage": { "input_tokens": 1,
//                                                      "output_tokens": 2 } } } ] },
//       "human": { "label": { "value": "positive", "user": "maria", "status": "submitted",
//                             "time": "..." } },
//       "history": [ { "field": "label", "value": "neutral", "time": "...",  // what a model's
//                      "by": { "model": "...", "task": "label", ... } } ],  // result moved aside
//       "review": { "status": "reviewed" } } }
import { z } from 'zod';
import { jsonText } from '../json-text';
import { DEFAULT_FIELD_NAMES } from './field-names';

export const Usage = z.object({ input_tokens: z.number().optional(), output_tokens: z.number().optional() });

export const Provenance = z.object({
  model: z.string().optional(),
  prompt_hash: z.string().optional(),
  time: z.string().optional(),
  usage: Usage.optional(),
  sample: z.number().int().optional(),
  round: z.number().int().optional(),
  seed: z.unknown().optional(),
  /** The task that produced it, when not a plain label: rationale, consistency, critique. */
  task: z.string().optional(),
  /** How the score was measured: the model's stated confidence (verbal), logprobs, self-consistency. */
  confidence: z.enum(['verbal', 'logprobs', 'consistency']).optional(),
  /** With logprobs: the confidence the model stated, and the chosen label's own probability. */
  verbal_confidence: z.number().optional(),
  label_probability: z.number().optional(),
  confidence_note: z.string().optional(),
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
  /** Multi-label questions: the model's confidence in each label, chosen or not (src/core/questions). */
  label_scores: z.record(z.string(), z.number()).optional(),
  /** Self-consistency: the k sampled answers behind `value` (the majority) and `score` (the agreement). */
  samples: z
    .array(
      z.object({
        value: z.unknown(),
        score: z.number().optional(),
        rationale: z.string().optional(),
        provenance: Provenance.optional(),
      }),
    )
    .optional(),
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
  /** Only on the panel's verdict of several judges: how many, max - min of their scores, who. */
  n: z.number().int().positive().optional(),
  spread: z.number().optional(),
  models: z.array(z.string()).optional(),
});
export type Judge = z.infer<typeof Judge>;

export const ReviewStatus = z.enum(['pending', 'reviewed', 'rejected']);

/**
 * Where a record came from (`annotations.origin`). The generation jobs (src/core/synth) write it on
 * every record they make, with `type: "model"` (machine-generated); a person may mark a record
 * `type: "human"`. Records without it count as human-written in the statistics.
 */
export const Origin = z.looseObject({
  /** "model": machine-generated; "human": written by a person. */
  type: z.enum(['model', 'human']),
  /** The generation task: instructions | responses | preferences | dialogues. */
  task: z.string().optional(),
  /** The top-level fields the task generated (the others came from the input). */
  fields: z.array(z.string()).optional(),
  /** The model that wrote it; `models` when several did (preference candidates). */
  model: z.string().optional(),
  models: z.array(z.string()).optional(),
  judge_model: z.string().optional(),
  prompt_hash: z.string().optional(),
  /** Self-instruct round (1-based). */
  round: z.number().int().optional(),
  /** Which of several samples for the same input (0-based). */
  sample: z.number().int().optional(),
  /** What it was generated from: {file, line} of the input record, the seed instructions shown, a topic or persona. */
  seed: z.unknown().optional(),
  /** The job's random seed (personas, attributes and demonstrations are drawn from it). */
  rng_seed: z.number().int().optional(),
  persona: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  /** Evol-Instruct: the operation and the instruction it rewrote. */
  evolution: z.object({ op: z.string(), parent: z.string() }).optional(),
  job: z.string().optional(),
  time: z.string().optional(),
  usage: Usage.optional(),
  /** The origin of the input record, when it had one (a chain: instructions -> responses -> preferences). */
  input: z.unknown().optional(),
});
export type Origin = z.infer<typeof Origin>;

/**
 * A value a model's result moved aside (`annotations.history`, oldest first): the label or
 * rationale it replaced when asked to (`replaceExisting`), an edited panel verdict (`judge`), a
 * judge's own earlier verdict (`judges`) that a new answer of the same judge and prompt replaced.
 */
export const HistoryEntry = z.object({
  /** The top-level field (its configured name) the value was in. */
  field: z.string(),
  value: z.unknown(),
  /** When it was replaced (the replacing answer's time). */
  time: z.string().optional(),
  /** What replaced it: the model's provenance and task. */
  by: Provenance.optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const Annotations = z.object({
  suggestions: z.record(z.string(), z.array(Suggestion)).optional(),
  /** Values a model's result replaced (see HistoryEntry): nothing a model writes is lost. */
  history: z.array(HistoryEntry).optional(),
  human: z.record(z.string(), HumanDecision).optional(),
  review: z.object({ status: z.string(), time: z.string().optional(), queue: z.string().optional() }).optional(),
  tags: z.array(z.string()).optional(),
  /** Read permissively (see Origin for what the generation jobs write). */
  origin: z.record(z.string(), z.unknown()).optional(),
});
export type Annotations = z.infer<typeof Annotations>;

/** Where the annotation lives in a record. Every name can be changed (setting / CLI flags). */
export const FieldMap = z.object({
  /** Top-level key of the current (final) label. */
  label: z.string().min(1).default(DEFAULT_FIELD_NAMES.label),
  /** Top-level key of the rationale of that label. */
  rationale: z.string().min(1).default(DEFAULT_FIELD_NAMES.rationale),
  /** Top-level key of the panel's verdict ({score, scale, reasons, criteria, model}; with several judges their mean). */
  judge: z.string().min(1).default(DEFAULT_FIELD_NAMES.judge),
  /** Top-level key of every judge's verdict, one per judge model and prompt. */
  judges: z.string().min(1).default(DEFAULT_FIELD_NAMES.judges),
  /** Top-level key of the annotations object ({suggestions, human, review}). */
  annotations: z.string().min(1).default(DEFAULT_FIELD_NAMES.annotations),
  /** The question name the label answers, in annotations.suggestions / annotations.human. */
  question: z.string().min(1).default(DEFAULT_FIELD_NAMES.question),
});
export type FieldMap = z.infer<typeof FieldMap>;
export const defaultFields: FieldMap = FieldMap.parse({});

// The normalized views readAnnotation returns are zod schemas of the core (one definition, shared
// with the editor's protocol).
export type { AnnotationView, JudgeView, ProvenanceView } from '../session/views';
import type { AnnotationView, JudgeView, ProvenanceView } from '../session/views';

function latestModelProvenance(list: AnnotationView['suggestions'], question: string): AnnotationView['provenance'] {
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i]!;
    if (s.question === question && s.type === 'model' && s.provenance) return s.provenance;
  }
  return undefined;
}

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
/** No value: undefined, null or an empty string. */
const absent = (v: unknown): boolean => v === undefined || v === null || v === '';
/** JSON text with every object's keys sorted (keys whose value is undefined dropped, as JSON does). */
function sortedJson(v: unknown): string {
  return (
    jsonText(v, (_k, x: unknown) =>
      isObj(x)
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, x[k]]),
          )
        : x,
    ) ?? 'undefined'
  );
}
/** Equal as JSON values, whatever the order of their keys. (This module is also bundled for the browser: no node:util.) */
const same = (a: unknown, b: unknown): boolean => sortedJson(a) === sortedJson(b);

function labelText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function provenanceView(p: Provenance | undefined): ProvenanceView | undefined {
  if (!p) return undefined;
  return {
    model: p.model,
    promptHash: p.prompt_hash,
    time: p.time,
    inputTokens: p.usage?.input_tokens,
    outputTokens: p.usage?.output_tokens,
  };
}

function judgeView(j: Judge): JudgeView {
  const { provenance, ...rest } = j;
  return { ...rest, ...(provenance ? { provenance: provenanceView(provenance) } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Several judges. Every judge's verdict is one entry of `judges[]`, one per judge model and prompt
// hash (a re-run or a resumed job replaces its own entry). The current panel is the entries that
// share the prompt hash of the latest one (by provenance.time): the same rubric, scale and prompt;
// entries of an earlier rubric are kept but no longer count. `judge` is the panel's verdict:
// the entry itself when there is one judge, else the mean of their scores (criteria: per-criterion
// means) with `n`, `spread` (max - min) and `models`. Filters (`judge.score >= 7`), stats, the
// Datasets view's mean score and the list's score column read `judge`.

/** The items of the current panel: those sharing the latest item's prompt hash. */
export function currentPanel<T>(items: readonly T[], meta: (t: T) => { promptHash?: string; time?: string }): T[] {
  if (items.length <= 1) return [...items];
  let latest = items[0] as T;
  let latestTime = '';
  for (const t of items) {
    const time = meta(t).time ?? '';
    if (time >= latestTime) {
      latest = t;
      latestTime = time;
    }
  }
  const hash = meta(latest).promptHash;
  return items.filter((t) => meta(t).promptHash === hash);
}

const judgeMeta = (j: Judge): { promptHash?: string; time?: string } => ({
  promptHash: j.provenance?.prompt_hash,
  time: j.provenance?.time,
});
const judgeKey = (j: Judge): string =>
  `${j.model ?? j.provenance?.model ?? ''}\u0000${j.provenance?.prompt_hash ?? ''}`;
const round2 = (x: number): number => Math.round(x * 100) / 100;

function scored(list: unknown): Judge[] {
  if (!Array.isArray(list)) return [];
  const out: Judge[] = [];
  for (const raw of list) {
    const j = Judge.safeParse(raw);
    if (j.success && typeof j.data.score === 'number' && Number.isFinite(j.data.score)) out.push(j.data);
  }
  return out;
}

/** The panel's verdict over a list of judge entries (undefined when none has a score). */
export function panelVerdict(judges: readonly Judge[]): Judge | undefined {
  const panel = currentPanel(
    judges.filter((j) => typeof j.score === 'number' && Number.isFinite(j.score)),
    judgeMeta,
  );
  if (panel.length === 0) return undefined;
  if (panel.length === 1) return panel[0];
  const scores = panel.map((j) => j.score as number);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const criteria: Record<string, number> = {};
  const names = new Set(panel.flatMap((j) => Object.keys(j.criteria ?? {})));
  for (const c of names) {
    const vs = panel.map((j) => j.criteria?.[c]).filter((v): v is number => typeof v === 'number');
    if (vs.length) criteria[c] = round2(vs.reduce((a, b) => a + b, 0) / vs.length);
  }
  const models = panel.map((j, i) => j.model ?? j.provenance?.model ?? `judge ${i + 1}`);
  const latest = panel.reduce((a, b) => ((b.provenance?.time ?? '') >= (a.provenance?.time ?? '') ? b : a));
  const out: Judge = {
    score: round2(mean),
    ...(latest.scale ? { scale: latest.scale } : {}),
    ...(Object.keys(criteria).length ? { criteria } : {}),
    reasons: `Mean of ${panel.length} judges: ${panel.map((j, i) => `${models[i]} ${j.score}`).join(', ')}.`,
    n: panel.length,
    spread: round2(Math.max(...scores) - Math.min(...scores)),
    models,
  };
  if (latest.provenance?.prompt_hash || latest.provenance?.time)
    out.provenance = { prompt_hash: latest.provenance.prompt_hash, time: latest.provenance.time };
  return out;
}

/**
 * Adds one judge's verdict: upserted into `judges[]` by model and prompt hash, and `judge` set to
 * the panel's verdict. Nothing is lost: a lone `judge` written before `judges[]` existed (one
 * judge, an import) becomes the first entry; a `judge` that is not the panel's verdict of
 * `judges[]` (edited by hand) and the judge's own earlier, different verdict go to
 * `annotations.history`. The same verdict applied twice gives the same record.
 */
export function withJudge(record: Rec, judge: Judge, fields: FieldMap = defaultFields): Rec {
  const stored = record[fields.judges];
  const list: unknown[] = Array.isArray(stored) ? [...(stored as unknown[])] : [];
  const entry = Judge.parse(judge);
  const by: Provenance = { ...(entry.provenance ?? {}), ...(entry.model ? { model: entry.model } : {}), task: 'judge' };
  const when = entry.provenance?.time ? { time: entry.provenance.time } : {};
  let next: Rec = record;
  const current = record[fields.judge];
  if (!Array.isArray(stored)) {
    const lone = Judge.safeParse(current);
    if (lone.success && typeof lone.data.score === 'number' && lone.data.n === undefined) list.push(current);
    else if (!absent(current)) next = withHistory(next, { field: fields.judge, value: current, ...when, by }, fields);
  } else if (!absent(current) && !same(current, panelVerdict(scored(list)))) {
    next = withHistory(next, { field: fields.judge, value: current, ...when, by }, fields);
  }
  const key = judgeKey(entry);
  const at = list.findIndex((raw) => {
    const j = Judge.safeParse(raw);
    return j.success && judgeKey(j.data) === key;
  });
  if (at >= 0) {
    if (!same(list[at], entry))
      next = withHistory(next, { field: fields.judges, value: list[at], ...when, by }, fields);
    list[at] = entry;
  } else list.push(entry);
  const verdict = panelVerdict(scored(list));
  next = withKey(next, fields.judges, list);
  if (verdict) next[fields.judge] = verdict;
  return next;
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
          ...(p?.task ? { task: p.task } : {}),
          ...(s.data.samples
            ? { samples: s.data.samples.map((x) => ({ value: x.value, score: x.score, rationale: x.rationale })) }
            : {}),
          provenance: provenanceView(p),
        });
      });
    }
  }
  const humanRaw = isObj(ann.human) ? ann.human[fields.question] : undefined;
  const human = humanRaw === undefined ? undefined : HumanDecision.safeParse(humanRaw);
  const all = scored(record[fields.judges]);
  const panel = currentPanel(all, judgeMeta);
  const stored = Judge.safeParse(record[fields.judge]);
  const judge = stored.success ? stored.data : panelVerdict(all);
  const review = isObj(ann.review) && typeof ann.review.status === 'string' ? ann.review.status : undefined;
  const rationale = record[fields.rationale];
  const rationaleText = typeof rationale === 'string' ? rationale : undefined;
  const written =
    rationaleText === undefined
      ? undefined
      : suggestions.find((s) => s.question === fields.rationale && s.task === 'rationale' && s.value === rationaleText);
  return {
    label: labelText(record[fields.label]),
    rationale: rationaleText,
    ...(written?.provenance ? { rationaleProvenance: written.provenance } : {}),
    judge: judge ? judgeView(judge) : undefined,
    judges: panel.map(judgeView),
    otherJudges: all.filter((j) => !panel.includes(j)).map(judgeView),
    suggestions,
    human: human?.success ? human.data : undefined,
    reviewStatus: review,
    reviewQueue: isObj(ann.review) && typeof ann.review.queue === 'string' ? ann.review.queue : undefined,
    judgeScore: judge && typeof judge.score === 'number' && Number.isFinite(judge.score) ? judge.score : undefined,
    provenance: latestModelProvenance(suggestions, fields.question),
  };
}

/**
 * `{ ...record, [key]: value }` (the key keeps its place when the record has it). Built with
 * Object.assign: on Node 20 (V8 11.3) a spread copy given a key gets a hidden class of its own,
 * ~0.4 KB of old space per record that stays until a full collection (applying 100,000 batch
 * results: 37 MB of it, bench/batch.ts). A "__proto__" key (JSON.parse keeps it as a key like
 * any other) would be a prototype for Object.assign: such a record is spread.
 */
function withKey(record: Rec, key: string, value: unknown): Rec {
  if (key === '__proto__' || Object.hasOwn(record, '__proto__')) return { ...record, [key]: value };
  const out: Rec = Object.assign({}, record);
  out[key] = value;
  return out;
}

function annotationsOf(record: Rec, fields: FieldMap): Rec {
  const a = record[fields.annotations];
  return isObj(a) ? structuredClone(a) : {};
}

/** Who decided, and when (both optional). */
export interface When {
  time?: string;
  user?: string;
}

/** The record's origin, when `annotations.origin` is a valid one. */
export function originOf(record: Rec, fields: FieldMap = defaultFields): Origin | undefined {
  const ann = record[fields.annotations];
  if (!isObj(ann)) return undefined;
  const o = Origin.safeParse(ann.origin);
  return o.success ? o.data : undefined;
}

/** Whether the record is marked machine-generated (`annotations.origin.type == "model"`). */
export function isMachineGenerated(record: Rec, fields: FieldMap = defaultFields): boolean {
  const ann = record[fields.annotations];
  return isObj(ann) && isObj(ann.origin) && ann.origin.type === 'model';
}

/**
 * The record with its origin set (validated). An origin the record already had is kept as
 * `origin.input` (the record this one was derived from).
 */
export function withOrigin(record: Rec, origin: Origin, fields: FieldMap = defaultFields): Rec {
  const ann = annotationsOf(record, fields);
  const previous = isObj(ann.origin) ? ann.origin : undefined;
  ann.origin = Origin.parse(previous && origin.input === undefined ? { ...origin, input: previous } : origin);
  return withKey(record, fields.annotations, ann);
}

/**
 * Puts a person's decision on `question` into `ann` (an annotations object the caller owns) and marks
 * the record reviewed: `human.<question> = { value, user?, status: 'submitted', time? }`.
 */
export function putDecision(ann: Record<string, unknown>, question: string, value: unknown, when: When = {}): void {
  const human = isObj(ann.human) ? ann.human : {};
  human[question] = {
    value,
    ...(when.user ? { user: when.user } : {}),
    status: 'submitted',
    ...(when.time ? { time: when.time } : {}),
  };
  ann.human = human;
  ann.review = {
    ...(isObj(ann.review) ? ann.review : {}),
    status: 'reviewed',
    ...(when.time ? { time: when.time } : {}),
  };
}

/** The human's label, stored beside (never over) the model's suggestions; the record is reviewed. */
export function withHumanLabel(
  record: Rec,
  label: string,
  when: When = {},
  fields: FieldMap = defaultFields,
  question = fields.question,
): Rec {
  const ann = annotationsOf(record, fields);
  putDecision(ann, question, label, when);
  return {
    ...record,
    ...(question === fields.question ? { [fields.label]: label } : {}),
    [fields.annotations]: ann,
  };
}

/** Accepts a model suggestion as the human's decision. */
export function acceptSuggestion(
  record: Rec,
  question: string,
  position: number,
  when: When = {},
  fields: FieldMap = defaultFields,
): Rec {
  const view = readAnnotation(record, fields);
  const s = view.suggestions.find((x) => x.question === question && x.position === position);
  if (!s) throw new Error(`This record has no suggestion for "${question}" to accept.`);
  const value = labelText(s.value);
  if (value === undefined) throw new Error(`The suggestion for "${question}" is not a label.`);
  return withHumanLabel(record, value, when, fields, question);
}

/** Rejects the model's suggestion: kept, marked discarded, and the record goes back for review. */
export function rejectSuggestion(
  record: Rec,
  question: string,
  when: When = {},
  fields: FieldMap = defaultFields,
): Rec {
  const view = readAnnotation(record, fields);
  const s = view.suggestions.find((x) => x.question === question);
  if (!s) throw new Error(`This record has no suggestion for "${question}" to reject.`);
  const ann = annotationsOf(record, fields);
  const human = isObj(ann.human) ? ann.human : {};
  human[question] = {
    value: s.value,
    status: 'discarded',
    ...(when.user ? { user: when.user } : {}),
    ...(when.time ? { time: when.time } : {}),
  };
  ann.human = human;
  ann.review = {
    ...(isObj(ann.review) ? ann.review : {}),
    status: 'rejected',
    ...(when.time ? { time: when.time } : {}),
  };
  return withKey(record, fields.annotations, ann);
}

export function setReviewStatus(record: Rec, status: string, fields: FieldMap = defaultFields, queue?: string): Rec {
  const ann = annotationsOf(record, fields);
  ann.review = { ...(isObj(ann.review) ? ann.review : {}), status, ...(queue !== undefined ? { queue } : {}) };
  return withKey(record, fields.annotations, ann);
}

/** What a suggestion is keyed by besides its agent: the task that made it (a plain label: "label"). */
function suggestionKind(s: unknown): string {
  const t = isObj(s) && isObj(s.provenance) ? s.provenance.task : undefined;
  return typeof t === 'string' && t !== '' ? t : 'label';
}

/**
 * Adds a model's suggestion for a question (several models' suggestions sit side by side). One
 * suggestion per agent, question and task: a re-run of the same agent replaces its own in place
 * (so resuming a job never duplicates); a self-consistency vote sits beside the same model's label.
 */
export function withSuggestion(
  record: Rec,
  question: string,
  suggestion: Suggestion,
  fields: FieldMap = defaultFields,
): Rec {
  const ann = annotationsOf(record, fields);
  const all = isObj(ann.suggestions) ? ann.suggestions : {};
  const list = Array.isArray(all[question]) ? [...(all[question] as unknown[])] : [];
  const entry = Suggestion.parse(suggestion);
  const kind = suggestionKind(entry);
  const at =
    entry.agent === undefined
      ? -1
      : list.findIndex((s) => isObj(s) && s.agent === entry.agent && suggestionKind(s) === kind);
  if (at >= 0) list[at] = entry;
  else list.push(entry);
  all[question] = list;
  ann.suggestions = all;
  if (!isObj(ann.review)) ann.review = { status: 'pending' };
  return withKey(record, fields.annotations, ann);
}

/** How a model's result treats a value the record already has. */
export interface ModelWrite {
  /**
   * Replace an existing label or rationale (the previous value goes to `annotations.history`).
   * Default false: the existing value stays and the model's answer is only a suggestion.
   */
  replace?: boolean;
  /** Who writes (kept with a replaced value in the history). */
  by?: Provenance;
}

/** The record with `entry` appended to `annotations.history`. */
export function withHistory(record: Rec, entry: HistoryEntry, fields: FieldMap = defaultFields): Rec {
  const ann = annotationsOf(record, fields);
  const list = Array.isArray(ann.history) ? [...(ann.history as unknown[])] : [];
  list.push(HistoryEntry.parse(entry));
  ann.history = list;
  return withKey(record, fields.annotations, ann);
}

/** The entries of `annotations.history` (malformed ones left out). */
export function historyOf(record: Rec, fields: FieldMap = defaultFields): HistoryEntry[] {
  const ann = record[fields.annotations];
  if (!isObj(ann) || !Array.isArray(ann.history)) return [];
  return ann.history.flatMap((h) => {
    const e = HistoryEntry.safeParse(h);
    return e.success ? [e.data] : [];
  });
}

/** Sets top-level `key` to a model's `value`: when it has none, or (`replace`) keeping the old one in the history. */
function modelWrite(record: Rec, key: string, value: unknown, w: ModelWrite, fields: FieldMap): Rec {
  const old = record[key];
  if (absent(old)) return withKey(record, key, value);
  if (same(old, value) || !w.replace) return record;
  const next = withHistory(
    record,
    { field: key, value: old, ...(w.by?.time ? { time: w.by.time } : {}), ...(w.by ? { by: w.by } : {}) },
    fields,
  );
  return withKey(next, key, value);
}

/**
 * Sets the label a model chose when the record has none. An existing label (from the source data,
 * `curate set`, an earlier model) stays unless `replace` is asked for; then the previous one goes
 * to `annotations.history`. A question a person decided is never relabeled by a model.
 */
export function withModelLabel(
  record: Rec,
  question: string,
  label: unknown,
  fields: FieldMap = defaultFields,
  w: ModelWrite = {},
): Rec {
  if (question !== fields.question) return record;
  const ann = record[fields.annotations];
  if (isObj(ann) && isObj(ann.human) && ann.human[question] !== undefined) return record;
  return modelWrite(record, fields.label, label, w, fields);
}

/** Sets the label's rationale when the record has none (or, with `replace`, over it, keeping the old one in the history). */
export function withRationale(
  record: Rec,
  rationale: string,
  fields: FieldMap = defaultFields,
  w: ModelWrite = {},
): Rec {
  return modelWrite(record, fields.rationale, rationale, w, fields);
}

// ---------------------------------------------------------------------------------------------
// Field edits: what the store applies (JsonlDataset.setFields(index, edits) makes them one
// undoable edit): diffFields(record, action(record, ...)) gives them for any action above.

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
  for (const [k, v] of Object.entries(after))
    if (!(k in before) || !stableEqual(before[k], v)) edits.push({ path: [k], value: v });
  for (const k of Object.keys(before)) if (!(k in after)) edits.push({ path: [k], value: undefined });
  return edits;
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
      if (h.success)
        responses.push({
          question_name: question,
          value: h.data.value,
          ...(h.data.user ? { user_id: h.data.user } : {}),
          status: h.data.status,
        });
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
export function fromDistilabel(record: Rec, fields: FieldMap = defaultFields, question = fields.question): FieldEdit[] {
  const model = typeof record.model_name === 'string' ? record.model_name : undefined;
  const generation: unknown =
    record.generation ?? (Array.isArray(record.generations) ? (record.generations as unknown[])[0] : undefined);
  let next: Rec = record;
  if (generation !== undefined) {
    next = withSuggestion(
      next,
      question,
      { value: generation, type: 'model', ...(model ? { agent: model, provenance: { model } } : {}) },
      fields,
    );
  }
  const ratings = Array.isArray(record.ratings)
    ? record.ratings
    : typeof record.rating === 'number'
      ? [record.rating]
      : [];
  const rationales = Array.isArray(record.rationales)
    ? record.rationales
    : typeof record.rationale === 'string'
      ? [record.rationale]
      : [];
  const score = ratings.find((r): r is number => typeof r === 'number');
  if (score !== undefined) {
    const reasons = rationales.find((r): r is string => typeof r === 'string');
    next = withJudge(next, { score, ...(reasons ? { reasons } : {}), ...(model ? { model } : {}) }, fields);
  }
  return diffFields(record, next);
}
