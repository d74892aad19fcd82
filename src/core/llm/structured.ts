// Structured outputs: ask for JSON valid for a zod schema, validate, repair once, and report a typed
// per-record result. Modes, tried in order and remembered per endpoint when a server answers 400
// "response_format ... not supported":
//   json_schema  response_format {type: json_schema, strict} built once with the SDK's zodResponseFormat
//   json_object  response_format {type: json_object} + the schema in the system prompt
//   prompt       no response_format; the schema in the system prompt, answer in a ```json fence
// Never throws for a per-record model failure; throws only for cancellation (the signal's reason)
// and fatal configuration errors (LlmError kind 'fatal': 401/403/404).
import type { TokenLogprob } from './batch/format';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { cacheKey, type ResponseCache } from './cache';
import {
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type LlmClient,
  type ResponseFormat,
  type SamplingParams,
  type Usage,
} from './client';

export type StructuredMode = 'json_schema' | 'json_object' | 'prompt';
const MODES: StructuredMode[] = ['json_schema', 'json_object', 'prompt'];

/** A zod schema prepared once (JSON Schema conversion is not per request). */
export interface StructuredSpec<T> {
  name: string;
  schema: z.ZodType<T>;
  jsonSchema: Record<string, unknown>;
  responseFormat: ResponseFormat;
  /** Appended to the system prompt in json_object and prompt modes. */
  instructions: { json_object: string; prompt: string };
}

const specCache = new WeakMap<z.ZodType, Map<string, StructuredSpec<unknown>>>();

export function structuredSpec<T>(schema: z.ZodType<T>, name: string): StructuredSpec<T> {
  let byName = specCache.get(schema);
  if (!byName) specCache.set(schema, (byName = new Map<string, StructuredSpec<unknown>>()));
  const hit = byName.get(name);
  if (hit) return hit as StructuredSpec<T>;
  const rf = zodResponseFormat(schema, name);
  const jsonSchema = (rf.json_schema.schema ?? {}) as Record<string, unknown>;
  const schemaText = JSON.stringify(jsonSchema);
  const spec: StructuredSpec<T> = {
    name,
    schema,
    jsonSchema,
    responseFormat: {
      type: 'json_schema',
      json_schema: { name: rf.json_schema.name, schema: jsonSchema, strict: true },
    },
    instructions: {
      json_object: `Answer with one JSON object valid for this JSON Schema, and nothing else:\n\`\`\`json-schema\n${schemaText}\n\`\`\``,
      prompt: `Answer with one JSON object valid for this JSON Schema, inside a \`\`\`json fenced block:\n\`\`\`json-schema\n${schemaText}\n\`\`\``,
    },
  };
  byName.set(name, spec);
  return spec;
}

/** Which mode works, per endpoint (base URL + model). */
const endpointModes = new Map<string, StructuredMode>();
export function rememberedMode(baseURL: string, model: string): StructuredMode | undefined {
  return endpointModes.get(`${baseURL}|${model}`);
}
export function forgetModes(): void {
  endpointModes.clear();
}

/** Tolerant JSON extraction: the whole text, else ```json fences (last first), else the first balanced {...}. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  const tryParse = (s: string): { ok: true; value: unknown } | undefined => {
    try {
      return { ok: true, value: JSON.parse(s) as unknown };
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(t);
  if (whole) return whole;
  const fences = [...t.matchAll(/```(?:json|JSON|jsonc)?[ \t]*\r?\n([\s\S]*?)```/g)];
  for (let i = fences.length - 1; i >= 0; i--) {
    const body = fences[i]?.[1];
    const r = body !== undefined ? tryParse(body.trim()) : undefined;
    if (r) return r;
  }
  // first balanced object or array, string-aware
  for (let start = 0; start < t.length; start++) {
    const ch = t[start];
    if (ch !== '{' && ch !== '[') continue;
    let depth = 0;
    let inStr = false;
    for (let i = start; i < t.length; i++) {
      const c = t[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const r = tryParse(t.slice(start, i + 1));
          if (r) return r;
          break;
        }
      }
    }
  }
  return { ok: false };
}

export type StructuredResult<T> =
  | {
      ok: true;
      value: T;
      usage: Usage;
      raw: string;
      cached: boolean;
      mode: StructuredMode;
      repaired: boolean;
      model: string;
      requests: number;
      /** When the model answered (a cached answer: when it was first given). */ time: string;
      /** The answer's token log probabilities (params.logprobs), when the server gave them. */
      logprobs?: TokenLogprob[];
    }
  | { ok: false; reason: string; raw?: string; usage: Usage; cached: false; mode?: StructuredMode; requests: number };

export interface StructuredRequest<T> {
  messages: ChatMessage[];
  spec: StructuredSpec<T>;
  params?: SamplingParams;
  model?: string;
  /** Start from this mode (default: remembered for the endpoint, else json_schema). */
  mode?: StructuredMode;
  /** Fall back to the next mode when the server rejects response_format. Default true. */
  fallback?: boolean;
  cache?: ResponseCache;
  template?: { id: string; version: string | number };
  sample?: number;
  signal?: AbortSignal;
}

function addUsage(a: Usage, b: Usage): Usage {
  return { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
}

function isUnsupportedFormat(err: LlmError): boolean {
  return (
    (err.status === 400 || err.status === 422) &&
    /response_format|json_schema|json_object|structured output|guided/i.test(err.message) &&
    /not support|unsupported|not available|invalid|unknown|not allowed|not implemented/i.test(err.message)
  );
}

function withInstructions(messages: ChatMessage[], text: string): ChatMessage[] {
  const out = messages.slice();
  const i = out.findIndex((m) => m.role === 'system');
  if (i >= 0) out[i] = { role: 'system', content: `${(out[i] as ChatMessage).content}\n\n${text}` };
  else out.unshift({ role: 'system', content: text });
  return out;
}

function formatZodError(err: z.ZodError): string {
  const s = z.prettifyError(err);
  return s.length > 1500 ? `${s.slice(0, 1500)}…` : s;
}

/** The cache key of a structured request (independent of the mode that ends up answering). */
export function structuredCacheKey<T>(client: LlmClient, req: StructuredRequest<T>): string {
  return cacheKey({
    baseURL: client.baseURL,
    model: req.model ?? client.model,
    messages: req.messages,
    params: { ...(req.params ?? {}) },
    schema: req.spec.jsonSchema,
    template: req.template,
    sample: req.sample,
  });
}

export async function structuredCall<T>(client: LlmClient, req: StructuredRequest<T>): Promise<StructuredResult<T>> {
  const model = req.model ?? client.model;
  const endpoint = `${client.baseURL}|${model}`;
  const key = req.cache ? structuredCacheKey(client, req) : undefined;
  if (req.cache && key) {
    const hit = req.cache.get(key);
    if (hit) {
      const extracted = extractJson(hit.content);
      const parsed = extracted.ok ? req.spec.schema.safeParse(extracted.value) : undefined;
      if (parsed?.success) {
        return {
          ok: true,
          value: parsed.data,
          usage: hit.usage,
          raw: hit.content,
          cached: true,
          mode: 'json_schema',
          repaired: false,
          model: hit.model ?? model,
          requests: 0,
          time: hit.time ?? new Date().toISOString(),
          ...(hit.logprobs ? { logprobs: hit.logprobs } : {}),
        };
      }
    }
  }
  let mode: StructuredMode = req.mode ?? endpointModes.get(endpoint) ?? 'json_schema';
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  const fallback = req.fallback ?? true;
  let requests = 0;

  const buildRequest = (m: StructuredMode, messages: ChatMessage[]): ChatRequest => {
    const r: ChatRequest = { ...(req.params ?? {}), model, messages };
    if (m === 'json_schema') r.response_format = req.spec.responseFormat;
    else if (m === 'json_object') {
      r.response_format = { type: 'json_object' };
      r.messages = withInstructions(messages, req.spec.instructions.json_object);
    } else r.messages = withInstructions(messages, req.spec.instructions.prompt);
    return r;
  };

  // 1) first answer, with response_format fallback
  let raw: string;
  let answerModel: string;
  let logprobs: TokenLogprob[] | undefined;
  for (;;) {
    try {
      // Requests sent, retries included (what the endpoint counted and rate-limited).
      const res = await client.chat(buildRequest(mode, req.messages), { signal: req.signal });
      requests += res.attempts;
      usage = addUsage(usage, res.usage);
      answerModel = res.model;
      logprobs = res.logprobs;
      if (res.refusal) return { ok: false, reason: `refused: ${res.refusal}`, usage, cached: false, mode, requests };
      raw = res.content ?? '';
      if (!endpointModes.has(endpoint) && mode !== 'json_schema') endpointModes.set(endpoint, mode);
      break;
    } catch (err) {
      if (err instanceof LlmError) {
        if (err.kind === 'fatal') throw err;
        requests += err.attempts;
        const next = MODES[MODES.indexOf(mode) + 1];
        if (fallback && err.kind === 'request' && isUnsupportedFormat(err) && next) {
          mode = next;
          endpointModes.set(endpoint, mode);
          continue;
        }
        return { ok: false, reason: err.message, usage, cached: false, mode, requests };
      }
      throw err; // cancellation or a bug
    }
  }

  // 2) validate; one repair round
  const check = (text: string): { ok: true; value: T } | { ok: false; error: string } => {
    const ex = extractJson(text);
    if (!ex.ok) return { ok: false, error: 'the answer is not JSON' };
    const p = req.spec.schema.safeParse(ex.value);
    return p.success ? { ok: true, value: p.data } : { ok: false, error: formatZodError(p.error) };
  };
  const first = check(raw);
  if (first.ok) {
    const time = new Date().toISOString();
    if (req.cache && key)
      req.cache.put(key, { content: raw, usage, model: answerModel, time, ...(logprobs ? { logprobs } : {}) });
    return {
      ok: true,
      value: first.value,
      usage,
      raw,
      cached: false,
      mode,
      repaired: false,
      model: answerModel,
      requests,
      time,
      ...(logprobs ? { logprobs } : {}),
    };
  }
  const repairMessages: ChatMessage[] = [
    ...buildRequest(mode, req.messages).messages,
    { role: 'assistant', content: raw.length > 8000 ? raw.slice(0, 8000) : raw },
    {
      role: 'user',
      content: `Your answer does not match the required JSON schema:\n${first.error}\n\nReply with only the corrected JSON object.`,
    },
  ];
  try {
    const rr: ChatRequest = { ...buildRequest(mode, req.messages), messages: repairMessages };
    const res = await client.chat(rr, { signal: req.signal });
    requests += res.attempts;
    usage = addUsage(usage, res.usage);
    const second = check(res.content ?? '');
    if (second.ok) {
      const fixed = res.content ?? '';
      const time = new Date().toISOString();
      const lp = res.logprobs;
      if (req.cache && key)
        req.cache.put(key, { content: fixed, usage, model: res.model, time, ...(lp ? { logprobs: lp } : {}) });
      return {
        ok: true,
        value: second.value,
        usage,
        raw: fixed,
        cached: false,
        mode,
        repaired: true,
        model: res.model,
        requests,
        time,
        ...(lp ? { logprobs: lp } : {}),
      };
    }
    return {
      ok: false,
      reason: `invalid answer after one repair: ${second.error}`,
      raw: res.content ?? '',
      usage,
      cached: false,
      mode,
      requests,
    };
  } catch (err) {
    if (err instanceof LlmError) {
      if (err.kind === 'fatal') throw err;
      requests += err.attempts;
      return {
        ok: false,
        reason: `invalid answer (${first.error}); repair request failed: ${err.message}`,
        raw,
        usage,
        cached: false,
        mode,
        requests,
      };
    }
    throw err;
  }
}

/**
 * The chat completion request body of a structured request in `mode`, as `structuredCall` sends it
 * (a batch line's body: the Batch API and `vllm run-batch` take the same request).
 */
export function structuredBody<T>(
  req: { messages: ChatMessage[]; spec: StructuredSpec<T>; params?: SamplingParams; model: string },
  mode: StructuredMode = 'json_schema',
): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, messages: req.messages };
  for (const [k, v] of Object.entries(req.params ?? {})) if (v !== undefined) body[k] = v;
  if (mode === 'json_schema') body.response_format = req.spec.responseFormat;
  else if (mode === 'json_object') {
    body.response_format = { type: 'json_object' };
    body.messages = withInstructions(req.messages, req.spec.instructions.json_object);
  } else body.messages = withInstructions(req.messages, req.spec.instructions.prompt);
  return body;
}

/** Checks an answer's text against the spec as `structuredCall` does (without its repair round). */
export function checkStructured<T>(
  spec: StructuredSpec<T>,
  text: string,
): { ok: true; value: T } | { ok: false; error: string } {
  const ex = extractJson(text);
  if (!ex.ok) return { ok: false, error: 'the answer is not JSON' };
  const p = spec.schema.safeParse(ex.value);
  return p.success ? { ok: true, value: p.data } : { ok: false, error: formatZodError(p.error) };
}
