// What a task returns for a record (TaskResult) and how it becomes record fields: each task maps
// onto the annotation layout's helpers in src/core/schema/annotation.ts (the one module that knows
// the layout; field names from its FieldMap):
//   label        a suggestion under the question + the top-level label when the record has none
//   consistency  one suggestion {value: majority, score: agreement, samples: [...]} + the label (idem)
//   rationale    a suggestion under the rationale question (provenance) + the top-level rationale
//                when the record has none
//   judge        the judge's entry in `judges[]` (by model + prompt hash) + the panel's `judge`
//   critique     a suggestion {value: refined, rationale: critique} under the critiqued field's
//                question, beside the original field (which is never touched)
// A model never replaces a label or rationale the record already has (from the source data, a
// person, an earlier model) unless `replace` is asked for, and then the previous value goes to
// `annotations.history`; a question a person decided is never relabeled. Applying the same result
// twice gives the same record (entries are replaced, not appended), so resuming never duplicates.
import {
  defaultFields,
  withJudge,
  withModelLabel,
  withRationale,
  withSuggestion,
  type FieldMap,
  type ModelWrite,
  type Suggestion,
} from '../schema/annotation';
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
  /** A label; for other question types (src/core/questions) their value. */
  value: unknown;
  confidence?: number;
  rationale?: string;
  provenance: ResultProvenance;
}

export interface TaskResult {
  task: TaskId;
  /** The annotation question (suggestions key), e.g. "label"; critique: the critiqued field. */
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
  /** Multi-label questions (src/core/questions): the confidence in each label, kept on the suggestion. */
  labelScores?: Record<string, number>;
  provenance: ResultProvenance;
}

function suggestion(
  value: unknown,
  r: { confidence?: number; rationale?: string; labelScores?: Record<string, number>; provenance: ResultProvenance },
  task?: TaskId,
): Suggestion {
  return {
    value,
    ...(r.confidence !== undefined ? { score: r.confidence } : {}),
    ...(r.labelScores !== undefined ? { label_scores: r.labelScores } : {}),
    agent: r.provenance.model,
    type: 'model',
    ...(r.rationale !== undefined && r.rationale !== '' ? { rationale: r.rationale } : {}),
    provenance: task && task !== 'label' ? { ...r.provenance, task } : r.provenance,
  };
}

export interface ApplyOptions {
  /** Replace an existing label or rationale, keeping the previous value in `annotations.history`. */
  replace?: boolean;
}

/** Returns a new record with the result applied (the input is not mutated). */
export function applyResult(
  record: Record<string, unknown>,
  result: TaskResult,
  fields: FieldMap = defaultFields,
  opts: ApplyOptions = {},
): Record<string, unknown> {
  const { model, prompt_hash, time } = result.provenance;
  const w: ModelWrite = { replace: opts.replace === true, by: { model, prompt_hash, time, task: result.task } };
  switch (result.task) {
    case 'label':
      return withModelLabel(
        withSuggestion(record, result.question, suggestion(result.value, result), fields),
        result.question,
        result.value,
        fields,
        w,
      );
    case 'consistency': {
      const s: Suggestion = {
        ...suggestion(result.value, result, 'consistency'),
        samples: (result.samples ?? []).map((x) => ({
          value: x.value,
          ...(x.confidence !== undefined ? { score: x.confidence } : {}),
          ...(x.rationale ? { rationale: x.rationale } : {}),
          provenance: x.provenance,
        })),
      };
      return withModelLabel(
        withSuggestion(record, result.question, s, fields),
        result.question,
        result.value,
        fields,
        w,
      );
    }
    case 'rationale': {
      const text = String(result.rationale ?? result.value);
      return withRationale(
        withSuggestion(
          record,
          fields.rationale,
          suggestion(text, { provenance: result.provenance }, 'rationale'),
          fields,
        ),
        text,
        fields,
        w,
      );
    }
    case 'judge':
      return withJudge(
        record,
        {
          score: typeof result.value === 'number' ? result.value : Number(result.value),
          ...(result.scale ? { scale: result.scale } : {}),
          ...(result.reasons !== undefined ? { reasons: result.reasons } : {}),
          ...(result.scores && Object.keys(result.scores).length > 0 ? { criteria: result.scores } : {}),
          model: result.provenance.model,
          provenance: result.provenance,
        },
        fields,
      );
    case 'critique':
      return withSuggestion(record, result.question, suggestion(result.value, result, 'critique'), fields);
  }
}
