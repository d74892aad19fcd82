// The Files and Batch APIs through the real `openai` SDK: upload an input file (streamed from
// disk, purpose `batch`), create a batch, retrieve, list, cancel, and download an output file to
// disk (streamed, then fsynced and renamed). The SDK's own retries cover 408/409/429/5xx and
// connection errors on every call but the upload (a streamed body cannot be sent twice): the upload
// retries here, reopening the file.
//
// This client uses the global fetch (undici), not the engine's node:http fetch (http-fetch.ts):
// it needs streamed request bodies (multipart uploads of up to 200 MB) and streamed responses
// (output files of any size), and it makes a handful of requests, so its CPU per request does not
// matter.
//
// A streamed upload is sent with `redirect: 'error'`. With the default ('follow') undici clones the
// request to be able to follow a redirect, and the clone tees the body: the branch kept for the
// redirect is never read, so it buffers every chunk sent, the whole file (nodejs/undici#4058; a
// 267 MB upload held 258 MB until the server answered). A streamed body cannot be sent again
// after a redirect anyway (the Fetch standard fails it), so nothing is lost: a server that
// redirects an upload gets a clear error naming the base URL.
import { createReadStream, createWriteStream, fsyncSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError, toStreamingFile } from 'openai';
import type { Batch, BatchCreateParams } from 'openai/resources/batches';
import type { FileObject } from 'openai/resources/files';
import { abortReason, sleep, withRequestSignal } from '../limiter';

export type { Batch, FileObject };

export interface BatchApiOptions {
  baseURL: string;
  /** Held in memory only; never journaled or logged. */
  apiKey?: string;
  /** Per-request timeout (ms). Default 10 minutes (an upload of 200 MB). */
  timeoutMs?: number;
  /** The SDK's retries per call. Default 4. */
  maxRetries?: number;
  log?: (line: string) => void;
}

export const TERMINAL_STATUSES: ReadonlySet<Batch['status']> = new Set(['completed', 'failed', 'expired', 'cancelled']);

export class BatchApiClient {
  readonly baseURL: string;
  private readonly sdk: OpenAI;
  private readonly secret: string;

  constructor(private readonly opts: BatchApiOptions) {
    this.baseURL = opts.baseURL.replace(/\/+$/, '');
    this.secret = opts.apiKey ?? '';
    this.sdk = new OpenAI({
      baseURL: this.baseURL,
      apiKey: this.secret || 'no-key',
      maxRetries: opts.maxRetries ?? 4,
      timeout: opts.timeoutMs ?? 600_000,
      logLevel: 'off',
      organization: null,
      project: null,
      webhookSecret: null,
      fetch: uploadSafeFetch,
    });
  }

  /** Removes the API key from any text. */
  redact(text: string): string {
    if (!this.secret || this.secret.length < 4) return text;
    return text.split(this.secret).join('[redacted]');
  }

  /** Uploads `path` with purpose `batch` under `filename` (streamed; retried on transient errors). */
  async upload(path: string, filename = basename(path), signal?: AbortSignal): Promise<FileObject> {
    for (let attempt = 0; ; attempt++) {
      try {
        const file = toStreamingFile(createReadStream(path), filename, { type: 'application/jsonl' });
        return await this.sdk.files.create({ file, purpose: 'batch' }, { signal, maxRetries: 0 });
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (isRedirectRefused(err))
          throw new Error(
            `upload of ${filename}: ${this.baseURL} answered with a redirect, which an upload cannot follow (its body is streamed from the file); set the base URL to where it redirects`,
            { cause: err },
          );
        if (!isTransient(err) || attempt >= (this.opts.maxRetries ?? 4)) throw this.wrap(err, `upload of ${filename}`);
        this.opts.log?.(
          `upload of ${filename}: ${this.redact(err instanceof Error ? err.message : String(err))}; retry ${attempt + 1}`,
        );
        await sleep(Math.min(8000, 500 * 2 ** attempt), signal);
      }
    }
  }

  /** A batch input file uploaded earlier under `filename` with `bytes` bytes (newest first), if any. */
  async findFile(filename: string, bytes: number, signal?: AbortSignal): Promise<FileObject | undefined> {
    try {
      for await (const f of this.sdk.files.list({ purpose: 'batch', limit: 10_000 }, { signal })) {
        if (f.filename === filename && f.bytes === bytes) return f;
      }
      return undefined;
    } catch (err) {
      throw this.wrap(err, 'list of files');
    }
  }

  async create(
    inputFileId: string,
    metadata: Record<string, string>,
    endpoint: BatchCreateParams['endpoint'] = '/v1/chat/completions',
    signal?: AbortSignal,
  ): Promise<Batch> {
    try {
      return await this.sdk.batches.create(
        { input_file_id: inputFileId, endpoint, completion_window: '24h', metadata },
        { signal },
      );
    } catch (err) {
      throw this.wrap(err, 'batch creation');
    }
  }

  /** The batch made from `inputFileId`, if one was created (searched newest first). */
  async findBatch(inputFileId: string, signal?: AbortSignal): Promise<Batch | undefined> {
    try {
      for await (const b of this.sdk.batches.list({ limit: 100 }, { signal })) {
        if (b.input_file_id === inputFileId) return b;
      }
      return undefined;
    } catch (err) {
      throw this.wrap(err, 'list of batches');
    }
  }

  async retrieve(batchId: string, signal?: AbortSignal): Promise<Batch> {
    try {
      // polled for hours under one job's signal: a signal of its own each time (withRequestSignal)
      return await withRequestSignal(signal, (own) => this.sdk.batches.retrieve(batchId, { signal: own }));
    } catch (err) {
      throw this.wrap(err, `batch ${batchId}`);
    }
  }

  async cancel(batchId: string, signal?: AbortSignal): Promise<Batch> {
    try {
      return await this.sdk.batches.cancel(batchId, { signal });
    } catch (err) {
      throw this.wrap(err, `cancel of batch ${batchId}`);
    }
  }

  async deleteFile(fileId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.sdk.files.delete(fileId, { signal });
    } catch (err) {
      throw this.wrap(err, `deletion of file ${fileId}`);
    }
  }

  /** Downloads a file's content to `dest` (streamed to a temporary file, fsynced, renamed). Returns its size. */
  async download(fileId: string, dest: string, signal?: AbortSignal): Promise<number> {
    const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.download`);
    try {
      const res = await this.sdk.files.content(fileId, { signal });
      if (!res.body) throw new Error(`file ${fileId} has no content`);
      const out = createWriteStream(tmp, { mode: 0o600 });
      let bytes = 0;
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (c: Buffer) => (bytes += c.length));
      // a provider's error text may quote the key: it never reaches the disk
      if (this.secret.length >= 8) await pipeline(body, redactingStream(this.secret), out, { signal });
      else await pipeline(body, out, { signal });
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, dest);
      return bytes;
    } catch (err) {
      rmSync(tmp, { force: true });
      if (signal?.aborted) throw abortReason(signal);
      throw this.wrap(err, `download of file ${fileId}`);
    }
  }

  private wrap(err: unknown, what: string): Error {
    if (err instanceof APIUserAbortError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    if (err instanceof APIError && typeof err.status === 'number') {
      const e = err.error as { message?: unknown } | undefined;
      const msg = typeof e?.message === 'string' ? e.message : err.message;
      return new BatchApiError(`${what}: HTTP ${err.status}: ${this.redact(msg)}`, err.status);
    }
    return new BatchApiError(`${what}: ${this.redact(err instanceof Error ? err.message : String(err))}`);
  }
}

/** Replaces every occurrence of `secret` in a byte stream with "[redacted]" (also across chunk boundaries). */
export function redactingStream(secret: string): Transform {
  const key = Buffer.from(secret);
  const rep = Buffer.from('[redacted]');
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      const parts: Buffer[] = [];
      let start = 0;
      for (;;) {
        const i = buf.indexOf(key, start);
        if (i < 0) break;
        parts.push(buf.subarray(start, i), rep);
        start = i + key.length;
      }
      // the last key.length - 1 bytes may hold the start of a key: kept for the next chunk
      const keep = Math.max(start, buf.length - (key.length - 1));
      parts.push(buf.subarray(start, keep));
      tail = Buffer.from(buf.subarray(keep));
      cb(null, Buffer.concat(parts));
    },
    flush(cb) {
      cb(null, tail);
    },
  });
}

export class BatchApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BatchApiError';
  }
}

/**
 * The global fetch, with `redirect: 'error'` for a streamed request body (see the top of this
 * file): undici would otherwise keep a copy of everything it sends until the answer.
 */
const uploadSafeFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  fetch(input, init?.body instanceof ReadableStream ? { ...init, redirect: 'error' } : init);

/** True for the error of a streamed upload that met a redirect (fetch's redirect mode 'error': undici says "unexpected redirect"). */
function isRedirectRefused(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (/unexpected redirect|redirect mode is set to error/i.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

function isTransient(err: unknown): boolean {
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError && typeof err.status === 'number')
    return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
  return false;
}

/** Polling delays: starts at `initialMs`, grows by `factor` up to `maxMs`; abortable. */
export interface PollPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_POLL: PollPolicy = { initialMs: 5_000, maxMs: 60_000, factor: 1.5 };

/** Retrieves a batch until it ends (completed, failed, expired, cancelled); `onStatus` sees each change. */
export async function pollUntilDone(
  api: BatchApiClient,
  batchId: string,
  policy: PollPolicy,
  signal: AbortSignal | undefined,
  onStatus: (b: Batch) => void,
): Promise<Batch> {
  let delay = policy.initialMs;
  let last = '';
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const b = await api.retrieve(batchId, signal);
    const sig = `${b.status}|${b.request_counts?.completed ?? 0}|${b.request_counts?.failed ?? 0}`;
    if (sig !== last) {
      last = sig;
      onStatus(b);
    }
    if (TERMINAL_STATUSES.has(b.status)) return b;
    await sleep(delay, signal);
    delay = Math.min(policy.maxMs, delay * policy.factor);
  }
}
