// Prices of known models, for cost estimates, and when a job needs a person's yes.
//
// The table: OpenAI's standard (not Batch, not cached-input) prices in USD per million tokens, as
// published on https://openai.com/api/pricing/ and tabulated with that page named as the source
// by https://deploybase.ai/articles/openai-pricing ("Data from OpenAI pricing page, March 2026");
// embeddings from the same page (text-embedding-3-small $0.02, -3-large $0.13). Prices change:
// the explicit settings (llm.pricePerMillionInputTokens / ...Output, --price-in / --price-out)
// always win, and the table's date is shown with its figures.
//
// A model that is not in the table (a local server's, a fine-tune, an Azure deployment's own
// name) has no known price: its estimate costs nothing, so the cost confirmation alone would
// never ask; the faces then ask above a number of requests instead (`confirmationNeeded`).

export const PRICE_TABLE_DATE = '2026-03';
export const PRICE_TABLE_SOURCE = 'https://openai.com/api/pricing/';

export interface ModelPrice {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
}

/** Longest matching name wins: "gpt-4.1-mini" before "gpt-4.1"; dated snapshots ("gpt-4o-2024-08-06") match their model. */
export const OPENAI_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5.1': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-5-pro': { input: 15, output: 120 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  o1: { input: 15, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

/**
 * The table's price of a model: its exact name, else the longest table name it starts with
 * followed by a dash and a date or version ("gpt-4o-mini-2024-07-18"; "openai/gpt-4o" too).
 */
export function knownPrice(model: string): ModelPrice | undefined {
  const name = model
    .trim()
    .toLowerCase()
    .replace(/^openai\//, '');
  const exact = OPENAI_PRICES[name];
  if (exact) return exact;
  let best: string | undefined;
  for (const k of Object.keys(OPENAI_PRICES)) {
    if (name.startsWith(`${k}-`) && /^\d/.test(name.slice(k.length + 1)) && (!best || k.length > best.length)) best = k;
  }
  return best ? OPENAI_PRICES[best] : undefined;
}

/** The prices a job uses: the explicit ones when either is set (non-zero), else the table's for the model, else none. */
export function effectivePrices(
  model: string,
  explicit: { input?: number; output?: number },
): ModelPrice & { source: 'options' | 'table' | 'unknown' } {
  const input = explicit.input ?? 0;
  const output = explicit.output ?? 0;
  if (input > 0 || output > 0) return { input, output, source: 'options' };
  const p = knownPrice(model);
  return p ? { ...p, source: 'table' } : { input: 0, output: 0, source: 'unknown' };
}

export interface ConfirmPolicy {
  /** Ask above this estimated cost (USD). */
  confirmCostAbove: number;
  /** Ask above this many requests when the price is unknown (0: always ask then). */
  confirmRequestsAbove: number;
}

export const DEFAULT_CONFIRM_REQUESTS_ABOVE = 1000;

/**
 * Whether a job needs a yes before it runs, and why (a sentence for the prompt). A known price
 * asks above the cost; an unknown one above the number of requests.
 */
export function confirmationNeeded(
  est: { requests: number; cost?: number | undefined; priced?: boolean | undefined },
  policy: ConfirmPolicy,
): string | undefined {
  const cost = est.cost ?? 0;
  const priced = est.priced ?? cost > 0;
  if (priced && cost > policy.confirmCostAbove)
    return `the estimated cost, about $${cost.toFixed(2)}, is above $${policy.confirmCostAbove}`;
  if (!priced && est.requests > policy.confirmRequestsAbove) {
    return `the price of this model is unknown and the job makes about ${est.requests.toLocaleString('en-US')} requests, more than ${policy.confirmRequestsAbove.toLocaleString('en-US')}`;
  }
  return undefined;
}
