// Free-text answers (a response, the next turn of a conversation): one chat call through the
// client's retry policy, answered from the response cache when it can be, with the answer checked
// (not empty, not refused, not cut off at max_tokens). The sibling of structured.ts for text.
// Never throws for a per-record model failure; throws only for cancellation (the signal's reason)
// and fatal configuration errors (LlmError kind 'fatal': 401/403/404).
import { cacheKey, type ResponseCache } from './cache';
import { LlmError, type ChatMessage, type LlmClient, type SamplingParams, type Usage } from './client';

export interface TextRequest {
  messages: ChatMessage[];
  params?: SamplingParams;
  model?: string;
  cache?: ResponseCache;
  template?: { id: string; version: string | number };
  sample?: number;
  signal?: AbortSignal;
  /** Keep an answer cut off at max_tokens (default false: a failure, redone by the next run). */
  allowTruncated?: boolean;
}

export type TextResult =
  | { ok: true; text: string; usage: Usage; cached: boolean; model: string; requests: number }
  | { ok: false; reason: string; usage: Usage; raw?: string; requests: number };

const ZERO: Usage = { input_tokens: 0, output_tokens: 0 };

export function textCacheKey(client: LlmClient, req: TextRequest): string {
  return cacheKey({
    baseURL: client.baseURL,
    model: req.model ?? client.model,
    messages: req.messages,
    params: { ...(req.params ?? {}) },
    template: req.template,
    sample: req.sample,
  });
}

export async function textCall(client: LlmClient, req: TextRequest): Promise<TextResult> {
  const model = req.model ?? client.model;
  const key = req.cache ? textCacheKey(client, req) : undefined;
  if (req.cache && key) {
    const hit = req.cache.get(key);
    if (hit && hit.content.trim() !== '')
      return { ok: true, text: hit.content, usage: hit.usage, cached: true, model: hit.model ?? model, requests: 0 };
  }
  let res;
  try {
    res = await client.chat({ ...(req.params ?? {}), model, messages: req.messages }, { signal: req.signal });
  } catch (err) {
    if (err instanceof LlmError && err.kind !== 'fatal')
      return { ok: false, reason: err.message, usage: ZERO, requests: err.attempts };
    throw err; // fatal, cancellation or a bug
  }
  // Requests sent, retries included.
  const text = res.content ?? '';
  if (res.refusal) return { ok: false, reason: `refused: ${res.refusal}`, usage: res.usage, requests: res.attempts };
  if (text.trim() === '')
    return {
      ok: false,
      reason: 'the model answered with empty text',
      usage: res.usage,
      raw: text,
      requests: res.attempts,
    };
  if (res.finishReason === 'length' && !req.allowTruncated) {
    return {
      ok: false,
      reason: `the answer was cut off at max_tokens (${req.params?.max_tokens ?? '?'}); raise the limit of output tokens`,
      usage: res.usage,
      raw: text,
      requests: res.attempts,
    };
  }
  if (req.cache && key) req.cache.put(key, { content: text, usage: res.usage, model: res.model });
  return { ok: true, text, usage: res.usage, cached: false, model: res.model, requests: res.attempts };
}
