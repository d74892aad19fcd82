// A cost cascade (uncertainty-guided allocation): a cheap model labels every record first, a
// stronger one only the records where the cheaper one's confidence is below a threshold, and what
// is still below it after the last model goes to the human review queue. Pure: the caller runs
// each stage (online or as a batch) and gives its per-record confidences; this says who goes on,
// and what each stage counted and cost.
import type { Usage } from '../client';
import { costOf, type RunMode, type TokenPrices } from './prices';

export interface CascadeStage {
  model: string;
  /** Online prices (USD per million tokens); `mode: 'batch'` pays the batch price. */
  prices: TokenPrices;
  mode?: RunMode;
}

/** One record's outcome at a stage. */
export interface StageRecord<K = number> {
  key: K;
  /** The stage's confidence in its label (0..1); undefined: none given. */
  confidence?: number;
  /** The stage gave no usable answer. */
  failed?: boolean;
  usage?: Usage;
}

export interface Selection<K> {
  /** Confidence at or above the threshold: the stage's label stands. */
  accepted: K[];
  /** Below the threshold, without a confidence, or failed: to the next stage. */
  escalate: K[];
  /** After the last stage, still below the threshold: to the human review queue. */
  review: K[];
}

/** Splits a stage's records by confidence: `threshold` is `--escalate-below`. */
export function selectEscalation<K>(
  records: readonly StageRecord<K>[],
  threshold: number,
  last: boolean,
): Selection<K> {
  if (!(threshold >= 0 && threshold <= 1))
    throw new RangeError(`the threshold must be between 0 and 1 (got ${threshold})`);
  const out: Selection<K> = { accepted: [], escalate: [], review: [] };
  for (const r of records) {
    const sure =
      !r.failed && typeof r.confidence === 'number' && Number.isFinite(r.confidence) && r.confidence >= threshold;
    if (sure) out.accepted.push(r.key);
    else (last ? out.review : out.escalate).push(r.key);
  }
  return out;
}

export interface StageReport {
  model: string;
  mode: RunMode;
  /** Records the stage was given. */
  records: number;
  accepted: number;
  escalated: number;
  review: number;
  failed: number;
  tokens: Usage;
  cost: number;
}

export interface CascadeReport<K> {
  stages: StageReport[];
  /** Which stage's label each record keeps (index into stages), or 'review'. */
  decidedBy: Map<K, number | 'review'>;
  total: { records: number; accepted: number; review: number; cost: number };
}

/**
 * The report of a cascade that ran: `results[s]` holds stage s's records (the records escalated
 * to it). Checks that each stage was given exactly the records the previous one escalated.
 */
export function cascadeReport<K>(
  stages: readonly CascadeStage[],
  results: readonly (readonly StageRecord<K>[])[],
  threshold: number,
): CascadeReport<K> {
  if (results.length > stages.length) throw new Error(`${results.length} stage results for ${stages.length} stages`);
  const decidedBy = new Map<K, number | 'review'>();
  const reports: StageReport[] = [];
  let expected: Set<K> | undefined;
  results.forEach((records, s) => {
    const stage = stages[s] as CascadeStage;
    const keys = new Set(records.map((r) => r.key));
    if (expected && (keys.size !== expected.size || [...keys].some((k) => !expected?.has(k)))) {
      throw new Error(`stage ${s + 1} (${stage.model}) was given other records than stage ${s} escalated`);
    }
    const last = s === stages.length - 1;
    const sel = selectEscalation(records, threshold, last);
    for (const k of sel.accepted) decidedBy.set(k, s);
    for (const k of sel.review) decidedBy.set(k, 'review');
    const tokens = records.reduce<Usage>(
      (u, r) => ({
        input_tokens: u.input_tokens + (r.usage?.input_tokens ?? 0),
        output_tokens: u.output_tokens + (r.usage?.output_tokens ?? 0),
      }),
      { input_tokens: 0, output_tokens: 0 },
    );
    const mode = stage.mode ?? 'online';
    reports.push({
      model: stage.model,
      mode,
      records: records.length,
      accepted: sel.accepted.length,
      escalated: sel.escalate.length,
      review: sel.review.length,
      failed: records.filter((r) => r.failed).length,
      tokens,
      cost: costOf(tokens, stage.prices, mode),
    });
    expected = new Set(sel.escalate);
  });
  // a cascade stopped before its last stage: what would have escalated is still undecided
  const total = {
    records: reports[0]?.records ?? 0,
    accepted: [...decidedBy.values()].filter((v) => v !== 'review').length,
    review: [...decidedBy.values()].filter((v) => v === 'review').length,
    cost: reports.reduce((c, r) => c + r.cost, 0),
  };
  return { stages: reports, decidedBy, total };
}

export interface CascadeEstimate {
  stages: Array<{ model: string; records: number; cost: number }>;
  cost: number;
  /** The cost of the last (strongest) model on every record, in the same mode: what the cascade saves against. */
  strongestOnly: number;
}

/**
 * An estimate before running: `records` records of `perRecord` tokens each; `escalation[s]` is the
 * share of stage s's records expected below the threshold (e.g. from a pilot run).
 */
export function estimateCascade(
  stages: readonly CascadeStage[],
  records: number,
  perRecord: Usage,
  escalation: readonly number[],
): CascadeEstimate {
  const out: CascadeEstimate = { stages: [], cost: 0, strongestOnly: 0 };
  let n = records;
  stages.forEach((stage, s) => {
    const tokens = { input_tokens: perRecord.input_tokens * n, output_tokens: perRecord.output_tokens * n };
    const cost = costOf(tokens, stage.prices, stage.mode ?? 'online');
    out.stages.push({ model: stage.model, records: n, cost });
    out.cost += cost;
    n = Math.round(n * Math.min(1, Math.max(0, escalation[s] ?? 1)));
  });
  const strongest = stages[stages.length - 1];
  if (strongest)
    out.strongestOnly = costOf(
      { input_tokens: perRecord.input_tokens * records, output_tokens: perRecord.output_tokens * records },
      strongest.prices,
      strongest.mode ?? 'online',
    );
  return out;
}
