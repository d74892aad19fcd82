// Fine-tune readiness, checked at export: the tokens of each exported row (OpenAI's encodings),
// the rows longer than the model's training context (OpenAI cuts them from the end), the total
// training tokens over the epochs and what that costs. Prices and limits are the ones OpenAI lists
// for supervised fine-tuning (platform pricing and the fine-tuning guide, 2025); pass your own
// (--context-length, --price) for another model or when they change.
import { countChatTokens, countTokens, encodingFor, type CountableMessage, type Encoding } from '../llm/tokenizer';

export interface FineTuneModel {
  /** Tokens per training example. */
  contextLength: number;
  /** US dollars per million training tokens. */
  pricePerMillion: number;
}

/** OpenAI's fine-tunable models (by snapshot prefix): the per-example token limit and the training price. */
export const FINE_TUNE_MODELS: Record<string, FineTuneModel> = {
  'gpt-4.1-nano': { contextLength: 65_536, pricePerMillion: 1.5 },
  'gpt-4.1-mini': { contextLength: 65_536, pricePerMillion: 5 },
  'gpt-4.1': { contextLength: 65_536, pricePerMillion: 25 },
  'gpt-4o-mini': { contextLength: 65_536, pricePerMillion: 3 },
  'gpt-4o': { contextLength: 65_536, pricePerMillion: 25 },
  'gpt-3.5-turbo': { contextLength: 16_385, pricePerMillion: 8 },
};

export const DEFAULT_FINE_TUNE_MODEL = 'gpt-4.1-mini-2025-04-14';

/** The limits of a model: the longest matching prefix of the table. */
export function fineTuneModel(model: string): FineTuneModel | undefined {
  const key = Object.keys(FINE_TUNE_MODELS)
    .filter((k) => model.replace(/^ft:/, '').startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  return key ? FINE_TUNE_MODELS[key] : undefined;
}

export interface ReadinessOptions {
  model?: string;
  contextLength?: number;
  pricePerMillion?: number;
  epochs?: number;
  /** OpenAI's own format: its rules apply (at least 10 examples). */
  openai?: boolean;
}

export interface Readiness {
  model: string;
  encoding: Encoding;
  contextLength: number;
  rows: number;
  totalTokens: number;
  maxTokens: number;
  meanTokens: number;
  /** Rows over the context length: they would be cut from the end. */
  overLimit: number;
  /** The first of them (line index, tokens). */
  overLimitRows: { index: number; tokens: number }[];
  epochs: number;
  /** Tokens billed: every row's tokens, once per epoch. */
  trainingTokens: number;
  pricePerMillion?: number;
  /** US dollars; absent when the price is not known. */
  estimatedCost?: number;
  /** What would make the job fail or train on less than asked. */
  warnings: string[];
}

/** OpenAI refuses a training file with fewer examples (fine-tuning guide: "at least 10 examples"). */
export const OPENAI_MIN_EXAMPLES = 10;

const isMsg = (x: unknown): x is CountableMessage =>
  typeof x === 'object' && x !== null && typeof (x as { role?: unknown }).role === 'string';

/** Every string in a value (its keys excluded). */
function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
}

/**
 * The tokens of one exported row: a chat (`messages`, with `tools`) as the model sees it; a
 * preference row's prompt with both answers; any other row, the tokens of its texts.
 */
export function rowTokens(row: Record<string, unknown>, enc: Encoding): number {
  if (Array.isArray(row.messages) && row.messages.every(isMsg)) return countChatTokens(row.messages, enc, row.tools);
  const input = row.input as { messages?: unknown } | undefined;
  if (input && Array.isArray(input.messages) && input.messages.every(isMsg)) {
    const pref = Array.isArray(row.preferred_output) ? row.preferred_output.filter(isMsg) : [];
    const non = Array.isArray(row.non_preferred_output) ? row.non_preferred_output.filter(isMsg) : [];
    return countChatTokens([...input.messages, ...pref], enc, row.tools) + countChatTokens(non, enc) - 3;
  }
  const texts: string[] = [];
  strings(row, texts);
  let n = 0;
  for (const t of texts) n += countTokens(t, enc);
  return n;
}

/** Accumulates readiness over the exported rows. */
export class ReadinessCheck {
  private readonly enc: Encoding;
  private readonly r: Readiness;
  private readonly openai: boolean;
  constructor(o: ReadinessOptions = {}) {
    this.openai = o.openai ?? true;
    const model = o.model ?? DEFAULT_FINE_TUNE_MODEL;
    const known = fineTuneModel(model);
    this.enc = encodingFor(model);
    const price = o.pricePerMillion ?? known?.pricePerMillion;
    this.r = {
      model,
      encoding: this.enc,
      contextLength: o.contextLength ?? known?.contextLength ?? 65_536,
      rows: 0,
      totalTokens: 0,
      maxTokens: 0,
      meanTokens: 0,
      overLimit: 0,
      overLimitRows: [],
      epochs: o.epochs ?? 3,
      trainingTokens: 0,
      ...(price !== undefined ? { pricePerMillion: price } : {}),
      warnings: [],
    };
  }
  add(row: Record<string, unknown>, index: number): void {
    const t = rowTokens(row, this.enc);
    const r = this.r;
    r.rows++;
    r.totalTokens += t;
    if (t > r.maxTokens) r.maxTokens = t;
    if (t > r.contextLength) {
      r.overLimit++;
      if (r.overLimitRows.length < 20) r.overLimitRows.push({ index, tokens: t });
    }
  }
  result(): Readiness {
    const r = { ...this.r, warnings: [] as string[] };
    if (this.openai && r.rows < OPENAI_MIN_EXAMPLES)
      r.warnings.push(`${r.rows} example(s): OpenAI fine-tuning needs at least ${OPENAI_MIN_EXAMPLES}`);
    if (r.overLimit)
      r.warnings.push(`${r.overLimit} example(s) over the ${r.contextLength}-token context would be cut from the end`);
    r.meanTokens = r.rows ? Math.round(r.totalTokens / r.rows) : 0;
    r.trainingTokens = r.totalTokens * r.epochs;
    if (r.pricePerMillion !== undefined)
      r.estimatedCost = Math.round((r.trainingTokens / 1e6) * r.pricePerMillion * 100) / 100;
    return r;
  }
}

/** One paragraph for people: tokens, rows over the limit, training tokens and cost. */
export function describeReadiness(r: Readiness): string {
  const lines = [
    `fine-tune readiness (${r.model}, ${r.encoding}): ${r.rows} row(s), ${r.totalTokens} tokens (mean ${r.meanTokens}, max ${r.maxTokens})`,
    r.overLimit
      ? `  ${r.overLimit} row(s) over the ${r.contextLength}-token context would be cut: ${r.overLimitRows
          .slice(0, 5)
          .map((x) => `line ${x.index + 1} (${x.tokens})`)
          .join(', ')}${r.overLimit > 5 ? ', ...' : ''}`
      : `  every row fits the ${r.contextLength}-token context`,
    `  ${r.trainingTokens} training tokens over ${r.epochs} epoch(s)${r.estimatedCost !== undefined ? `, about $${r.estimatedCost.toFixed(2)} at $${r.pricePerMillion}/1M` : ' (no price known for this model: give its training price per million tokens)'}`,
  ];
  for (const w of r.warnings) if (!w.includes('context would be cut')) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
