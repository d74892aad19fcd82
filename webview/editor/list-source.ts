// Where the list mode's rows come from: every record (row k is record k), or only the records that
// match the search (row k is the k-th match). Matches are served by the host's match index by
// their position, a page at a time, so a million matches cost the webview only the rows on screen.
import type { MatchProgress, RowPayload, SearchQuery } from '../../src/shared/protocol';
import type { HostConnection } from './rpc';

export interface RowSource {
  /** The search whose matches are listed; undefined when every record is. */
  readonly query: SearchQuery | undefined;
  /** Rows known to exist now (grows while a search runs). */
  count(): number;
  fetch(start: number, count: number, columns: string[]): Promise<RowPayload[]>;
  /** The row of record `index`, or of the first listed record after it. */
  positionOf(index: number): Promise<number>;
}

export class AllRows implements RowSource {
  readonly query = undefined;
  constructor(
    private readonly host: HostConnection,
    private readonly lineCount: () => number,
  ) {}

  count(): number {
    return this.lineCount();
  }

  fetch(start: number, count: number, columns: string[]): Promise<RowPayload[]> {
    return this.host.request('getRows', { start, count, columns });
  }

  positionOf(index: number): Promise<number> {
    return Promise.resolve(index);
  }
}

export class MatchRows implements RowSource {
  progress: MatchProgress = { count: 0, scanned: 0, lineCount: 0, done: false };

  constructor(
    private readonly host: HostConnection,
    readonly query: SearchQuery,
    /** Called when the number of matches or the search's progress changed. */
    private readonly changed: () => void,
  ) {}

  count(): number {
    return this.progress.count;
  }

  private update(p: MatchProgress): void {
    const before = this.progress;
    this.progress = { count: p.count, scanned: p.scanned, lineCount: p.lineCount, done: p.done };
    if (before.count !== p.count || before.done !== p.done || before.scanned !== p.scanned) this.changed();
  }

  async fetch(start: number, count: number, columns: string[]): Promise<RowPayload[]> {
    const r = await this.host.request('getMatchRows', { query: this.query, start, count, columns });
    this.update(r);
    return r.rows;
  }

  /** Asks how far the search has got. */
  async refresh(): Promise<void> {
    this.update(await this.host.request('matchPosition', { query: this.query, index: 0 }));
  }

  async positionOf(index: number): Promise<number> {
    const r = await this.host.request('matchPosition', { query: this.query, index, wait: true });
    this.update(r);
    return Math.min(r.position, Math.max(0, r.count - 1));
  }
}
