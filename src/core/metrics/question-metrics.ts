// Agreement figures per question type, pure and dependency-free. Each takes pairs of answers
// [a, b] (two people, a person and a model, two models) already checked against the question:
//   multi-label  per-label Cohen's kappa, Jaccard (per record, averaged), Hamming loss, micro F1
//   rating       exact agreement, mean absolute difference, Cohen's weighted kappa (linear and
//                quadratic, over the declared scale), Pearson; Krippendorff's alpha (interval)
//                over every rater is in ./agreement-core.ts
//   ranking      Kendall's tau-b per record (tau-a when nothing ties), averaged; top-1 agreement
//   span         exact F1 (same label, start and end) and overlap F1 (same label, overlapping,
//                matched one to one), pooled over records; per-label exact F1
//   text         exact match and token F1 (SQuAD's bag-of-words overlap), averaged
// Definitions and references: docs/questions.md.
import { classificationMetrics, pearson, type ClassificationMetrics } from './agreement-core';

const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

// ---------------------------------------------------------------------------------------------
// Multi-label

export interface LabelAgreement {
  label: string;
  /** Cohen's kappa of "has the label" between the two sides; null when undefined (both sides constant and equal). */
  kappa: number | null;
  /** Share of records where both sides agree on this label. */
  agreement: number;
  /** Records with the label on side a, on side b, on both. */
  a: number;
  b: number;
  both: number;
  /** Jaccard of this label: both / (a + b - both); null when neither side ever uses it. */
  jaccard: number | null;
}

export interface MultiLabelAgreement {
  n: number;
  /** Mean over records of |A ∩ B| / |A ∪ B| (two empty answers agree: 1). */
  jaccard: number | null;
  /** Share of (record, label) decisions that differ. */
  hamming: number | null;
  /** Share of records with the same set. */
  exact: number | null;
  /** F1 of the pooled label decisions, b against a. */
  microF1: number | null;
  /** Mean of the per-label kappas that are defined. */
  meanKappa: number | null;
  perLabel: LabelAgreement[];
}

/** Multi-label agreement over `labels` (the declared ones; labels outside are ignored). */
export function multiLabelAgreement(
  pairs: readonly (readonly [readonly string[], readonly string[]])[],
  labels: readonly string[],
): MultiLabelAgreement {
  const n = pairs.length;
  const perLabel: LabelAgreement[] = labels.map((label) => {
    const binary = pairs.map(([a, b]) => [a.includes(label) ? 'yes' : 'no', b.includes(label) ? 'yes' : 'no'] as const);
    const m: ClassificationMetrics = classificationMetrics(binary);
    const ca = binary.filter(([x]) => x === 'yes').length;
    const cb = binary.filter(([, y]) => y === 'yes').length;
    const both = binary.filter(([x, y]) => x === 'yes' && y === 'yes').length;
    return {
      label,
      kappa: m.kappa,
      agreement: m.accuracy ?? 0,
      a: ca,
      b: cb,
      both,
      jaccard: ca + cb - both === 0 ? null : both / (ca + cb - both),
    };
  });
  if (n === 0) return { n, jaccard: null, hamming: null, exact: null, microF1: null, meanKappa: null, perLabel };
  const set = new Set(labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let differ = 0;
  let exact = 0;
  const jac: number[] = [];
  for (const [a0, b0] of pairs) {
    const a = new Set(a0.filter((l) => set.has(l)));
    const b = new Set(b0.filter((l) => set.has(l)));
    let inter = 0;
    for (const l of a) if (b.has(l)) inter++;
    const union = a.size + b.size - inter;
    jac.push(union === 0 ? 1 : inter / union);
    tp += inter;
    fn += a.size - inter;
    fp += b.size - inter;
    differ += union - inter;
    if (union === inter) exact++;
  }
  const kappas = perLabel.map((l) => l.kappa).filter((k): k is number => k !== null);
  const p = tp + fp === 0 ? 0 : tp / (tp + fp);
  const r = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    n,
    jaccard: mean(jac),
    hamming: labels.length ? differ / (n * labels.length) : null,
    exact: exact / n,
    microF1: tp + fp + fn === 0 ? 1 : f1(p, r),
    meanKappa: mean(kappas),
    perLabel,
  };
}

// ---------------------------------------------------------------------------------------------
// Rating

export interface RatingAgreement {
  n: number;
  exact: number | null;
  meanAbsoluteDifference: number | null;
  /** Cohen's weighted kappa with linear and quadratic disagreement weights over the scale's points. */
  linearKappa: number | null;
  quadraticKappa: number | null;
  pearson: number | null;
}

/**
 * Cohen's weighted kappa over the integer scale [min, max]: 1 - Σ w·O / Σ w·E, with O the observed
 * and E the chance (product of marginals) proportions and w_ij = |i - j| (linear) or (i - j)²
 * (quadratic). The categories are every point of the scale (scikit-learn's cohen_kappa_score with
 * labels=range(min, max + 1)). null when n = 0 or Σ w·E = 0.
 */
export function weightedKappa(
  pairs: readonly (readonly [number, number])[],
  min: number,
  max: number,
  weights: 'linear' | 'quadratic',
): number | null {
  const k = max - min + 1;
  const n = pairs.length;
  if (n === 0 || k < 2) return null;
  const rows = new Array<number>(k).fill(0);
  const cols = new Array<number>(k).fill(0);
  const obs = new Map<number, number>();
  for (const [a, b] of pairs) {
    const i = a - min;
    const j = b - min;
    if (i < 0 || i >= k || j < 0 || j >= k) continue;
    rows[i] = (rows[i] as number) + 1;
    cols[j] = (cols[j] as number) + 1;
    obs.set(i * k + j, (obs.get(i * k + j) ?? 0) + 1);
  }
  const total = rows.reduce((s, x) => s + x, 0);
  if (total === 0) return null;
  const w = (i: number, j: number): number => (weights === 'linear' ? Math.abs(i - j) : (i - j) ** 2);
  let wo = 0;
  for (const [key, c] of obs) wo += w(Math.floor(key / k), key % k) * c;
  let we = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) we += (w(i, j) * (rows[i] as number) * (cols[j] as number)) / total;
  if (we <= 1e-12) return null;
  return 1 - wo / we;
}

export function ratingAgreement(
  pairs: readonly (readonly [number, number])[],
  min: number,
  max: number,
): RatingAgreement {
  const n = pairs.length;
  if (n === 0)
    return { n, exact: null, meanAbsoluteDifference: null, linearKappa: null, quadraticKappa: null, pearson: null };
  return {
    n,
    exact: pairs.filter(([a, b]) => a === b).length / n,
    meanAbsoluteDifference: pairs.reduce((s, [a, b]) => s + Math.abs(a - b), 0) / n,
    linearKappa: weightedKappa(pairs, min, max, 'linear'),
    quadraticKappa: weightedKappa(pairs, min, max, 'quadratic'),
    pearson: pearson(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Ranking

/**
 * Kendall's tau-b of two lists of scores (ties allowed): (n_c - n_d) / sqrt((n0 - n1)(n0 - n2)),
 * n0 = n(n-1)/2, n1 and n2 the pairs tied in x and in y. Without ties it is tau-a. null when n < 2
 * or a side is all ties. O(n²): rankings are short.
 */
export function kendallTauB(xs: readonly number[], ys: readonly number[]): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  let nc = 0;
  let nd = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign((xs[i] as number) - (xs[j] as number));
      const dy = Math.sign((ys[i] as number) - (ys[j] as number));
      if (dx === 0) tx++;
      if (dy === 0) ty++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) nc++;
        else nd++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const den = Math.sqrt((n0 - tx) * (n0 - ty));
  return den === 0 ? null : (nc - nd) / den;
}

export interface RankingAgreement {
  n: number;
  /** Mean of the per-record tau-b over the candidates both sides ranked (records where it is defined). */
  kendallTau: number | null;
  /** Share of records where both put the same candidate first (alone). */
  top1: number | null;
  /** Share of records with the same order. */
  exact: number | null;
}

/** Rankings as {candidate: rank} maps (rank 1 is best). */
export function rankingAgreement(
  pairs: readonly (readonly [ReadonlyMap<string, number>, ReadonlyMap<string, number>])[],
): RankingAgreement {
  const n = pairs.length;
  if (n === 0) return { n, kendallTau: null, top1: null, exact: null };
  const taus: number[] = [];
  let top = 0;
  let exact = 0;
  const best = (m: ReadonlyMap<string, number>): string | undefined => {
    const min = Math.min(...m.values());
    const firsts = [...m].filter(([, r]) => r === min);
    return firsts.length === 1 ? firsts[0]?.[0] : undefined;
  };
  for (const [a, b] of pairs) {
    const common = [...a.keys()].filter((c) => b.has(c));
    const t = kendallTauB(
      common.map((c) => a.get(c) as number),
      common.map((c) => b.get(c) as number),
    );
    if (t !== null) taus.push(t);
    const ba = best(a);
    if (ba !== undefined && ba === best(b)) top++;
    if (a.size === b.size && [...a].every(([c, r]) => b.get(c) === r)) exact++;
  }
  return { n, kendallTau: mean(taus), top1: top / n, exact: exact / n };
}

// ---------------------------------------------------------------------------------------------
// Spans

export interface Span {
  label: string;
  start: number;
  end: number;
}

export interface SpanScores {
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface SpanAgreement {
  n: number;
  /** Spans on side a and side b. */
  a: number;
  b: number;
  /** b against a: a span counts when the same label, start and end are on the other side. */
  exact: SpanScores;
  /** b against a: same label and overlapping, each span matched at most once. */
  overlap: SpanScores;
  perLabel: { label: string; a: number; b: number; exactF1: number | null }[];
}

function scores(tp: number, na: number, nb: number): SpanScores {
  if (na === 0 && nb === 0) return { precision: null, recall: null, f1: null };
  const precision = nb === 0 ? 0 : tp / nb;
  const recall = na === 0 ? 0 : tp / na;
  return { precision, recall, f1: f1(precision, recall) };
}

/** Spans matched one to one by label and overlap (greedy: in order of start, the largest overlap first). */
export function overlapMatches(a: readonly Span[], b: readonly Span[]): number {
  const used = new Set<number>();
  let matched = 0;
  const sorted = [...a].sort((x, y) => x.start - y.start || x.end - y.end);
  for (const s of sorted) {
    let best = -1;
    let bestOverlap = 0;
    b.forEach((t, j) => {
      if (used.has(j) || t.label !== s.label) return;
      const o = Math.min(s.end, t.end) - Math.max(s.start, t.start);
      if (o > bestOverlap) {
        bestOverlap = o;
        best = j;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched++;
    }
  }
  return matched;
}

export function spanAgreement(pairs: readonly (readonly [readonly Span[], readonly Span[]])[]): SpanAgreement {
  let na = 0;
  let nb = 0;
  let exactTp = 0;
  let overlapTp = 0;
  const per = new Map<string, { a: number; b: number; tp: number }>();
  const bump = (label: string, k: 'a' | 'b' | 'tp') => {
    const e = per.get(label) ?? { a: 0, b: 0, tp: 0 };
    e[k]++;
    per.set(label, e);
  };
  for (const [a, b] of pairs) {
    na += a.length;
    nb += b.length;
    for (const s of a) bump(s.label, 'a');
    for (const s of b) bump(s.label, 'b');
    const keys = new Set(b.map((s) => `${s.label}\u0000${s.start}\u0000${s.end}`));
    for (const s of a) {
      if (keys.has(`${s.label}\u0000${s.start}\u0000${s.end}`)) {
        exactTp++;
        bump(s.label, 'tp');
      }
    }
    overlapTp += overlapMatches(a, b);
  }
  return {
    n: pairs.length,
    a: na,
    b: nb,
    exact: scores(exactTp, na, nb),
    overlap: scores(overlapTp, na, nb),
    perLabel: [...per]
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([label, e]) => ({ label, a: e.a, b: e.b, exactF1: scores(e.tp, e.a, e.b).f1 })),
  };
}

// ---------------------------------------------------------------------------------------------
// Text

export interface TextAgreement {
  n: number;
  exact: number | null;
  /** Mean token F1 (lower-cased words, as a bag). */
  tokenF1: number | null;
}

function tokens(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export function tokenF1(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length === 0 && tb.length === 0) return 1;
  const count = new Map<string, number>();
  for (const t of ta) count.set(t, (count.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of tb) {
    const c = count.get(t) ?? 0;
    if (c > 0) {
      common++;
      count.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  return f1(common / tb.length, common / ta.length);
}

export function textAgreement(pairs: readonly (readonly [string, string])[]): TextAgreement {
  const n = pairs.length;
  if (n === 0) return { n, exact: null, tokenF1: null };
  return {
    n,
    exact: pairs.filter(([a, b]) => a.trim() === b.trim()).length / n,
    tokenF1: mean(pairs.map(([a, b]) => tokenF1(a, b))),
  };
}
