// The curation editor page's navigation state: which record is shown, the fetch a move is waiting
// for, and the cache of records around it (fetched ahead of the keys). It renders nothing: it tells
// the page's views (app.ts) what to show through its callbacks.
import type { DocumentInfo, RecordPayload } from '../../src/shared/protocol';
import { RecordCache, type RecordSource } from './record-cache';

export interface NavigatorViews {
  /**
   * A record is to be shown: `moved` to (not the same one refreshed), by a `refresh`, `other` than
   * the record shown before it.
   */
  show(record: RecordPayload, how: { moved: boolean; refresh: boolean; other: boolean }): void;
  /** The file has no line (yet). */
  empty(): void;
  /** A move has waited long enough to say it is loading (or is done). */
  loading(on: boolean): void;
  error(message: string): void;
}

/** How long a move waits before the page shows that it is loading. */
const SLOW_MS = 150;

/** The navigation on its way: its target and request number. */
type Going = { target: number; seq: number };

export class RecordNavigator {
  readonly cache: RecordCache;
  info: DocumentInfo | undefined;
  /** The record shown (or, before any, the one to show first). */
  index = 0;
  current: RecordPayload | undefined;
  private requestSeq = 0;
  /** The fetch in flight for a move or a refresh, and whether to refresh once it has landed. */
  private going: Going | undefined;
  private refreshAfter = false;

  constructor(
    host: RecordSource,
    private readonly views: NavigatorViews,
  ) {
    this.cache = new RecordCache(host);
  }

  get lineCount(): number {
    return this.info?.lineCount ?? 0;
  }

  clamp(i: number): number {
    return Math.max(0, Math.min(i, this.lineCount - 1));
  }

  /** Where the latest move goes while its record is being fetched: a refresh meanwhile goes there too, and the next key press counts from it. */
  get wanted(): number | undefined {
    return this.going?.seq === this.requestSeq ? this.going.target : undefined;
  }

  /** The record a relative move starts from: the one a move in flight goes to, else the shown one. */
  get from(): number {
    return this.wanted ?? this.index;
  }

  /** The current record was replaced (an edit's answer): cached, and shown by the caller. */
  replaced(r: RecordPayload): void {
    this.cache.put(r);
    if (r.index === this.index) this.current = r;
  }

  /**
   * The document changed: the record a move in flight goes to (or the shown one) is fetched again
   * (a refresh that went back to the shown one would undo the key press, and refreshes every
   * 200 ms during a job would keep a slow move from landing).
   */
  refresh(): void {
    const at = this.clamp(this.wanted ?? this.index);
    // A fetch for it in flight lands first (a new one would discard it, and under a steady stream
    // of refreshes slower than the host, nothing would ever land); then it is fetched again.
    if (this.wanted === at) this.refreshAfter = true;
    else void this.go(at, true);
  }

  /**
   * The host's init (the page's start, or its answer to the page's ready): its record is the truth
   * (what was cached may be older). The record shown, or the one a move in flight goes to, is shown
   * again: an init that answers a ready sent before a key press must not undo it.
   */
  restart(record: RecordPayload | undefined): void {
    if (record) {
      this.cache.clear();
      this.cache.put(record);
    }
    void this.go(this.clamp(this.from));
  }

  /** Shows the record at `index` (clamped); `refresh` keeps the scroll position. */
  async go(index: number, refresh = false): Promise<void> {
    const count = this.lineCount;
    if (count === 0) {
      this.current = undefined;
      this.views.empty();
      return;
    }
    const target = this.clamp(index);
    const seq = ++this.requestSeq;
    let record = this.cache.peek(target);
    const fresh = this.cache.isFresh(target);
    // A refresh wants the new content (the current record stays on screen meanwhile); a move shows
    // a stale record at once and then the new one, if it differs.
    if (record && !fresh && refresh) record = undefined;
    if (!record) {
      const slow = setTimeout(() => seq === this.requestSeq && this.views.loading(true), SLOW_MS);
      this.going = { target, seq };
      try {
        record = await this.cache.get(target);
      } catch (err) {
        if (seq === this.requestSeq) this.views.error(err instanceof Error ? err.message : String(err));
        return;
      } finally {
        clearTimeout(slow);
        // a later navigation may have replaced it during the await (TypeScript keeps it narrowed across it)
        if ((this.going as Going | undefined)?.seq === seq) this.going = undefined;
        if (seq === this.requestSeq) this.views.loading(false);
      }
      if (seq !== this.requestSeq) return; // a later navigation won
    }
    const moved = target !== this.index || !this.current;
    this.setCurrent(record, moved, refresh);
    if (this.refreshAfter) {
      this.refreshAfter = false;
      void this.go(target, true);
      return;
    }
    if (!this.cache.isFresh(target)) {
      const shown = record;
      this.cache.get(target).then(
        (r) => {
          if (seq === this.requestSeq && this.current === shown && JSON.stringify(r) !== JSON.stringify(shown))
            this.setCurrent(r, false, true);
        },
        () => undefined, // the next move or refresh reports a failure
      );
    }
    // Ahead of the keys: a host busy with a job answers in 100 ms or more, and j held down or
    // pressed quickly outruns three records.
    this.cache.prefetch(
      [target + 1, target + 2, target - 1, target + 3, target + 4, target + 5, target + 6, target - 2],
      count,
    );
  }

  private setCurrent(r: RecordPayload, moved: boolean, refresh: boolean): void {
    const other = r.index !== this.current?.index;
    this.index = r.index;
    this.current = r;
    this.views.show(r, { moved, refresh, other });
  }
}
