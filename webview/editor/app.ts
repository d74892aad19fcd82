// The curation editor's UI: a toolbar, the search bar, and one of its views (record, list,
// stats, agreement, duplicates), plus the help and raw-JSON dialogs. The page is built once; navigating only re-renders
// the record's fields and its annotation panel, from a cache that is filled ahead of time.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { DocumentInfo, HostEvent, RecordPayload, RequestParams, SearchQuery, ViewMode } from '../../src/shared/protocol';
import { AgreementView, sourceName } from './agreement-view';
import { DuplicatesView } from './duplicates-view';
import { ReviewQueueBar, isQueued } from './review-queue';
import { AnnotationPanel } from './annotation-panel';
import { el, icon, isTypingTarget, vsButton } from './dom';
import { HelpOverlay } from './help-overlay';
import { ListView } from './list-view';
import { PreferenceView } from './preference-view';
import { RawEditor } from './raw-editor';
import { RecordCache } from './record-cache';
import { RecordView } from './record-view';
import type { HostConnection } from './rpc';
import { SearchBar } from './search-bar';
import { StatsView } from './stats-view';

type Mode = ViewMode;

const MODES: readonly Mode[] = ['record', 'list', 'stats', 'agreement', 'duplicates'];

interface SavedState {
  index: number;
  mode?: Mode;
  /** The agreement report's gold field. */
  goldField?: string;
  autoAdvance?: boolean;
  columns?: string[];
  /** The page's embedded init already shown (see embedded-init.ts). */
  initToken?: string;
}

/** The webview's saved state, checked by hand: zod is not in the first chunk (rpc.ts). */
function readSavedState(v: unknown): Partial<SavedState> {
  if (v === null || typeof v !== 'object') return {};
  const s = v as Record<string, unknown>;
  const out: Partial<SavedState> = {};
  if (Number.isSafeInteger(s.index) && (s.index as number) >= 0) out.index = s.index as number;
  if (MODES.includes(s.mode as Mode)) out.mode = s.mode as Mode;
  if (typeof s.goldField === 'string' && s.goldField !== '' && s.goldField.length <= 200) out.goldField = s.goldField;
  if (typeof s.autoAdvance === 'boolean') out.autoAdvance = s.autoAdvance;
  if (Array.isArray(s.columns) && s.columns.length <= 20 && s.columns.every((c) => typeof c === 'string')) out.columns = s.columns as string[];
  if (typeof s.initToken === 'string') out.initToken = s.initToken;
  return out;
}

/** The top-level keys the annotation panel shows, when the host does not say which they are. */
const DEFAULT_ANNOTATION_FIELDS = ['label', 'rationale', 'judge', 'judges', 'annotations'];
/** A `changed` event whose focus is a record this webview edited this recently is our own echo. */
const OWN_EDIT_WINDOW_MS = 3000;

export class EditorApp {
  private info: DocumentInfo | undefined;
  private index = 0;
  private current: RecordPayload | undefined;
  private mode: Mode = 'record';
  private autoAdvance = false;
  private requestSeq = 0;
  /** The fetch in flight for a move or a refresh, and whether to refresh once it has landed. */
  private going: { target: number; seq: number } | undefined;
  private refreshAfter = false;
  private readonly ownEdits = new Map<number, number>();
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the list's columns come from this webview's state (else from the host's memory of the file). */
  private readonly ownColumns: boolean;

  private readonly cache: RecordCache;
  private readonly position = el('span', { class: 'position', 'data-testid': 'position', 'aria-live': 'polite' });
  private readonly status = el('span', { class: 'status', 'data-testid': 'status', role: 'status' });
  private readonly dirty = el('span', { class: 'dirty', 'data-testid': 'dirty', hidden: '', title: 'Unsaved changes (Ctrl+S saves)' }, icon('circle-filled'), ' Unsaved');
  private readonly indexing = el('span', { class: 'meta', 'data-testid': 'indexing', hidden: '' }, icon('loading', 'codicon-modifier-spin'), ' Indexing…');
  private readonly gotoBox = el('vscode-textfield', { type: 'number', min: '1', placeholder: 'Line', 'aria-label': 'Go to line', 'data-testid': 'goto-input', class: 'goto', hidden: '' });
  private readonly tabs: Record<Mode, HTMLButtonElement>;
  private readonly content = el('main', { class: 'content' });
  private readonly recordLayout = el('div', { class: 'record-layout', 'data-testid': 'record-layout' });
  private readonly recordScroll = el('div', { class: 'record-scroll', tabindex: '-1' });
  private readonly recordView = new RecordView();
  private readonly pair = new PreferenceView({ swap: () => this.swapPair() });
  private readonly panel: AnnotationPanel;
  private readonly list: ListView;
  private readonly search: SearchBar;
  private readonly stats: StatsView;
  private readonly agreement: AgreementView;
  private readonly duplicates: DuplicatesView;
  private readonly queue: ReviewQueueBar;
  private goldField: string | undefined;
  private readonly help = new HelpOverlay();
  private readonly raw: RawEditor;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostConnection,
    private readonly initToken?: string,
  ) {
    this.cache = new RecordCache(host);
    const state = readSavedState(host.state);
    this.ownColumns = !!state.columns?.length;
    this.index = state.index ?? 0;
    this.autoAdvance = state.autoAdvance ?? false;
    this.goldField = state.goldField;

    this.panel = new AnnotationPanel({
      relabel: (label) => void this.relabel(label),
      accept: (question, position) => void this.review({ op: 'accept', index: this.index, question, position }),
      reject: (question) => void this.review({ op: 'reject', index: this.index, question }),
      setReviewStatus: (status) => void this.review({ op: 'setReviewStatus', index: this.index, status }),
      editRaw: () => this.openRaw(),
      setAutoAdvance: (on) => {
        this.autoAdvance = on;
        this.saveState();
      },
    });
    this.list = new ListView(
      host,
      {
        open: (index) => {
          this.setMode('record');
          void this.go(index);
        },
        select: (index) => {
          this.index = index;
          this.saveState();
        },
        columnsChanged: (columns) => {
          this.saveState();
          host.notify({ kind: 'notify', type: 'columns', columns });
        },
        message: (t) => this.say(t),
      },
      state.columns,
    );
    this.search = new SearchBar(host, {
      currentIndex: () => this.index,
      lineCount: () => this.info?.lineCount ?? 0,
      goTo: (index) => void this.navigate(index),
      matchesChanged: (m) => this.list.setMatches(m, this.search.activeQuery),
      message: (t) => this.say(t),
    });
    this.stats = new StatsView(host, () => {
      this.search.showJudgesDisagree();
      this.setMode('list');
    });
    this.agreement = new AgreementView(
      host,
      {
        optionsChanged: (o) => {
          this.goldField = o.goldField;
          this.saveState();
        },
        openCell: (reference, prediction, referenceLabel, predictionLabel, question) =>
          void this.openCell({ agreementCell: { question, reference, prediction, referenceLabel, predictionLabel } }, `${sourceName(reference)}: ${referenceLabel} · ${sourceName(prediction)}: ${predictionLabel}`),
      },
      this.goldField ? { goldField: this.goldField } : {},
    );
    this.duplicates = new DuplicatesView(host, {
      open: (index) => {
        this.setMode('record');
        void this.go(index);
      },
      message: (t, error) => this.say(t, error),
    });
    this.queue = new ReviewQueueBar(host, () => void this.queueStep(1));
    this.raw = new RawEditor((index, raw) => this.edit({ op: 'replaceRaw', index, raw }));

    const prev = vsButton({ secondary: '', icon: 'arrow-up', 'data-testid': 'prev', title: 'Previous record (k)' }, 'Previous');
    const next = vsButton({ icon: 'arrow-down', 'data-testid': 'next', title: 'Next record (j)' }, 'Next');
    prev.addEventListener('click', () => this.step(-1));
    next.addEventListener('click', () => this.step(1));
    const tab = (mode: Mode, label: string, iconName: string, key: string) => {
      const b = el('button', { type: 'button', role: 'tab', class: 'tab', 'data-testid': `mode-${mode}`, title: `${label} (${key})` }, icon(iconName), ` ${label}`);
      b.addEventListener('click', () => this.setMode(mode));
      return b;
    };
    this.tabs = {
      record: tab('record', 'Record', 'file', 'l'),
      list: tab('list', 'List', 'list-flat', 'l'),
      stats: tab('stats', 'Stats', 'graph', 's'),
      agreement: tab('agreement', 'Agreement', 'pulse', 'c'),
      duplicates: tab('duplicates', 'Duplicates', 'copy', 'd'),
    };
    const helpButton = el('button', { type: 'button', class: 'icon-button', 'data-testid': 'help-button', 'aria-label': 'Keyboard shortcuts (?)', title: 'Keyboard shortcuts (?)' }, icon('keyboard'));
    helpButton.addEventListener('click', () => this.help.show());
    const toolbar = el(
      'header',
      { class: 'toolbar' },
      prev,
      next,
      this.position,
      this.gotoBox,
      el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'View' }, this.tabs.record, this.tabs.list, this.tabs.stats, this.tabs.agreement, this.tabs.duplicates),
      this.queue.element,
      this.dirty,
      this.indexing,
      this.status,
      helpButton,
    );
    this.recordScroll.append(this.pair.element, this.recordView.element);
    this.recordLayout.append(this.recordScroll, this.panel.element);
    this.content.append(this.recordLayout, this.list.element, this.stats.element, this.agreement.element, this.duplicates.element);
    this.root.append(toolbar, this.search.element, this.content, this.help.element, this.raw.element);

    this.gotoBox.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const n = Number(this.gotoBox.value);
        this.hideGoto();
        const count = this.info?.lineCount ?? 0;
        if (Number.isInteger(n) && n >= 1) {
          if (n > count && count > 0) this.say(`There is no line ${n}: the file has ${count}${this.info?.indexed === false ? ' so far' : ''}; this is the last`);
          void this.navigate(n - 1);
        } else this.say('Type a line number');
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.hideGoto();
      }
    });
    this.gotoBox.addEventListener('blur', () => setTimeout(() => this.hideGoto(false), 0));

    this.setMode(state.mode ?? 'record', false);
    window.addEventListener('keydown', (e) => this.onKey(e));
    host.notify({ kind: 'notify', type: 'ready', index: this.index });
  }

  // -------------------------------------------------------------------------------------------
  // Events

  onEvent(e: HostEvent): void {
    if (e.type === 'show') {
      this.setMode(e.mode);
      this.host.notify({ kind: 'notify', type: 'mode', mode: e.mode }); // the host's request is done
      if (e.focus !== undefined) void this.navigate(e.focus);
      if (e.mode === 'record') this.queue.refresh(0, true);
      return;
    }
    this.setInfo(e.info);
    if (e.type === 'init') {
      performance.mark('dc:init');
      if (e.record) {
        this.cache.clear(); // the host's init is the truth: what was cached may be older
        this.cache.put(e.record);
      }
      if (e.listColumns && !this.ownColumns) this.list.setColumns(e.listColumns);
      if (this.mode === 'list') this.list.show(this.clampIndex(this.index));
      if (this.mode === 'stats') void this.stats.load();
      if (this.mode === 'agreement') void this.agreement.load();
      if (this.mode === 'duplicates') void this.duplicates.load();
      this.queue.refresh(0);
      void this.go(this.clampIndex(this.index));
      return;
    }
    // A job's results (background): what is cached is stale, still shown at once and fetched again;
    // anything else (the person's own edits, undo, save, revert, a reload): dropped.
    if (e.background) this.cache.markStale();
    else this.cache.clear();
    this.list.invalidate();
    this.stats.invalidate();
    if (this.mode === 'stats') void this.stats.load();
    this.agreement.invalidate(this.mode === 'agreement');
    this.duplicates.invalidate(this.mode === 'duplicates');
    this.queue.refresh();
    this.search.refresh();
    const focus = e.focus;
    if (focus !== undefined && !this.isOwnEdit(focus)) void this.navigate(focus);
    // (to the record a move in flight goes to: a refresh that went back to the shown one would undo
    // the key press, and refreshes every 200 ms during a job would keep a slow move from landing)
    else {
      const at = this.clampIndex(this.wanted ?? this.index);
      // A fetch for it in flight lands first (a new one would discard it, and under a steady stream
      // of refreshes slower than the host, nothing would ever land); then it is fetched again.
      if (this.wanted === at) this.refreshAfter = true;
      else void this.go(at, true);
    }
  }

  /** Where the latest move goes while its record is being fetched: a refresh meanwhile goes there too, and the next key press counts from it. */
  private get wanted(): number | undefined {
    return this.going?.seq === this.requestSeq ? this.going.target : undefined;
  }

  private setInfo(info: DocumentInfo): void {
    this.info = info;
    this.list.setInfo(info);
    this.search.setLabels(info.labels);
    this.dirty.hidden = !info.dirty;
    this.indexing.hidden = info.indexed;
    this.renderPosition();
  }

  private isOwnEdit(index: number): boolean {
    const t = this.ownEdits.get(index);
    if (t === undefined) return false;
    this.ownEdits.delete(index);
    return Date.now() - t < OWN_EDIT_WINDOW_MS;
  }

  // -------------------------------------------------------------------------------------------
  // Keys

  private onKey(e: KeyboardEvent): void {
    if (this.help.open || this.raw.open) return; // the dialogs handle their own keys
    if (e.key === 'F3') {
      e.preventDefault();
      void (e.shiftKey ? this.search.prev() : this.search.next());
      return;
    }
    if (isTypingTarget(e)) {
      if (e.key === 'Escape' && this.search.element.contains(e.target as Node)) {
        e.preventDefault();
        this.focusContent();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return; // undo, redo, save... are VS Code's
    const handled = this.handleKey(e.key);
    if (handled) e.preventDefault();
  }

  private handleKey(key: string): boolean {
    const count = this.info?.lineCount ?? 0;
    const list = this.mode === 'list';
    switch (key) {
      case '?':
        this.help.show();
        return true;
      case '/':
        this.search.focus();
        return true;
      case 'l':
        this.setMode(list ? 'record' : 'list');
        return true;
      case 's':
        this.setMode(this.mode === 'stats' ? 'record' : 'stats');
        return true;
      case 'c':
        this.setMode(this.mode === 'agreement' ? 'record' : 'agreement');
        return true;
      case 'd':
        this.setMode(this.mode === 'duplicates' ? 'record' : 'duplicates');
        return true;
      case 'q':
      case 'Q':
        void this.queueStep(key === 'q' ? 1 : -1);
        return true;
      case 'Escape':
        if (this.mode !== 'record') {
          this.setMode('record');
          return true;
        }
        return false;
      case 'j':
      case 'ArrowDown':
        this.step(1);
        return true;
      case 'k':
      case 'ArrowUp':
        this.step(-1);
        return true;
      case 'ArrowRight':
      case 'ArrowLeft':
        if (this.mode !== 'record') return false;
        this.step(key === 'ArrowRight' ? 1 : -1);
        return true;
      case 'PageDown':
      case 'PageUp':
        if (!list) return false;
        this.step((key === 'PageDown' ? 1 : -1) * this.list.pageSize());
        return true;
      case 'Home':
        if (list) this.list.first();
        else void this.navigate(0);
        return true;
      case 'End':
        if (list) this.list.last();
        else void this.navigate(Math.max(0, count - 1));
        return true;
      case 'Enter':
        if (!list) return false;
        void this.list.openSelected();
        return true;
      case 'm': {
        const on = !(list && this.list.onlyMatches);
        if (!list) this.setMode('list');
        // A search just changed (a label picked, a word typed) is the one to list.
        void this.search.settle().then(() => this.list.setOnlyMatches(on));
        return true;
      }
      case 'g':
        this.showGoto();
        return true;
      case 'n':
        void this.findNext({ reviewStatus: 'pending' }, 'unreviewed record');
        return true;
      case 'i':
        void this.findNext({ invalid: true }, 'invalid line');
        return true;
      case 'e':
        this.openRaw();
        return true;
      case 'a': {
        const s = this.current?.annotation?.suggestions.find((x) => x.type === 'model' && x.question === 'label');
        if (!s) this.say('This record has no model suggestion to accept');
        else void this.review({ op: 'accept', index: this.index, question: s.question, position: s.position });
        return true;
      }
      case 'r': {
        const s = this.current?.annotation?.suggestions.find((x) => x.type === 'model' && x.question === 'label');
        if (!s) this.say('This record has no model suggestion to reject');
        else void this.review({ op: 'reject', index: this.index, question: s.question });
        return true;
      }
      case 'x':
        if (this.mode !== 'record') return false;
        this.swapPair();
        return true;
      default:
        if (/^[1-9]$/.test(key)) {
          const label = this.info?.labels[Number(key) - 1];
          if (label === undefined) this.say(`No label #${key}: the label set has ${this.info?.labels.length ?? 0}`);
          else void this.relabel(label);
          return true;
        }
        return false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Navigation

  private clampIndex(i: number): number {
    return Math.max(0, Math.min(i, (this.info?.lineCount ?? 0) - 1));
  }

  private step(delta: number): void {
    if (this.mode === 'list') this.list.move(delta);
    else void this.go((this.wanted ?? this.index) + delta);
  }

  /** Goes to a record in the current mode (list: selects its row); resolves once it is shown. */
  private async navigate(index: number): Promise<void> {
    if (this.mode === 'list') {
      this.list.select(this.clampIndex(index));
      this.search.updatePosition();
    } else {
      if (this.mode !== 'record') this.setMode('record');
      await this.go(index);
    }
  }

  /** Shows the record at `index` (clamped); `refresh` keeps the scroll position. */
  async go(index: number, refresh = false): Promise<void> {
    const count = this.info?.lineCount ?? 0;
    if (count === 0) {
      this.current = undefined;
      this.renderPosition();
      this.recordView.element.replaceChildren(el('p', { class: 'empty' }, this.info?.indexed === false ? 'Reading the file…' : 'This file has no lines.'));
      this.panel.render(undefined, this.info, this.autoAdvance);
      this.pair.render(undefined, false);
      return;
    }
    const target = this.clampIndex(index);
    const seq = ++this.requestSeq;
    let record = this.cache.peek(target);
    const fresh = this.cache.isFresh(target);
    // A refresh wants the new content (the current record stays on screen meanwhile); a move shows
    // a stale record at once and then the new one, if it differs.
    if (record && !fresh && refresh) record = undefined;
    if (!record) {
      const slow = setTimeout(() => seq === this.requestSeq && this.recordLayout.classList.add('loading'), 150);
      this.going = { target, seq };
      try {
        record = await this.cache.get(target);
      } catch (err) {
        if (seq === this.requestSeq) this.say(err instanceof Error ? err.message : String(err), true);
        return;
      } finally {
        clearTimeout(slow);
        if (this.going?.seq === seq) this.going = undefined;
        if (seq === this.requestSeq) this.recordLayout.classList.remove('loading');
      }
      if (seq !== this.requestSeq) return; // a later navigation won
    }
    const moved = target !== this.index || !this.current;
    this.show(record);
    if (moved && !refresh) this.clearError();
    if (this.refreshAfter) {
      this.refreshAfter = false;
      void this.go(target, true);
      return;
    }
    if (!this.cache.isFresh(target)) {
      const shown = record;
      this.cache.get(target).then(
        (r) => {
          if (seq === this.requestSeq && this.current === shown && JSON.stringify(r) !== JSON.stringify(shown)) this.show(r);
        },
        () => undefined, // the next move or refresh reports a failure
      );
    }
    // Ahead of the keys: a host busy with a job answers in 100 ms or more, and j held down or
    // pressed quickly outruns three records.
    this.cache.prefetch([target + 1, target + 2, target - 1, target + 3, target + 4, target + 5, target + 6, target - 2], count);
  }

  private show(r: RecordPayload): void {
    if (!this.current) performance.mark('dc:first-record');
    if (r.index !== this.current?.index) this.host.notify({ kind: 'notify', type: 'current', index: r.index });
    this.index = r.index;
    this.current = r;
    this.saveState();
    this.render();
  }

  /** Goes to the next (or previous) record matching `query`, wrapping around; resolves with it, if any. */
  private async findNext(query: SearchQuery, what: string, direction: 1 | -1 = 1, none = `No ${what}s`): Promise<number | undefined> {
    const count = this.info?.lineCount ?? 0;
    if (count === 0) {
      this.say(none);
      return undefined;
    }
    const here = this.mode === 'list' ? this.list.selectedIndex : this.index;
    try {
      // The host's scan wraps around the end of the file.
      const from = (here + direction + count) % count;
      const found = (await this.host.request('search', { query, from, direction: direction === 1 ? 'forward' : 'backward', limit: 1 })).matches[0];
      if (found === undefined) {
        this.say(none);
        return undefined;
      }
      if (found === here) {
        this.say(`This is the only ${what}`);
        return undefined;
      }
      await this.navigate(found);
      // Once the record is on screen.
      if (direction === 1 ? found < here : found > here) this.say(`Wrapped to the ${direction === 1 ? 'first' : 'last'} ${what}`);
      return found;
    } catch (err) {
      this.say(err instanceof Error ? err.message : String(err), true);
      return undefined;
    }
  }

  /** Steps through the review queue (q / Shift+Q). */
  private queueStep(direction: 1 | -1, afterReview = false): Promise<number | undefined> {
    if (this.mode !== 'record' && this.mode !== 'list') this.setMode('record');
    this.queue.refresh(0, true);
    return this.findNext({ inQueue: true }, 'record in the review queue', direction, afterReview ? 'Review queue done: no record left in it' : 'The review queue is empty (Send Low-Confidence Records to Review… fills it)');
  }

  /** Opens the records of a confusion-matrix cell: a search for them, the first one on screen. */
  private async openCell(query: SearchQuery, description: string): Promise<void> {
    this.setMode('record');
    await this.search.pin(query, description);
    const first = this.search.firstMatch;
    if (first === undefined) this.say('No record in this cell any more');
    else void this.go(first);
  }

  private setMode(mode: Mode, save = true): void {
    for (const [m, b] of Object.entries(this.tabs)) {
      b.setAttribute('aria-selected', m === mode ? 'true' : 'false');
      b.tabIndex = m === mode ? 0 : -1;
    }
    const changed = this.mode !== mode || !save;
    this.mode = mode;
    this.recordLayout.hidden = mode !== 'record';
    this.list.element.hidden = mode !== 'list';
    this.stats.element.hidden = mode !== 'stats';
    this.agreement.element.hidden = mode !== 'agreement';
    this.duplicates.element.hidden = mode !== 'duplicates';
    if (mode === 'list') this.list.show(this.index);
    else this.list.hide();
    if (mode === 'stats') void this.stats.load();
    if (mode === 'agreement') void this.agreement.load();
    if (mode === 'duplicates') void this.duplicates.load();
    if (changed) this.host.notify({ kind: 'notify', type: 'mode', mode });
    if (mode === 'record' && this.current && this.current.index !== this.index) void this.go(this.index);
    if (mode === 'record') this.focusContent();
    if (save) this.saveState();
  }

  private showGoto(): void {
    this.gotoBox.hidden = false;
    this.gotoBox.value = '';
    this.gotoBox.max = this.info?.lineCount;
    this.gotoBox.focus();
  }

  private hideGoto(refocus = true): void {
    if (this.gotoBox.hidden) return;
    this.gotoBox.hidden = true;
    if (refocus) this.focusContent();
  }

  private focusContent(): void {
    if (this.mode === 'list') this.list.element.querySelector<HTMLElement>('.list-viewport')?.focus({ preventScroll: true });
    else this.recordScroll.focus({ preventScroll: true });
  }

  // -------------------------------------------------------------------------------------------
  // Edits

  /** Sends an edit; renders the updated record. Resolves with an error message on failure. */
  private async edit(req: RequestParams<'edit'>): Promise<string | undefined> {
    const r = this.current;
    if (!r || r.index !== req.index) return 'No record';
    if (req.op !== 'replaceRaw' && (r.invalid || r.lossy)) {
      const msg = r.invalid ? 'This line is not a valid record: edit its raw JSON (e)' : `Structured edits are off for this record: ${r.lossy?.reason ?? ''}`;
      this.say(msg, true);
      return msg;
    }
    this.ownEdits.set(req.index, Date.now());
    try {
      const updated = await this.host.request('edit', req);
      this.cache.put(updated);
      if (updated.index === this.index) {
        this.current = updated;
        this.render();
      }
      return undefined;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.say(`Edit failed: ${msg}`, true);
      return msg;
    }
  }

  private relabel(label: string): Promise<void> {
    return this.review({ op: 'relabel', index: this.index, label });
  }

  /**
   * A person's decision on the record (relabel, accept, reject, review status). A record that was
   * waiting in the review queue leaves it, and the editor moves to the next one in the queue;
   * otherwise a relabel moves on when "Go to the next record" is on.
   */
  private async review(req: Extract<RequestParams<'edit'>, { op: 'relabel' | 'accept' | 'reject' | 'setReviewStatus' }>): Promise<void> {
    const at = this.index;
    const wasQueued = isQueued(this.current?.annotation);
    const failure = await this.edit(req);
    if (failure || this.index !== at) return;
    if (wasQueued && !isQueued(this.current?.annotation) && this.mode === 'record') {
      await this.queueStep(1, true);
      return;
    }
    if (req.op === 'relabel' && this.autoAdvance && at + 1 < (this.info?.lineCount ?? 0)) void this.go(at + 1);
  }

  /** Swaps a preference pair's chosen and rejected (one undoable edit). */
  private swapPair(): void {
    if (!this.current?.preference) this.say('This record is not a preference pair (it has no "chosen" and "rejected")');
    else void this.edit({ op: 'swapPreference', index: this.index });
  }

  private openRaw(): void {
    const r = this.current;
    if (!r) return;
    if (this.mode !== 'record') this.setMode('record');
    this.raw.show(r.index, r.lineNumber, r.raw);
  }

  // -------------------------------------------------------------------------------------------
  // Rendering

  private say(text: string, error = false): void {
    clearTimeout(this.statusTimer);
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
    if (!error) this.statusTimer = setTimeout(() => (this.status.textContent = ''), 4000);
  }

  private clearError(): void {
    if (this.status.classList.contains('error')) this.status.textContent = '';
  }

  private renderPosition(): void {
    const count = this.info?.lineCount ?? 0;
    const line = this.current?.lineNumber ?? 0;
    const more = this.info && !this.info.indexed ? '+' : '';
    this.position.textContent = count === 0 ? 'No records' : `Line ${line} of ${count}${more}`;
  }

  private render(): void {
    this.renderPosition();
    const r = this.current;
    if (!r) return;
    const hidden = new Set([...(r.annotation ? (r.annotationFields ?? DEFAULT_ANNOTATION_FIELDS) : []), ...(r.preference?.fields ?? [])]);
    // Keep an in-place edit open when the same record is refreshed underneath it.
    if (!(this.recordView.editing && this.recordView.index === r.index)) {
      this.recordView.render(r, {
        hidden,
        editable: !r.invalid && !r.lossy,
        setField: (key, value) => this.edit({ op: 'setField', index: r.index, path: [key], value }),
        refresh: () => this.render(),
      });
    }
    this.pair.render(r, !r.invalid && !r.lossy);
    this.panel.render(r, this.info, this.autoAdvance);
    this.queue.setCurrent(r.annotation);
    this.search.updatePosition();
  }

  private saveState(): void {
    const state: SavedState = {
      index: this.index,
      mode: this.mode,
      autoAdvance: this.autoAdvance,
      columns: this.list.selectedColumns,
      initToken: this.initToken,
      ...(this.goldField ? { goldField: this.goldField } : {}),
    };
    this.host.state = state;
  }
}
