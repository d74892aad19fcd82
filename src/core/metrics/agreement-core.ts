// Agreement figures, pure and dependency-free (worker threads load this without zod): accuracy,
// Cohen's kappa, per-label precision/recall/F1, macro/micro F1 and the confusion matrix of label
// pairs; Pearson, Spearman, mean absolute difference and Krippendorff's alpha (interval) between
// judges; between people, the figures of ./people.ts (Cohen's kappa per pair, Fleiss' kappa,
// Krippendorff's alpha); and the accumulator that counts them over a file, one record at a time,
// that can also take a record back (the editor's live report applies each edit as "take back the
// old line, count the new one"). Definitions and edge cases: docs/filters.md. The options and the
// operation are in ./agreement.ts.
import { jsonText } from '../json-text';
import { getPath, humanOf, judgePanelOf, suggestionsOf, topSuggestion, type Suggestion } from '../filter/fields';
import { PeopleCounter, type AnnotatorsReport } from './people';

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
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : (jsonText(v) ?? String(v));
}

/** Metrics of predictions against references; pairs are [reference, prediction]. */
export function classificationMetrics(pairs: readonly (readonly [string, string])[]): ClassificationMetrics {
  return classificationMetricsOfCounts(pairs.map(([a, b]) => [a, b, 1] as const));
}

/** The same from counted pairs: [reference, prediction, how many]. */
export function classificationMetricsOfCounts(
  counts: Iterable<readonly [string, string, number]>,
): ClassificationMetrics {
  const list = [...counts].filter((c) => c[2] > 0);
  const set = new Set<string>();
  for (const [a, b] of list) {
    set.add(a);
    set.add(b);
  }
  const labels = [...set].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const k = labels.length;
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  let n = 0;
  for (const [a, b, c] of list) {
    const row = confusion[at.get(a) as number] as number[];
    const j = at.get(b) as number;
    row[j] = (row[j] as number) + c;
    n += c;
  }
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
  if (n === 0)
    return {
      n,
      accuracy: null,
      expectedAgreement: null,
      kappa: null,
      labels,
      confusion,
      perLabel,
      macroF1: null,
      microF1: null,
    };
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
  for (let i = 0; i < order.length;) {
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

/**
 * One record's judges (its current panel: see judgePanelOf) as a row {rater: score}: raters by
 * model name, `judge#i` by position when a judge names no model (a repeated name gets `#i`).
 * Undefined with fewer than 2 judges.
 */
export function judgeRow(value: Record<string, unknown>): Map<string, number> | undefined {
  const js = judgePanelOf(value);
  if (js.length < 2) return undefined;
  const row = new Map<string, number>();
  js.forEach((j, i) => {
    let name = j.model ?? `judge#${i}`;
    if (row.has(name)) name = `${name}#${i}`;
    row.set(name, j.score);
  });
  return row;
}

/** Agreement between judges from records' `judges[]`, each record's current panel (records with one judge add nothing). */
export function judgesAgreement(values: Iterable<Record<string, unknown>>): JudgesReport {
  const rows: Map<string, number>[] = [];
  for (const v of values) {
    const row = judgeRow(v);
    if (row) rows.push(row);
  }
  return judgesAgreementOfRows(rows);
}

/** Agreement between judges from judge rows (see judgeRow). */
export function judgesAgreementOfRows(rows: readonly ReadonlyMap<string, number>[]): JudgesReport {
  const raters = new Set<string>();
  for (const r of rows) for (const name of r.keys()) raters.add(name);
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
      pairs.push({
        a,
        b,
        n: xs.length,
        pearson: pearson(xs, ys),
        spearman: spearman(xs, ys),
        meanAbsoluteDifference: meanAbsoluteDifference(xs, ys),
      });
    }
  }
  const alpha = krippendorffAlphaInterval(rows.map((r) => names.map((nm) => r.get(nm))));
  return { raters: names, records: rows.length, pairs, alpha };
}

// ---------------------------------------------------------------------------------------------
// Counting over records

/**
 * Where a label comes from:
 *   'human'       annotations.human.<question>.value (unless discarded)
 *   'suggestion'  the top model suggestion's value for <question>
 *   'label'       the record's <question> field (the current label)
 *   'gold'        the gold file's goldField, joined by index or by a key field
 *   'field:PATH'  any dotted path of the record (e.g. field:gold_label)
 */
export type LabelSourceName = 'human' | 'suggestion' | 'label' | 'gold' | `field:${string}` | `model:${string}`;

/**
 * Each model's own suggestion for a question (by `agent`; a model with several keeps its most
 * confident). Suggestions without an agent count as one model, "(unnamed model)".
 */
export function suggestionsByModel(v: Record<string, unknown>, question: string): Map<string, Suggestion> {
  const out = new Map<string, Suggestion>();
  for (const s of suggestionsOf(v, question)) {
    if (s.type !== undefined && s.type !== 'model') continue;
    const agent = s.agent ?? UNNAMED_MODEL;
    const had = out.get(agent);
    if (!had || (s.score ?? -1) > (had.score ?? -1)) out.set(agent, s);
  }
  return out;
}

export const UNNAMED_MODEL = '(unnamed model)';

/** The label a source gives for a record (undefined or null: none). */
export function pickLabel(
  source: LabelSourceName,
  v: Record<string, unknown>,
  question: string,
  gold: unknown,
): unknown {
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
      if (source.startsWith('model:')) return suggestionsByModel(v, question).get(source.slice('model:'.length))?.value;
      return getPath(v, source.slice('field:'.length));
  }
}

export interface Comparison {
  reference: LabelSourceName;
  prediction: LabelSourceName;
  /** Records where both sides have a label (the metrics' n), and records skipped for lacking one. */
  metrics: ClassificationMetrics;
  missing: number;
}

export interface AgreementReport {
  records: number;
  comparisons: Comparison[];
  judges?: JudgesReport;
  /**
   * Per model (the suggestions' agents), when asked for (`perModel`): each model's own suggestions
   * against the reference (people's decisions, or the gold labels), and every pair of models against
   * each other. `suggestion` in `comparisons` takes the most confident suggestion of any model, so
   * with several models it mixes them: these say which model agrees.
   */
  models?: ModelAgreement[];
  modelPairs?: ModelPairAgreement[];
  /**
   * Between people, when asked for (`people`): each person's submitted decision on the question
   * (annotations.decisions / annotations.human, by user; ./people.ts, as `curate annotators`).
   */
  people?: AnnotatorsReport;
}

export interface ModelAgreement {
  model: string;
  /** Records with this model's suggestion. */
  suggested: number;
  /** This model's suggestions (prediction) against the reference. */
  vsReference: Comparison;
}

export interface ModelPairAgreement {
  a: string;
  b: string;
  /** a as the reference, b as the prediction: kappa and accuracy are symmetric; per-label precision and recall swap. */
  metrics: ClassificationMetrics;
}

/** What an accumulator counts (resolved options: see AgreementOptions in ./agreement.ts). */
export interface AgreementSpec {
  question: string;
  compare: [LabelSourceName, LabelSourceName][];
  judges: boolean;
  /** Also per model and between models (see AgreementReport.models), against this reference (default human). */
  perModel?: boolean;
  modelReference?: LabelSourceName;
  /** Also between people: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha (see AgreementReport.people). */
  people?: boolean;
}

/** An accumulator's counts as plain JSON (what a worker thread posts back). */
export interface AgreementState {
  lines: number;
  records: number;
  /** Per comparison: [reference label, predicted label, count]. */
  pairs: [string, string, number][][];
  missing: number[];
  /** Judge rows (JSON of [rater, score] pairs) and how many records have each. */
  judgeRows: [string, number][];
  /** perModel: per model [model, suggested, missing, pairs]; per pair of models [a, b, pairs]. */
  models?: [string, number, number, [string, string, number][]][];
  modelPairs?: [string, string, [string, string, number][]][];
  /** people: each distinct row of decisions by person (JSON) and how many records have it. */
  people?: [string, number][];
}

const pairKey = (a: string, b: string) => JSON.stringify([a, b]);

/**
 * Counts agreement over records: `add(value, +1)` counts a line, `add(value, -1)` takes it back
 * (the counts are sums, so the order of adds and take-backs does not matter). Invalid lines are
 * added as undefined: they count as lines, not records.
 */
export class AgreementAccumulator {
  lines = 0;
  records = 0;
  private readonly pairs: Map<string, number>[];
  private readonly missing: number[];
  private readonly rows = new Map<string, number>();
  /** perModel: per model, records with its suggestion, records without a reference label, and its pairs with the reference. */
  private readonly perModel = new Map<string, { suggested: number; missing: number; pairs: Map<string, number> }>();
  /** perModel: per pair of models (JSON [a, b], a < b), their label pairs. */
  private readonly betweenModels = new Map<string, Map<string, number>>();
  /** people: the decisions by person. */
  private readonly people: PeopleCounter | undefined;

  constructor(readonly spec: AgreementSpec) {
    this.pairs = spec.compare.map(() => new Map<string, number>());
    this.missing = spec.compare.map(() => 0);
    this.people = spec.people ? new PeopleCounter(spec.question) : undefined;
  }

  add(value: Record<string, unknown> | undefined, sign: 1 | -1 = 1, gold?: unknown): void {
    this.lines += sign;
    if (!value) return;
    this.records += sign;
    const q = this.spec.question;
    this.spec.compare.forEach(([ref, pred], i) => {
      const a = pickLabel(ref, value, q, gold);
      const b = pickLabel(pred, value, q, gold);
      if (a === undefined || a === null || b === undefined || b === null)
        this.missing[i] = (this.missing[i] as number) + sign;
      else bump(this.pairs[i] as Map<string, number>, pairKey(labelKey(a), labelKey(b)), sign);
    });
    if (this.spec.judges) {
      const row = judgeRow(value);
      if (row) bump(this.rows, JSON.stringify([...row]), sign);
    }
    if (this.spec.perModel) this.addModels(value, sign, gold);
    this.people?.add(value, sign);
  }

  private modelEntry(model: string) {
    let e = this.perModel.get(model);
    if (!e) this.perModel.set(model, (e = { suggested: 0, missing: 0, pairs: new Map() }));
    return e;
  }

  private addModels(value: Record<string, unknown>, sign: 1 | -1, gold: unknown): void {
    const q = this.spec.question;
    const by = suggestionsByModel(value, q);
    if (by.size === 0) return;
    const ref = pickLabel(this.spec.modelReference ?? 'human', value, q, gold);
    const models = [...by.keys()].sort();
    for (const m of models) {
      const e = this.modelEntry(m);
      e.suggested += sign;
      const v = (by.get(m) as Suggestion).value;
      if (ref === undefined || ref === null || v === undefined || v === null) e.missing += sign;
      else bump(e.pairs, pairKey(labelKey(ref), labelKey(v)), sign);
    }
    for (let i = 0; i < models.length; i++) {
      for (let j = i + 1; j < models.length; j++) {
        const a = (by.get(models[i] as string) as Suggestion).value;
        const b = (by.get(models[j] as string) as Suggestion).value;
        if (a === undefined || a === null || b === undefined || b === null) continue;
        const k = JSON.stringify([models[i], models[j]]);
        let m = this.betweenModels.get(k);
        if (!m) this.betweenModels.set(k, (m = new Map<string, number>()));
        bump(m, pairKey(labelKey(a), labelKey(b)), sign);
      }
    }
  }

  state(): AgreementState {
    return {
      lines: this.lines,
      records: this.records,
      pairs: this.pairs.map((m) =>
        [...m].map(([k, n]) => [...(JSON.parse(k) as [string, string]), n] as [string, string, number]),
      ),
      missing: [...this.missing],
      judgeRows: [...this.rows],
      ...(this.spec.perModel
        ? {
            models: [...this.perModel].map(
              ([m, e]) =>
                [m, e.suggested, e.missing, unpair(e.pairs)] as [string, number, number, [string, string, number][]],
            ),
            modelPairs: [...this.betweenModels].map(
              ([k, m]) =>
                [...(JSON.parse(k) as [string, string]), unpair(m)] as [string, string, [string, string, number][]],
            ),
          }
        : {}),
      ...(this.people ? { people: this.people.state() } : {}),
    };
  }

  merge(s: AgreementState): void {
    this.lines += s.lines;
    this.records += s.records;
    s.pairs.forEach((list, i) => {
      const m = this.pairs[i];
      if (m) for (const [a, b, n] of list) bump(m, pairKey(a, b), n);
    });
    s.missing.forEach((n, i) => (this.missing[i] = (this.missing[i] ?? 0) + n));
    for (const [k, n] of s.judgeRows) bump(this.rows, k, n);
    for (const [m, suggested, missing, pairs] of s.models ?? []) {
      const e = this.modelEntry(m);
      e.suggested += suggested;
      e.missing += missing;
      for (const [a, b, n] of pairs) bump(e.pairs, pairKey(a, b), n);
    }
    for (const [a, b, pairs] of s.modelPairs ?? []) {
      const k = JSON.stringify([a, b]);
      let m = this.betweenModels.get(k);
      if (!m) this.betweenModels.set(k, (m = new Map<string, number>()));
      for (const [x, y, n] of pairs) bump(m, pairKey(x, y), n);
    }
    if (s.people) this.people?.merge(s.people);
  }

  report(): AgreementReport {
    const report: AgreementReport = {
      records: this.records,
      comparisons: this.spec.compare.map(([reference, prediction], i) => ({
        reference,
        prediction,
        metrics: classificationMetricsOfCounts(
          [...(this.pairs[i] as Map<string, number>)].map(
            ([k, n]) => [...(JSON.parse(k) as [string, string]), n] as const,
          ),
        ),
        missing: this.missing[i] as number,
      })),
    };
    if (this.spec.judges) {
      const rows: Map<string, number>[] = [];
      for (const [k, n] of this.rows) {
        const row = new Map(JSON.parse(k) as [string, number][]);
        for (let t = 0; t < n; t++) rows.push(row);
      }
      report.judges = judgesAgreementOfRows(rows);
    }
    if (this.spec.perModel) {
      const reference = this.spec.modelReference ?? 'human';
      report.models = [...this.perModel]
        .filter(([, e]) => e.suggested > 0)
        .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
        .map(([model, e]) => ({
          model,
          suggested: e.suggested,
          vsReference: {
            reference,
            prediction: `model:${model}` as LabelSourceName,
            metrics: classificationMetricsOfCounts(unpair(e.pairs)),
            missing: e.missing,
          },
        }));
      report.modelPairs = [...this.betweenModels]
        .map(([k, m]) => {
          const [a, b] = JSON.parse(k) as [string, string];
          return { a, b, metrics: classificationMetricsOfCounts(unpair(m)) };
        })
        .filter((p) => p.metrics.n > 0)
        .sort((x, y) => (x.a + '\u0000' + x.b < y.a + '\u0000' + y.b ? -1 : 1));
    }
    if (this.people) report.people = this.people.report();
    return report;
  }
}

function unpair(m: Map<string, number>): [string, string, number][] {
  return [...m].map(([k, n]) => [...(JSON.parse(k) as [string, string]), n] as [string, string, number]);
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}
