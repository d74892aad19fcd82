// Self-consistency for the question types: k samples of the question's task (temperature above 0,
// each with its own seed and cache slot), each checked like a single answer, then one answer made
// of them with the agreement as its confidence (`curate consistency FILE --question NAME`):
//   multi-label  the labels more than half the samples chose; label_scores = each label's vote share
//   rating       the median (the lower one of an even count); score = the share that gave it
//   ranking      Borda count (a candidate gets n - rank points per sample; ties: candidate order)
//   text         the most frequent text (trimmed; ties: the first); score = its share
//   span         the spans (label, start, end) more than half the samples marked
// The score is the share of samples that gave exactly the answer made (per label for multi-label).
// Samples that fail are left out; when every sample fails the record fails with the first reason.
import type { SampleResult, TaskResult } from '../llm/apply-result';
import { estimateTokens, type Usage } from '../llm/client';
import { structuredCall } from '../llm/structured';
import type { LlmTask, TaskOutcome } from '../jobs/types';
import { candidateIds, type Question, type RankValue, type SpanValue } from './schema';
import { prepareQuestion, type QuestionTaskDeps, type QuestionTaskOptions } from './task';
import { rankingCandidates } from './values';

type Rec = Record<string, unknown>;

export interface Aggregate {
  value: unknown;
  /** Share of the samples that gave exactly this answer. */
  score: number;
  labelScores?: Record<string, number>;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const share = (samples: readonly unknown[], value: unknown): number =>
  samples.length ? samples.filter((s) => same(s, value)).length / samples.length : 0;

export function aggregateMultiLabel(samples: readonly (readonly string[])[], labels: readonly string[]): Aggregate {
  const labelScores = Object.fromEntries(
    labels.map((l) => [l, samples.length ? samples.filter((s) => s.includes(l)).length / samples.length : 0]),
  );
  const value = labels.filter((l) => (labelScores[l] as number) > 0.5);
  return {
    value,
    score: share(
      samples.map((s) => labels.filter((l) => s.includes(l))),
      value,
    ),
    labelScores,
  };
}

export function aggregateRating(samples: readonly number[]): Aggregate {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  return { value, score: share(samples, value) };
}

export function aggregateRanking(samples: readonly (readonly RankValue[])[], ids: readonly string[]): Aggregate {
  const n = ids.length;
  const points = new Map(ids.map((id) => [id, 0]));
  for (const s of samples) for (const r of s) points.set(r.value, (points.get(r.value) ?? 0) + (n - r.rank));
  const order = [...ids].sort(
    (a, b) => (points.get(b) as number) - (points.get(a) as number) || ids.indexOf(a) - ids.indexOf(b),
  );
  const value: RankValue[] = order.map((v, i) => ({ value: v, rank: i + 1 }));
  return { value, score: share(samples, value) };
}

export function aggregateText(samples: readonly string[]): Aggregate {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.trim(), (counts.get(s.trim()) ?? 0) + 1);
  let best = samples[0]?.trim() ?? '';
  for (const [t, c] of counts) if (c > (counts.get(best) ?? 0)) best = t;
  return {
    value: samples.find((s) => s.trim() === best) ?? best,
    score: samples.length ? (counts.get(best) ?? 0) / samples.length : 0,
  };
}

export function aggregateSpans(samples: readonly (readonly SpanValue[])[]): Aggregate {
  const key = (s: SpanValue) => `${s.label}\u0000${s.start}\u0000${s.end}`;
  const votes = new Map<string, { span: SpanValue; n: number }>();
  for (const sample of samples) {
    for (const s of new Map(sample.map((x) => [key(x), x])).values()) {
      const e = votes.get(key(s)) ?? { span: s, n: 0 };
      e.n++;
      votes.set(key(s), e);
    }
  }
  const value = [...votes.values()]
    .filter((e) => e.n > samples.length / 2)
    .map((e) => e.span)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const keys = JSON.stringify(value.map(key));
  return {
    value,
    score: samples.length
      ? samples.filter(
          (s) => JSON.stringify([...s].sort((a, b) => a.start - b.start || a.end - b.end).map(key)) === keys,
        ).length / samples.length
      : 0,
  };
}

/** The self-consistency task of a question (not a plain label): k samples, one answer, the agreement as confidence. */
export function questionConsistencyTask(
  q: Exclude<Question, { type: 'label' }>,
  o: QuestionTaskOptions & { k: number },
  deps: QuestionTaskDeps,
): LlmTask {
  const temperature = o.temperature > 0 ? o.temperature : 0.7;
  const prepared = prepareQuestion(q, { ...o, temperature });
  const { template, hash, params, plan, messagesFor, typical } = prepared;
  const aggregate = (values: unknown[], record: Rec): Aggregate => {
    switch (q.type) {
      case 'multi-label':
        return aggregateMultiLabel(values as string[][], q.labels);
      case 'rating':
        return aggregateRating(values as number[]);
      case 'ranking':
        return aggregateRanking(values as RankValue[][], candidateIds(q, rankingCandidates(record, q)?.length ?? 0));
      case 'text':
        return aggregateText(values as string[]);
      case 'span':
        return aggregateSpans(values as SpanValue[][]);
    }
  };
  return {
    id: 'consistency',
    model: o.model,
    promptHash: hash,
    promptSource: `${prepared.promptSource}, ${o.k} samples`,
    estimate(record) {
      const p = plan(record);
      if (p.problem) return { requests: 0, inputTokens: 0, outputTokens: 0 };
      const input = messagesFor(record, p.extra).reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
      return { requests: o.k, inputTokens: o.k * input, outputTokens: o.k * typical };
    },
    async run(record, ctx): Promise<TaskOutcome> {
      const p = plan(record);
      const zero: Usage = { input_tokens: 0, output_tokens: 0 };
      if (p.problem || !p.spec || !p.decode)
        return { ok: false, reason: p.problem ?? 'nothing to ask', usage: zero, requests: 0 };
      const { spec, decode } = p;
      const messages = messagesFor(record, p.extra);
      const results = await Promise.all(
        Array.from({ length: o.k }, (_, s) =>
          structuredCall(deps.client, {
            messages,
            spec,
            params: { ...params, seed: (o.seed ?? 0) + s },
            model: o.model,
            mode: o.structuredMode,
            cache: deps.cache,
            template: { id: `${template.id}-consistency`, version: template.version },
            sample: s,
            signal: ctx.signal,
          }),
        ),
      );
      const usage = results.reduce<Usage>(
        (u, r) => ({
          input_tokens: u.input_tokens + r.usage.input_tokens,
          output_tokens: u.output_tokens + r.usage.output_tokens,
        }),
        { ...zero },
      );
      const requests = results.reduce((n, r) => n + r.requests, 0);
      const samples: SampleResult[] = [];
      let firstProblem: string | undefined;
      results.forEach((r, s) => {
        if (!r.ok) {
          firstProblem ??= r.reason;
          return;
        }
        const d = decode(r.value);
        if (!d.ok) {
          firstProblem ??= `${q.name}: ${d.reason}`;
          return;
        }
        samples.push({
          value: d.value,
          ...(d.confidence !== undefined ? { confidence: d.confidence } : {}),
          ...(d.rationale !== undefined ? { rationale: d.rationale } : {}),
          provenance: { model: r.model, prompt_hash: hash, time: r.time, usage: r.usage, sample: s },
        });
      });
      if (samples.length === 0)
        return { ok: false, reason: `all ${o.k} samples failed: ${firstProblem ?? '?'}`, usage, requests };
      const agg = aggregate(
        samples.map((x) => x.value),
        record,
      );
      const failed = o.k - samples.length;
      const agree = samples.filter((x) => same(x.value, agg.value)).length;
      const time = samples.reduce((t, x) => (x.provenance.time > t ? x.provenance.time : t), '');
      const result: TaskResult = {
        task: 'consistency',
        question: q.name,
        value: agg.value,
        confidence: Math.round(agg.score * 1000) / 1000,
        ...(agg.labelScores ? { labelScores: agg.labelScores } : {}),
        rationale: `${agree} of ${o.k} samples agree${failed > 0 ? ` (${failed} failed)` : ''}`,
        samples,
        provenance: { model: o.model, prompt_hash: hash, time, usage },
      };
      const cached = results.every((r) => r.ok && r.cached);
      return { ok: true, result, usage, cached, requests };
    },
  };
}
