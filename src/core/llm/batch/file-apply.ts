// Batch results applied to a file in one pass, for a file no editor holds open (the CLI, an
// offline import): the accepted results are kept by custom_id (a few hundred bytes each); the file
// is read line by line, each record's custom_id computed from its content as it is now, and the
// record rewritten with its result; every other line is copied byte for byte. The new file is
// written beside the target, fsynced and renamed over it (the folder fsynced), only if the input
// did not change underneath meanwhile; its mode is kept. Memory: the results, not the file
// (the dataset store's edits would hold every changed line until the save).
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../../operation';
import { defaultFields, type FieldMap } from '../../schema/annotation';
import { lossyReason } from '../../store/check';
import { fingerprintChange, fingerprintPath, fsyncDir, tempPathFor } from '../../store/files';
import { applyResult, type TaskResult } from '../apply-result';
import type { BatchOutcome, BatchRequest } from './format';
import { customIdFor, messagesKey, type ApplySummary, type BatchTaskAdapter } from './records';
import { WriteBuffer } from './write-buffer';

/**
 * Writes a new file `tmp` (opened with `how`) with what `fill` puts, through one buffer
 * (write-buffer.ts: a put may reuse its buffer as soon as `put` returns), then fsyncs and closes
 * it; when anything fails the file is closed and removed. Returns the bytes written.
 */
export async function writeNewFile(
  tmp: string,
  how: { flags: string; mode: number },
  fill: (put: (b: Buffer | string) => void) => Promise<void>,
): Promise<number> {
  const fd = openSync(tmp, how.flags, how.mode);
  const out = new WriteBuffer(fd);
  try {
    await fill((b) => out.put(b));
    out.flush();
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  return out.written;
}

const READ_BUFFER = 1 << 20;
const LF = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');

/**
 * Raw lines of a file (bytes, without the terminator) with their terminator, read 1 MiB at a time
 * into one buffer: a line's bytes are a view into it, valid only until the next line is asked for
 * (copy what must outlive that). A line longer than the buffer grows it.
 */
async function* rawLines(path: string): AsyncGenerator<{ bytes: Buffer; eol: '\n' | '\r\n' | '' }> {
  const fh = await open(path, 'r');
  let buf = Buffer.allocUnsafe(READ_BUFFER);
  let held = 0; // bytes of an unfinished line at the start of buf
  let pos = 0;
  try {
    for (;;) {
      if (held === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, held);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, held, buf.length - held, pos);
      if (bytesRead <= 0) break;
      pos += bytesRead;
      const end = held + bytesRead;
      const filled = buf.subarray(0, end);
      let start = 0;
      for (;;) {
        const nl = filled.indexOf(10, start);
        if (nl < 0) break;
        const cr = nl > start && filled[nl - 1] === 13;
        yield { bytes: filled.subarray(start, cr ? nl - 1 : nl), eol: cr ? '\r\n' : '\n' };
        start = nl + 1;
      }
      buf.copyWithin(0, start, end);
      held = end - start;
    }
    if (held > 0) yield { bytes: buf.subarray(0, held), eol: '' };
  } finally {
    await fh.close();
  }
}

/** A JSON object record of a line, or undefined (invalid, not an object, or numbers JSON.parse would change). */
function recordOf(bytes: Buffer): { record: Record<string, unknown>; text: string } | undefined {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  if (lossyReason(text) !== undefined) return undefined;
  return { record: v as Record<string, unknown>, text };
}

/** The requests of a file's records (one per distinct custom_id), streamed from the file. */
export async function* fileRequests(
  path: string,
  adapter: BatchTaskAdapter,
  opts: { limit?: number; onSkip?: (line: number, reason: string) => void } = {},
): AsyncGenerator<BatchRequest> {
  const seen = new Set<string>();
  let line = 0;
  for await (const { bytes } of rawLines(path)) {
    line++;
    if (opts.limit !== undefined && line > opts.limit) return;
    const r = recordOf(bytes);
    if (!r) {
      opts.onSkip?.(line, 'not a JSON object (or a number JSON cannot keep)');
      continue;
    }
    const q = adapter.request(r.record);
    if ('skip' in q) {
      opts.onSkip?.(line, q.skip);
      continue;
    }
    const custom_id = customIdFor(q.body, adapter.key ? adapter.key(r.record) : messagesKey(q.messages));
    if (seen.has(custom_id)) continue;
    seen.add(custom_id);
    yield { custom_id, body: q.body };
  }
}

/** An answer kept until the write: its text and usage (validated then), a few hundred bytes. */
interface Kept {
  c: string;
  m: string | undefined;
  i: number;
  o: number;
}

/**
 * Collects outcomes and writes them into a file in one pass. Answers are kept as their text and
 * validated by the task when written (an answer with logprobs is validated at once: its logprobs
 * are not kept).
 */
export class FileApplier {
  // Each value is its own object (a Kept, or a task result in a box): the write marks the values it
  // used, not their custom_ids (the ids it computes are new strings, 100,000 of them kept only for that).
  private results = new Map<string, Kept | { t: TaskResult }>();
  private failures = new Map<string, string>();
  /** The answers' model names, one string each (100,000 answers name one or two models). */
  private models = new Map<string, string>();

  constructor(
    private readonly adapter: BatchTaskAdapter,
    private readonly opts: { fields?: FieldMap; limit?: number } = {},
  ) {}

  /** Takes one outcome (the last word per custom_id wins; a failure with `willRetry` is not kept). */
  add(o: BatchOutcome, ctx: { willRetry?: boolean } = {}): void {
    if (!o.ok) {
      if (ctx.willRetry || this.results.has(o.custom_id)) return;
      this.failures.set(o.custom_id, `${o.kind}${o.status ? ` (HTTP ${o.status})` : ''}: ${o.message}`);
      return;
    }
    const a = o.answer;
    if (a.logprobs === undefined && a.refusal === null && a.content !== null) {
      let m = a.model;
      if (m !== undefined) {
        const same = this.models.get(m);
        if (same === undefined) this.models.set(m, m);
        else m = same;
      }
      this.results.set(o.custom_id, { c: a.content, m, i: a.usage.input_tokens, o: a.usage.output_tokens });
      this.failures.delete(o.custom_id);
      return;
    }
    const r = this.adapter.accept(a);
    if (r.ok) {
      this.results.set(o.custom_id, { t: r.result });
      this.failures.delete(o.custom_id);
    } else if (!this.results.has(o.custom_id)) this.failures.set(o.custom_id, r.reason);
  }

  /** The task's result of a kept answer, or why there is none. */
  private resultOf(k: Kept | { t: TaskResult }): { ok: true; result: TaskResult } | { ok: false; reason: string } {
    if ('t' in k) return { ok: true, result: k.t };
    return this.adapter.accept({
      content: k.c,
      refusal: null,
      model: k.m,
      usage: { input_tokens: k.i, output_tokens: k.o },
      finishReason: null,
      logprobs: undefined,
    });
  }

  get size(): number {
    return this.results.size;
  }

  /**
   * Writes `input` with the results to `output` (the same path: in place). Refuses (a UserError,
   * nothing written) when `input` changed while it was being read.
   */
  async write(input: string, output: string = input, signal?: AbortSignal): Promise<ApplySummary> {
    const fields = this.opts.fields ?? defaultFields;
    const summary: ApplySummary = { applied: 0, resumed: 0, answers: 0, failed: [], stale: [], redo: [], skipped: [] };
    const before = fingerprintPath(input);
    if (!before) throw new UserError(`${input}: cannot read it`);
    const target = existsSync(output) ? realpathSync(output) : output;
    const mode = existsSync(target) ? statSync(target).mode & 0o777 : undefined;
    const tmp = tempPathFor(target);
    const usedResults = new Set<Kept | { t: TaskResult }>();
    const usedFailures = new Set<string>();
    await writeNewFile(tmp, { flags: 'wx', mode: 0o600 }, async (put) => {
      let i = -1;
      for await (const { bytes, eol } of rawLines(input)) {
        i++;
        if ((i & 4095) === 0 && signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
        const eolBytes = eol === '' ? undefined : eol === '\n' ? LF : CRLF;
        const within = this.opts.limit === undefined || i < this.opts.limit;
        const rec = within ? recordOf(bytes) : undefined;
        const q = rec ? this.adapter.request(rec.record) : undefined;
        if (!rec || !q || 'skip' in q) {
          if (within && bytes.length > 0)
            summary.skipped.push({
              i,
              line: i + 1,
              reason: !rec
                ? 'not a JSON object (or a number JSON cannot keep)'
                : q && 'skip' in q
                  ? q.skip
                  : 'no request',
            });
          put(bytes);
          if (eolBytes) put(eolBytes);
          continue;
        }
        const id = customIdFor(q.body, this.adapter.key ? this.adapter.key(rec.record) : messagesKey(q.messages));
        const kept = this.results.get(id);
        const r = kept ? this.resultOf(kept) : undefined;
        if (kept) usedResults.add(kept);
        if (r?.ok) {
          summary.applied++;
          put(JSON.stringify(applyResult(rec.record, r.result, fields)));
        } else if (r) {
          summary.failed.push({ i, line: i + 1, custom_id: id, reason: r.reason });
          put(bytes);
        } else {
          const reason = this.failures.get(id);
          if (reason !== undefined) {
            usedFailures.add(id);
            summary.failed.push({ i, line: i + 1, custom_id: id, reason });
          } else summary.redo.push({ i, line: i + 1 });
          put(bytes);
        }
        if (eolBytes) put(eolBytes);
      }
    });
    const change = fingerprintChange(before, fingerprintPath(input));
    if (change) {
      rmSync(tmp, { force: true });
      throw new UserError(
        `${input} changed while the results were being applied (${change}); nothing was written. Run it again.`,
      );
    }
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, target);
    fsyncDir(dirname(target));
    summary.answers = usedResults.size + usedFailures.size;
    for (const [id, v] of this.results) if (!usedResults.has(v)) summary.stale.push(id);
    for (const id of this.failures.keys()) if (!usedFailures.has(id)) summary.stale.push(id);
    return summary;
  }
}
