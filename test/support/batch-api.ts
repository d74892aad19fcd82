// The Files and Batch APIs of the loopback OpenAI server (test/support/openai-server.ts), so the
// real `openai` SDK can upload batch input files, create batches, poll them, download their output
// and error files and cancel them, as against api.openai.com:
//
//   POST   /v1/files                  multipart (purpose, file) -> FileObject
//   GET    /v1/files                  ?purpose&limit&after&order -> CursorPage<FileObject>
//   GET    /v1/files/{id}             FileObject
//   GET    /v1/files/{id}/content     the bytes
//   DELETE /v1/files/{id}             {id, object: "file", deleted: true}
//   POST   /v1/batches                {input_file_id, endpoint, completion_window, metadata} -> Batch
//   GET    /v1/batches                ?limit&after -> CursorPage<Batch> (newest first)
//   GET    /v1/batches/{id}           Batch
//   POST   /v1/batches/{id}/cancel    Batch (cancelling, then cancelled)
//
// The lifecycle is the real one: validating -> in_progress -> finalizing -> completed; a bad input
// file fails in validating (`errors.data` names the line); `expire()` or `expireAfter` ends a batch
// as expired with the lines done so far in the output file and the others in the error file
// (code batch_expired, response null); cancel goes through cancelling to cancelled, likewise.
// Each line's answer comes from the server's own responder (the same answer an online request with
// the same body gets), so results are deterministic; `lineFault` fails chosen lines (an HTTP error
// in the error file). Output lines are written in an order other than the input's (the real API
// does not keep it either), so clients must match by custom_id.
//
// Time is under the test's control: phases last `timing` milliseconds (0 by default: a batch is
// done at its first retrieve), and `hold(status)` keeps every batch that reaches `status` there
// until `release()`. State advances when a client looks (retrieve, list, cancel, content).
import { randomBytes, createHash } from 'node:crypto';

export interface BatchLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** What the server answers one request body with (the online chat completion route's logic). */
export type LineAnswer = { status: number; body: unknown };

export interface BatchTiming {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
  cancellingMs: number;
}

export type BatchStatus =
  'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface StoredFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
  expires_at: number | null;
  data: Buffer;
}

export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: {
    object: 'list';
    data: Array<{ code: string; message: string; param: string | null; line: number | null }>;
  } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  model?: string;
  usage?: {
    input_tokens: number;
    output_tokens: number;
    total_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens_details: { reasoning_tokens: number };
  };
}

interface BatchState {
  batch: BatchObject;
  lines: BatchLine[];
  /** Wall-clock ms of the current phase's start. */
  phaseStart: number;
  /** Lines done so far (in input order; answered when written). */
  done: number;
  /** Set by expire(): lines done when it expired. */
  expireAt?: number;
}

const SUPPORTED_ENDPOINTS = new Set([
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/responses',
  '/v1/moderations',
]);
const TERMINAL = new Set<BatchStatus>(['failed', 'completed', 'expired', 'cancelled']);

function hex(n: number): string {
  return randomBytes(n).toString('hex');
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Parses a multipart/form-data body (enough for the SDK's uploads: text fields and one file). */
export function parseMultipart(body: Buffer, contentType: string): Map<string, { value: Buffer; filename?: string }> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  const out = new Map<string, { value: Buffer; filename?: string }>();
  if (!boundary) return out;
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body[start] === 45 && body[start + 1] === 45) break; // closing "--"
    if (body[start] === 13 && body[start + 1] === 10) start += 2;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) break;
    const headers = body.toString('utf8', start, headerEnd);
    const next = body.indexOf(delim, headerEnd + 4);
    if (next < 0) break;
    let end = next;
    if (body[end - 2] === 13 && body[end - 1] === 10) end -= 2;
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (name !== undefined)
      out.set(name, { value: body.subarray(headerEnd + 4, end), ...(filename !== undefined ? { filename } : {}) });
    pos = next;
  }
  return out;
}

export class BatchApi {
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, BatchState>();
  timing: BatchTiming = { validatingMs: 0, inProgressMs: 0, finalizingMs: 0, cancellingMs: 0 };
  /** Most requests per input file (the real limit is 50,000). */
  maxRequests = 50_000;
  /** Every batch that has done this many lines expires (the rest go to the error file as batch_expired). */
  expireAfter: number | undefined;
  /** Fails chosen lines with an HTTP error (written to the error file). */
  lineFault:
    ((line: BatchLine, index: number) => { status: number; message: string; code?: string } | undefined) | undefined;
  private held = new Set<BatchStatus>();
  private order = 0;

  constructor(private readonly answer: (line: BatchLine) => LineAnswer) {}

  /** Batches reaching `status` stay in it until `release()`. */
  hold(...statuses: BatchStatus[]): void {
    for (const s of statuses) this.held.add(s);
  }

  release(...statuses: BatchStatus[]): void {
    if (statuses.length === 0) this.held.clear();
    for (const s of statuses) this.held.delete(s);
    for (const st of this.batches.values()) st.phaseStart = Date.now();
  }

  /** Ends a batch as expired now (or after `done` lines, if fewer are done). */
  expire(batchId: string, done?: number): void {
    const st = this.batches.get(batchId);
    if (!st) throw new Error(`no batch ${batchId}`);
    if (TERMINAL.has(st.batch.status)) return;
    if (st.batch.status === 'validating') {
      const problem = this.validate(st);
      if (problem) throw new Error(`batch ${batchId} has an invalid input file: ${problem.message}`);
    }
    st.expireAt = Math.min(done ?? st.done, st.lines.length);
    this.finish(st, 'expired');
  }

  /** All batches, oldest first (with their state advanced). */
  list(): BatchObject[] {
    const all = [...this.batches.values()];
    for (const st of all) this.advance(st);
    return all.map((s) => s.batch);
  }

  reset(): void {
    this.files.clear();
    this.batches.clear();
    this.held.clear();
    this.timing = { validatingMs: 0, inProgressMs: 0, finalizingMs: 0, cancellingMs: 0 };
    this.maxRequests = 50_000;
    this.expireAfter = undefined;
    this.lineFault = undefined;
  }

  /** Handles a /v1/files or /v1/batches request; undefined if the path is not one of them. */
  route(
    method: string,
    url: string,
    body: Buffer,
    contentType: string,
  ): { status: number; body: unknown; raw?: Buffer } | undefined {
    const u = new URL(url, 'http://x');
    const parts = u.pathname.split('/').filter(Boolean); // v1, files|batches, id?, sub?
    if (parts[0] !== 'v1' || (parts[1] !== 'files' && parts[1] !== 'batches')) return undefined;
    const id = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    const sub = parts[3];
    if (parts[1] === 'files') {
      if (method === 'POST' && !id) return this.upload(body, contentType);
      if (method === 'GET' && !id) return this.listFiles(u.searchParams);
      if (!id) return undefined;
      const f = this.files.get(id);
      if (!f) return notFound(`No such File object: ${id}`);
      if (method === 'GET' && sub === 'content') {
        for (const st of this.batches.values()) this.advance(st);
        return { status: 200, body: undefined, raw: f.data };
      }
      if (method === 'GET' && !sub) return { status: 200, body: fileObject(f) };
      if (method === 'DELETE' && !sub) {
        this.files.delete(id);
        return { status: 200, body: { id, object: 'file', deleted: true } };
      }
      return undefined;
    }
    if (method === 'POST' && !id) return this.create(body);
    if (method === 'GET' && !id) return this.listBatches(u.searchParams);
    if (!id) return undefined;
    const st = this.batches.get(id);
    if (!st) return notFound(`No batch found with id '${id}'.`);
    if (method === 'GET' && !sub) {
      this.advance(st);
      return { status: 200, body: st.batch };
    }
    if (method === 'POST' && sub === 'cancel') {
      this.advance(st);
      if (TERMINAL.has(st.batch.status) || st.batch.status === 'cancelling') {
        if (st.batch.status === 'cancelling' || st.batch.status === 'cancelled') return { status: 200, body: st.batch };
        return {
          status: 409,
          body: {
            error: {
              message: `Cannot cancel a batch with status '${st.batch.status}'.`,
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          },
        };
      }
      st.batch.status = 'cancelling';
      st.batch.cancelling_at = now();
      st.phaseStart = Date.now();
      this.advance(st);
      return { status: 200, body: st.batch };
    }
    return undefined;
  }

  private upload(body: Buffer, contentType: string): { status: number; body: unknown } {
    const form = parseMultipart(body, contentType);
    const purpose = form.get('purpose')?.value.toString('utf8');
    const file = form.get('file');
    if (!file) return badRequest("Missing required parameter: 'file'.", 'file');
    if (!purpose) return badRequest("Missing required parameter: 'purpose'.", 'purpose');
    const created = now();
    const f: StoredFile = {
      id: `file-${hex(12)}`,
      object: 'file',
      bytes: file.value.length,
      created_at: created,
      filename: file.filename ?? 'upload',
      purpose,
      status: 'processed',
      status_details: null,
      expires_at: purpose === 'batch' ? created + 30 * 86400 : null,
      data: Buffer.from(file.value),
    };
    if (purpose === 'batch' && !/\.jsonl$/i.test(f.filename))
      return badRequest(`Invalid file format for Batch API. Must be .jsonl`, 'file');
    this.files.set(f.id, f);
    return { status: 200, body: fileObject(f) };
  }

  private listFiles(q: URLSearchParams): { status: number; body: unknown } {
    let all = [...this.files.values()];
    const purpose = q.get('purpose');
    if (purpose) all = all.filter((f) => f.purpose === purpose);
    if (q.get('order') !== 'asc') all.reverse();
    return { status: 200, body: page(all.map(fileObject), q, 10_000) };
  }

  private listBatches(q: URLSearchParams): { status: number; body: unknown } {
    const all = [...this.batches.values()].reverse();
    for (const st of all) this.advance(st);
    return {
      status: 200,
      body: page(
        all.map((s) => s.batch),
        q,
        20,
      ),
    };
  }

  private create(raw: Buffer): { status: number; body: unknown } {
    let p: { input_file_id?: unknown; endpoint?: unknown; completion_window?: unknown; metadata?: unknown };
    try {
      p = JSON.parse(raw.toString('utf8')) as typeof p;
    } catch {
      return badRequest('We could not parse the JSON body of your request.', null);
    }
    if (typeof p.input_file_id !== 'string')
      return badRequest("Missing required parameter: 'input_file_id'.", 'input_file_id');
    if (typeof p.endpoint !== 'string' || !SUPPORTED_ENDPOINTS.has(p.endpoint))
      return badRequest(`Invalid value for 'endpoint': ${String(p.endpoint)}.`, 'endpoint');
    if (p.completion_window !== '24h')
      return badRequest("Invalid value for 'completion_window': only '24h' is supported.", 'completion_window');
    const file = this.files.get(p.input_file_id);
    if (!file) return badRequest(`Invalid 'input_file_id': '${p.input_file_id}'. File not found.`, 'input_file_id');
    if (file.purpose !== 'batch')
      return badRequest(`The file ${file.id} was not uploaded with purpose 'batch'.`, 'input_file_id');
    const created = now();
    const batch: BatchObject = {
      id: `batch_${hex(12)}`,
      object: 'batch',
      endpoint: p.endpoint,
      errors: null,
      input_file_id: file.id,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + 86400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: (p.metadata as Record<string, string> | null | undefined) ?? null,
    };
    const st: BatchState = { batch, lines: [], phaseStart: Date.now(), done: 0 };
    this.batches.set(batch.id, st);
    this.order++;
    this.advance(st);
    return { status: 200, body: batch };
  }

  /** Moves a batch along its lifecycle as far as time and holds allow. */
  advance(st: BatchState): void {
    const b = st.batch;
    for (let guard = 0; guard < 8; guard++) {
      if (TERMINAL.has(b.status) || this.held.has(b.status)) return;
      const elapsed = Date.now() - st.phaseStart;
      switch (b.status) {
        case 'validating': {
          if (elapsed < this.timing.validatingMs) return;
          const problem = this.validate(st);
          if (problem) {
            b.errors = { object: 'list', data: [problem] };
            b.status = 'failed';
            b.failed_at = now();
            return;
          }
          b.request_counts.total = st.lines.length;
          const model = st.lines[0]?.body.model;
          if (typeof model === 'string') b.model = model;
          this.enter(st, 'in_progress');
          b.in_progress_at = now();
          break;
        }
        case 'in_progress': {
          const total = st.lines.length;
          const target =
            this.timing.inProgressMs <= 0
              ? total
              : Math.min(total, Math.floor((total * elapsed) / this.timing.inProgressMs));
          st.done = Math.max(st.done, target);
          if (this.expireAfter !== undefined && st.done >= this.expireAfter) {
            st.expireAt = Math.min(this.expireAfter, total);
            this.finish(st, 'expired');
            return;
          }
          b.request_counts.completed = st.done; // failures are counted when written
          if (st.done < total) return;
          this.enter(st, 'finalizing');
          b.finalizing_at = now();
          break;
        }
        case 'finalizing':
          if (elapsed < this.timing.finalizingMs) return;
          this.finish(st, 'completed');
          return;
        case 'cancelling':
          if (elapsed < this.timing.cancellingMs) return;
          this.finish(st, 'cancelled');
          return;
        default:
          return;
      }
    }
  }

  private enter(st: BatchState, status: BatchStatus): void {
    st.batch.status = status;
    st.phaseStart = Date.now();
  }

  /** Reads and checks the input file, as the real API does in `validating`. */
  private validate(
    st: BatchState,
  ): { code: string; message: string; param: string | null; line: number | null } | undefined {
    const file = this.files.get(st.batch.input_file_id);
    if (!file) return { code: 'invalid_file', message: 'The input file was deleted.', param: null, line: null };
    const seen = new Set<string>();
    const text = file.data.toString('utf8');
    let lineNo = 0;
    let model: unknown;
    for (const raw of text.split('\n')) {
      lineNo++;
      if (raw.trim() === '') continue;
      let l: Partial<BatchLine>;
      try {
        l = JSON.parse(raw) as Partial<BatchLine>;
      } catch {
        return {
          code: 'invalid_json_line',
          message: `This line is not parseable as valid JSON.`,
          param: null,
          line: lineNo,
        };
      }
      if (typeof l.custom_id !== 'string' || l.custom_id === '')
        return {
          code: 'missing_required_parameter',
          message: "Missing 'custom_id'.",
          param: 'custom_id',
          line: lineNo,
        };
      if (seen.has(l.custom_id))
        return {
          code: 'duplicate_custom_id',
          message: `The custom_id '${l.custom_id}' appears more than once in the file.`,
          param: 'custom_id',
          line: lineNo,
        };
      seen.add(l.custom_id);
      if (l.method !== 'POST')
        return { code: 'invalid_request', message: "'method' must be 'POST'.", param: 'method', line: lineNo };
      if (l.url !== st.batch.endpoint)
        return {
          code: 'mismatched_endpoint',
          message: `The url '${String(l.url)}' does not match the batch's endpoint ${st.batch.endpoint}.`,
          param: 'url',
          line: lineNo,
        };
      if (!l.body || typeof l.body !== 'object')
        return { code: 'invalid_request', message: "'body' must be an object.", param: 'body', line: lineNo };
      if (model !== undefined && l.body.model !== model)
        return {
          code: 'mismatched_model',
          message: 'All requests of a batch must use the same model.',
          param: 'body.model',
          line: lineNo,
        };
      model = l.body.model;
      st.lines.push(l as BatchLine);
      if (st.lines.length > this.maxRequests)
        return {
          code: 'too_many_requests',
          message: `The file has more than ${this.maxRequests} requests.`,
          param: null,
          line: lineNo,
        };
    }
    if (st.lines.length === 0)
      return { code: 'empty_file', message: 'The input file is empty.', param: null, line: null };
    return undefined;
  }

  /** Writes the output and error files and ends the batch with `status`. */
  private finish(st: BatchState, status: 'completed' | 'expired' | 'cancelled'): void {
    const b = st.batch;
    const doneCount =
      status === 'expired' ? (st.expireAt ?? st.done) : status === 'cancelled' ? st.done : st.lines.length;
    const out: Array<{ key: string; text: string }> = [];
    const err: Array<{ key: string; text: string }> = [];
    let completed = 0;
    let failed = 0;
    let inTok = 0;
    let outTok = 0;
    st.lines.forEach((line, i) => {
      const lineId = `batch_req_${hex(12)}`;
      const key = createHash('sha256').update(line.custom_id).digest('hex');
      if (i >= doneCount) {
        const code = status === 'expired' ? 'batch_expired' : 'batch_cancelled';
        const message =
          status === 'expired'
            ? 'This request could not be executed before the completion window expired.'
            : 'This request was not executed because the batch was cancelled.';
        err.push({
          key,
          text: JSON.stringify({ id: lineId, custom_id: line.custom_id, response: null, error: { code, message } }),
        });
        return;
      }
      const fault = this.lineFault?.(line, i);
      const ans: LineAnswer = fault
        ? {
            status: fault.status,
            body: {
              error: { message: fault.message, type: 'invalid_request_error', param: null, code: fault.code ?? null },
            },
          }
        : this.answer(line);
      const entry = {
        id: lineId,
        custom_id: line.custom_id,
        response: { status_code: ans.status, request_id: `req_${hex(12)}`, body: ans.body },
        error: null,
      };
      if (ans.status >= 200 && ans.status < 300) {
        completed++;
        const usage = (ans.body as { usage?: { prompt_tokens?: number; completion_tokens?: number } } | undefined)
          ?.usage;
        inTok += usage?.prompt_tokens ?? 0;
        outTok += usage?.completion_tokens ?? 0;
        out.push({ key, text: JSON.stringify(entry) });
      } else {
        failed++;
        err.push({ key, text: JSON.stringify(entry) });
      }
    });
    // Not the input's order: clients must match lines by custom_id.
    out.sort((a, c) => (a.key < c.key ? -1 : 1));
    err.sort((a, c) => (a.key < c.key ? -1 : 1));
    const t = now();
    if (out.length > 0)
      b.output_file_id = this.storeOutput(
        b.id,
        'output',
        out.map((x) => x.text),
      );
    if (err.length > 0)
      b.error_file_id = this.storeOutput(
        b.id,
        'error',
        err.map((x) => x.text),
      );
    b.request_counts = { total: st.lines.length, completed, failed };
    b.usage = {
      input_tokens: inTok,
      output_tokens: outTok,
      total_tokens: inTok + outTok,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    };
    b.status = status;
    if (status === 'completed') b.completed_at = t;
    else if (status === 'expired') b.expired_at = t;
    else b.cancelled_at = t;
    st.done = doneCount;
  }

  private storeOutput(batchId: string, kind: 'output' | 'error', lines: string[]): string {
    const data = Buffer.from(`${lines.join('\n')}\n`);
    const f: StoredFile = {
      id: `file-${hex(12)}`,
      object: 'file',
      bytes: data.length,
      created_at: now(),
      filename: `${batchId}_${kind}.jsonl`,
      purpose: 'batch_output',
      status: 'processed',
      status_details: null,
      expires_at: null,
      data,
    };
    this.files.set(f.id, f);
    return f.id;
  }
}

function fileObject(f: StoredFile): Omit<StoredFile, 'data'> {
  const { data: _d, ...rest } = f;
  return rest;
}

function page<T extends { id: string }>(
  items: T[],
  q: URLSearchParams,
  defaultLimit: number,
): { object: 'list'; data: T[]; first_id: string | null; last_id: string | null; has_more: boolean } {
  const after = q.get('after');
  let start = 0;
  if (after) {
    const i = items.findIndex((x) => x.id === after);
    start = i >= 0 ? i + 1 : items.length;
  }
  const limit = Math.max(1, Math.min(Number(q.get('limit') ?? defaultLimit) || defaultLimit, 10_000));
  const data = items.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  };
}

function badRequest(message: string, param: string | null): { status: number; body: unknown } {
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param, code: null } } };
}

function notFound(message: string): { status: number; body: unknown } {
  return { status: 404, body: { error: { message, type: 'invalid_request_error', param: null, code: null } } };
}
