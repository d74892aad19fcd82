// Confidence from logprobs for label tasks: the probability of the chosen label's tokens,
// normalised over the label set.
//
// The answer is JSON ({"label": "...", ...}); `logprobs` is choices[0].logprobs.content, one entry
// per generated token with its top alternatives (top_logprobs). The chosen label's probability is
// the product of its tokens' probabilities. Another label's is read where it parts from the chosen
// one: the probability of the tokens they share, times the probability of the alternative token at
// the first token where they differ (from top_logprobs there; 0 when it is not listed). The
// continuation of the other label after that token is taken as certain, so labels sharing that
// token each get the whole of its probability: an upper bound, which makes the confidence a lower
// bound. confidence = P(chosen) / (P(chosen) + sum of the others).
//
// Without top_logprobs (or without a label set) nothing can be normalised: the confidence is then
// the chosen label's probability itself, and `normalised` says so.
import type { TokenLogprob } from './format';

export interface LogprobConfidence {
  /** P(chosen) / (P(chosen) + sum of the other labels' P); P(chosen) when not normalised. */
  confidence: number;
  /** P(chosen): the product of its tokens' probabilities. */
  probability: number;
  /** Each other label's probability as read from top_logprobs (0: not among them). */
  alternatives: Record<string, number>;
  /** How many tokens the chosen label took. */
  tokens: number;
  normalised: boolean;
}

/** Where the string value of `field` starts in a JSON text, if its value is `value`. */
function valueSpan(content: string, field: string, value: string): { start: number; end: number } | undefined {
  const raw = JSON.stringify(value).slice(1, -1);
  const key = JSON.stringify(field);
  let from = 0;
  for (;;) {
    const k = content.indexOf(key, from);
    if (k < 0) return undefined;
    let i = k + key.length;
    while (/\s/.test(content[i] ?? '')) i++;
    if (content[i] === ':') {
      i++;
      while (/\s/.test(content[i] ?? '')) i++;
      if (content[i] === '"' && content.startsWith(`${raw}"`, i + 1)) return { start: i + 1, end: i + 1 + raw.length };
    }
    from = k + 1;
  }
}

export function logprobConfidence(input: {
  content: string;
  logprobs: readonly TokenLogprob[];
  label: string;
  labels: readonly string[];
  field?: string;
}): LogprobConfidence | { error: string } {
  const { content, logprobs, label } = input;
  const joined = logprobs.map((t) => t.token).join('');
  if (joined !== content) return { error: 'the logprobs do not spell the answer' };
  const span = valueSpan(content, input.field ?? 'label', label);
  if (!span) return { error: `the answer has no "${input.field ?? 'label'}": ${JSON.stringify(label)}` };
  // token offsets
  const starts: number[] = [];
  let pos = 0;
  for (const t of logprobs) {
    starts.push(pos);
    pos += t.token.length;
  }
  const first = starts.findIndex((s, i) => s + (logprobs[i] as TokenLogprob).token.length > span.start);
  let last = first;
  while (last + 1 < logprobs.length && (starts[last + 1] as number) < span.end) last++;
  if (first < 0) return { error: 'the label has no tokens' };
  let lp = 0;
  for (let i = first; i <= last; i++) lp += (logprobs[i] as TokenLogprob).logprob;
  const probability = Math.exp(lp);

  const others = input.labels.filter((l) => l !== label);
  const alternatives: Record<string, number> = {};
  let anyTop = false;
  for (let i = first; i <= last; i++) if (((logprobs[i] as TokenLogprob).top_logprobs?.length ?? 0) > 0) anyTop = true;
  if (others.length === 0 || !anyTop)
    return { confidence: probability, probability, alternatives, tokens: last - first + 1, normalised: false };

  for (const other of others) {
    // the other label followed by the closing quote, compared with the answer from the value's start
    const target = `${JSON.stringify(other).slice(1, -1)}"`;
    let prefix = 0;
    let p = 0;
    for (let i = first; i < logprobs.length; i++) {
      const tok = logprobs[i] as TokenLogprob;
      const s = starts[i] as number;
      const from = Math.max(s, span.start);
      const o = from - span.start;
      if (o >= target.length) break;
      const part = content.slice(from, s + tok.token.length);
      const want = target.slice(o);
      if (want.startsWith(part) && o + part.length < target.length) {
        prefix += tok.logprob; // shared with the chosen label so far
        continue;
      }
      // they part here: the other label's token among the alternatives
      const pre = content.slice(s, from);
      for (const alt of tok.top_logprobs ?? []) {
        if (!alt.token.startsWith(pre)) continue;
        const rest = alt.token.slice(pre.length);
        if (rest.length > 0 && (want.startsWith(rest) || rest.startsWith(want)) && alt.token !== tok.token) {
          p = Math.max(p, Math.exp(prefix + alt.logprob));
        }
      }
      break;
    }
    alternatives[other] = p;
  }
  const total = probability + Object.values(alternatives).reduce((a, b) => a + b, 0);
  return {
    confidence: total > 0 ? probability / total : 0,
    probability,
    alternatives,
    tokens: last - first + 1,
    normalised: true,
  };
}

export interface ConfidencePair {
  /** The label and confidence from logprobs. */
  logprobs: { label: string; confidence: number };
  /** The majority label of k samples and its agreement (self-consistency). */
  consistency: { label: string; confidence: number };
}

export interface ConfidenceComparison {
  records: number;
  /** Share of records where both chose the same label. */
  sameLabel: number;
  /** Pearson correlation of the two confidences (NaN under 2 records or a constant side). */
  pearson: number;
  /** Spearman rank correlation (ties get their mean rank). */
  spearman: number;
  /** Mean of |logprob confidence - consistency agreement|. */
  meanAbsDiff: number;
  /** With a threshold: the shares of records below it by both measures, by logprobs only, by consistency only. */
  below?: { threshold: number; both: number; logprobsOnly: number; consistencyOnly: number };
}

function pearsonOf(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

function ranks(v: readonly number[]): number[] {
  const order = v.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const r = new Array<number>(v.length);
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && (order[j + 1] as { x: number }).x === (order[k] as { x: number }).x) j++;
    const mean = (k + j) / 2 + 1;
    for (let t = k; t <= j; t++) r[(order[t] as { i: number }).i] = mean;
    k = j + 1;
  }
  return r;
}

/** How logprob confidence agrees with self-consistency on the same records (the report). */
export function compareConfidences(
  pairs: readonly ConfidencePair[],
  opts: { threshold?: number } = {},
): ConfidenceComparison {
  const x = pairs.map((p) => p.logprobs.confidence);
  const y = pairs.map((p) => p.consistency.confidence);
  const n = pairs.length;
  const t = opts.threshold;
  const share = (f: (a: boolean, b: boolean) => boolean): number =>
    n && t !== undefined ? x.filter((v, i) => f(v < t, (y[i] as number) < t)).length / n : NaN;
  return {
    records: n,
    sameLabel: n ? pairs.filter((p) => p.logprobs.label === p.consistency.label).length / n : NaN,
    pearson: pearsonOf(x, y),
    spearman: pearsonOf(ranks(x), ranks(y)),
    meanAbsDiff: n ? x.reduce((a, v, i) => a + Math.abs(v - (y[i] as number)), 0) / n : NaN,
    ...(t !== undefined
      ? {
          below: {
            threshold: t,
            both: share((a, b) => a && b),
            logprobsOnly: share((a, b) => a && !b),
            consistencyOnly: share((a, b) => !a && b),
          },
        }
      : {}),
  };
}
