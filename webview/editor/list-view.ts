// List mode: every record as one row, virtually scrolled. Rows have a fixed height; only the
// visible rows plus an overscan exist in the DOM; rows come from the host in pages of 100 through
// getRows and are kept in an LRU cache. A tall spacer gives the scrollbar its range; past a few
// million pixels the scroll position is scaled, so even 100M rows stay reachable.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { DocumentInfo, RowPayload } from '../../src/shared/protocol';
import { el, formatPercent, icon } from './dom';
import { Lru } from './lru';
import type { HostConnection } from './rpc';

export const ROW_HEIGHT = 24;
const PAGE = 100;
const OVERSCAN = 10;
/** Browsers cap element heights (Chromium ~33.5M px, Firefox ~17.9M px): stay well below. */
const MAX_SPACER = 8_000_000;

/** Columns computed from the row itself rather than requested as fields. */
const BUILTIN: Record<string, { title: string; width: string; cell(r: RowPayload): string }> = {
  line: { title: 'Line', width: '72px', cell: (r) => String(r.lineNumber) },
  label: { title: 'Label', width: '120px', cell: (r) => r.label ?? '' },
  score: { title: 'Score', width: '64px', cell: (r) => (r.score === undefined ? '' : r.score <= 1 && r.score >= 0 && !Number.isInteger(r.score) ? formatPercent(r.score) : String(r.score)) },
  status: { title: 'Status', width: '96px', cell: (r) => r.reviewStatus ?? '' },
};
export const DEFAULT_COLUMNS = ['line', 'label', 'score', 'text'];

export interface ListCallbacks {
  open(index: number): void;
  select(index: number): void;
  columnsChanged(columns: string[]): void;
}

export class ListView {
  readonly element = el('div', { class: 'list-view', 'data-testid': 'list' });
  private readonly header = el('div', { class: 'list-row list-header', role: 'row' });
  private readonly viewport = el('div', { class: 'list-viewport', role: 'grid', tabindex: '0', 'aria-label': 'Records', 'data-testid': 'list-viewport' });
  private readonly spacer = el('div', { class: 'list-spacer' });
  private readonly layer = el('div', { class: 'list-layer', role: 'rowgroup' });
  private readonly picker = el('div', { class: 'column-picker', 'data-testid': 'column-picker-menu', role: 'group', 'aria-label': 'Columns', hidden: '' });
  private readonly pool: HTMLElement[] = [];
  private readonly pages = new Lru<number, RowPayload[]>(80);
  private readonly inFlight = new Map<number, Promise<void>>();
  private generation = 0;
  private count = 0;
  private columns: string[];
  private available: string[] = [];
  private selected = 0;
  private matches: ReadonlySet<number> = new Set();
  private frame = 0;
  private visible = false;

  constructor(
    private readonly host: HostConnection,
    private readonly cb: ListCallbacks,
    columns: string[] | undefined,
  ) {
    this.columns = columns?.length ? columns : [...DEFAULT_COLUMNS];
    this.viewport.append(this.spacer, this.layer);
    const pickButton = el('vscode-button', { secondary: '', icon: 'list-selection', 'data-testid': 'column-picker', title: 'Choose columns', 'aria-haspopup': 'true' }, 'Columns');
    pickButton.addEventListener('click', () => this.togglePicker());
    const bar = el('div', { class: 'list-toolbar' }, el('span', { class: 'meta' }, 'Click a row or press Enter to open it.'), pickButton);
    this.element.append(bar, this.picker, this.header, this.viewport);
    this.viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
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

  get selectedIndex(): number {
    return this.selected;
  }

  setInfo(info: DocumentInfo): void {
    this.count = info.lineCount;
    const extra = info.columns.filter((c) => !(c in BUILTIN));
    this.available = [...Object.keys(BUILTIN), ...extra];
    this.viewport.setAttribute('aria-rowcount', String(this.count));
    this.renderHeader();
    this.schedule();
  }

  setMatches(matches: ReadonlySet<number>): void {
    this.matches = matches;
    this.schedule();
  }

  /** Drops cached rows (the document changed). */
  invalidate(): void {
    this.generation++;
    this.pages.clear();
    this.inFlight.clear();
    this.schedule();
  }

  show(selected: number): void {
    this.visible = true;
    this.selected = selected;
    this.renderHeader();
    this.render();
    this.reveal(selected, true);
    this.viewport.focus({ preventScroll: true });
  }

  hide(): void {
    this.visible = false;
    this.picker.hidden = true;
  }

  /** Moves the selection; keeps it in view. */
  select(index: number): void {
    this.selected = Math.max(0, Math.min(index, this.count - 1));
    this.cb.select(this.selected);
    this.reveal(this.selected, false);
    this.render();
  }

  pageSize(): number {
    return Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
  }

  private ratio(): number {
    const total = this.count * ROW_HEIGHT;
    const spacer = Math.min(total, MAX_SPACER);
    const vh = this.viewport.clientHeight;
    return total > vh && spacer > vh ? (total - vh) / (spacer - vh) : 1;
  }

  private reveal(index: number, center: boolean): void {
    const ratio = this.ratio();
    const vh = this.viewport.clientHeight;
    const y = index * ROW_HEIGHT; // virtual pixels
    const top = this.viewport.scrollTop * ratio;
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
    const template = this.columns.map((c) => BUILTIN[c]?.width ?? 'minmax(120px, 1fr)').join(' ');
    this.element.style.setProperty('--list-columns', template);
    this.header.replaceChildren(...this.columns.map((c) => el('span', { class: 'list-cell', role: 'columnheader' }, BUILTIN[c]?.title ?? c)));
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
    const start = page * PAGE;
    const count = Math.min(PAGE, this.count - start);
    if (count <= 0) return;
    const p = this.host
      .request('getRows', { start, count, columns: this.fieldColumns() })
      .then((rows) => {
        if (gen !== this.generation) return;
        this.pages.set(page, rows);
        this.schedule();
      })
      .catch(() => undefined)
      .finally(() => {
        if (gen === this.generation) this.inFlight.delete(page);
      });
    this.inFlight.set(page, p);
  }

  private row(index: number): RowPayload | undefined {
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  private render(): void {
    if (!this.visible) return;
    const vh = this.viewport.clientHeight;
    this.spacer.style.height = `${Math.min(this.count * ROW_HEIGHT, MAX_SPACER)}px`;
    const scrollTop = this.viewport.scrollTop;
    const virtualTop = scrollTop * this.ratio();
    const first = Math.floor(virtualTop / ROW_HEIGHT);
    const offset = virtualTop - first * ROW_HEIGHT;
    const start = Math.max(0, first - OVERSCAN);
    const end = Math.min(this.count, first + Math.ceil(vh / ROW_HEIGHT) + 1 + OVERSCAN);
    this.layer.style.transform = `translateY(${scrollTop - offset - (first - start) * ROW_HEIGHT}px)`;

    for (let p = Math.floor(start / PAGE); p <= Math.floor(Math.max(start, end - 1) / PAGE); p++) this.fetchPage(p);

    const fields = this.fieldColumns();
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
      const index = start + k;
      const data = this.row(index);
      const key = data ? `${index}:${this.generation}:${this.columns.join('\u0000')}` : `${index}:loading`;
      if (r.dataset.key !== key) {
        r.dataset.key = key;
        r.dataset.index = String(index);
        r.setAttribute('aria-rowindex', String(index + 1));
        const cells = this.columns.map((c) => {
          const b = BUILTIN[c];
          let text = '';
          if (b) text = data ? b.cell(data) : c === 'line' ? String(index + 1) : '';
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
      r.classList.toggle('selected', index === this.selected);
      r.setAttribute('aria-selected', index === this.selected ? 'true' : 'false');
      r.classList.toggle('match', this.matches.has(index));
    }
  }
}
