// Embeddings for semantic duplicates: the endpoint's /embeddings through the LLM client (our
// retry policy, adaptive concurrency, rate limits, cancel), in batches, with the response cache
// keyed by endpoint, model, dimensions and input text (one entry per text, so a re-run with other
// batches, or of another file holding the same texts, is free). Vectors are float32 whether fresh
// or cached, so a cached run gives exactly the same clusters.
import { cacheKey, defaultCacheDir, ResponseCache } from './cache';
import { LlmClient, type ClientStats } from './client';
import type { EmbedFn } from '../filter/dedup';

export interface EmbedderOptions {
  client: LlmClient;
  model: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  dimensions?: number;
  cache?: ResponseCache;
}

export interface Embedder {
  embed: EmbedFn;
  /** Texts answered from the cache, and texts sent. */
  readonly counts: { cached: number; sent: number; requests: number };
}

function encode(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function decode(s: string): Float32Array | undefined {
  const b = Buffer.from(s, 'base64');
  if (b.length === 0 || b.length % 4 !== 0) return undefined;
  const out = new Float32Array(b.length / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}

export function createEmbedder(o: EmbedderOptions): Embedder {
  const batchSize = Math.max(1, o.batchSize ?? 64);
  const counts = { cached: 0, sent: 0, requests: 0 };
  const keyOf = (text: string) =>
    cacheKey({
      baseURL: o.client.baseURL,
      model: o.model,
      messages: text,
      params: { endpoint: 'embeddings', dimensions: o.dimensions ?? null },
    });
  const embed: EmbedFn = async (texts, signal) => {
    const out = new Array<Float32Array | undefined>(texts.length);
    // Misses, each distinct text once.
    const missing = new Map<string, number[]>();
    texts.forEach((t, i) => {
      const hit = o.cache?.get(keyOf(t));
      const v = hit ? decode(hit.content) : undefined;
      if (v) {
        out[i] = v;
        counts.cached++;
      } else missing.set(t, [...(missing.get(t) ?? []), i]);
    });
    const todo = [...missing.keys()];
    const batches: string[][] = [];
    for (let k = 0; k < todo.length; k += batchSize) batches.push(todo.slice(k, k + batchSize));
    // The client's limiter caps what is in flight.
    await Promise.all(
      batches.map(async (batch) => {
        const r = await o.client.embed(batch, {
          model: o.model,
          signal,
          ...(o.dimensions ? { dimensions: o.dimensions } : {}),
        });
        counts.requests += r.attempts; // requests sent, retries included
        counts.sent += batch.length;
        batch.forEach((t, j) => {
          const v = Float32Array.from(r.vectors[j] as number[]);
          o.cache?.put(keyOf(t), { content: encode(v), usage: { input_tokens: 0, output_tokens: 0 }, model: r.model });
          for (const i of missing.get(t) ?? []) out[i] = v;
        });
      }),
    );
    return out.map((v) => Array.from(v as Float32Array));
  };
  return { embed, counts };
}

/** The endpoint settings an embedder needs (CLI flags, VS Code settings); the key comes from the host. */
export interface EmbeddingEndpoint {
  baseURL: string;
  apiKey?: string | undefined;
  model: string;
  /** Cache folder; default the per-user cache outside the workspace (see cache.ts). */
  cacheDir?: string | undefined;
  dataset?: string | undefined;
  noCache?: boolean | undefined;
  batchSize?: number | undefined;
  dimensions?: number | undefined;
  concurrency?: number | undefined;
  timeoutSeconds?: number | undefined;
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

/** An embedder over an endpoint, with its client and cache; close() when done. */
export function embedderFor(e: EmbeddingEndpoint): Embedder & { close(): void; readonly stats: ClientStats } {
  const client = new LlmClient({
    baseURL: e.baseURL,
    apiKey: e.apiKey,
    model: e.model,
    concurrency: e.concurrency ?? 4,
    timeoutMs: (e.timeoutSeconds ?? 120) * 1000,
    requestsPerMinute: e.requestsPerMinute || undefined,
    tokensPerMinute: e.tokensPerMinute || undefined,
    log: e.log,
  });
  const cache = e.noCache ? undefined : new ResponseCache(e.cacheDir ?? defaultCacheDir());
  const inner = createEmbedder({ client, model: e.model, cache, batchSize: e.batchSize, dimensions: e.dimensions });
  return {
    ...inner,
    stats: client.stats,
    close() {
      client.close();
      cache?.close();
    },
  };
}
