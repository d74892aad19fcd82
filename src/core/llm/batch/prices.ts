// Prices of a run: the Batch API costs half the online price (OpenAI's Batch API discount, 50% on
// input and output tokens); a cluster's offline run costs what the cluster costs (price 0 here).
import type { Usage } from '../client';

export type RunMode = 'online' | 'batch';

/** The share of the online price a batch pays. */
export const BATCH_PRICE_FACTOR = 0.5;

export interface TokenPrices {
  /** USD per million input / output tokens, online. */
  input: number;
  output: number;
}

/** The prices that apply in `mode`. */
export function pricesFor(p: TokenPrices, mode: RunMode): TokenPrices {
  return mode === 'batch' ? { input: p.input * BATCH_PRICE_FACTOR, output: p.output * BATCH_PRICE_FACTOR } : p;
}

/** USD for `tokens` at the online prices `p`, run in `mode`. */
export function costOf(tokens: Usage, p: TokenPrices, mode: RunMode = 'online'): number {
  const q = pricesFor(p, mode);
  return (tokens.input_tokens * q.input + tokens.output_tokens * q.output) / 1e6;
}

/** An operation's estimate (online prices) as a batch run: the same tokens at the batch price. */
export function asBatchEstimate<E extends { inputTokens: number; outputTokens: number; cost?: number }>(
  estimate: E,
  online: TokenPrices,
): E {
  return {
    ...estimate,
    cost: costOf({ input_tokens: estimate.inputTokens, output_tokens: estimate.outputTokens }, online, 'batch'),
  };
}
