// The LLM task of a question of any type but the single label (which is the label task of
// src/core/llm/tasks.ts): one structured call per record, the answer checked against the
// question and the record, and a suggestion under the question's name (src/core/llm/apply-result.ts
// writes it through the layout's helpers: model answers go to suggestions, never over a person's).
//
// The model's output is untrusted: zod checks its shape (with one repair round in
// src/core/llm/structured.ts), then ./values.ts checks it against the record. A span quote that is
// not in the text, a ranking that names a candidate twice, ... is a failure of that record with
// the reason; the job goes on with the next.
import type { TaskResult } from '../llm/apply-result';
import type { ResponseCache } from '../llm/cache';
import { estimateTokens, type ChatMessage, type LlmClient, type SamplingParams, type Usage } from '../llm/client';
import {
  ANNOTATION_FIELDS,
  findPromptsDir,
  loadTemplate,
  promptHash,
  renderMessages,
  renderTemplate,
  requestKey,
  type PromptTemplate,
} from '../llm/prompts';
import { structuredCall, structuredSpec, type StructuredMode, type StructuredSpec } from '../llm/structured';
import type { LlmTask, TaskOutcome } from '../jobs/types';
import { textOf } from '../filter/fields';
import type { FieldMap } from '../schema/annotation';
import {
  multiLabelSchema,
  questionTemplates,
  rankingSchema,
  ratingSchema,
  spanSchema,
  textSchema,
  TYPICAL_OUTPUT,
} from './prompts';
import { answersOf } from './layout';
import { candidateIds, type Question, type SpanValue } from './schema';
import { checkAnswer, locateQuote, occurrences, rankingCandidates, rankingSource, spanFieldText } from './values';

type Rec = Record<string, unknown>;

/** The options a question task reads (a subset of the annotate operation's, src/core/llm/tasks.ts). */
export interface QuestionTaskOptions {
  input: string;
  model: string;
  temperature: number;
  topP?: number;
  maxTokens: number;
  seed?: number;
  structuredMode?: StructuredMode;
  promptsDir?: string;
  instructions: string;
  inputFields?: string[];
  fields?: FieldMap;
  /** Few-shot demonstrations: records a person answered and the answer (see humanAnswerExamples). */
  answerExamples?: { record: Rec; value: unknown }[];
}

export interface QuestionTaskDeps {
  client: LlmClient;
  cache?: ResponseCache;
}

const ZERO: Usage = { input_tokens: 0, output_tokens: 0 };
const show = (s: string, max = 40): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

export type Decoded =
  | { ok: true; value: unknown; confidence?: number; labelScores?: Record<string, number>; rationale?: string }
  | { ok: false; reason: string };

function fieldsExcluded(fields: FieldMap | undefined, more: (string | undefined)[] = []): Set<string> {
  const out = new Set<string>(ANNOTATION_FIELDS);
  if (fields) for (const [k, v] of Object.entries(fields)) if (k !== 'question') out.add(v);
  for (const m of more) if (m) out.add(m);
  return out;
}

/** Multi-label: how sure the model is of the whole answer, the least sure of its per-label decisions (chosen: c, not chosen: 1 - c). */
export function multiLabelScore(
  chosen: readonly string[],
  confidence: Record<string, number>,
  labels: readonly string[],
): number | undefined {
  let min: number | undefined;
  for (const l of labels) {
    const c = confidence[l];
    if (typeof c !== 'number') continue;
    const sure = chosen.includes(l) ? c : 1 - c;
    min = min === undefined ? sure : Math.min(min, sure);
  }
  return min === undefined ? undefined : Math.round(min * 1000) / 1000;
}

/** What a question's task needs, per record: its prompt, schema and how to read the answer (shared by the annotate and consistency tasks). */
export interface PreparedQuestion {
  template: PromptTemplate;
  hash: string;
  promptSource: string;
  params: SamplingParams;
  /** Typical output tokens of one answer, for estimates. */
  typical: number;
  plan: (record: Rec) => Plan;
  messagesFor: (record: Rec, extra: Rec | undefined) => ChatMessage[];
}

/** Per record: a problem before any request, the variables of the user prompt, the schema, and how to read the answer. */
export interface Plan {
  problem?: string;
  extra?: Rec;
  spec?: StructuredSpec<unknown>;
  decode?: (answer: unknown) => Decoded;
}

export function prepareQuestion(q: Exclude<Question, { type: 'label' }>, o: QuestionTaskOptions): PreparedQuestion {
  const builtIn: PromptTemplate = questionTemplates[q.type];
  const template = loadTemplate(q.type, builtIn, o.promptsDir ?? findPromptsDir(o.input));
  const labels = q.type === 'multi-label' || q.type === 'span' ? q.labels.join(', ') : '';
  const field =
    q.type === 'ranking' ? rankingSource(q) : q.type === 'span' ? q.field : q.type === 'text' ? (q.field ?? '') : '';
  const system = renderTemplate(template.system, {
    question: q.name,
    title: q.title ?? q.name,
    description: q.description ?? '',
    guidelines: q.guidelines ?? '',
    labels,
    min: q.type === 'rating' ? q.min : '',
    max: q.type === 'rating' ? q.max : '',
    field,
    instructions: o.instructions,
  })
    .replace(/^.*the field "".*$/gm, '') // a text question about no field in particular
    .replace(/[ \t]+$/gm, '') // an empty placeholder at the end of a line
    .replace(/\n{2,}/g, '\n')
    .replace(/^(.*Question "[^"\n]*"):$/gm, '$1.') // a question without a description
    .trim();
  const exclude = fieldsExcluded(
    o.fields,
    q.type === 'ranking' ? (q.field ? [q.field] : (q.options ?? [])) : q.type === 'span' ? [q.field] : [],
  );
  const params: SamplingParams = { temperature: o.temperature, max_tokens: o.maxTokens };
  if (o.topP !== undefined) params.top_p = o.topP;
  if (o.seed !== undefined) params.seed = o.seed;

  const fixedSpec: StructuredSpec<unknown> | undefined =
    q.type === 'multi-label'
      ? structuredSpec(multiLabelSchema(q), 'multi_label_answer')
      : q.type === 'rating'
        ? structuredSpec(ratingSchema(q), `rating_answer_${q.min}_${q.max}`.replace(/-/g, 'm'))
        : q.type === 'text'
          ? structuredSpec(textSchema, 'text_answer')
          : q.type === 'span'
            ? structuredSpec(spanSchema(q), 'span_answer')
            : undefined;

  // Rankings: one schema per number of candidates (and their ids), made once.
  const rankingSpecs = new Map<string, StructuredSpec<unknown>>();
  const rankingSpec = (ids: string[]): StructuredSpec<unknown> => {
    const key = JSON.stringify(ids);
    let spec = rankingSpecs.get(key);
    if (!spec)
      rankingSpecs.set(
        key,
        (spec = structuredSpec(rankingSchema(ids), `ranking_answer_${ids.length}`) as StructuredSpec<unknown>),
      );
    return spec;
  };

  const plan = (record: Rec): Plan => {
    switch (q.type) {
      case 'multi-label':
        return {
          spec: fixedSpec,
          decode: (a) => {
            const v = a as { labels: string[]; confidence: Record<string, number>; rationale: string };
            const checked = checkAnswer(q, v.labels, record);
            if (!checked.ok) return checked;
            const chosen = checked.value as string[];
            const score = multiLabelScore(chosen, v.confidence, q.labels);
            return {
              ok: true,
              value: chosen,
              labelScores: v.confidence,
              rationale: v.rationale,
              ...(score !== undefined ? { confidence: score } : {}),
            };
          },
        };
      case 'rating':
        return {
          spec: fixedSpec,
          decode: (a) => {
            const v = a as { rating: number; confidence: number; rationale: string };
            const checked = checkAnswer(q, v.rating, record);
            return checked.ok
              ? { ok: true, value: checked.value, confidence: v.confidence, rationale: v.rationale }
              : checked;
          },
        };
      case 'text':
        if (q.field !== undefined && record[q.field] === undefined)
          return { problem: `the record has no "${q.field}" field to answer about` };
        return {
          spec: fixedSpec,
          decode: (a) => {
            const v = a as { text: string; rationale: string };
            const checked = checkAnswer(q, v.text, record);
            return checked.ok ? { ok: true, value: checked.value, rationale: v.rationale } : checked;
          },
        };
      case 'ranking': {
        const candidates = rankingCandidates(record, q);
        if (!candidates)
          return {
            problem: q.field
              ? `the record has no list field "${q.field}" to rank`
              : `the record lacks one of the fields to rank (${field})`,
          };
        if (candidates.length < 2)
          return { problem: `"${field}" has ${candidates.length} candidate(s); a ranking needs 2 or more` };
        const ids = candidateIds(q, candidates.length);
        const shown = candidates.map((c, i) => `[${ids[i]}] ${textOf(c) ?? ''}`).join('\n\n');
        return {
          extra: { candidates: shown, field },
          spec: rankingSpec(ids),
          decode: (a) => {
            const v = a as { ranking: string[]; rationale: string };
            const checked = checkAnswer(q, v.ranking, record);
            return checked.ok ? { ok: true, value: checked.value, rationale: v.rationale } : checked;
          },
        };
      }
      case 'span': {
        const text = spanFieldText(record, q.field);
        if (text === undefined) return { problem: `the record has no text field "${q.field}" for spans` };
        return {
          extra: { span_text: text, field: q.field },
          spec: fixedSpec,
          decode: (a) => {
            const v = a as { spans: { label: string; text: string; occurrence: number }[]; rationale: string };
            const spans: SpanValue[] = [];
            for (const [i, s] of v.spans.entries()) {
              const at = locateQuote(text, s.text, s.occurrence);
              if (!at) {
                const n = occurrences(text, s.text);
                return {
                  ok: false,
                  reason:
                    n === 0
                      ? `span ${i + 1} (${s.label}) quotes ${show(s.text)}, which is not in "${q.field}"`
                      : `span ${i + 1} (${s.label}) is appearance ${s.occurrence} of ${show(s.text)}, but "${q.field}" has it ${n} time(s)`,
                };
              }
              spans.push({ label: s.label, start: at.start, end: at.end, text: s.text });
            }
            const checked = checkAnswer(q, spans, record);
            return checked.ok ? { ok: true, value: checked.value, rationale: v.rationale } : checked;
          },
        };
      }
    }
  };

  // Few-shot: each demonstration as the user turn it would be, and the answer the person gave as the model's turn.
  const fewShot: ChatMessage[] = [];
  for (const ex of o.answerExamples ?? []) {
    const p = plan(ex.record);
    const checked = checkAnswer(q, ex.value, ex.record);
    if (p.problem || !checked.ok) continue;
    const user = renderMessages(template, system, ex.record, {
      inputFields: o.inputFields,
      extra: p.extra,
      exclude,
    }).at(-1) as ChatMessage;
    fewShot.push(user, { role: 'assistant', content: JSON.stringify(answerJson(q, checked.value, ex.record)) });
  }
  // The declaration and the demonstrations are part of the hash: other labels, scale, field or examples, another prompt and job.
  const hash = promptHash(template, system, { question: q, fewShot });
  const messagesFor = (record: Rec, extra: Rec | undefined): ChatMessage[] =>
    renderMessages(template, system, record, { inputFields: o.inputFields, extra, exclude, fewShot });
  const typical = Math.min(o.maxTokens, TYPICAL_OUTPUT[q.type]);

  const promptSource = `${template.source ?? `built-in ${template.id} prompt`} v${template.version} (${hash.slice(0, 19)}) for ${q.type} question "${q.name}"`;
  return { template, hash, promptSource, params, typical, plan, messagesFor };
}

/** The task for one question (not a plain label question). */
export function questionTask(
  q: Exclude<Question, { type: 'label' }>,
  o: QuestionTaskOptions,
  deps: QuestionTaskDeps,
): LlmTask {
  const { template, hash, promptSource, params, typical, plan, messagesFor } = prepareQuestion(q, o);
  return {
    id: 'label',
    model: o.model,
    promptHash: hash,
    promptSource,
    // The journal's binding: what the model is asked (the answer, under annotations, is not in it).
    key: (record) => requestKey(messagesFor(record, plan(record).extra)),
    estimate(record) {
      const p = plan(record);
      if (p.problem) return { requests: 0, inputTokens: 0, outputTokens: 0 };
      const input = messagesFor(record, p.extra).reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
      return { requests: 1, inputTokens: input, outputTokens: typical };
    },
    async run(record, ctx): Promise<TaskOutcome> {
      const p = plan(record);
      if (p.problem || !p.spec || !p.decode)
        return { ok: false, reason: p.problem ?? 'nothing to ask', usage: ZERO, requests: 0 };
      const r = await structuredCall(deps.client, {
        messages: messagesFor(record, p.extra),
        spec: p.spec,
        params,
        model: o.model,
        mode: o.structuredMode,
        cache: deps.cache,
        template: { id: template.id, version: template.version },
        sample: 0,
        signal: ctx.signal,
      });
      if (!r.ok) return { ok: false, reason: r.reason, usage: r.usage, raw: r.raw, requests: r.requests };
      const d = p.decode(r.value);
      if (!d.ok)
        return { ok: false, reason: `${q.name}: ${d.reason}`, usage: r.usage, raw: r.raw, requests: r.requests };
      const result: TaskResult = {
        task: 'label',
        question: q.name,
        value: d.value,
        ...(d.confidence !== undefined ? { confidence: d.confidence } : {}),
        ...(d.rationale !== undefined ? { rationale: d.rationale } : {}),
        ...(d.labelScores ? { labelScores: d.labelScores } : {}),
        provenance: { model: r.model, prompt_hash: hash, time: r.time, usage: r.usage },
      };
      return { ok: true, result, usage: r.usage, cached: r.cached, requests: r.requests };
    },
  };
}

/** A person's answer in the shape the model answers (for few-shot turns). */
export function answerJson(q: Exclude<Question, { type: 'label' }>, value: unknown, record: Rec): Rec {
  switch (q.type) {
    case 'multi-label': {
      const chosen = value as string[];
      return {
        labels: chosen,
        confidence: Object.fromEntries(q.labels.map((l) => [l, chosen.includes(l) ? 1 : 0])),
        rationale: '',
      };
    }
    case 'rating':
      return { rating: value, confidence: 1, rationale: '' };
    case 'ranking':
      return { ranking: (value as { value: string; rank: number }[]).map((r) => r.value), rationale: '' };
    case 'text':
      return { text: value, rationale: '' };
    case 'span': {
      const text = spanFieldText(record, q.field) ?? '';
      return {
        spans: (value as SpanValue[]).map((s) => {
          const quote = s.text ?? '';
          // which appearance of the quote starts at s.start
          let occurrence: number;
          for (let k = 1; ; k++) {
            const at = locateQuote(text, quote, k);
            if (!at || at.start >= s.start) {
              occurrence = k;
              break;
            }
          }
          return { label: s.label, text: quote, occurrence };
        }),
        rationale: '',
      };
    }
  }
}

/** Few-shot demonstrations for a question: the first `n` records a person answered (submitted, fitting the question). */
export function humanAnswerExamples(
  ds: { lineCount: number; line(i: number): { value?: Rec } },
  q: Question,
  n: number,
  fields?: FieldMap,
): { record: Rec; value: unknown }[] {
  const out: { record: Rec; value: unknown }[] = [];
  for (let i = 0; i < ds.lineCount && out.length < n; i++) {
    const v = ds.line(i).value;
    if (!v) continue;
    const h = answersOf(v, q, fields).human;
    if (h && h.status === 'submitted' && !h.problem) out.push({ record: v, value: h.value });
  }
  return out;
}
