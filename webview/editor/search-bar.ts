// Search and filter over the whole file through the host's `search` request: text (plain or
// regex), label, score range, review status, judges disagree, invalid only. Shows the match count and the current
// record's position among the matches; Enter/F3 next, Shift+Enter/Shift+F3 previous (wrapping).
import type { SearchQuery } from '../../src/shared/protocol';
import { el, formatCount, vsButton } from './dom';
import type { HostConnection } from './rpc';

const LIMIT = 1000;
const STATUSES = ['pending', 'reviewed', 'rejected'];

export interface SearchCallbacks {
  currentIndex(): number;
  lineCount(): number;
  goTo(index: number): void;
  matchesChanged(matches: ReadonlySet<number>): void;
  message(text: string): void;
}

export class SearchBar {
  readonly element = el('div', {
    class: 'search-bar',
    role: 'search',
    'aria-label': 'Search and filter',
    'data-testid': 'search-bar',
  });
  private readonly text = el('vscode-textfield', {
    placeholder: 'Search records (/)',
    'aria-label': 'Search text',
    'data-testid': 'search-input',
    class: 'search-text',
  });
  private readonly regex = el('vscode-checkbox', {
    label: 'Regex',
    title: 'Regular expression (case-sensitive)',
    'data-testid': 'search-regex',
  });
  private readonly label = el('vscode-single-select', {
    'aria-label': 'Label filter',
    'data-testid': 'search-label',
    class: 'search-select',
  });
  private readonly status = el('vscode-single-select', {
    'aria-label': 'Review status filter',
    'data-testid': 'search-status',
    class: 'search-select',
  });
  private readonly minScore = el('vscode-textfield', {
    type: 'number',
    placeholder: 'min score',
    'aria-label': 'Minimum judge score',
    'data-testid': 'search-min-score',
    class: 'search-score',
  });
  private readonly maxScore = el('vscode-textfield', {
    type: 'number',
    placeholder: 'max score',
    'aria-label': 'Maximum judge score',
    'data-testid': 'search-max-score',
    class: 'search-score',
  });
  private readonly invalid = el('vscode-checkbox', { label: 'Invalid only', 'data-testid': 'search-invalid' });
  private readonly disagree = el('vscode-checkbox', {
    label: 'Judges disagree',
    title: 'Records whose judges differ by at least datasetCurator.judges.disagreementThreshold of the scale',
    'data-testid': 'search-judges-disagree',
  });
  private readonly inQueue = el('vscode-checkbox', {
    label: 'In review queue',
    title: 'Records waiting in a human review queue',
    'data-testid': 'search-queue',
  });
  /** A facet set from another view (a confusion-matrix cell), shown as a chip that clears it. */
  private readonly pinned = el('span', {
    class: 'chip chip-status search-pinned',
    'data-testid': 'search-pinned',
    hidden: '',
  });
  private pinnedQuery: SearchQuery | undefined;
  private readonly count = el('span', { class: 'search-count', 'data-testid': 'search-count', 'aria-live': 'polite' });
  private labels: string[] = [];
  private matches: number[] = [];
  private total: number | undefined;
  private active: SearchQuery | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly host: HostConnection,
    private readonly cb: SearchCallbacks,
  ) {
    this.setLabels([]);
    this.status.append(
      el('vscode-option', { value: '' }, 'Any status'),
      ...STATUSES.map((s) => el('vscode-option', { value: s }, s)),
    );
    const prev = vsButton({
      secondary: '',
      icon: 'arrow-up',
      'icon-only': '',
      'aria-label': 'Previous match (Shift+Enter)',
      title: 'Previous match (Shift+Enter)',
      'data-testid': 'search-prev',
    });
    const next = vsButton({
      secondary: '',
      icon: 'arrow-down',
      'icon-only': '',
      'aria-label': 'Next match (Enter)',
      title: 'Next match (Enter, F3)',
      'data-testid': 'search-next',
    });
    const clear = vsButton({
      secondary: '',
      icon: 'clear-all',
      'icon-only': '',
      'aria-label': 'Clear search',
      title: 'Clear search',
      'data-testid': 'search-clear',
    });
    prev.addEventListener('click', () => void this.prev());
    next.addEventListener('click', () => void this.next());
    clear.addEventListener('click', () => this.clear());
    this.element.append(
      this.text,
      this.regex,
      this.label,
      this.status,
      this.minScore,
      this.maxScore,
      this.disagree,
      this.invalid,
      this.inQueue,
      this.pinned,
      this.count,
      prev,
      next,
      clear,
    );

    for (const c of [this.text, this.minScore, this.maxScore]) c.addEventListener('input', () => this.schedule());
    for (const c of [this.regex, this.label, this.status, this.disagree, this.invalid, this.inQueue])
      c.addEventListener('change', () => this.schedule(0));
    this.element.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !(e.target instanceof Element && e.target.tagName === 'VSCODE-BUTTON')) {
        e.preventDefault();
        void (e.shiftKey ? this.prev() : this.next());
      } else if (e.key === 'F3') {
        e.preventDefault();
        void (e.shiftKey ? this.prev() : this.next());
      }
    });
  }

  /** Filters to the records whose judges disagree (the stats view's "Show them"). */
  showJudgesDisagree(): void {
    this.disagree.checked = true;
    this.schedule(0);
  }

  /** The query of the search on show (undefined when there is none). */
  get activeQuery(): SearchQuery | undefined {
    return this.active;
  }

  focus(): void {
    this.text.focus();
    // null before the element's first render (a Lit @query), whatever its type says
    (this.text.wrappedElement as HTMLInputElement | null)?.select();
  }

  setLabels(labels: string[]): void {
    if (labels.join('\u0000') === this.labels.join('\u0000') && this.label.childElementCount) return;
    this.labels = labels;
    const value = this.label.value;
    this.label.replaceChildren(
      el('vscode-option', { value: '' }, 'Any label'),
      ...labels.map((l) => el('vscode-option', { value: l }, l)),
    );
    if (labels.includes(value)) this.label.value = value;
  }

  /**
   * Searches for a facet the bar has no control for (a confusion-matrix cell), shown as a chip
   * with a close button; resolves when the matches are in.
   */
  async pin(q: SearchQuery, description: string): Promise<void> {
    this.pinnedQuery = q;
    const close = el(
      'button',
      { type: 'button', class: 'icon-button', 'aria-label': 'Clear this filter', title: 'Clear this filter' },
      el('span', { class: 'codicon codicon-close', 'aria-hidden': 'true' }),
    );
    close.addEventListener('click', () => this.unpin());
    this.pinned.replaceChildren(description, close);
    this.pinned.hidden = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.run();
    await this.running;
  }

  private unpin(): void {
    this.pinnedQuery = undefined;
    this.pinned.hidden = true;
    this.schedule(0);
  }

  /** The first match, once a search has run. */
  get firstMatch(): number | undefined {
    return this.matches[0];
  }

  /** Re-runs the search (the document changed). */
  refresh(): void {
    if (this.active) this.schedule(300);
  }

  /** Updates "3 of 12" after the current record changed. */
  updatePosition(): void {
    if (!this.active || this.count.classList.contains('error')) return;
    const total = this.totalText();
    const at = this.matches.indexOf(this.cb.currentIndex());
    this.count.textContent = at >= 0 ? `${at + 1} of ${total}` : `${total} ${this.matchWord()}`;
  }

  private totalText(): string {
    if (this.total !== undefined) return formatCount(this.total);
    return this.matches.length >= LIMIT ? `${formatCount(LIMIT)}+` : formatCount(this.matches.length);
  }

  private matchWord(): string {
    return this.total === 1 || (this.total === undefined && this.matches.length === 1) ? 'match' : 'matches';
  }

  private complete(): boolean {
    return this.total !== undefined || this.matches.length < LIMIT;
  }

  private clear(): void {
    this.text.value = '';
    this.regex.checked = false;
    this.label.value = '';
    this.status.value = '';
    this.minScore.value = '';
    this.maxScore.value = '';
    this.invalid.checked = false;
    this.disagree.checked = false;
    this.inQueue.checked = false;
    this.pinnedQuery = undefined;
    this.pinned.hidden = true;
    this.schedule(0);
  }

  private query(): SearchQuery | { error: string } | undefined {
    const q: SearchQuery = {};
    if (this.text.value) {
      q.text = this.text.value.slice(0, 1000);
      if (this.regex.checked) {
        q.regex = true;
        try {
          new RegExp(q.text);
        } catch (err) {
          return {
            error:
              err instanceof Error
                ? err.message.replace(/^Invalid regular expression: /, 'Invalid regex: ')
                : 'Invalid regex',
          };
        }
      }
    }
    if (this.label.value) q.label = this.label.value;
    if (this.status.value) q.reviewStatus = this.status.value;
    const min = this.minScore.value === '' ? NaN : Number(this.minScore.value);
    const max = this.maxScore.value === '' ? NaN : Number(this.maxScore.value);
    if (Number.isFinite(min)) q.minScore = min;
    if (Number.isFinite(max)) q.maxScore = max;
    if (this.disagree.checked) q.judgesDisagree = true;
    if (this.invalid.checked) q.invalid = true;
    if (this.inQueue.checked) q.inQueue = true;
    if (this.pinnedQuery) Object.assign(q, this.pinnedQuery);
    return Object.keys(q).length ? q : undefined;
  }

  private schedule(delay = 200): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run();
    }, delay);
  }

  private async run(): Promise<void> {
    const seq = ++this.seq;
    const q = this.query();
    this.count.classList.remove('error');
    if (!q || 'error' in q) {
      this.active = undefined;
      this.matches = [];
      this.total = undefined;
      this.cb.matchesChanged(new Set());
      if (q) this.count.classList.add('error');
      this.count.textContent = q ? q.error : '';
      return;
    }
    this.count.textContent = 'Searching…';
    try {
      // One match past the limit: with exactly LIMIT matches the host answers once the whole file
      // is searched, with the total; asked for LIMIT, it answered at the last match, before the
      // lines after it were read, and the count said "1,000+" for a thousand, never corrected.
      const res = await this.host.request('search', { query: q, from: 0, direction: 'forward', limit: LIMIT + 1 });
      if (seq !== this.seq) return;
      this.active = q;
      this.matches = res.matches.slice(0, LIMIT);
      this.total = res.total;
      this.cb.matchesChanged(new Set(this.matches));
      if (this.matches.length === 0) this.count.textContent = 'No matches';
      else this.updatePosition();
    } catch (err) {
      if (seq !== this.seq) return;
      this.active = undefined;
      this.count.classList.add('error');
      this.count.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** Waits for a scheduled or running search, so Enter (or m) right after a change uses the new query. */
  async settle(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.run();
    }
    await this.running;
  }

  async next(): Promise<void> {
    await this.settle();
    if (!this.active) return;
    const cur = this.cb.currentIndex();
    let target = this.matches.find((m) => m > cur);
    if (target === undefined && !this.complete()) target = await this.scan(cur + 1, 'forward');
    if (target === undefined) {
      target = this.matches[0];
      if (target !== undefined && target !== cur) this.cb.message('Search wrapped to the first match');
    }
    if (target !== undefined) this.cb.goTo(target);
  }

  async prev(): Promise<void> {
    await this.settle();
    if (!this.active) return;
    const cur = this.cb.currentIndex();
    const last = this.matches[this.matches.length - 1];
    let target: number | undefined;
    if (this.complete() || (last !== undefined && cur <= last))
      target = [...this.matches].reverse().find((m) => m < cur);
    else if (cur > 0) target = await this.scan(cur - 1, 'backward');
    if (target === undefined) {
      target = this.complete() ? last : await this.scan(Math.max(0, this.cb.lineCount() - 1), 'backward');
      if (target !== undefined && target !== cur) this.cb.message('Search wrapped to the last match');
    }
    if (target !== undefined) this.cb.goTo(target);
  }

  private async scan(from: number, direction: 'forward' | 'backward'): Promise<number | undefined> {
    if (!this.active || from < 0 || from >= this.cb.lineCount()) return undefined;
    const res = await this.host.request('search', { query: this.active, from, direction, limit: 1 });
    return res.matches[0];
  }
}
