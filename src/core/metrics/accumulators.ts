// The figures the curation editor keeps live over a dataset (see ./live.ts): each is an
// accumulator that counts a line (+1) or takes it back (-1), posts its counts as plain JSON from a
// worker thread, and merges counts. Dependency-free (the store's worker threads load it).
import { inReviewQueue, reviewQueueOf } from '../filter/fields';
import { AgreementAccumulator, type AgreementSpec, type AgreementState } from './agreement-core';

export interface Accumulator<S = unknown> {
  /** Lines counted (valid or not). */
  readonly lines: number;
  /** Counts a line (+1) or takes it back (-1); undefined is an invalid line. */
  add(value: Record<string, unknown> | undefined, sign: 1 | -1): void;
  state(): S;
  merge(state: S): void;
}

/** Records waiting in review queues, per queue name (see inReviewQueue). */
export interface ReviewQueueState {
  lines: number;
  queues: [string, number][];
}

export class ReviewQueueCounter implements Accumulator<ReviewQueueState> {
  lines = 0;
  private readonly queues = new Map<string, number>();

  add(value: Record<string, unknown> | undefined, sign: 1 | -1): void {
    this.lines += sign;
    if (!value || !inReviewQueue(value)) return;
    this.bump(reviewQueueOf(value) as string, sign);
  }

  private bump(q: string, by: number): void {
    const n = (this.queues.get(q) ?? 0) + by;
    if (n === 0) this.queues.delete(q);
    else this.queues.set(q, n);
  }

  state(): ReviewQueueState {
    return { lines: this.lines, queues: [...this.queues] };
  }

  merge(s: ReviewQueueState): void {
    this.lines += s.lines;
    for (const [q, n] of s.queues) this.bump(q, n);
  }

  /** Records waiting, in all queues. */
  get total(): number {
    let n = 0;
    for (const v of this.queues.values()) n += v;
    return n;
  }

  /** Queue names with their waiting records, most first. */
  counts(): { queue: string; count: number }[] {
    return [...this.queues]
      .map(([queue, count]) => ({ queue, count }))
      .sort((a, b) => b.count - a.count || (a.queue < b.queue ? -1 : 1));
  }
}

/** Which accumulator to build (JSON: a worker thread receives it). */
export type AccumulatorSpec = { type: 'agreement'; spec: AgreementSpec } | { type: 'review-queue' };

export type AccumulatorFor<S extends AccumulatorSpec> = S extends { type: 'agreement' }
  ? AgreementAccumulator
  : ReviewQueueCounter;

export function createAccumulator<S extends AccumulatorSpec>(spec: S): AccumulatorFor<S> {
  const acc = spec.type === 'agreement' ? new AgreementAccumulator(spec.spec) : new ReviewQueueCounter();
  return acc as AccumulatorFor<S>;
}

export type { AgreementState };
