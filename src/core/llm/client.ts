// The LLM client: the real `openai` SDK (maxRetries: 0) over a keep-alive node:http fetch, with
// our own retry policy, adaptive concurrency, rate limits, timeouts, cancellation and usage
// accounting. See docs/llm-engine.md for the policy and why.
//
// Errors: `chat()` resolves with the completion, or throws
//   - the AbortSignal's reason (an AbortError) when cancelled;
//   - `LlmError` with kind 'fatal' (401/403/404: bad key, model or URL; the job should stop),
//     'request' (400/422 and other non-retryable 4xx: this request is wrong, e.g. response_format
//     unsupported), or 'exhausted' (retryable failures until retries ran out, or a retry-after
//     longer than the cap). Per-record callers turn 'request'/'exhausted' into a recorded failure.
import type { TokenLogprob } from './batch/format';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { createNodeFetch, type NodeFetch } from './http-fetch';
import { AdaptiveLimiter, TokenBucket, abortReason, sleep, withRequestSignal, type Permit } from './limiter';
import { countTokens } from './tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };
    };

/** Sampling parameters; all of them are part of the cache key. */
export interface SamplingParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  /** Ask for the answer's token log probabilities (confidence from logprobs, src/core/llm/batch/logprobs.ts). */
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface ChatRequest extends SamplingParams {
  model?: string;
  messages: ChatMessage[];
  response_format?: ResponseFormat;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ChatResult {
  content: string | null;
  finishReason: string | null;
  refusal: string | null;
  model: string;
  usage: Usage;
  attempts: number;
  latencyMs: number;
  /** The answer's token log probabilities, when asked for and the server gave them. */
  logprobs?: TokenLogprob[];
}

/**
 * A chat completion as a server may really send it: OpenAI-compatible servers (llama.cpp, vLLM,
 * proxies) can leave out what the SDK's types say is always there.
 */
interface ServerCompletion {
  choices?:
    | {
        message?: { content?: unknown; refusal?: unknown } | null;
        finish_reason?: string | null;
        logprobs?: { content?: unknown } | null;
      }[]
    | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  model?: unknown;
}

/** An embeddings answer as a server may really send it (see ServerCompletion). */
interface ServerEmbeddings {
  data?: { index: number; embedding: unknown }[] | null;
  usage?: { prompt_tokens?: number } | null;
  model?: string | null;
}

const isVector = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

export interface EmbeddingResult {
  vectors: number[][];
  model: string;
  usage: Usage;
  attempts: number;
}

export type LlmErrorKind = 'fatal' | 'request' | 'exhausted';

export class LlmError extends Error {
  constructor(
    message: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

export interface LlmClientOptions {
  baseURL: string;
  /** Held in memory only; never logged, cached or journaled. Empty for keyless local servers. */
  apiKey?: string;
  model: string;
  /** Per-attempt timeout (ms). Default 120 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  /** Max requests in flight (the AIMD ceiling). Default 8. */
  concurrency?: number;
  /** 0/undefined: unlimited. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Longest retry-after we honour (ms); a longer one ends the request with 'exhausted'. Default 30 000. */
  retryAfterCapMs?: number;
  /** Full-jitter backoff: delay = random() * min(backoffMaxMs, backoffBaseMs * 2^retry). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Consecutive successes before the concurrency limit grows by one. Default 8. */
  growAfter?: number;
  log?: (line: string) => void;
  random?: () => number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ClientStats {
  requests: number;
  attempts: number;
  retries: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
}

const RETRYABLE_STATUS = (s: number): boolean => s === 408 || s === 409 || s === 429 || s >= 500;
const FATAL_STATUS = new Set([401, 403, 404]);

/** Parses retry-after-ms (milliseconds) or retry-after (seconds or an HTTP date); undefined if absent. */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = headers.get('retry-after');
  if (ra !== null && ra.trim() !== '') {
    const secs = Number(ra);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** Tokens of a text with OpenAI's o200k_base encoding (tokenizer.ts; loaded on first use). */
export function estimateTokens(text: string): number {
  return countTokens(text);
}

export class LlmClient {
  readonly model: string;
  readonly baseURL: string;
  readonly limiter: AdaptiveLimiter;
  readonly stats: ClientStats = { requests: 0, attempts: 0, retries: 0, failures: 0, inputTokens: 0, outputTokens: 0 };
  private readonly sdk: OpenAI;
  private readonly http: NodeFetch;
  private readonly rpm?: TokenBucket;
  private readonly tpm?: TokenBucket;
  private readonly opts: Required<
    Omit<LlmClientOptions, 'apiKey' | 'requestsPerMinute' | 'tokensPerMinute' | 'log'>
  > & {
    log?: (line: string) => void;
  };
  private readonly secret: string;

  constructor(options: LlmClientOptions) {
    this.model = options.model;
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.secret = options.apiKey ?? '';
    this.opts = {
      baseURL: this.baseURL,
      model: options.model,
      timeoutMs: options.timeoutMs ?? 120_000,
      maxRetries: options.maxRetries ?? 4,
      concurrency: options.concurrency ?? 8,
      retryAfterCapMs: options.retryAfterCapMs ?? 30_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 20_000,
      growAfter: options.growAfter ?? 8,
      random: options.random ?? Math.random,
      log: options.log,
    };
    this.limiter = new AdaptiveLimiter(this.opts.concurrency, this.opts.growAfter);
    if (options.requestsPerMinute) this.rpm = new TokenBucket(options.requestsPerMinute);
    if (options.tokensPerMinute) this.tpm = new TokenBucket(options.tokensPerMinute);
    this.http = createNodeFetch({ maxSockets: Math.max(16, this.opts.concurrency * 2) });
    this.sdk = new OpenAI({
      baseURL: this.baseURL,
      // The SDK insists on a key; keyless local servers ignore the header.
      apiKey: this.secret || 'no-key',
      maxRetries: 0,
      timeout: this.opts.timeoutMs,
      fetch: this.http.fetch,
      logLevel: 'off',
      organization: null,
      project: null,
      webhookSecret: null,
    });
  }

  /**
   * Removes the API key from any text: error messages, logs, and the model's answers (an endpoint
   * may echo the key; answers are stored in the dataset, the cache and the journal).
   */
  redact(text: string): string {
    return redactSecret(text, this.secret);
  }

  private log(line: string): void {
    this.opts.log?.(this.redact(line));
  }

  close(): void {
    this.http.destroy();
  }

  async chat(req: ChatRequest, call: CallOptions = {}): Promise<ChatResult> {
    const model = req.model ?? this.model;
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: req.messages,
    };
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.top_p !== undefined) body.top_p = req.top_p;
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the name OpenAI-compatible servers (Ollama, llama.cpp, vLLM) read; max_completion_tokens is newer
    if (req.max_tokens !== undefined) body.max_tokens = req.max_tokens;
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- marked Beta, no replacement; local servers honour it for reproducible samples
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.stop !== undefined) body.stop = req.stop;
    if (req.presence_penalty !== undefined) body.presence_penalty = req.presence_penalty;
    if (req.frequency_penalty !== undefined) body.frequency_penalty = req.frequency_penalty;
    if (req.response_format !== undefined) body.response_format = req.response_format;
    if (req.logprobs !== undefined) body.logprobs = req.logprobs;
    if (req.top_logprobs !== undefined) body.top_logprobs = req.top_logprobs;

    let estimate = 0;
    if (this.tpm) {
      for (const m of req.messages) estimate += estimateTokens(m.content);
      estimate += req.max_tokens ?? 256;
    }
    const started = performance.now();
    const { value, attempts } = await this.withPolicy(`chat ${model}`, estimate, call, (signal, timeout) =>
      this.sdk.chat.completions.create(body, { signal, timeout }),
    );
    const completion: ServerCompletion = value;
    const choice = completion.choices?.[0];
    const usage: Usage = {
      input_tokens: completion.usage?.prompt_tokens ?? 0,
      output_tokens: completion.usage?.completion_tokens ?? 0,
    };
    this.account(usage, estimate);
    if (!choice) throw new LlmError('the server answered with no choices', 'request', 200, attempts);
    // Model content is redacted here, before any caller can store it anywhere.
    const content = choice.message?.content;
    const refusal = choice.message?.refusal;
    const lp = choice.logprobs?.content;
    return {
      ...(Array.isArray(lp) ? { logprobs: lp as TokenLogprob[] } : {}),
      content: typeof content === 'string' ? this.redact(content) : null,
      refusal: typeof refusal === 'string' ? this.redact(refusal) : null,
      finishReason: choice.finish_reason ?? null,
      model: typeof completion.model === 'string' && completion.model ? this.redact(completion.model) : model,
      usage,
      attempts,
      latencyMs: performance.now() - started,
    };
  }

  /**
   * Embeddings of `input` (one vector per text, in order), under the same policy as chat:
   * retries with backoff and retry-after, adaptive concurrency, rate limits, timeouts, cancel.
   */
  async embed(
    input: string[],
    opts: { model?: string; signal?: AbortSignal; dimensions?: number; timeoutMs?: number } = {},
  ): Promise<EmbeddingResult> {
    const model = opts.model ?? this.model;
    const estimate = this.tpm ? input.reduce((n, t) => n + estimateTokens(t), 0) : 0;
    const body: OpenAI.Embeddings.EmbeddingCreateParams = {
      model,
      input,
      encoding_format: 'float',
      ...(opts.dimensions ? { dimensions: opts.dimensions } : {}),
    };
    const { value, attempts } = await this.withPolicy(
      `embeddings ${model}`,
      estimate,
      { signal: opts.signal, timeoutMs: opts.timeoutMs },
      (signal, timeout) => this.sdk.embeddings.create(body, { signal, timeout }),
    );
    const res: ServerEmbeddings = value;
    const usage: Usage = { input_tokens: res.usage?.prompt_tokens ?? 0, output_tokens: 0 };
    this.account(usage, estimate);
    const data = [...(res.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== input.length)
      throw new LlmError(
        `the server answered with ${data.length} embeddings for ${input.length} inputs`,
        'request',
        200,
        attempts,
      );
    const vectors = data.map((d) => d.embedding);
    if (!vectors.every(isVector)) {
      throw new LlmError(
        'the server answered with an embedding that is not a list of numbers',
        'request',
        200,
        attempts,
      );
    }
    return { vectors, model: res.model ?? model, usage, attempts };
  }

  private account(usage: Usage, estimate: number): void {
    this.stats.inputTokens += usage.input_tokens;
    this.stats.outputTokens += usage.output_tokens;
    if (this.tpm) this.tpm.adjust(usage.input_tokens + usage.output_tokens - estimate);
  }

  /**
   * One request under our policy: rate limits and a concurrency permit per attempt; retries on
   * 408/409/429/5xx, connection errors and timeouts with full-jitter backoff or the server's
   * retry-after (up to the cap); 429/503 halve the concurrency; 401/403/404 are fatal.
   */
  private async withPolicy<T>(
    what: string,
    estimate: number,
    call: CallOptions,
    send: (signal: AbortSignal | undefined, timeout: number) => Promise<T>,
  ): Promise<{ value: T; attempts: number }> {
    const signal = call.signal;
    const timeout = call.timeoutMs ?? this.opts.timeoutMs;
    this.stats.requests++;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      if (this.rpm) await this.rpm.take(1, signal);
      if (this.tpm) await this.tpm.take(estimate, signal);
      const permit: Permit = await this.limiter.acquire(signal);
      this.stats.attempts++;
      let retryDelay: number;
      let failure: string;
      let status: number | undefined;
      try {
        const value = await withRequestSignal(signal, (own) => send(own, timeout));
        permit.release();
        this.limiter.success();
        return { value, attempts: attempt + 1 };
      } catch (err) {
        permit.release();
        if (err instanceof LlmError) throw err;
        if (signal?.aborted) throw abortReason(signal);
        if (err instanceof APIUserAbortError) throw abortReason(signal ?? AbortSignal.abort());
        const backoff = this.opts.random() * Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** attempt);
        if (err instanceof APIConnectionTimeoutError) {
          failure = `timeout after ${timeout} ms`;
          retryDelay = backoff;
        } else if (err instanceof APIConnectionError) {
          const unreachable = unreachableReason(err.cause);
          if (unreachable) {
            // Nothing listens there (or the name does not resolve): every record would fail the
            // same way after its retries. The job stops at once, as on a 401.
            this.stats.failures++;
            this.log(`${what}: ${unreachable} (fatal)`);
            throw new LlmError(
              `cannot reach ${this.opts.baseURL}: ${unreachable}. Is the server running, and is the base URL right?`,
              'fatal',
              undefined,
              attempt + 1,
            );
          }
          failure = `connection error: ${this.redact(errorText(err.cause ?? err))}`;
          retryDelay = backoff;
        } else if (isApiError(err) && typeof err.status === 'number') {
          status = err.status;
          const msg = this.redact(apiErrorMessage(err));
          if (FATAL_STATUS.has(status)) {
            this.stats.failures++;
            this.log(`${what}: HTTP ${status} (fatal): ${msg}`);
            throw new LlmError(`HTTP ${status}: ${msg}`, 'fatal', status, attempt + 1);
          }
          if (!RETRYABLE_STATUS(status)) {
            this.stats.failures++;
            throw new LlmError(`HTTP ${status}: ${msg}`, 'request', status, attempt + 1);
          }
          if (status === 429 || status === 503) this.limiter.congestion(permit);
          failure = `HTTP ${status}: ${msg}`;
          const ra = parseRetryAfter(err.headers);
          if (ra !== undefined && ra > this.opts.retryAfterCapMs) {
            this.stats.failures++;
            throw new LlmError(
              `HTTP ${status}: server asked to retry after ${Math.round(ra / 1000)} s, more than the cap of ${Math.round(this.opts.retryAfterCapMs / 1000)} s`,
              'exhausted',
              status,
              attempt + 1,
            );
          }
          retryDelay = ra ?? backoff;
        } else {
          // Anything else (e.g. a malformed JSON body from a proxy) is treated as transient.
          failure = `bad response: ${this.redact(errorText(err))}`;
          retryDelay = backoff;
        }
      }
      if (attempt >= this.opts.maxRetries) {
        this.stats.failures++;
        this.log(`${what}: giving up after ${attempt + 1} attempts: ${failure}`);
        throw new LlmError(`${failure} (after ${attempt + 1} attempts)`, 'exhausted', status, attempt + 1);
      }
      this.stats.retries++;
      this.log(`${what}: ${failure}; retry ${attempt + 1}/${this.opts.maxRetries} in ${Math.round(retryDelay)} ms`);
      await sleep(retryDelay, signal);
    }
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const page = await this.sdk.models.list({ signal });
    return page.data.map((m) => m.id);
  }
}

/** Connection refused, or a host name that does not resolve: the endpoint is not there (not a transient failure). */
function unreachableReason(cause: unknown): string | undefined {
  for (
    let e = cause, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ENOTFOUND') return 'the host name does not resolve';
  }
  return undefined;
}

/**
 * `text` without `secret`: as it is, and as it appears inside a JSON string (escaped), so a key in
 * a structured answer is caught before the answer is parsed. Secrets shorter than 4 characters
 * (placeholders of keyless servers) are left alone.
 */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  let out = text.split(secret).join('[redacted]');
  const escaped = JSON.stringify(secret).slice(1, -1);
  if (escaped !== secret) out = out.split(escaped).join('[redacted]');
  const slashes = escaped.replace(/\//g, '\\/');
  if (slashes !== escaped) out = out.split(slashes).join('[redacted]');
  return out;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** instanceof alone would narrow to APIError<any, any, any>. */
const isApiError = (e: unknown): e is APIError => e instanceof APIError;

function apiErrorMessage(err: APIError): string {
  const e: unknown = err.error;
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return err.message;
}
