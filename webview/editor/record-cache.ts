// Records around the current one, fetched ahead so that moving to the next record needs no round
// trip. A change of the person's own clears it; a job's results in the background only make what
// is here stale: a stale record is still shown at once, and fetched again (stale-while-revalidate),
// so that a job writing into the file never makes a key press wait for the busy host.
import type { RecordPayload } from '../../src/shared/protocol';
import { Lru } from './lru';

/** What the cache asks: the host connection (rpc.ts) in the page. */
export interface RecordSource {
  request(method: 'getRecord', params: { index: number }): Promise<RecordPayload>;
}

interface Entry {
  record: RecordPayload;
  /** The `version` when it was asked for: fresh while it equals the cache's. */
  version: number;
}

export class RecordCache {
  private readonly done = new Lru<number, Entry>(64);
  private readonly inFlight = new Map<number, { version: number; promise: Promise<RecordPayload> }>();
  /** Bumped on clear(), so that answers to requests sent before a change are not kept. */
  private generation = 0;
  /** Bumped on markStale(): what was fetched before is stale (still shown, fetched again). */
  private version = 0;

  constructor(private readonly host: RecordSource) {}

  /** The record if it is already here (no waiting), fresh or stale. */
  peek(index: number): RecordPayload | undefined {
    return this.done.get(index)?.record;
  }

  /** Whether the record here is up to date (false when absent or stale). */
  isFresh(index: number): boolean {
    return this.done.peek(index)?.version === this.version;
  }

  /** The up-to-date record: from here when fresh, else fetched (one request per record at a time). */
  get(index: number): Promise<RecordPayload> {
    const hit = this.done.get(index);
    if (hit && hit.version === this.version) return Promise.resolve(hit.record);
    const pending = this.inFlight.get(index);
    if (pending && pending.version === this.version) return pending.promise;
    const gen = this.generation;
    const version = this.version;
    const promise = this.host.request('getRecord', { index }).then(
      (r) => {
        if (gen === this.generation) {
          const have = this.done.peek(index);
          if (!have || have.version <= version) this.done.set(index, { record: r, version });
          if (this.inFlight.get(index)?.promise === promise) this.inFlight.delete(index);
        }
        return r;
      },
      (err: unknown) => {
        if (gen === this.generation && this.inFlight.get(index)?.promise === promise) this.inFlight.delete(index);
        throw err;
      },
    );
    this.inFlight.set(index, { version, promise });
    return promise;
  }

  /** Fetches records ahead of time (and stale ones again); errors are ignored (the real fetch reports them). */
  prefetch(indices: number[], count: number): void {
    for (const i of indices) {
      if (i < 0 || i >= count || this.isFresh(i) || this.inFlight.get(i)?.version === this.version) continue;
      this.get(i).catch(() => undefined);
    }
  }

  put(record: RecordPayload): void {
    this.done.set(record.index, { record, version: this.version });
  }

  /** The document changed in the background (a job's results): everything here is stale. */
  markStale(): void {
    this.version++;
  }

  clear(): void {
    this.generation++;
    this.done.clear();
    this.inFlight.clear();
  }
}
