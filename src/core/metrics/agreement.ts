// Agreement metrics: between the model's suggestions and people's decisions in the same file, against
// a gold file or field (accuracy, Cohen's kappa, per-label precision/recall/F1, macro/micro F1,
// confusion matrix), and between judges' numeric scores (Pearson, Spearman, mean absolute
// difference, Krippendorff's alpha, interval). Definitions and edge cases: docs/filters.md.
import { openStore } from '../sources';
import { z } from 'zod';
import { defineOperation } from '../operation';
import { getPath, humanOf, iterateLines, judgePanelOf, throwIfAborted, topSuggestion, type LineSource } from '../filter/fields';

// ---------------------------------------------------------------------------------------------
// Categorical

export interface LabelMetrics {
  label: string;
  /** tp / (tp + fp); 0 when the label was never predicted. */
  precision: number;
  /** tp / (tp + fn); 0 when the label never occurs in the reference. */
  recall: number;
  /** 2PR / (P + R); 0 when P + R = 0. */
  f1: number;
  /** Occurrences in the reference. */
  support: number;
}

export interface ClassificationMetrics {
  n: number;
  /** Observed agreement p_o; null when n = 0. */
  accuracy: number | null;
  /** Chance agreement p_e = Σ_k (ref_k / n)(pred_k / n); null when n = 0. */
  expectedAgreement: number | null;
  /** (p_o - p_e) / (1 - p_e); null when n = 0 or p_e = 1 (both sides use one and the same single label). */
  kappa: number | null;
  /** Every label seen on either side, sorted (code-unit order). */
  labels: string[];
  /** confusion[i][j]: reference labels[i], prediction labels[j]. */
  confusion: number[][];
  perLabel: LabelMetrics[];
  /** Unweighted mean of the per-label F1 over `labels`; null when n = 0. */
  macroF1: number | null;
  /** F1 of the pooled counts; for single-label data it equals the accuracy. null when n = 0. */
  microF1: number | null;
}

/** A label as a string: strings as they are, numbers and booleans by String, others by JSON. */
export function labelKey(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** Metrics of predictions against references; pairs are [reference, prediction]. */
export function classificationMetrics(pairs: readonly (readonly [string, string])[]): ClassificationMetrics {
  const set = new Set<string>();
  for (const [a, b] of pairs) {
    set.add(a);
    set.add(b);
  }
  const labels = [...set].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const k = labels.length;
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  for (const [a, b] of pairs) {
    const row = confusion[at.get(a) as number] as number[];
    const j = at.get(b) as number;
    row[j] = (row[j] as number) + 1;
  }
  const n = pairs.length;
  const refTotals = confusion.map((row) => row.reduce((s, x) => s + x, 0));
  const predTotals = labels.map((_, j) => confusion.reduce((s, row) => s + (row[j] as number), 0));
  let agree = 0;
  for (let i = 0; i < k; i++) agree += (confusion[i] as number[])[i] as number;
  const perLabel = labels.map((label, i) => {
    const tp = (confusion[i] as number[])[i] as number;
    const predicted = predTotals[i] as number;
    const actual = refTotals[i] as number;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = actual === 0 ? 0 : tp / actual;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support: actual };
  });
  if (n === 0) return { n, accuracy: null, expectedAgreement: null, kappa: null, labels, confusion, perLabel, macroF1: null, microF1: null };
  const po = agree / n;
  let pe = 0;
  for (let i = 0; i < k; i++) pe += ((refTotals[i] as number) / n) * ((predTotals[i] as number) / n);
  // p_e = 1 only when both sides put every item in the same single label: kappa is 0/0.
  const kappa = Math.abs(1 - pe) < 1e-12 ? null : (po - pe) / (1 - pe);
  const macroF1 = perLabel.reduce((s, l) => s + l.f1, 0) / k;
  // Pooled: TP = agree, FP = FN = n - agree, so micro P = micro R = micro F1 = agree / n.
  const microF1 = po;
  return { n, accuracy: po, expectedAgreement: pe, kappa, labels, confusion, perLabel, macroF1, microF1 };
}

// ---------------------------------------------------------------------------------------------
// Numeric

/** Pearson's r; null when n < 2 or either side has zero variance. */
export function pearson(xs: readonly number[], ys: readonly number[]): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks; tied values get the average of the ranks they span. */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
  const ranks = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i + 1;
    while (j < order.length && xs[order[j] as number] === xs[order[i] as number]) j++;
    const avg = (i + 1 + j) / 2; // ranks i+1..j
    for (let t = i; t < j; t++) ranks[order[t] as number] = avg;
    i = j;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks; null as for Pearson. */
export function spearman(xs: readonly number[], ys: readonly number[]): number | null {
  return pearson(averageRanks(xs), averageRanks(ys));
}

export function meanAbsoluteDifference(xs: readonly number[], ys: readonly number[]): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return null;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs((xs[i] as number) - (ys[i] as number));
  return s / n;
}

/**
 * Krippendorff's alpha with the interval metric (squared difference). `units[u][r]` is rater r's
 * value for unit u (undefined/null: missing). Units with fewer than 2 values are not pairable and
 * are left out. alpha = 1 - D_o / D_e with
 *   D_o = (1/n) Σ_u 1/(m_u - 1) Σ_{i≠j in u} (v_i - v_j)²,   D_e = 1/(n(n-1)) Σ_{i≠j} (v_i - v_j)²
 * over the n pairable values (ordered pairs). null when n < 2 or D_e = 0 (every value the same).
 */
export function krippendorffAlphaInterval(units: readonly (readonly (number | null | undefined)[])[]): number | null {
  // Σ_{i≠j} (v_i - v_j)² over ordered pairs = 2 (m Σv² - (Σv)²)
  const pairSum = (vals: number[]) => {
    let s = 0;
    let s2 = 0;
    for (const v of vals) {
      s += v;
      s2 += v * v;
    }
    return 2 * (vals.length * s2 - s * s);
  };
  const all: number[] = [];
  let within = 0;
  for (const u of units) {
    const vals = u.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (vals.length < 2) continue;
    within += pairSum(vals) / (vals.length - 1);
    all.push(...vals);
  }
  const n = all.length;
  if (n < 2) return null;
  const de = pairSum(all) / (n * (n - 1));
  if (de <= 1e-15) return null;
  const dO = within / n;
  return 1 - dO / de;
}

export interface NumericAgreement {
  a: string;
  b: string;
  /** Records both scored. */
  n: number;
  pearson: number | null;
  spearman: number | null;
  meanAbsoluteDifference: number | null;
}

export interface JudgesReport {
  /** Judges by model name (or `judge#i` by position when a judge names no model), sorted. */
  raters: string[];
  /** Records with at least 2 judge scores. */
  records: number;
  pairs: NumericAgreement[];
  /** Krippendorff's alpha (interval) over every rater. */
  alpha: number | null;
}

/** Agreement between judges from records' `judges[]`, each record's current panel (records with one judge add nothing). */
export function judgesAgreement(values: Iterable<Record<string, unknown>>): JudgesReport {
  const rows: Map<string, number>[] = [];
  const raters = new Set<string>();
  for (const v of values) {
    const js = judgePanelOf(v);
    if (js.length < 2) continue;
    const row = new Map<string, number>();
    js.forEach((j, i) => {
      let name = j.model ?? `judge#${i}`;
      if (row.has(name)) name = `${name}#${i}`;
      row.set(name, j.score);
      raters.add(name);
    });
    rows.push(row);
  }
  const names = [...raters].sort();
  const pairs: NumericAgreement[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = names[i] as string;
      const b = names[j] as string;
      const xs: number[] = [];
      const ys: number[] = [];
      for (const r of rows) {
        const x = r.get(a);
        const y = r.get(b);
        if (x !== undefined && y !== undefined) {
          xs.push(x);
          ys.push(y);
        }
      }
      pairs.push({ a, b, n: xs.length, pearson: pearson(xs, ys), spearman: spearman(xs, ys), meanAbsoluteDifference: meanAbsoluteDifference(xs, ys) });
    }
  }
  const alpha = krippendorffAlphaInterval(rows.map((r) => names.map((nm) => r.get(nm))));
  return { raters: names, records: rows.length, pairs, alpha };
}

// ---------------------------------------------------------------------------------------------
// From a file

/**
 * Where a label comes from:
 *   'human'       annotations.human.<question>.value (unless discarded)
 *   'suggestion'  the top model suggestion's value for <question>
 *   'label'       the record's <question> field (the current label)
 *   'gold'        the gold file's goldField, joined by index or by a key field
 *   'field:PATH'  any dotted path of the record (e.g. field:gold_label)
 */
export const LabelSource = z.union([z.enum(['human', 'suggestion', 'label', 'gold']), z.string().regex(/^field:.+/, "'human', 'suggestion', 'label', 'gold' or 'field:PATH'")]);
export type LabelSource = z.infer<typeof LabelSource>;

export const AgreementOptions = z.object({
  question: z.string().default('label'),
  /** The comparisons, each [reference, prediction]. Default: human vs suggestion; with a gold file also gold vs suggestion and gold vs label. */
  compare: z.array(z.tuple([LabelSource, LabelSource])).optional(),
  /** The gold file's field holding the label. */
  goldField: z.string().default('label'),
  /** How gold records are matched: 'index' (line order) or a key path such as 'id'. */
  joinOn: z.string().default('index'),
  /** Also measure the agreement between judges (judges[]). */
  judges: z.boolean().default(true),
});
export type AgreementOptions = z.input<typeof AgreementOptions>;

export interface Comparison {
  reference: LabelSource;
  prediction: LabelSource;
  /** Records where both sides have a label (the metrics' n), and records skipped for lacking one. */
  metrics: ClassificationMetrics;
  missing: number;
}

export interface AgreementReport {
  records: number;
  comparisons: Comparison[];
  judges?: JudgesReport;
}

function pick(source: LabelSource, v: Record<string, unknown>, question: string, gold: unknown): unknown {
  switch (source) {
    case 'human':
      return humanOf(v, question)?.value;
    case 'suggestion':
      return topSuggestion(v, question)?.value;
    case 'label':
      return getPath(v, question);
    case 'gold':
      return gold;
    default:
      return getPath(v, source.slice('field:'.length));
  }
}

/** Agreement figures for a file (and optionally a gold file). */
export async function agreement(source: LineSource, options: AgreementOptions = {}, gold?: LineSource, signal?: AbortSignal): Promise<AgreementReport> {
  const o = AgreementOptions.parse(options);
  const compare: [LabelSource, LabelSource][] = o.compare ?? (gold ? [['gold', 'suggestion'], ['gold', 'label'], ['human', 'suggestion']] : [['human', 'suggestion']]);
  if (!gold && compare.some(([a, b]) => a === 'gold' || b === 'gold')) throw new Error("A 'gold' comparison needs a gold file.");
  const goldBy = new Map<string | number, unknown>();
  if (gold) {
    for await (const l of iterateLines(gold)) {
      if (!l.value) continue;
      const key = o.joinOn === 'index' ? l.index : getPath(l.value, o.joinOn);
      if (key === undefined || key === null) continue;
      goldBy.set(typeof key === 'number' ? key : labelKey(key), getPath(l.value, o.goldField));
    }
  }
  const pairs = compare.map(() => [] as [string, string][]);
  const missing = compare.map(() => 0);
  const values: Record<string, unknown>[] = [];
  let records = 0;
  for await (const l of iterateLines(source)) {
    if ((records & 1023) === 0) throwIfAborted(signal);
    if (!l.value) continue;
    records++;
    const v = l.value;
    let g: unknown;
    if (gold) {
      const key = o.joinOn === 'index' ? l.index : getPath(v, o.joinOn);
      g = key === undefined || key === null ? undefined : goldBy.get(typeof key === 'number' ? key : labelKey(key));
    }
    compare.forEach(([ref, pred], i) => {
      const a = pick(ref, v, o.question, g);
      const b = pick(pred, v, o.question, g);
      if (a === undefined || a === null || b === undefined || b === null) missing[i] = (missing[i] as number) + 1;
      else (pairs[i] as [string, string][]).push([labelKey(a), labelKey(b)]);
    });
    if (o.judges && Array.isArray(v.judges)) values.push(v);
  }
  const report: AgreementReport = {
    records,
    comparisons: compare.map(([reference, prediction], i) => ({ reference, prediction, metrics: classificationMetrics(pairs[i] as [string, string][]), missing: missing[i] as number })),
  };
  if (o.judges) report.judges = judgesAgreement(values);
  return report;
}

export const AgreementOperationOptions = AgreementOptions.extend({
  file: z.string().min(1),
  /** A gold JSONL file. */
  gold: z.string().min(1).optional(),
});

/** Operation `agreement`. */
export function createAgreementOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'agreement',
    title: 'Agreement',
    description: "Agreement between the model's suggestions, people's decisions, a gold file or field, and between judges.",
    options: AgreementOperationOptions,
    async run(options, ctx) {
      ctx.progress({ done: 0, unit: 'records', message: 'reading' });
      const r = await agreement(open(options.file, ctx.signal), options, options.gold ? open(options.gold, ctx.signal) : undefined, ctx.signal);
      ctx.progress({ done: r.records, total: r.records, unit: 'records' });
      return r;
    },
  });
}

export const agreementOperation = createAgreementOperation();
