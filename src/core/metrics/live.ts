// Live figures over an open dataset (the curation editor's agreement report and review-queue
// count): counted once over the store, then kept up to date edit by edit. Each store edit carries
// the line before and after, so an edit is applied as "take the old line back, count the new
// one": O(edit), whatever the file's size. The full count reads the untouched byte ranges in the
// store's worker threads (one per core) for big files, in this thread for small ones, never the
// whole file as one string. Edits made while it counts are queued and applied on top of the
// snapshot it counted; a save or revert during the count starts it again.
import { availableParallelism } from 'node:os';
import { checkLineBytes, refBytes, type Edit, type JsonlDataset, type LineRef, type Segment } from '../store';
import { runRangePool } from '../store/range-pool';
import type { AggregateTask } from '../store/aggregate-worker';
import { visitLine, visitRange, type LineVisitor } from '../store/stats-core';
import { createAccumulator, type Accumulator, type AccumulatorFor, type AccumulatorSpec } from './accumulators';

export interface LiveOptions {
  /** Worker threads for the full count; default: one per core for 32 MiB of untouched bytes or more, else none. */
  workers?: number;
  /** Bytes per worker task (default 32 MiB). */
  taskBytes?: number;
}

const TASK_BYTES = 32 * 1024 * 1024;

function visitorOf(acc: Accumulator): LineVisitor {
  return { record: (v) => acc.add(v, 1), invalid: () => acc.add(undefined, 1) };
}

export class LiveAggregate<S extends AccumulatorSpec> {
  private acc: AccumulatorFor<S> | undefined;
  private running: Promise<AccumulatorFor<S>> | undefined;
  /** Edits that arrived while counting (applied on top of the snapshot counted); undefined when not counting. */
  private pending: Edit[] | undefined;
  private restart = false;
  /** Full counts done (diagnostics and tests: edits must not cause them). */
  counts = 0;
  /** Full counts started, including those started again after a save or revert underneath. */
  passes = 0;
  /** Workers used by the last full count. */
  workersUsed = 0;

  constructor(
    private readonly ds: JsonlDataset,
    readonly spec: S,
    private readonly opts: LiveOptions = {},
  ) {}

  /** Whether the figures are counted (and kept up to date), so current() is cheap. */
  get counted(): boolean {
    return this.acc !== undefined && this.pending === undefined;
  }

  /** Store edits just applied, in order (an undo passes the inverted edits, last first). */
  applyEdits(edits: readonly Edit[]): void {
    if (this.pending) {
      this.pending.push(...edits);
      return;
    }
    const acc = this.acc;
    if (!acc) return; // not counted yet: the next count sees the edits
    for (const e of edits) this.apply(acc, e);
  }

  /** The content changed in a way no edit describes (revert, reload): count again when next asked. */
  invalidate(): void {
    this.acc = undefined;
    if (this.pending) this.restart = true;
  }

  /** The accumulator, up to date with the dataset (counting it first when needed). */
  async current(): Promise<AccumulatorFor<S>> {
    await this.ds.ready;
    if (this.running) return this.running;
    // A cheap check that nothing changed behind our back: the line count must agree.
    if (this.acc && this.acc.lines === this.ds.lineCount) return this.acc;
    this.acc = undefined;
    this.running = this.countLoop().finally(() => (this.running = undefined));
    return this.running;
  }

  private apply(acc: Accumulator, e: Edit): void {
    const count = (ref: LineRef, sign: 1 | -1) =>
      acc.add(checkLineBytes(refBytes(ref), this.ds.maxLineBytes).value, sign);
    if (e.type === 'replace') {
      count(e.before, -1);
      count(e.after, 1);
    } else count(e.line, e.type === 'insert' ? 1 : -1);
  }

  private async countLoop(): Promise<AccumulatorFor<S>> {
    for (;;) {
      await this.ds.ready;
      // Synchronously: the snapshot and the start of the edit queue are the same moment.
      const segments = this.ds.segments(this.opts.taskBytes ?? TASK_BYTES);
      const fd = this.ds.fileDescriptor;
      this.passes++;
      this.pending = [];
      this.restart = false;
      let acc: AccumulatorFor<S>;
      try {
        acc = await this.countSegments(segments, fd);
      } catch (err) {
        this.pending = undefined;
        if (this.stale(fd)) continue;
        throw err;
      }
      // A save re-bases the store on a new file descriptor (the old one is closed): what was read
      // through it may be anything. Count again.
      if (this.stale(fd)) {
        this.pending = undefined;
        continue;
      }
      for (const e of this.pending) this.apply(acc, e);
      this.pending = undefined;
      this.acc = acc;
      this.counts++;
      return acc;
    }
  }

  /** What a pass read is out of date: invalidate() asked for a restart meanwhile, or the store moved to another file. */
  private stale(fd: number): boolean {
    return this.restart || this.fdChanged(fd);
  }

  private fdChanged(fd: number): boolean {
    try {
      return this.ds.fileDescriptor !== fd;
    } catch {
      return false; // closed: the caller's error stands
    }
  }

  private async countSegments(segments: Segment[], fd: number): Promise<AccumulatorFor<S>> {
    const acc = createAccumulator(this.spec);
    const orig = segments.filter((s): s is Extract<Segment, { kind: 'orig' }> => s.kind === 'orig');
    const origBytes = orig.reduce((t, s) => t + s.byteEnd - s.byteStart, 0);
    const n = this.opts.workers ?? (origBytes >= TASK_BYTES ? Math.max(1, Math.min(availableParallelism(), 8)) : 0);
    let pooled: unknown[] | undefined;
    this.workersUsed = 0;
    if (n > 0 && orig.length > 0) {
      const tasks: AggregateTask[] = orig.map((s, id) => ({
        id,
        fd,
        from: s.byteStart,
        to: s.byteEnd,
        accumulator: this.spec,
        maxLineBytes: this.ds.maxLineBytes,
      }));
      pooled = await runRangePool<AggregateTask, unknown>(
        { kind: 'aggregate' },
        tasks,
        n,
        undefined,
        () => undefined,
        'aggregate-worker',
      );
      if (pooled) this.workersUsed = Math.min(n, orig.length);
    }
    const visitor = visitorOf(acc);
    let k = 0;
    for (const s of segments) {
      if (s.kind === 'orig') {
        const part = pooled?.[k++];
        if (part !== undefined) (acc as Accumulator).merge(part);
        else {
          visitRange(fd, s.byteStart, s.byteEnd, s.logicalStart + 1, visitor, this.ds.maxLineBytes);
          await new Promise((r) => setImmediate(r));
        }
      } else s.lines.forEach((l, i) => visitLine(visitor, l.bytes, s.logicalStart + i + 1, this.ds.maxLineBytes));
    }
    return acc;
  }
}
