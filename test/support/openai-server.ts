// A loopback OpenAI-compatible server for tests and benchmarks (node:http, no framework).
//
//   POST /v1/chat/completions   non-streaming (stream: true gets a minimal SSE answer)
//   POST /v1/embeddings         deterministic vectors from a hash of each input; `plantEmbeddings`
//                               gives chosen texts near-identical vectors (planted near-synonyms)
//   GET  /v1/models
//   /v1/files, /v1/batches      the Files and Batch APIs (test/support/batch-api.ts): the real
//                               lifecycle, each line answered as the online route would; `batches`
//   logprobs / top_logprobs     on chat completions: deterministic (test/support/logprobs-sample.ts)
//
// Answers are deterministic: `respond(req)` can be plugged in; the default answers according to
// the request (json_schema → an object valid for the schema, seeded by the last user message and
// the `seed` parameter; json_object / prompted JSON → the same, from a schema found in a
// ```json-schema fence of the messages; otherwise a short text). Faults are injected by schedule
// or predicate with `addFault`. Every request is recorded (authorization header removed; only
// whether one was present and the last key seen are kept, so tests can check key handling).
//
// Standalone: node --import tsx test/support/openai-server.ts --port 0 --latency 50 [--seed-by-model] [--synth [--copy-share 0.3]]
//   prints "listening http://127.0.0.1:PORT" on stdout. `--synth` answers the generation prompts
//   (synth-responder.ts). `--embedding-dims N` sets the vectors' length; `--plant FILE` reads
//   {"groups": [[text, ...], ...], "cosine": 0.97} and plants those groups.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BatchApi, type BatchLine, type LineAnswer } from './batch-api';
import { sampleFromSchema, type JsonSchema } from './json-schema-sample';
import { sampleLogprobs } from './logprobs-sample';
import { synthResponder } from './synth-responder';

export interface RecordedRequest {
  n: number;
  method: string;
  path: string;
  /** Lower-cased headers, without `authorization`. */
  headers: Record<string, string>;
  hadAuth: boolean;
  body: ChatBody | Record<string, unknown> | undefined;
  rawBody: string;
  time: number;
}

export interface ChatMessage {
  role: string;
  content?: string | null | Array<{ type: string; text?: string }>;
}

export interface ChatBody {
  model?: string;
  messages?: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  seed?: number;
  n?: number;
  stream?: boolean;
  response_format?: { type: string; json_schema?: { name?: string; schema?: JsonSchema; strict?: boolean } };
  [k: string]: unknown;
}

/** An embeddings request as a client may send it: text, or token ids (one list, or one per input). */
interface EmbeddingsBody {
  input?: string | string[] | number[] | number[][];
  model?: string;
  dimensions?: number;
}

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'rate-limit'; retryAfterSeconds?: number; retryAfterMs?: number; status?: 429 | 503 }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'malformed-json' }
  | { kind: 'schema-invalid' }
  | { kind: 'not-json' }
  | { kind: 'latency'; ms: number };

export type Reply =
  | { content: string; finishReason?: string }
  | { toolCalls: Array<{ name: string; arguments: string }> }
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { fault: Fault };

export interface FaultRule {
  fault: Fault;
  /** How many matching requests get the fault; default 1. Infinity for all. */
  times: number;
  when?: (req: RecordedRequest) => boolean;
  path?: string;
}

export interface OpenAIServerOptions {
  latencyMs?: number;
  /** Response formats answered with 400 "not supported" (for fallback tests). */
  unsupported?: Array<'json_schema' | 'json_object'>;
  /** The only API key accepted; others get 401. Undefined: any key (or none). */
  requireKey?: string;
  embeddingDims?: number;
  /** Different models give different (still deterministic) answers: the model is part of the seed. */
  seedByModel?: boolean;
  /** What GET /v1/models lists (default: test-model). */
  models?: string[];
}

export class OpenAITestServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests by kind, and `connections`: the TCP connections clients opened (kept-alive ones reused). */
  readonly counts = { total: 0, chat: 0, embeddings: 0, models: 0, faults: 0, connections: 0 };
  hadAuthOnAll = true;
  lastKey: string | undefined;
  latencyMs: number;
  /** What GET /v1/models lists; settable between tests. */
  models: string[];
  unsupported: Set<string>;
  requireKey: string | undefined;
  seedByModel: boolean;
  /** Record requests (turn off for benchmarks to keep memory flat). */
  record = true;
  respond: ((req: RecordedRequest) => Reply | undefined) | undefined;
  private rules: FaultRule[] = [];
  private server: Server;
  private sockets = new Set<Socket>();
  private hanging = new Set<ServerResponse>();
  private embeddingDims: number;
  private planted = new Map<string, { group: number; cosine: number }>();
  url = '';
  /** The Files and Batch APIs' state and controls (timing, holds, expiry, line faults). */
  readonly batches = new BatchApi((line) => this.answerLine(line));

  constructor(opts: OpenAIServerOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.models = opts.models ?? ['test-model'];
    this.unsupported = new Set(opts.unsupported ?? []);
    this.requireKey = opts.requireKey;
    this.seedByModel = opts.seedByModel ?? false;
    this.embeddingDims = opts.embeddingDims ?? 8;
    // A client that goes away mid-request (a job killed during an upload) aborts the body: its
    // socket is closed, the server goes on.
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.counts.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    this.url = `http://${host}:${addr.port}`;
    return this.url;
  }

  /** The base URL clients use (with /v1). */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addFault(fault: Fault, opts: { times?: number; when?: (req: RecordedRequest) => boolean; path?: string } = {}): void {
    this.rules.push({ fault, times: opts.times ?? 1, when: opts.when, path: opts.path ?? '/v1/chat/completions' });
  }

  /**
   * Planted near-synonyms: each group's texts get vectors whose pairwise cosine is `cosine` (within
   * about 0.01 at 64 dimensions or more); other texts keep their hash vectors, which are nearly
   * orthogonal to each other in high dimensions.
   */
  plantEmbeddings(groups: readonly (readonly string[])[], cosine = 0.97): void {
    groups.forEach((g, i) => {
      const group = this.planted.size + i;
      for (const t of g) this.planted.set(t, { group, cosine });
    });
  }

  clearFaults(): void {
    this.rules = [];
  }

  reset(): void {
    this.requests.length = 0;
    this.counts.total = this.counts.chat = this.counts.embeddings = this.counts.models = this.counts.faults = 0;
    this.counts.connections = 0;
    this.rules = [];
    this.respond = undefined;
    this.lastKey = undefined;
    this.hadAuthOnAll = true;
    this.requireKey = undefined;
    this.models = ['test-model'];
    this.planted.clear();
    this.batches.reset();
  }

  chatRequests(): Array<RecordedRequest & { body: ChatBody }> {
    return this.requests.filter((r) => r.path === '/v1/chat/completions') as Array<
      RecordedRequest & { body: ChatBody }
    >;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    // An upload (multipart) is kept as bytes only: it may be a 200 MB batch input file.
    const multipart = /^multipart\//i.test(req.headers['content-type'] ?? '');
    const rawBody = multipart ? '' : buf.toString('utf8');
    const headers: Record<string, string> = {};
    let auth: string | undefined;
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'authorization') auth = Array.isArray(v) ? v[0] : v;
      else if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    let body: RecordedRequest['body'];
    try {
      body = rawBody ? (JSON.parse(rawBody) as RecordedRequest['body']) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const rec: RecordedRequest = {
      n: this.counts.total++,
      method: req.method ?? 'GET',
      path,
      headers,
      hadAuth: auth !== undefined,
      body,
      rawBody,
      time: Date.now(),
    };
    if (auth === undefined) this.hadAuthOnAll = false;
    else this.lastKey = auth.replace(/^Bearer\s+/i, '');
    if (this.record) this.requests.push(rec);
    if (path === '/v1/chat/completions') this.counts.chat++;
    else if (path === '/v1/embeddings') this.counts.embeddings++;
    else if (path === '/v1/models') this.counts.models++;

    if (this.requireKey !== undefined && this.lastKey !== this.requireKey) {
      this.json(res, 401, {
        error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
      });
      return;
    }

    let fault: Fault | undefined;
    for (const rule of this.rules) {
      if (rule.times <= 0) continue;
      if (rule.path && rule.path !== path) continue;
      if (rule.when && !rule.when(rec)) continue;
      rule.times--;
      fault = rule.fault;
      this.counts.faults++;
      break;
    }
    let latency = this.latencyMs;
    if (fault?.kind === 'latency') {
      latency = fault.ms;
      fault = undefined;
    }
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));

    if (req.method === 'GET' && path === '/v1/models') {
      this.json(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'test' })),
      });
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      if (fault) this.applyFault(res, fault, rec);
      else this.embeddings(res, rec);
      return;
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (fault) {
        this.applyFault(res, fault, rec);
        return;
      }
      const chat = (body ?? {}) as ChatBody;
      const rf = chat.response_format?.type;
      if (rf && this.unsupported.has(rf)) {
        this.json(res, 400, {
          error: {
            message: `response_format type '${rf}' is not supported by this model`,
            type: 'invalid_request_error',
            param: 'response_format',
          },
        });
        return;
      }
      const reply = this.respond?.(rec) ?? this.defaultReply(chat);
      if ('fault' in reply) this.applyFault(res, reply.fault, rec);
      else if ('status' in reply) this.json(res, reply.status, reply.body ?? {}, reply.headers);
      else this.completion(res, chat, reply);
      return;
    }
    if (path.startsWith('/v1/files') || path.startsWith('/v1/batches')) {
      if (fault) {
        this.applyFault(res, fault, rec);
        return;
      }
      const routed = this.batches.route(req.method ?? 'GET', req.url ?? '/', buf, headers['content-type'] ?? '');
      if (routed?.raw) {
        res.writeHead(routed.status, {
          'content-type': 'application/octet-stream',
          'content-length': routed.raw.length,
        });
        res.end(routed.raw);
        return;
      }
      if (routed) {
        this.json(res, routed.status, routed.body);
        return;
      }
    }
    this.json(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found' } });
  }

  /** One line of a batch, answered as the online route answers the same body. */
  private answerLine(line: BatchLine): LineAnswer {
    const body = line.body as ChatBody;
    if (line.url === '/v1/embeddings') {
      const b = line.body as EmbeddingsBody;
      const inputs: (string | number | number[])[] = Array.isArray(b.input) ? b.input : [b.input ?? ''];
      const data = inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: this.vector(String(text), b.dimensions ?? this.embeddingDims),
      }));
      const tokens = inputs.reduce<number>((n, t) => n + Math.ceil(String(t).length / 4), 0);
      return {
        status: 200,
        body: {
          object: 'list',
          data,
          model: b.model ?? 'test-embed',
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        },
      };
    }
    if (line.url !== '/v1/chat/completions')
      return {
        status: 400,
        body: { error: { message: `unsupported url ${line.url}`, type: 'invalid_request_error' } },
      };
    const rec: RecordedRequest = {
      n: -1,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      hadAuth: true,
      body,
      rawBody: '',
      time: Date.now(),
    };
    let reply = this.respond?.(rec) ?? this.defaultReply(body);
    if ('fault' in reply) {
      const f = reply.fault;
      if (f.kind === 'schema-invalid') reply = { content: JSON.stringify({ unexpected: true, label: 12345 }) };
      else if (f.kind === 'not-json')
        reply = { content: 'I think the answer is probably positive, but I am not sure.' };
      else if (f.kind === 'status')
        return { status: f.status, body: f.body ?? { error: { message: `injected ${f.status}` } } };
      else return { status: 500, body: { error: { message: `injected ${f.kind}`, type: 'server_error' } } };
    }
    if ('status' in reply) return { status: reply.status, body: reply.body ?? {} };
    return { status: 200, body: this.completionBody(body, reply) };
  }

  private applyFault(res: ServerResponse, fault: Fault, rec: RecordedRequest): void {
    const chat = (rec.body ?? {}) as ChatBody;
    switch (fault.kind) {
      case 'status':
        this.json(res, fault.status, fault.body ?? { error: { message: `injected ${fault.status}` } }, fault.headers);
        return;
      case 'rate-limit': {
        const h: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) h['retry-after'] = String(fault.retryAfterSeconds);
        if (fault.retryAfterMs !== undefined) h['retry-after-ms'] = String(fault.retryAfterMs);
        this.json(res, fault.status ?? 429, { error: { message: 'Rate limit reached', type: 'rate_limit_error' } }, h);
        return;
      }
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'malformed-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assi');
        return;
      case 'schema-invalid':
        this.completion(res, chat, { content: JSON.stringify({ unexpected: true, label: 12345 }) });
        return;
      case 'not-json':
        this.completion(res, chat, { content: 'I think the answer is probably positive, but I am not sure.' });
        return;
      case 'latency':
        return;
    }
  }

  /** The default, request-driven answer. */
  defaultReply(chat: ChatBody): Reply {
    const seed =
      lastUserText(chat) +
      (chat.seed !== undefined ? `#seed=${chat.seed}` : '') +
      (this.seedByModel ? `#model=${chat.model ?? ''}` : '');
    const rf = chat.response_format;
    if (rf?.type === 'json_schema') {
      return { content: JSON.stringify(sampleFromSchema(rf.json_schema?.schema ?? {}, seed)) };
    }
    const embedded = findEmbeddedSchema(chat);
    if (rf?.type === 'json_object') {
      return { content: JSON.stringify(embedded ? sampleFromSchema(embedded, seed) : { answer: hashWord(seed) }) };
    }
    if (embedded) {
      const value = sampleFromSchema(embedded, seed);
      return { content: `Here is my answer.\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n` };
    }
    return { content: `ok ${hashWord(seed)}` };
  }

  private completion(
    res: ServerResponse,
    chat: ChatBody,
    reply: Exclude<Reply, { fault: Fault } | { status: number }>,
  ): void {
    const promptChars = (chat.messages ?? []).reduce((n, m) => n + contentText(m.content).length, 0);
    const content = 'content' in reply ? reply.content : null;
    const completionTokens = Math.ceil((content ?? '').length / 4);
    const promptTokens = Math.ceil(promptChars / 4);
    if (chat.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const base = {
        id: 'chatcmpl-test',
        object: 'chat.completion.chunk',
        created: 0,
        model: chat.model ?? 'test-model',
      };
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: content ?? '' }, finish_reason: null }] })}\n\n`,
      );
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } })}\n\n`,
      );
      res.end('data: [DONE]\n\n');
      return;
    }
    this.json(res, 200, this.completionBody(chat, reply));
  }

  /** The body of a non-streaming chat completion (with `logprobs` when asked for). */
  completionBody(
    chat: ChatBody,
    reply: Exclude<Reply, { fault: Fault } | { status: number }>,
  ): Record<string, unknown> {
    const promptChars = (chat.messages ?? []).reduce((n, m) => n + contentText(m.content).length, 0);
    const content = 'content' in reply ? reply.content : null;
    const message: Record<string, unknown> = { role: 'assistant', content, refusal: null };
    if ('toolCalls' in reply) {
      message.tool_calls = reply.toolCalls.map((t, i) => ({
        id: `call_${i}`,
        type: 'function',
        function: { name: t.name, arguments: t.arguments },
      }));
    }
    const completionTokens = Math.ceil((content ?? '').length / 4);
    const promptTokens = Math.ceil(promptChars / 4);
    let logprobs: unknown = null;
    if (chat.logprobs === true && content !== null) {
      const labelEnum = (
        chat.response_format?.json_schema?.schema as { properties?: { label?: { enum?: unknown } } } | undefined
      )?.properties?.label?.enum;
      logprobs = sampleLogprobs(content, {
        seed: `${lastUserText(chat)}#${chat.model ?? ''}#${chat.seed ?? ''}`,
        topLogprobs: typeof chat.top_logprobs === 'number' ? chat.top_logprobs : 0,
        ...(Array.isArray(labelEnum) ? { labels: labelEnum.filter((x): x is string => typeof x === 'string') } : {}),
      });
    }
    return {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 0,
      model: chat.model ?? 'test-model',
      choices: [
        {
          index: 0,
          message,
          finish_reason:
            'toolCalls' in reply ? 'tool_calls' : ('finishReason' in reply && reply.finishReason) || 'stop',
          logprobs,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  }

  private embeddings(res: ServerResponse, rec: RecordedRequest): void {
    const b = (rec.body ?? {}) as EmbeddingsBody;
    const inputs: (string | number | number[])[] = Array.isArray(b.input) ? b.input : [b.input ?? ''];
    const dims = b.dimensions ?? this.embeddingDims;
    const data = inputs.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: this.vector(String(text), dims),
    }));
    const tokens = inputs.reduce<number>((n, t) => n + Math.ceil(String(t).length / 4), 0);
    this.json(res, 200, {
      object: 'list',
      data,
      model: b.model ?? 'test-embed',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  /** A unit vector: from a hash of the text, or near its planted group's base vector. */
  vector(text: string, dims = this.embeddingDims): number[] {
    const plant = this.planted.get(text);
    if (!plant) return hashVector(text, dims);
    const base = hashVector(`\u0000planted-group-${plant.group}`, dims);
    // The text's own direction, made orthogonal to the base: cos(v1, v2) = c + (1 - c)·(p1·p2) ≈ c.
    const own = hashVector(text, dims);
    const dot = own.reduce((s, x, i) => s + x * (base[i] as number), 0);
    const p = own.map((x, i) => x - dot * (base[i] as number));
    const pn = Math.hypot(...p) || 1;
    const a = Math.sqrt(plant.cosine);
    const c = Math.sqrt(1 - plant.cosine);
    return base.map((x, i) => a * x + (c * (p[i] as number)) / pn);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }
}

export function contentText(c: ChatMessage['content']): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => p.text ?? '').join('');
  return '';
}

export function lastUserText(chat: ChatBody): string {
  const msgs = chat.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i]?.role === 'user') return contentText(msgs[i]?.content);
  return '';
}

function findEmbeddedSchema(chat: ChatBody): JsonSchema | undefined {
  for (const m of chat.messages ?? []) {
    const match = /```json-schema\s*\n([\s\S]*?)\n```/.exec(contentText(m.content));
    if (match?.[1]) {
      try {
        return JSON.parse(match[1]) as JsonSchema;
      } catch {
        /* not a schema */
      }
    }
  }
  return undefined;
}

/** A deterministic unit vector from a hash of the text. */
function hashVector(text: string, dims: number): number[] {
  const v: number[] = [];
  let h = createHash('sha256').update(text).digest();
  while (v.length < dims) {
    for (let i = 0; i + 1 < h.length && v.length < dims; i += 2) v.push(h.readUInt16LE(i) / 32768 - 1);
    h = createHash('sha256').update(h).digest();
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function hashWord(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

export async function startOpenAIServer(opts: OpenAIServerOptions = {}): Promise<OpenAITestServer> {
  const s = new OpenAITestServer(opts);
  await s.start();
  return s;
}

/**
 * The server in a child process (for tests whose own process is busy, e.g. driving a browser, or
 * whose extension host calls it): `args` as for the standalone server (`--latency 250`, `--synth`,
 * `--seed-by-model`). Resolves with its URL.
 */
export async function spawnOpenAIServer(args: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--port', '0', ...args], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`the test LLM server exited (${c})`)));
  });
  return { url, child };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dims = arg('embedding-dims');
  const server = new OpenAITestServer({
    latencyMs: Number(arg('latency') ?? 0),
    seedByModel: argv.includes('--seed-by-model'),
    ...(dims ? { embeddingDims: Number(dims) } : {}),
  });
  server.record = argv.includes('--record');
  const plant = arg('plant');
  if (plant) {
    const spec = JSON.parse(readFileSync(plant, 'utf8')) as { groups: string[][]; cosine?: number };
    server.plantEmbeddings(spec.groups, spec.cosine);
  }
  if (argv.includes('--synth')) server.respond = synthResponder({ copyShare: Number(arg('copy-share') ?? 0) });
  void server.start(Number(arg('port') ?? 0), arg('host') ?? '127.0.0.1').then((url) => {
    process.stdout.write(`listening ${url}\n`);
  });
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
