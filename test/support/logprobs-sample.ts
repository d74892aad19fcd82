// Deterministic `logprobs` for the loopback server's chat completions (logprobs: true,
// top_logprobs: n), shaped as OpenAI's ChatCompletion choice.logprobs:
//   {content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}, ...]}], refusal: null}
//
// The answer is cut into pseudo-tokens (a run of letters or digits with the spaces before it, or
// one other character), which concatenate to the content. When the request's json_schema has a
// `label` enum and the answer holds one of those labels, the label's tokens carry a distribution
// over the label set: the chosen label gets probability p (0.5-0.95, from a hash of the request),
// the others share 0.9 (1 - p), and each label token's logprob is the conditional probability of
// that token given the label tokens before it; its top_logprobs list the other labels' tokens at
// the point where they part from the chosen one. Other tokens get probabilities of 0.9-0.999.
import { createHash } from 'node:crypto';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export function pseudoTokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{M}]+|\s*\p{N}+|\s*[^\s\p{L}\p{M}\p{N}]|\s+/gu) ?? [];
}

function unit(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32LE(0) / 4294967296;
}

function entry(token: string, p: number): TopLogprob {
  return { token, logprob: Math.log(Math.max(p, 1e-12)), bytes: [...Buffer.from(token, 'utf8')] };
}

/** The probability the server gives each label of `labels` when it answers `chosen` (seeded). */
export function labelDistribution(labels: readonly string[], chosen: string, seed: string): Map<string, number> {
  const dist = new Map<string, number>();
  const pc = 0.5 + 0.45 * unit(`${seed}#p`);
  const others = labels.filter((l) => l !== chosen);
  const weights = others.map((l) => 0.05 + unit(`${seed}#w#${l}`));
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  dist.set(chosen, pc);
  others.forEach((l, i) => dist.set(l, (0.9 * (1 - pc) * (weights[i] as number)) / sum));
  return dist;
}

export function sampleLogprobs(
  content: string,
  opts: { seed: string; topLogprobs: number; labels?: readonly string[] },
): { content: TokenLogprob[]; refusal: null } {
  const tokens = pseudoTokens(content);
  const n = Math.max(0, Math.min(20, opts.topLogprobs));
  // Where the label's value is in the answer, if it is one of the labels.
  let span: { start: number; end: number; label: string } | undefined;
  if (opts.labels && opts.labels.length > 0) {
    for (const label of opts.labels) {
      const m = new RegExp(`"label"\\s*:\\s*"`).exec(content);
      if (!m) break;
      const raw = JSON.stringify(label).slice(1, -1);
      const start = m.index + m[0].length;
      if (content.startsWith(`${raw}"`, start)) {
        span = { start, end: start + raw.length, label };
        break;
      }
    }
  }
  const dist = span && opts.labels ? labelDistribution(opts.labels, span.label, opts.seed) : undefined;
  const labelTokens = new Map<string, string[]>();
  for (const l of opts.labels ?? []) labelTokens.set(l, pseudoTokens(JSON.stringify(l).slice(1, -1)));
  const out: TokenLogprob[] = [];
  let pos = 0;
  let k = 0; // index within the label's tokens
  tokens.forEach((token, i) => {
    const start = pos;
    pos += token.length;
    if (span && dist && start >= span.start && pos <= span.end) {
      // candidates: labels whose tokens match the chosen label's so far
      const chosen = labelTokens.get(span.label) as string[];
      const prefix = chosen.slice(0, k);
      const cands = [...dist.entries()].filter(([l]) => {
        const t = labelTokens.get(l) as string[];
        return prefix.every((x, j) => t[j] === x);
      });
      const total = cands.reduce((a, [, p]) => a + p, 0);
      const groups = new Map<string, number>();
      for (const [l, p] of cands) {
        const t = (labelTokens.get(l) as string[])[k] ?? '"';
        groups.set(t, (groups.get(t) ?? 0) + p / total);
      }
      const own = groups.get(token) ?? 1;
      const top = [...groups.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([t, p]) => entry(t, p));
      while (top.length < n) top.push(entry(`~${top.length}`, 1e-9));
      out.push({ ...entry(token, own), top_logprobs: top });
      k++;
      return;
    }
    const p = 0.9 + 0.099 * unit(`${opts.seed}#t${i}`);
    const top: TopLogprob[] = n > 0 ? [entry(token, p)] : [];
    for (let j = 1; j < n; j++) top.push(entry(`~alt${j}`, (1 - p) / 2 ** j));
    out.push({ ...entry(token, p), top_logprobs: top });
  });
  return { content: out, refusal: null };
}
