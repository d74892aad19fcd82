// Records around the current one, fetched ahead so that moving to the next record needs no round
// trip. Cleared whenever the document changes.
import type { RecordPayload } from '../../src/shared/protocol';
import { Lru } from './lru';
import type { HostConnection } from './rpc';

export class RecordCache {
  private readonly done = new Lru<number, RecordPayload>(64);
  private readonly inFlight = new Map<number, Promise<RecordPayload>>();
  /** Bumped on clear(), so that answers to requests sent before a change are not cached. */
  private generation = 0;

  constructor(private readonly host: HostConnection) {}

  /** The record if it is already here (no waiting). */
  peek(index: number): RecordPayload | undefined {
    return this.done.get(index);
  }

  get(index: number): Promise<RecordPayload> {
    const hit = this.done.get(index);
    if (hit) return Promise.resolve(hit);
    const pending = this.inFlight.get(index);
    if (pending) return pending;
    const gen = this.generation;
    const p = this.host.request('getRecord', { index }).then(
      (r) => {
        if (gen === this.generation) {
          this.done.set(index, r);
          this.inFlight.delete(index);
        }
        return r;
      },
      (err: unknown) => {
        if (gen === this.generation) this.inFlight.delete(index);
        throw err;
      },
    );
    this.inFlight.set(index, p);
    return p;
  }

  /** Fetches records ahead of time; errors are ignored (the real fetch reports them). */
  prefetch(indices: number[], count: number): void {
    for (const i of indices) {
      if (i < 0 || i >= count || this.done.peek(i) || this.inFlight.has(i)) continue;
      this.get(i).catch(() => undefined);
    }
  }

  put(record: RecordPayload): void {
    this.done.set(record.index, record);
  }

  clear(): void {
    this.generation++;
    this.done.clear();
    this.inFlight.clear();
  }
}
