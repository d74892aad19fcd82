// List mode: every record as one row, or only the search's matches, virtually scrolled. Rows have
// a fixed height; only the visible rows plus an overscan exist in the DOM; rows come from the host
// in pages of 100 (getRows, or getMatchRows by match position) and are kept in an LRU cache. A
// tall spacer gives the scrollbar its range; past a few million pixels the scroll position is
// scaled, so even 100M rows stay reachable. Selection and keys work on row positions.
import type { DocumentInfo, RowPayload, SearchQuery } from '../../src/shared/protocol';
import { el, formatCount, formatPercent, icon, vsButton } from './dom';
import { AllRows, MatchRows, type RowSource } from './list-source';
import { Lru } from './lru';
import type { HostConnection } from './rpc';

export const ROW_HEIGHT = 24;
const PAGE = 100;
const OVERSCAN = 10;
/** Browsers cap element heights (Chromium ~33.5M px, Firefox ~17.9M px): stay well below. */
const MAX_SPACER = 8_000_000;
/** How often the list asks how far a running search has got. */
const POLL_MS = 300;

/** Columns computed from the row itself rather than requested as fields. */
const BUILTIN: Record<string, { title: string; width: string; cell(r: RowPayload): string }> = {
  line: { title: 'Line', width: '72px', cell: (r) => String(r.lineNumber) },
  label: { title: 'Label', width: '120px', cell: (r) => r.label ?? '' },
  score: {
    title: 'Score',
    width: '64px',
    cell: (r) =>
      r.score === undefined
        ? ''
        : r.score <= 1 && r.score >= 0 && !Number.isInteger(r.score)
          ? formatPercent(r.score)
          : String(r.score),
  },
  status: { title: 'Status', width: '96px', cell: (r) => r.reviewStatus ?? '' },
};
export const DEFAULT_COLUMNS = ['line', 'label', 'score', 'text'];

export interface ListCallbacks {
  open(index: number): void;
  select(index: number): void;
  columnsChanged(columns: string[]): void;
  message(text: string): void;
}

export class ListView {
  readonly element = el('div', { class: 'list-view', 'data-testid': 'list' });
  private readonly header = el('div', { class: 'list-row list-header', role: 'row' });
  private readonly viewport = el('div', {
    class: 'list-viewport',
    role: 'grid',
    tabindex: '0',
    'aria-label': 'Records',
    'data-testid': 'list-viewport',
  });
  private readonly spacer = el('div', { class: 'list-spacer' });
  private readonly layer = el('div', { class: 'list-layer', role: 'rowgroup' });
  private readonly picker = el('div', {
    class: 'column-picker',
    'data-testid': 'column-picker-menu',
    role: 'group',
    'aria-label': 'Columns',
    hidden: '',
  });
  private readonly onlyBox = el('vscode-checkbox', {
    label: 'Only matches',
    'data-testid': 'only-matches',
    title: 'Show only the records that match the search (m)',
    disabled: '',
  });
  private readonly summary = el('span', {
    class: 'meta list-summary',
    'data-testid': 'list-summary',
    'aria-live': 'polite',
  });
  private readonly pool: HTMLElement[] = [];
  private readonly pages = new Lru<number, RowPayload[]>(80);
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly all: AllRows;
  private source: RowSource;
  private generation = 0;
  private lineCount = 0;
  /** Whether the document's index was complete at the last setInfo (undefined before the first). */
  private indexed: boolean | undefined;
  /** Set by setInfo when the index has just completed, until the end of that task. */
  private indexCompleted = false;
  private columns: string[];
  private available: string[] = [];
  /** The selected row's position in the source. */
  private pos = 0;
  /** The record the selected row shows (when known). */
  private record = 0;
  private query: SearchQuery | undefined;
  private matches: ReadonlySet<number> = new Set();
  private frame = 0;
  /** The columns the header shows. */
  private headerKey: string | undefined;
  /** The position a wheel scrolled to, exact (scrollTop alone is rounded; see onWheel). */
  private wheelTop: { scrollTop: number; virtual: number } | undefined;
  private poll: ReturnType<typeof setTimeout> | undefined;
  private visible = false;

  constructor(
    private readonly host: HostConnection,
    private readonly cb: ListCallbacks,
    columns: string[] | undefined,
  ) {
    this.columns = columns?.length ? columns : [...DEFAULT_COLUMNS];
    this.all = new AllRows(host, () => this.lineCount);
    this.source = this.all;
    this.viewport.append(this.spacer, this.layer);
    const pickButton = vsButton(
      {
        secondary: '',
        icon: 'list-selection',
        'data-testid': 'column-picker',
        title: 'Choose columns',
        'aria-haspopup': 'true',
      },
      'Columns',
    );
    pickButton.addEventListener('click', () => this.togglePicker());
    this.onlyBox.addEventListener('change', () => void this.setOnlyMatches(this.onlyBox.checked));
    const bar = el(
      'div',
      { class: 'list-toolbar' },
      el('span', { class: 'meta' }, 'Click a row or press Enter to open it.'),
      el('span', { class: 'list-tools' }, this.onlyBox, this.summary, pickButton),
    );
    this.element.append(bar, this.picker, this.header, this.viewport);
    this.viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.viewport.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.layer.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('.list-row[data-index]');
      if (row) this.cb.open(Number(row.dataset.index));
    });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
    this.picker.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.picker.hidden = true;
        pickButton.focus();
      }
    });
  }

  get selectedColumns(): string[] {
    return [...this.columns];
  }

  /** The record of the selected row. */
  get selectedIndex(): number {
    return this.record;
  }

  get onlyMatches(): boolean {
    return this.source !== this.all;
  }

  setColumns(columns: string[]): void {
    if (!columns.length || columns.join('\u0000') === this.columns.join('\u0000')) return;
    this.columns = columns.slice(0, 20);
    this.renderHeader();
    this.invalidate();
  }

  setInfo(info: DocumentInfo): void {
    // The index just completed (a large file's scan ends after the list is on screen, maybe
    // while it scrolls): no row changed, there are only more of them. The document's "changed"
    // event that follows at once must not drop the cached pages (every visible row would be
    // fetched again, and blank meanwhile).
    if (this.indexed === false && info.indexed) {
      this.indexCompleted = true;
      queueMicrotask(() => (this.indexCompleted = false));
    }
    this.indexed = info.indexed;
    this.lineCount = info.lineCount;
    const extra = info.columns.filter((c) => !(c in BUILTIN));
    this.available = [...Object.keys(BUILTIN), ...extra];
    // A hidden list is drawn when shown (show); the page starts with the record.
    if (this.visible) {
      this.renderHeader();
      this.renderSummary();
    }
    this.schedule();
  }

  /** The search's first matches (marked in the full list) and its query ("only matches" lists all of them). */
  setMatches(matches: ReadonlySet<number>, query: SearchQuery | undefined): void {
    this.matches = matches;
    const changed = JSON.stringify(query) !== JSON.stringify(this.query);
    this.query = query;
    if (query) this.onlyBox.removeAttribute('disabled');
    else this.onlyBox.setAttribute('disabled', '');
    if (this.onlyMatches && changed) void this.setOnlyMatches(!!query);
    this.renderSummary();
    this.schedule();
  }

  /** Lists only the matches of the search (or every record again). */
  async setOnlyMatches(on: boolean): Promise<void> {
    if (on && !this.query) {
      this.onlyBox.checked = false;
      this.cb.message('Search first (/): "only matches" lists the records the search finds');
      return;
    }
    const from = this.record;
    this.source = on && this.query ? new MatchRows(this.host, this.query, () => this.progressChanged()) : this.all;
    this.onlyBox.checked = this.onlyMatches;
    this.resetPages();
    const source = this.source;
    let pos = from;
    try {
      pos = await source.positionOf(from);
    } catch (err) {
      this.cb.message(err instanceof Error ? err.message : String(err));
    }
    if (source !== this.source) return;
    this.pos = Math.max(0, Math.min(pos, this.source.count() - 1));
    this.renderSummary();
    this.render();
    this.reveal(this.pos, true);
    this.syncRecord();
  }

  /** Drops cached rows (the document changed), unless the change is only the index completing. */
  invalidate(): void {
    if (this.indexCompleted) {
      this.indexCompleted = false;
      if (this.source instanceof MatchRows) void this.source.refresh().catch(() => undefined);
      this.schedule();
      return;
    }
    this.resetPages();
    if (this.source instanceof MatchRows) void this.source.refresh().catch(() => undefined);
    this.schedule();
  }

  private resetPages(): void {
    this.generation++;
    this.pages.clear();
    this.inFlight.clear();
  }

  /** Shows the list with the row of record `index` selected. */
  show(index: number): void {
    this.visible = true;
    this.renderHeader();
    this.renderSummary();
    void this.selectRecord(index, true);
    this.viewport.focus({ preventScroll: true });
    this.pollSoon();
  }

  hide(): void {
    this.visible = false;
    this.picker.hidden = true;
    clearTimeout(this.poll);
    this.poll = undefined;
  }

  /** Selects the row of record `index` (with only matches: the first match at or after it). */
  select(index: number): void {
    void this.selectRecord(index, false);
  }

  private async selectRecord(index: number, center: boolean): Promise<void> {
    const source = this.source;
    this.record = index;
    let pos = index;
    try {
      pos = await source.positionOf(index);
    } catch {
      /* the list shows what it can */
    }
    if (source !== this.source) return;
    this.selectPosition(pos, center);
  }

  /** Moves the selection by `delta` rows; keeps it in view. */
  move(delta: number): void {
    this.selectPosition(this.pos + delta, false);
  }

  first(): void {
    this.selectPosition(0, false);
  }

  last(): void {
    this.selectPosition(this.source.count() - 1, false);
  }

  /** Opens the selected row's record (fetching its row first if it is not here yet). */
  async openSelected(): Promise<void> {
    let r = this.row(this.pos);
    if (!r && this.source.count() > 0) {
      const start = Math.floor(this.pos / PAGE) * PAGE;
      r = (await this.source.fetch(start, Math.min(PAGE, this.source.count() - start), this.fieldColumns()))[
        this.pos - start
      ];
    }
    if (r) this.cb.open(r.index);
    else if (!this.onlyMatches) this.cb.open(this.pos);
  }

  private selectPosition(pos: number, center: boolean): void {
    this.pos = Math.max(0, Math.min(pos, this.source.count() - 1));
    this.reveal(this.pos, center);
    this.render();
    this.syncRecord();
  }

  /** Tells the app which record the selection is on, once that is known. */
  private syncRecord(): void {
    const index = this.onlyMatches ? this.row(this.pos)?.index : this.pos;
    if (index === undefined) return;
    this.record = index;
    this.cb.select(index);
  }

  pageSize(): number {
    return Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
  }

  private progressChanged(): void {
    this.renderSummary();
    this.schedule();
    this.pollSoon();
  }

  /** While a search runs and the list shows its matches, asks every POLL_MS how far it has got. */
  private pollSoon(): void {
    const s = this.source;
    if (!(s instanceof MatchRows) || s.progress.done || !this.visible || this.poll) return;
    this.poll = setTimeout(() => {
      void s
        .refresh()
        .catch(() => undefined)
        .finally(() => {
          this.poll = undefined;
          if (s === this.source) this.pollSoon();
        });
    }, POLL_MS);
  }

  private renderSummary(): void {
    const s = this.source;
    if (!(s instanceof MatchRows)) {
      this.summary.textContent = `${formatCount(this.lineCount)} records`;
      return;
    }
    const p = s.progress;
    this.summary.textContent = p.done
      ? `${formatCount(p.count)} ${p.count === 1 ? 'match' : 'matches'} of ${formatCount(p.lineCount)} records`
      : `Searching… ${formatCount(p.count)} so far (${formatPercent(p.lineCount ? p.scanned / p.lineCount : 0)} of ${formatCount(p.lineCount)})`;
  }

  /**
   * A wheel moves the list by its own pixels. Over a file too long for the spacer (MAX_SPACER)
   * the browser's scrolling would move it `ratio()` times as far: as many more rows to draw and
   * fetch per frame, and a list that jumps past what the eye can follow.
   */
  private onWheel(e: WheelEvent): void {
    const ratio = this.ratio();
    if (ratio === 1 || e.ctrlKey || e.deltaY === 0) return; // the browser's own scrolling
    e.preventDefault();
    const vh = this.viewport.clientHeight;
    const px = e.deltaMode === 1 ? e.deltaY * ROW_HEIGHT : e.deltaMode === 2 ? e.deltaY * vh : e.deltaY;
    const max = Math.max(0, this.source.count() * ROW_HEIGHT - vh);
    const virtual = Math.max(0, Math.min(max, this.virtualTop() + px));
    this.viewport.scrollTop = virtual / ratio;
    this.wheelTop = { scrollTop: this.viewport.scrollTop, virtual };
    this.schedule();
  }

  /** Where the list is scrolled to, in virtual pixels (row k at k * ROW_HEIGHT). */
  private virtualTop(): number {
    const s = this.viewport.scrollTop;
    const w = this.wheelTop;
    // The wheel's exact position while the scroll position is still the one it set (the
    // scrollbar or a reveal moves it elsewhere).
    return w && Math.abs(w.scrollTop - s) < 0.5 ? w.virtual : s * this.ratio();
  }

  private ratio(): number {
    const total = this.source.count() * ROW_HEIGHT;
    const spacer = Math.min(total, MAX_SPACER);
    const vh = this.viewport.clientHeight;
    return total > vh && spacer > vh ? (total - vh) / (spacer - vh) : 1;
  }

  private reveal(pos: number, center: boolean): void {
    const ratio = this.ratio();
    const vh = this.viewport.clientHeight;
    const y = pos * ROW_HEIGHT; // virtual pixels
    const top = this.virtualTop();
    this.wheelTop = undefined;
    if (center) this.viewport.scrollTop = Math.max(0, (y - vh / 2) / ratio);
    else if (y < top) this.viewport.scrollTop = y / ratio;
    else if (y + ROW_HEIGHT > top + vh) this.viewport.scrollTop = (y + ROW_HEIGHT - vh) / ratio;
  }

  private togglePicker(): void {
    if (!this.picker.hidden) {
      this.picker.hidden = true;
      return;
    }
    this.picker.replaceChildren(el('div', { class: 'meta' }, 'Columns'));
    for (const c of this.available) {
      const box = el('vscode-checkbox', { label: BUILTIN[c]?.title ?? c, 'data-column': c });
      box.checked = this.columns.includes(c);
      box.addEventListener('change', () => {
        const next = this.available.filter((x) => (x === c ? box.checked : this.columns.includes(x)));
        if (next.length === 0) {
          box.checked = true;
          return;
        }
        this.columns = next.slice(0, 20);
        this.cb.columnsChanged(this.columns);
        this.renderHeader();
        this.invalidate();
      });
      this.picker.append(box);
    }
    this.picker.hidden = false;
    this.picker.querySelector<HTMLElement>('vscode-checkbox')?.focus();
  }

  private fieldColumns(): string[] {
    return this.columns.filter((c) => !(c in BUILTIN));
  }

  private renderHeader(): void {
    // Every `changed` (a job's results, a few a second) sets the info again: the same columns are left alone.
    const key = this.columns.join('\u0000');
    if (key === this.headerKey) return;
    this.headerKey = key;
    const template = this.columns.map((c) => BUILTIN[c]?.width ?? 'minmax(120px, 1fr)').join(' ');
    this.element.style.setProperty('--list-columns', template);
    this.header.replaceChildren(
      ...this.columns.map((c) => el('span', { class: 'list-cell', role: 'columnheader' }, BUILTIN[c]?.title ?? c)),
    );
  }

  private schedule(): void {
    if (!this.visible || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private fetchPage(page: number): void {
    if (this.pages.peek(page) || this.inFlight.has(page)) return;
    const gen = this.generation;
    const source = this.source;
    const start = page * PAGE;
    const count = Math.min(PAGE, source.count() - start);
    if (count <= 0) return;
    const p = source
      .fetch(start, count, this.fieldColumns())
      .then((rows) => {
        if (gen !== this.generation) return;
        this.pages.set(page, rows);
        if (Math.floor(this.pos / PAGE) === page) this.syncRecord();
        this.schedule();
      })
      .catch(() => undefined)
      .finally(() => {
        if (gen === this.generation) this.inFlight.delete(page);
      });
    this.inFlight.set(page, p);
  }

  private row(pos: number): RowPayload | undefined {
    return this.pages.get(Math.floor(pos / PAGE))?.[pos % PAGE];
  }

  private render(): void {
    if (!this.visible) return;
    const count = this.source.count();
    this.viewport.setAttribute('aria-rowcount', String(count));
    const vh = this.viewport.clientHeight;
    this.spacer.style.height = `${Math.min(count * ROW_HEIGHT, MAX_SPACER)}px`;
    const scrollTop = this.viewport.scrollTop;
    const virtualTop = this.virtualTop();
    const first = Math.floor(virtualTop / ROW_HEIGHT);
    const offset = virtualTop - first * ROW_HEIGHT;
    const start = Math.max(0, first - OVERSCAN);
    const end = Math.min(count, first + Math.ceil(vh / ROW_HEIGHT) + 1 + OVERSCAN);
    this.layer.style.transform = `translateY(${scrollTop - offset - (first - start) * ROW_HEIGHT}px)`;

    for (let p = Math.floor(start / PAGE); p <= Math.floor(Math.max(start, end - 1) / PAGE); p++) this.fetchPage(p);
    // Ahead of the scrolling, either way: the next page once the rows drawn are within half a page
    // of it (a wheel moves a few rows a frame; a page is a host round trip away).
    if (count > 0) {
      this.fetchPage(Math.floor(Math.min(count - 1, end + PAGE / 2) / PAGE));
      this.fetchPage(Math.floor(Math.max(0, start - PAGE / 2) / PAGE));
    }

    const fields = this.fieldColumns();
    const only = this.onlyMatches;
    const n = Math.max(0, end - start);
    while (this.pool.length < n) {
      const r = el('div', { class: 'list-row', role: 'row', 'data-testid': 'list-row' });
      this.pool.push(r);
      this.layer.append(r);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const r = this.pool[k]!;
      if (k >= n) {
        r.hidden = true;
        continue;
      }
      r.hidden = false;
      const pos = start + k;
      const data = this.row(pos);
      const index = data?.index ?? (only ? undefined : pos);
      const key = data
        ? `${pos}:${this.generation}:${this.columns.join('\u0000')}`
        : `${pos}:${this.generation}:loading`;
      if (r.dataset.key !== key) {
        r.dataset.key = key;
        if (index === undefined) delete r.dataset.index;
        else r.dataset.index = String(index);
        r.setAttribute('aria-rowindex', String(pos + 1));
        const cells = this.columns.map((c) => {
          const b = BUILTIN[c];
          let text = '';
          if (b) text = data ? b.cell(data) : c === 'line' && index !== undefined ? String(index + 1) : '';
          else if (data) text = data.cells[fields.indexOf(c)] ?? '';
          const cell = el('span', { class: `list-cell col-${b ? c : 'field'}`, role: 'gridcell' }, text);
          if (c === 'line' && data?.invalid) cell.prepend(icon('warning', 'invalid-icon'));
          return cell;
        });
        if (!data) cells.push(el('span', { class: 'list-loading', 'aria-hidden': 'true' }, '…'));
        r.replaceChildren(...cells);
        r.classList.toggle('invalid', !!data?.invalid);
        r.classList.toggle('loading', !data);
      }
      r.classList.toggle('selected', pos === this.pos);
      r.setAttribute('aria-selected', pos === this.pos ? 'true' : 'false');
      r.classList.toggle('match', !only && index !== undefined && this.matches.has(index));
    }
  }
}
