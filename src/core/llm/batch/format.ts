// The OpenAI batch file formats, which `vllm run-batch` reads and writes too.
//
// Input, one request a line:
//   {"custom_id":"…","method":"POST","url":"/v1/chat/completions","body":{…chat completion request…}}
// Output and error files, one line per request, in any order (match by custom_id):
//   OpenAI, success:   {"id":"batch_req_…","custom_id":"…","response":{"status_code":200,"request_id":"…","body":{…ChatCompletion…}},"error":null}
//   OpenAI, HTTP error (error file): the same with status_code 4xx/5xx and body {"error":{"message":…}}
//   OpenAI, expired/cancelled (error file): {"id":…,"custom_id":…,"response":null,"error":{"code":"batch_expired","message":…}}
//   vLLM (vllm/entrypoints/openai/run_batch.py, BatchRequestOutput): the OpenAI envelope; a failed
//     request has response {"status_code":400,"request_id":…,"body":null} and `error` a string or an
//     ErrorResponse ({"error":{"message":…}} or, older, {"object":"error","message":…,"code":400})
//   vLLM before the envelope (0.4.x, its README's example): `response` is the ChatCompletion itself.
// Files are read line by line in 1 MiB chunks, never as one string.
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** The Batch API's limits per input file. */
export const BATCH_LIMITS = { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 } as const;

export const CHAT_ENDPOINT = '/v1/chat/completions';

/** One request of a batch: a chat completion request body under a custom_id. */
export interface BatchRequest {
  custom_id: string;
  body: Record<string, unknown>;
}

/** JSON of body values that are objects shared by every request of a task (the response format and its schema). */
const jsonOf = new WeakMap<object, string>();

/** The input file's line of a request (the same text as JSON.stringify of the line object). */
export function inputLine(req: BatchRequest, url: string = CHAT_ENDPOINT): string {
  let body = '{';
  let first = true;
  for (const k of Object.keys(req.body)) {
    const v = req.body[k];
    if (v === undefined || typeof v === 'function') continue;
    let j: string;
    if (v !== null && typeof v === 'object' && k !== 'messages') {
      j = jsonOf.get(v) ?? JSON.stringify(v);
      jsonOf.set(v, j);
    } else j = JSON.stringify(v);
    body += `${first ? '' : ','}${JSON.stringify(k)}:${j}`;
    first = false;
  }
  return `{"custom_id":${JSON.stringify(req.custom_id)},"method":"POST","url":${JSON.stringify(url)},"body":${body}}}`;
}

/** What a chat completion answer holds that the engine uses. */
export interface ChatAnswer {
  content: string | null;
  refusal: string | null;
  finishReason: string | null;
  model: string | undefined;
  usage: { input_tokens: number; output_tokens: number };
  /** choices[0].logprobs.content, when the request asked for logprobs. */
  logprobs: TokenLogprob[] | undefined;
}

export interface TopLogprob {
  token: string;
  logprob: number;
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs?: TopLogprob[];
}

/**
 * The outcome of one request: its answer, or why there is none. `kind` says what to do with a
 * failure: `failed` (the request got an error answer: retry it, online or in another batch),
 * `expired` / `cancelled` (it never ran: send it again).
 */
export type BatchOutcome =
  | { custom_id: string; ok: true; status: number; answer: ChatAnswer }
  | {
      custom_id: string;
      ok: false;
      kind: 'failed' | 'expired' | 'cancelled';
      status?: number;
      code?: string;
      message: string;
    };

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Reads a ChatCompletion body; undefined if it is not one. */
export function chatAnswer(body: unknown): ChatAnswer | undefined {
  const b = obj(body);
  const choices = b?.choices;
  if (!b || !Array.isArray(choices)) return undefined;
  const c = obj(choices[0]);
  const message = obj(c?.message);
  const usage = obj(b.usage);
  const lp = obj(c?.logprobs)?.content;
  return {
    content: typeof message?.content === 'string' ? message.content : null,
    refusal: typeof message?.refusal === 'string' ? message.refusal : null,
    finishReason: typeof c?.finish_reason === 'string' ? c.finish_reason : null,
    model: typeof b.model === 'string' ? b.model : undefined,
    usage: { input_tokens: num(usage?.prompt_tokens), output_tokens: num(usage?.completion_tokens) },
    logprobs: Array.isArray(lp) ? (lp as TokenLogprob[]) : undefined,
  };
}

function errorText(e: unknown): { code?: string; message: string } {
  if (typeof e === 'string') return { message: e };
  const o = obj(e);
  if (!o) return { message: 'no answer' };
  const inner = obj(o.error);
  if (inner) return errorText(inner);
  const code = typeof o.code === 'string' ? o.code : typeof o.type === 'string' ? o.type : undefined;
  const message = typeof o.message === 'string' ? o.message : JSON.stringify(o);
  return { ...(code !== undefined ? { code } : {}), message };
}

/** Parses one line of an output or error file (OpenAI's or vLLM's); a string says why it is not one. */
export function parseOutputLine(text: string): BatchOutcome | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const line = obj(v);
  if (!line) return 'not a JSON object';
  const custom_id = line.custom_id;
  if (typeof custom_id !== 'string' || custom_id === '') return 'no custom_id';
  if (!('response' in line) && !('error' in line))
    return 'body' in line && 'url' in line
      ? 'a request line (the batch input), not a result'
      : 'neither a response nor an error';
  const response = obj(line.response);
  const error = line.error;
  if (response && 'status_code' in response) {
    const status = num(response.status_code) || 200;
    const answer = status >= 200 && status < 300 ? chatAnswer(response.body) : undefined;
    if (answer && (error === null || error === undefined)) return { custom_id, ok: true, status, answer };
    const e = errorText(
      error ?? obj(response.body)?.error ?? (answer ? undefined : `HTTP ${status} without a chat completion`),
    );
    return {
      custom_id,
      ok: false,
      kind: 'failed',
      status,
      ...(e.code !== undefined ? { code: e.code } : {}),
      message: e.message,
    };
  }
  if (response) {
    // vLLM before the envelope: the completion itself.
    const answer = chatAnswer(response);
    if (answer && (error === null || error === undefined)) return { custom_id, ok: true, status: 200, answer };
  }
  const e = errorText(error);
  const kind = e.code === 'batch_expired' ? 'expired' : e.code === 'batch_cancelled' ? 'cancelled' : 'failed';
  return { custom_id, ok: false, kind, ...(e.code !== undefined ? { code: e.code } : {}), message: e.message };
}

/**
 * Calls `onLine(text, lineNumber)` for each non-empty line of a file, reading 1 MiB at a time (a
 * last line without a line feed included). Returns the number of lines.
 */
export function forEachLine(path: string, onLine: (text: string, lineNumber: number) => void): number {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  let lineNo = 0;
  const emit = (buf: Buffer, start: number, end: number): void => {
    lineNo++;
    let e = end;
    if (e > start && buf[e - 1] === 13) e--;
    if (e > start) {
      const text = buf.toString('utf8', start, e);
      if (text.trim() !== '') onLine(text, lineNo);
    }
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) break;
      pos += n;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        emit(buf, start, nl);
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
    }
    if (carry.length > 0) emit(carry, 0, carry.length);
  } finally {
    closeSync(fd);
  }
  return lineNo;
}

/** The non-empty lines of a file with their numbers, read 1 MiB at a time (async: the consumer may await between lines). */
export async function* linesOf(path: string): AsyncGenerator<{ text: string; lineNumber: number }> {
  const fh = await open(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  let lineNo = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead <= 0) break;
      pos += bytesRead;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      const lines: Array<{ text: string; lineNumber: number }> = [];
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        lineNo++;
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        const text = buf.toString('utf8', start, end);
        if (text.trim() !== '') lines.push({ text, lineNumber: lineNo });
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      yield* lines;
    }
    if (carry.length > 0) {
      lineNo++;
      const text = carry.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') yield { text, lineNumber: lineNo };
    }
  } finally {
    await fh.close();
  }
}

/** The outcomes of an output or error file, streamed; lines that are not outcomes go to `onBad`. */
export async function* outcomesOf(
  path: string,
  onBad?: (lineNumber: number, reason: string) => void,
): AsyncGenerator<BatchOutcome> {
  for await (const { text, lineNumber } of linesOf(path)) {
    const o = parseOutputLine(text);
    if (typeof o === 'string') onBad?.(lineNumber, o);
    else yield o;
  }
}

/** Calls `onOutcome` for each line of an output or error file; `onBad` for lines that are not outcomes. */
export function readOutcomes(
  path: string,
  onOutcome: (o: BatchOutcome) => void,
  onBad?: (lineNumber: number, reason: string) => void,
): void {
  forEachLine(path, (text, n) => {
    const o = parseOutputLine(text);
    if (typeof o === 'string') onBad?.(n, o);
    else onOutcome(o);
  });
}

/** Reads the custom_id of each line of an input file (without parsing the body when the line starts with it, as ours do). */
export function readInputIds(path: string, onId: (customId: string) => void): void {
  const prefix = '{"custom_id":"';
  forEachLine(path, (text, n) => {
    if (text.startsWith(prefix)) {
      const end = text.indexOf('"', prefix.length);
      const id = end > 0 ? text.slice(prefix.length, end) : '';
      if (id && !id.includes('\\')) {
        onId(id);
        return;
      }
    }
    const v = obj(JSON.parse(text));
    if (!v || typeof v.custom_id !== 'string') throw new Error(`${path}:${n}: not a batch request line`);
    onId(v.custom_id);
  });
}

/** Reads the custom_id and body of each line of an input file (for follow-up batches and exports). */
export function readInputFile(path: string, onRequest: (req: BatchRequest & { url: string }) => void): void {
  forEachLine(path, (text, n) => {
    const v = obj(JSON.parse(text));
    if (!v || typeof v.custom_id !== 'string' || !obj(v.body))
      throw new Error(`${path}:${n}: not a batch request line`);
    onRequest({
      custom_id: v.custom_id,
      body: v.body as Record<string, unknown>,
      url: typeof v.url === 'string' ? v.url : CHAT_ENDPOINT,
    });
  });
}
