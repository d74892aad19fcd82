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

export function logprobConfidence(input: { content: string; logprobs: readonly TokenLogprob[]; label: string; labels: readonly string[]; field?: string }): LogprobConfidence | { error: string } {
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
  if (others.length === 0 || !anyTop) return { confidence: probability, probability, alternatives, tokens: last - first + 1, normalised: false };

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
  return { confidence: total > 0 ? probability / total : 0, probability, alternatives, tokens: last - first + 1, normalised: true };
}
