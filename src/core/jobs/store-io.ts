// Jobs over the dataset store: records read from a JsonlDataset, results applied to it as edits of
// the changed lines only, saved atomically (the journal makes each result durable before that).
// A result lands only on the record it was computed for: the sink checks the record's key at the
// index before it applies a result, and finds the record by its key when an edit moved it.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { copyFileSync, existsSync, linkSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultFields, setReviewStatus, type FieldMap } from '../schema/annotation';
import { JsonlDataset, type Edit, type LineRef, type LineView } from '../store';
import { applyResult, type TaskResult } from '../llm/apply-result';
import { canonicalJson } from '../llm/cache';
import { ANNOTATION_FIELDS } from '../llm/prompts';
import type { Binding, RecordSource, ResultSink, SourceRecord } from './types';

/** Edits the jobs' sinks made to each dataset (the rest of its revision is everyone else's). */
const ownEdits = new WeakMap<JsonlDataset, number>();

export class StoreRecordSource implements RecordSource {
  constructor(readonly dataset: JsonlDataset) {}
  count(): number {
    return this.dataset.lineCount;
  }
  get(i: number): SourceRecord {
    const l = this.dataset.line(i);
    if (l.invalid) return { lineNumber: i + 1, invalid: l.invalid };
    if (l.lossy) return { lineNumber: i + 1, invalid: { reason: `not edited: ${l.lossy.reason}` } };
    return { lineNumber: i + 1, value: l.value };
  }
  /** Changes when something other than a job's sink edits the dataset (a person in the editor). */
  revision(): number {
    return this.dataset.revision - (ownEdits.get(this.dataset) ?? 0);
  }
}

export interface StoreSinkOptions {
  /** Called after each result is in the dataset (the editor refreshes that record), with the store edit made. */
  onApplied?(i: number, edit: Edit): void;
  /** Save at flush (default true). */
  save?: boolean;
  /** Where the annotation lives in a record (default field names otherwise). */
  fields?: FieldMap;
  /** Replace an existing label or rationale (the previous value goes to the record's history). Default false. */
  replace?: boolean;
  /**
   * Keep up to this many results and write them by one save each time (JsonlDataset.saveReplacing),
   * instead of applying each as an edit that the store holds until the job's end: for a file no
   * editor holds (the CLI). A job journals each result before it reaches the sink, so a kill loses
   * none. Without it each result is an edit at once (an editor shows it).
   */
  batchSize?: number;
  /**
   * With `onApplied` (an editor shows each result as an edit): save the dataset after this many
   * results since the last save, when `canSave()` says so (the dataset's unsaved edits are all the
   * job's: a person's unsaved edits are theirs to save), so that a long job does not hold every
   * changed line in memory until its end (about 1.7 KB a realistic record). Results and reviews
   * that come during that save are applied after it (the job waits for it).
   */
  saveEvery?: { results: number; canSave(): boolean };
}

/** Results a sink writes per save when it keeps them (StoreSinkOptions.batchSize): a batch part's size. */
export const SINK_BATCH = 50_000;

/**
 * True when a record and the one a result made of it are written the same (the result changes
 * nothing). Their JSON texts, not a deep comparison of a parsed copy: no third object graph per
 * record (applyResult keeps the record's key order).
 */
function sameJson(next: Record<string, unknown>, now: Record<string, unknown>): boolean {
  return JSON.stringify(next) === JSON.stringify(now);
}

export class StoreResultSink implements ResultSink {
  /** Results whose record was not found (edited or deleted while the job ran): not applied. */
  missed = 0;
  /** Results whose label (or rationale) differs from the one the record has, which stays (without `replace`). */
  kept = 0;
  /** Results given to the sink (apply, applyMany), applied or not. */
  received = 0;

  constructor(
    readonly dataset: JsonlDataset,
    private readonly opts: StoreSinkOptions = {},
  ) {}

  /** Where the record a result was computed for is now: `i` when it still has the key, else the nearest line that has it. */
  private locate(i: number, b: Binding): number | undefined {
    const n = this.dataset.lineCount;
    const has = (j: number): boolean => {
      const l = this.dataset.line(j);
      return l.value !== undefined && !l.invalid && b.keyOf(l.value) === b.key;
    };
    if (i < n && has(i)) return i;
    for (let d = 1; i - d >= 0 || i + d < n; d++) {
      if (i - d >= 0 && i - d < n && has(i - d)) return i - d;
      if (i + d < n && has(i + d)) return i + d;
    }
    return undefined;
  }

  /** The record a result makes of a line, or undefined when the line is no record or the result changes nothing. */
  private resultOn(l: LineView, result: TaskResult): Record<string, unknown> | undefined {
    if (!l.value || l.invalid || l.lossy) return undefined;
    const next = this.applied(l.value, result);
    return sameJson(next, l.value) ? undefined : next; // the same: applied before (a resume)
  }

  /** A record with a result applied (counting a kept label or rationale). */
  private applied(record: Record<string, unknown>, result: TaskResult): Record<string, unknown> {
    const fields = this.opts.fields ?? defaultFields;
    const next = applyResult(record, result, fields, { replace: this.opts.replace === true });
    const labels = (result.task === 'label' || result.task === 'consistency') && result.question === fields.question;
    const field = result.task === 'rationale' ? fields.rationale : labels ? fields.label : undefined;
    if (field !== undefined) {
      const answer = result.task === 'rationale' ? String(result.rationale ?? result.value) : result.value;
      if (next[field] !== undefined && JSON.stringify(next[field]) !== JSON.stringify(answer)) this.kept++;
    }
    return next;
  }

  /** Results waiting for the next save (batchSize, applyMany), and the saves' queue (one at a time). */
  private waiting: Array<{ i: number; result: TaskResult; bound?: Binding }> = [];
  private queue: Promise<void> = Promise.resolve();

  /** Results may go to the file by saves of their own: nobody wants them as edits (no listener: no editor shows them), and saving is asked for. */
  private get bySaves(): boolean {
    return !this.opts.onApplied && this.opts.save !== false;
  }

  apply(i: number, result: TaskResult, bound?: Binding): void | Promise<void> {
    this.received++;
    if (this.opts.batchSize !== undefined && this.bySaves) {
      this.waiting.push(bound ? { i, result, bound } : { i, result });
      if (this.waiting.length >= this.opts.batchSize) return this.writeKept();
      return;
    }
    if (this.pausedFor) {
      this.held.push(() => this.applyNow(i, result, bound));
      return this.pausedFor;
    }
    this.applyNow(i, result, bound);
    return this.saveIfDue();
  }

  /** Results applied as edits since this sink last saved (saveEvery). */
  private sinceSave = 0;
  /** A save of saveEvery's in flight: the store refuses edits until it ends, so what comes meanwhile is held. */
  private pausedFor: Promise<void> | undefined;
  private held: Array<() => void> = [];

  /** Saves the dataset when saveEvery's count is reached and its `canSave` agrees (else at a later result). */
  private saveIfDue(): Promise<void> | undefined {
    const every = this.opts.saveEvery;
    if (!every || ++this.sinceSave < every.results || !every.canSave()) return undefined;
    this.sinceSave = 0;
    const p = this.queue.then(async () => {
      try {
        if (this.dataset.dirty) await this.dataset.save();
      } finally {
        this.pausedFor = undefined;
        const held = this.held;
        this.held = [];
        for (const f of held) f();
        this.sinceSave += held.length;
      }
    });
    this.pausedFor = p;
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** A result as an edit of the store, at once. */
  private applyNow(i: number, result: TaskResult, bound?: Binding): void {
    const at = bound ? this.locate(i, bound) : i;
    if (at === undefined) {
      this.missed++;
      return;
    }
    const next = this.resultOn(this.dataset.line(at), result);
    if (!next) return;
    const edit = this.dataset.replaceLine(at, next);
    ownEdits.set(this.dataset, (ownEdits.get(this.dataset) ?? 0) + 1);
    this.opts.onApplied?.(at, edit);
  }

  /**
   * Applies results (ascending `i`, one each) and saves. When nobody wants them as edits
   * (`bySaves`) they are written by one save that makes each record's new line as it reaches it
   * (JsonlDataset.saveReplacing; unsaved edits are saved first), so that the store does not hold
   * every changed line until the save (a batch part of 50,000 results: half of `curate label
   * --batch`'s memory). Otherwise each is applied as an edit, then saved as `flush` does.
   */
  async applyMany(items: ReadonlyArray<{ i: number; result: TaskResult }>): Promise<void> {
    this.received += items.length;
    if (!this.bySaves) {
      await this.queue; // a save of saveEvery's in flight
      for (const { i, result } of items) this.applyNow(i, result);
      await this.flush();
      return;
    }
    for (const x of items) this.waiting.push(x);
    await this.writeKept();
  }

  /**
   * Writes results by one save (saveReplacing): several results for one record are applied in
   * turn; a result bound to a record that is no longer at its index (edited or moved by someone
   * else) goes the edit way, which finds it by its key. Unsaved edits are saved first.
   */
  private async writeInOneSave(
    items: ReadonlyArray<{ i: number; result: TaskResult; bound?: Binding }>,
  ): Promise<void> {
    if (items.length === 0) return;
    if (this.dataset.dirty) await this.dataset.save();
    const byIndex = new Map<number, Array<{ result: TaskResult; bound?: Binding }>>();
    for (const x of items) {
      const list = byIndex.get(x.i);
      if (list) list.push(x);
      else byIndex.set(x.i, [x]);
    }
    const n = this.dataset.lineCount;
    const indices = [...byIndex.keys()].filter((i) => i < n).sort((a, b) => a - b);
    const elsewhere: Array<{ i: number; result: TaskResult; bound?: Binding }> = [];
    for (const i of byIndex.keys()) if (i >= n) for (const x of byIndex.get(i) ?? []) elsewhere.push({ i, ...x });
    const replaced = await this.dataset.saveReplacing(indices, (line) => {
      const here = line.value && !line.invalid && !line.lossy ? line.value : undefined;
      let next = here;
      for (const x of byIndex.get(line.index) ?? []) {
        if (x.bound && (!here || x.bound.keyOf(here) !== x.bound.key)) elsewhere.push({ i: line.index, ...x });
        else if (next) next = this.applied(next, x.result);
      }
      return next && here && !sameJson(next, here) ? next : undefined;
    });
    if (replaced > 0) ownEdits.set(this.dataset, (ownEdits.get(this.dataset) ?? 0) + 1);
    for (const x of elsewhere) this.applyNow(x.i, x.result, x.bound);
    if (this.dataset.dirty) await this.dataset.save();
  }

  /** Writes the results waiting (all of them, in one save), after the saves queued before. */
  private writeKept(): Promise<void> {
    const p = this.queue.then(async () => {
      if (this.waiting.length === 0) return;
      const items = this.waiting;
      this.waiting = [];
      await this.writeInOneSave(items);
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  review(i: number, queue: string): void {
    if (this.pausedFor) {
      this.held.push(() => this.review(i, queue));
      return;
    }
    if (i >= this.dataset.lineCount) return;
    const l = this.dataset.line(i);
    if (!l.value || l.invalid || l.lossy) return;
    const next = setReviewStatus(l.value, 'pending', this.opts.fields ?? defaultFields, queue);
    if (sameJson(next, l.value)) return;
    const edit = this.dataset.replaceLine(i, next);
    ownEdits.set(this.dataset, (ownEdits.get(this.dataset) ?? 0) + 1);
    this.opts.onApplied?.(i, edit);
  }

  async flush(): Promise<void> {
    await this.writeKept();
    if (this.opts.save !== false && this.dataset.dirty) await this.dataset.save();
  }
}

export interface JobTargetOptions {
  /** The record keys that hold annotations (a job writes only these); default the layout's default names. */
  annotationKeys?: ReadonlySet<string>;
  log?(line: string): void;
}

/** A record's content outside its annotation fields, hashed: what an output record must share with its input record. */
export function contentKey(
  record: Record<string, unknown>,
  annotationKeys: ReadonlySet<string> = ANNOTATION_FIELDS,
): string {
  // (fromEntries defines own members: a "__proto__" key of the record is a key like any other)
  const rest = Object.fromEntries(Object.entries(record).filter(([k]) => !annotationKeys.has(k)));
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * Opens the file a job writes: the input itself (in place), or a copy of it at `out`, made once
 * through the store's atomic save (a killed copy leaves no half file); a resumed job, or the next
 * judge of several, continues on the copy.
 *
 * An existing `out` is a copy of the input only as long as each of its records has the content of
 * the input's record at that line outside the annotation fields (what jobs write). When the input
 * changed since (a record edited, added, removed or moved), `out` is rebuilt from the input: each
 * input record takes the output record with the same content (with its results; a moved record
 * keeps them), a record without one comes from the input (and the job does it). The earlier
 * `out` is kept in its journal folder. So a job never works on a stale copy.
 */
export async function openJobTarget(input: string, out?: string, opts: JobTargetOptions = {}): Promise<JsonlDataset> {
  const ds = await JsonlDataset.open(input);
  try {
    await ds.ready;
    if (!out || resolve(out) === resolve(input)) return ds;
    if (!existsSync(out)) {
      await ds.saveAs(out);
      return ds;
    }
  } catch (err) {
    ds.close();
    throw err;
  }
  const existing = await JsonlDataset.open(out);
  try {
    await existing.ready;
    const keys = opts.annotationKeys ?? ANNOTATION_FIELDS;
    const keyAt = (d: JsonlDataset, j: number): string => {
      const l = d.line(j);
      return l.value && !l.invalid
        ? `v:${contentKey(l.value, keys)}`
        : `raw:${createHash('sha256').update(l.bytes()).digest('hex')}`;
    };
    const existingCount = existing.lineCount;
    let copy = existingCount === ds.lineCount;
    for (let j = 0; copy && j < ds.lineCount; j++) copy = keyAt(ds, j) === keyAt(existing, j);
    if (copy) {
      ds.close();
      return existing;
    }
    // Rebuild: the input's records, each with its output record's results when there is one.
    const byKey = new Map<string, number[]>();
    for (let k = 0; k < existing.lineCount; k++) {
      const key = keyAt(existing, k);
      const list = byKey.get(key);
      if (list) list.push(k);
      else byKey.set(key, [k]);
    }
    /** Per input line: the output line with its content (`k`, its results kept) or none (-1: the input line). */
    const target = new Int32Array(ds.lineCount);
    let kept = 0;
    let moved = 0;
    for (let j = 0; j < ds.lineCount; j++) {
      const k = byKey.get(keyAt(ds, j))?.shift() ?? -1;
      target[j] = k;
      if (k >= 0) kept++;
      if (k >= 0 && k !== j) moved++;
    }
    byKey.clear();
    // The output is edited into the target, not written anew: the output lines that stay in order
    // (the longest increasing run of them) stay where they are, byte for byte; the others are
    // deleted, and the lines that are not there yet (moved or from the input) inserted.
    const keep = longestIncreasing(target);
    const eol = existing.lineCount > 0 ? existing.line(0).eol || '\n' : '\n';
    const refOf = (d: JsonlDataset, i: number): LineRef => {
      const b = d.line(i).bytes();
      return isUtf8(b) ? { text: b.toString('utf8'), eol } : { base64: b.toString('base64'), eol };
    };
    const inserts = new Map<number, LineRef>();
    for (let j = 0; j < target.length; j++) {
      const k = target[j]!;
      if (k < 0) inserts.set(j, refOf(ds, j));
      else if (!keep.has(k)) inserts.set(j, refOf(existing, k));
    }
    for (let k = existing.lineCount - 1; k >= 0; k--) if (!keep.has(k)) existing.deleteLine(k);
    for (const [j, line] of [...inserts].sort((a, b) => a[0] - b[0]))
      existing.applyEdit({ type: 'insert', index: j, line });
    const redo = ds.lineCount - kept;
    const gone = existingCount - kept;
    const folder = `${resolve(out)}.curator-journal`;
    mkdirSync(folder, { recursive: true });
    const backup = join(folder, `${basename(out)}.before-${Date.now()}`);
    try {
      linkSync(out, backup);
    } catch {
      copyFileSync(out, backup);
    }
    ds.close();
    await existing.save();
    opts.log?.(
      `${out} is no longer a copy of ${input} (the input changed): rebuilt from it; ${kept} record(s) keep their results (${moved} at another line), ` +
        `${redo} new or changed record(s) are done again, ${gone} output record(s) without an input record left out. The earlier ${out} is kept as ${backup}`,
    );
    return existing;
  } catch (err) {
    existing.close();
    ds.close();
    throw err;
  }
}

/** The entries of `seq` (non-negative ones) on a longest strictly increasing subsequence (patience sorting, O(n log n)). */
export function longestIncreasing(seq: Int32Array): Set<number> {
  const tails: number[] = []; // positions in seq of the smallest tail of each length
  const prev = new Int32Array(seq.length).fill(-1);
  for (let p = 0; p < seq.length; p++) {
    const v = seq[p]!;
    if (v < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seq[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[p] = tails[lo - 1]!;
    tails[lo] = p;
  }
  const out = new Set<number>();
  for (let p = tails.length ? tails[tails.length - 1]! : -1; p >= 0; p = prev[p]!) out.add(seq[p]!);
  return out;
}
