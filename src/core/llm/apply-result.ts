// The one place where a task's result becomes record fields (the annotation layout of
// src/core/schema/annotation.ts; to be reconciled with its FieldMap by the lead):
//   label task        top-level `label` (unless a human decided that question) + a suggestion
//   rationale task    top-level `rationale`
//   judge task        `judge: {score, scale, reasons, criteria, model, provenance}`
//   consistency task  one suggestion per sample (provenance.sample); top-level label untouched
//   critique task     a suggestion {value: refined, rationale: critique} under the question
// Suggestions live in `annotations.suggestions.<question>[]` as {value, score, agent, type:'model',
// rationale?, provenance}. Applying the same result twice is a no-op (a suggestion with the same
// agent, prompt hash and sample is replaced, not appended), so resuming a job never duplicates.
import type { TaskId } from './prompts';

export interface ResultUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ResultProvenance {
  model: string;
  prompt_hash: string;
  time: string;
  usage: ResultUsage;
  sample?: number;
}

export interface SampleResult {
  value: string;
  confidence?: number;
  rationale?: string;
  provenance: ResultProvenance;
}

export interface TaskResult {
  task: TaskId;
  /** The annotation question (suggestions key), e.g. "label". */
  question: string;
  value: unknown;
  confidence?: number;
  rationale?: string;
  /** Judge: per-criterion scores. */
  scores?: Record<string, number>;
  scale?: [number, number];
  reasons?: string;
  /** Consistency: the k samples. */
  samples?: SampleResult[];
  provenance: ResultProvenance;
}

export interface ResultLayout {
  label: string;
  rationale: string;
  judge: string;
  annotations: string;
}

export const DEFAULT_LAYOUT: ResultLayout = { label: 'label', rationale: 'rationale', judge: 'judge', annotations: 'annotations' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function suggestionsFor(record: Obj, layout: ResultLayout, question: string): Obj[] {
  const ann = isObj(record[layout.annotations]) ? { ...(record[layout.annotations] as Obj) } : {};
  record[layout.annotations] = ann;
  const sugg = isObj(ann.suggestions) ? { ...(ann.suggestions as Obj) } : {};
  ann.suggestions = sugg;
  const list = Array.isArray(sugg[question]) ? [...(sugg[question] as Obj[])] : [];
  sugg[question] = list;
  return list;
}

function upsert(list: Obj[], entry: Obj): void {
  const p = entry.provenance as ResultProvenance;
  const i = list.findIndex((s) => {
    const sp = isObj(s.provenance) ? (s.provenance as Partial<ResultProvenance>) : undefined;
    return s.agent === entry.agent && sp?.prompt_hash === p.prompt_hash && (sp?.sample ?? null) === (p.sample ?? null);
  });
  if (i >= 0) list[i] = entry;
  else list.push(entry);
}

function humanDecided(record: Obj, layout: ResultLayout, question: string): boolean {
  const ann = record[layout.annotations];
  return isObj(ann) && isObj(ann.human) && (ann.human as Obj)[question] !== undefined;
}

function suggestion(value: unknown, r: { confidence?: number; rationale?: string; provenance: ResultProvenance }): Obj {
  const s: Obj = { value };
  if (r.confidence !== undefined) s.score = r.confidence;
  s.agent = r.provenance.model;
  s.type = 'model';
  if (r.rationale !== undefined && r.rationale !== '') s.rationale = r.rationale;
  s.provenance = r.provenance;
  return s;
}

/** Returns a new record with the result applied (the input is not mutated). */
export function applyResult(input: Record<string, unknown>, result: TaskResult, layout: ResultLayout = DEFAULT_LAYOUT): Record<string, unknown> {
  const record: Obj = { ...input };
  switch (result.task) {
    case 'label': {
      upsert(suggestionsFor(record, layout, result.question), suggestion(result.value, result));
      if (result.question === 'label' && !humanDecided(record, layout, result.question)) record[layout.label] = result.value;
      break;
    }
    case 'rationale':
      record[layout.rationale] = result.rationale ?? result.value;
      break;
    case 'judge': {
      const j: Obj = { score: result.value };
      if (result.scale) j.scale = result.scale;
      if (result.reasons !== undefined) j.reasons = result.reasons;
      if (result.scores && Object.keys(result.scores).length > 0) j.criteria = result.scores;
      j.model = result.provenance.model;
      j.provenance = result.provenance;
      record[layout.judge] = j;
      break;
    }
    case 'consistency': {
      const list = suggestionsFor(record, layout, result.question);
      for (const s of result.samples ?? []) upsert(list, suggestion(s.value, s));
      break;
    }
    case 'critique':
      upsert(suggestionsFor(record, layout, result.question), suggestion(result.value, result));
      break;
  }
  return record;
}
