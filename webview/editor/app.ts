// The curation editor's page: wires its views (toolbar.ts, the search bar, the record, list, stats,
// agreement and duplicates views, the help and raw-JSON dialogs) to the navigation state
// (navigator.ts) and to the host's events, and runs the actions of the key map (keys.ts). The page
// is built once; navigating only re-renders the record's fields and its annotation panel. The views
// the first record does not need (the list, stats, agreement, duplicates, raw JSON: late-views.ts)
// come from a script of their own once it is on screen; until then what they would show waits.
import type {
  DocumentInfo,
  EditIntent,
  HostEvent,
  RecordPayload,
  SearchQuery,
  ViewMode,
} from '../../src/shared/protocol';
import type { AgreementView } from './agreement-view';
import type { DuplicatesView } from './duplicates-view';
import { ReviewQueueBar, isQueued } from './review-queue';
import { AnnotationPanel } from './annotation-panel';
import { QuestionsView } from './questions-view';
import { el, isTypingTarget } from './dom';
import { HelpOverlay } from './help-overlay';
import { sourceName } from './label-sources';
import { helpRows, keyMap, type ActionId, type KeyMap } from './keys';
import type { ListView } from './list-view';
import { PreferenceView } from './preference-view';
import { loadViews, type LateViews } from './protocol-loader';
import type { RawEditor } from './raw-editor';
import { RecordNavigator } from './navigator';
import { RecordView } from './record-view';
import { HostError, type HostConnection } from './rpc';
import { SearchBar } from './search-bar';
import type { StatsView } from './stats-view';
import { Toolbar } from './toolbar';

type Mode = ViewMode;

/** A job's results wait until the keys have been quiet this long (see onEvent)... */
const KEY_QUIET_MS = 250;
/** ...but no longer than this in all. */
const BACKGROUND_WAIT_MS = 1000;

/** Said when a revert or a reload from disk dropped what was typed and not yet sent. */
const REVERTED_TYPING = 'The file was reverted: what you had typed and not yet sent was dropped';

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
  if (Array.isArray(s.columns) && s.columns.length <= 20 && s.columns.every((c) => typeof c === 'string'))
    out.columns = s.columns;
  if (typeof s.initToken === 'string') out.initToken = s.initToken;
  return out;
}

/** The model suggestion with the highest score (first on ties; no score counts as -1), as the core's topModel. */
function topModel<T extends { type: string; score?: number }>(list: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const s of list) if (s.type === 'model' && (!best || (s.score ?? -1) > (best.score ?? -1))) best = s;
  return best;
}

/** Save and Save As (Ctrl+S, Cmd+S, with Shift). */
function isSaveKey(e: KeyboardEvent): boolean {
  return (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's';
}

/** The views built once views.js has loaded (see the file's comment). */
interface Late {
  list: ListView;
  stats: StatsView;
  agreement: AgreementView;
  duplicates: DuplicatesView;
  raw: RawEditor;
}

/** The top-level keys the annotation panel shows, when the host does not say which they are. */
const DEFAULT_ANNOTATION_FIELDS = ['label', 'rationale', 'judge', 'judges', 'annotations'];

export class EditorApp {
  private readonly nav: RecordNavigator;
  private mode: Mode = 'record';
  private autoAdvance = false;
  private keys: KeyMap = keyMap();
  private shownAny = false;
  /** What the record view shows (the record, the label set): a refresh bringing the same is not rendered. */
  private renderedKey: string | undefined;
  /** When the last key press was handled (performance.now()). */
  private lastKeyAt = -Infinity;
  /** A job's `changed` not handled yet (see onEvent), and when the first one waiting arrived. */
  private background: { event: HostEvent; since: number; timer: ReturnType<typeof setTimeout> } | undefined;
  /** The document's content generation last heard of (init, changed): sent with each edit. */
  private generation: number | undefined;
  /** Whether the list's columns come from this webview's state (else from the host's memory of the file). */
  private readonly ownColumns: boolean;

  private readonly toolbar: Toolbar;
  private readonly content = el('main', { class: 'content' });
  private readonly recordLayout = el('div', { class: 'record-layout', 'data-testid': 'record-layout' });
  private readonly recordScroll = el('div', { class: 'record-scroll', tabindex: '-1' });
  private readonly recordView = new RecordView();
  private readonly pair = new PreferenceView({ swap: () => this.swapPair() });
  private readonly panel: AnnotationPanel;
  private readonly questions: QuestionsView;
  private readonly search: SearchBar;
  private readonly queue: ReviewQueueBar;
  private goldField: string | undefined;
  private readonly help = new HelpOverlay();
  /** The late views, once built; `views()` loads them. */
  private late: Late | undefined;
  private lateLoading: Promise<Late | undefined> | undefined;
  /** The list's columns until the list is built (this webview's state, else the host's memory). */
  private columns: string[] | undefined;
  /** The search's matches until the list is built. */
  private matches: ReadonlySet<number> = new Set();

  private get info(): DocumentInfo | undefined {
    return this.nav.info;
  }
  private get index(): number {
    return this.nav.index;
  }
  private get current(): RecordPayload | undefined {
    return this.nav.current;
  }

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostConnection,
    private readonly initToken?: string,
  ) {
    this.nav = new RecordNavigator(host, {
      show: (r, how) => {
        if (!this.shownAny) performance.mark('dc:first-record');
        this.shownAny = true;
        if (how.other) this.host.notify({ kind: 'notify', type: 'current', index: r.index });
        this.saveState();
        // A refresh (a job's results landing elsewhere in the file) that brings the same record
        // with the same labels leaves the page as it is: re-rendering it would only delay the keys.
        if (how.refresh && !how.moved && this.renderKey(r) === this.renderedKey) {
          this.renderPosition();
          return;
        }
        this.render();
        if (how.moved && !how.refresh) this.toolbar.clearError();
      },
      empty: () => {
        this.renderedKey = undefined;
        this.renderPosition();
        this.recordView.element.replaceChildren(
          el('p', { class: 'empty' }, this.info?.indexed === false ? 'Reading the file…' : 'This file has no lines.'),
        );
        this.panel.render(undefined, this.info, this.autoAdvance);
        this.pair.render(undefined, false);
      },
      loading: (on) => this.recordLayout.classList.toggle('loading', on),
      error: (message) => this.say(message, true),
    });
    const state = readSavedState(host.state);
    this.ownColumns = !!state.columns?.length;
    this.nav.index = state.index ?? 0;
    this.autoAdvance = state.autoAdvance ?? false;
    this.goldField = state.goldField;

    this.questions = new QuestionsView({
      edit: (req) => this.edit({ ...req, index: this.index }),
      accept: (question, position) => void this.review({ op: 'accept', index: this.index, question, position }),
      reject: (question) => void this.review({ op: 'reject', index: this.index, question }),
      say: (text, error) => this.say(text, error),
      recordElement: () => this.recordView.element,
      leave: () => this.focusContent(),
    });
    this.panel = new AnnotationPanel(
      {
        relabel: (label) => void this.relabel(label),
        accept: (question, position) => void this.review({ op: 'accept', index: this.index, question, position }),
        reject: (question) => void this.review({ op: 'reject', index: this.index, question }),
        setReviewStatus: (status) => void this.review({ op: 'setReviewStatus', index: this.index, status }),
        editRaw: () => this.openRaw(),
        setAutoAdvance: (on) => {
          this.autoAdvance = on;
          this.saveState();
        },
      },
      this.questions,
    );
    this.columns = state.columns;
    this.search = new SearchBar(host, {
      currentIndex: () => this.index,
      lineCount: () => this.info?.lineCount ?? 0,
      goTo: (index) => void this.navigate(index),
      matchesChanged: (m) => {
        this.matches = m;
        this.late?.list.setMatches(m, this.search.activeQuery);
      },
      message: (t) => this.say(t),
    });
    this.queue = new ReviewQueueBar(host, () => void this.queueStep(1));

    this.toolbar = new Toolbar(
      {
        step: (delta) => this.step(delta),
        setMode: (mode) => this.setMode(mode),
        help: () => this.help.show(),
        gotoLine: (n) => {
          const count = this.info?.lineCount ?? 0;
          if (n === undefined) {
            this.say('Type a line number');
            return;
          }
          if (n > count && count > 0)
            this.say(
              `There is no line ${n}: the file has ${count}${this.info?.indexed === false ? ' so far' : ''}; this is the last`,
            );
          void this.navigate(n - 1);
        },
        gotoClosed: (refocus) => refocus && this.focusContent(),
      },
      this.queue.element,
    );
    this.setKeys({});
    this.recordScroll.append(this.pair.element, this.recordView.element);
    this.recordLayout.append(this.recordScroll, this.panel.element);
    this.content.append(this.recordLayout);
    this.root.append(this.toolbar.element, this.search.element, this.content, this.help.element);

    // The record's focus (for the keys that scroll it) waits for the first frame: focus() forces a
    // style and layout pass, here before the first record is even in the page (docs/performance.md).
    this.setMode(state.mode ?? 'record', false, false);
    requestAnimationFrame(() => {
      const active = document.activeElement;
      if (this.mode === 'record' && (!active || active === document.body)) this.focusContent();
    });
    window.addEventListener('keydown', (e) => this.onKey(e));
    // Ctrl+S / Cmd+S: what is typed in a box is sent before VS Code's save (capture: first of all).
    window.addEventListener('keydown', (e) => isSaveKey(e) && this.flushInputs(), true);
    host.notify({ kind: 'notify', type: 'ready', index: this.index });
    void this.views();
  }

  /** The late views: built once views.js has loaded (after the first record is on screen). */
  private views(): Promise<Late | undefined> {
    this.lateLoading ??= loadViews().then(
      (v) => this.buildViews(v),
      (err: unknown) => {
        this.lateLoading = undefined;
        this.say(`The list, statistics and reports did not load: ${String(err)}`, true);
        return undefined;
      },
    );
    return this.lateLoading;
  }

  /** Builds the late views, once (views() keeps the promise; it is dropped only if the load failed). */
  private buildViews(v: LateViews): Late {
    const host = this.host;
    const list = new v.ListView(
      host,
      {
        open: (index) => {
          this.setMode('record');
          void this.go(index);
        },
        select: (index) => {
          this.nav.index = index;
          this.saveState();
        },
        columnsChanged: (columns) => {
          this.saveState();
          host.notify({ kind: 'notify', type: 'columns', columns });
        },
        message: (t) => this.say(t),
      },
      this.columns,
    );
    const stats = new v.StatsView(host, () => {
      this.search.showJudgesDisagree();
      this.setMode('list');
    });
    const agreement = new v.AgreementView(
      host,
      {
        optionsChanged: (o) => {
          this.goldField = o.goldField;
          this.saveState();
        },
        openCell: (reference, prediction, referenceLabel, predictionLabel, question) =>
          void this.openCell(
            { agreementCell: { question, reference, prediction, referenceLabel, predictionLabel } },
            `${sourceName(reference)}: ${referenceLabel} · ${sourceName(prediction)}: ${predictionLabel}`,
          ),
      },
      this.goldField ? { goldField: this.goldField } : {},
    );
    const duplicates = new v.DuplicatesView(host, {
      open: (index) => {
        this.setMode('record');
        void this.go(index);
      },
      message: (t, error) => this.say(t, error),
    });
    const raw = new v.RawEditor((index, text) => this.edit({ op: 'replaceRaw', index, raw: text }));
    const late: Late = { list, stats, agreement, duplicates, raw };
    this.late = late;
    for (const view of [list, stats, agreement, duplicates]) view.element.hidden = true;
    this.content.append(list.element, stats.element, agreement.element, duplicates.element);
    this.root.append(raw.element);
    if (this.info) list.setInfo(this.info);
    if (this.matches.size) list.setMatches(this.matches, this.search.activeQuery);
    // A mode chosen before they were here (the page's saved state, a key, the host's `show`).
    if (this.mode !== 'record') this.showMode();
    return late;
  }

  // -------------------------------------------------------------------------------------------
  // Events

  onEvent(e: HostEvent): void {
    if (e.type === 'flush') {
      // The host saves next: what is typed goes first (its edits are posted before this answer).
      this.flushInputs();
      this.host.notify({ kind: 'notify', type: 'flushed', id: e.id });
      return;
    }
    if (e.type === 'show') {
      this.setMode(e.mode);
      this.host.notify({ kind: 'notify', type: 'mode', mode: e.mode }); // the host's request is done
      if (e.focus !== undefined) void this.navigate(e.focus);
      if (e.mode === 'record') this.queue.refresh(0, true);
      return;
    }
    if (e.type === 'keys') {
      this.setKeys(e.keys);
      return;
    }
    this.noteGeneration(e.generation);
    // A job's results (a `changed` at most every 200 ms for as long as it runs) wait while keys are
    // being pressed, the latest standing for those before it: the key's record is drawn first
    // (from the cache, marked stale), the refresh after. At most BACKGROUND_WAIT_MS.
    if (
      e.type === 'changed' &&
      e.background &&
      e.edited === undefined &&
      e.focus === undefined &&
      // not the index completing or growing (what the list and the position count changes)
      e.info.indexed &&
      this.info?.indexed === true
    ) {
      const now = performance.now();
      const since = this.background?.since ?? now;
      if (this.background) clearTimeout(this.background.timer);
      const wait = Math.min(this.lastKeyAt + KEY_QUIET_MS - now, since + BACKGROUND_WAIT_MS - now);
      if (wait > 0) {
        this.background = { event: e, since, timer: setTimeout(() => this.flushBackground(), wait) };
        return;
      }
      this.background = undefined;
    } else if (e.type === 'changed' && this.background) {
      // Anything else that changed goes now, and stands for the job's results too.
      clearTimeout(this.background.timer);
      this.background = undefined;
    }
    this.setInfo(e.info);
    if (e.type === 'init') {
      performance.mark('dc:init');
      if (e.keys) this.setKeys(e.keys);
      if (e.listColumns && !this.ownColumns) {
        this.columns = e.listColumns;
        this.late?.list.setColumns(e.listColumns);
      }
      const late = this.late;
      if (late) {
        if (this.mode === 'list') late.list.show(this.nav.clamp(this.index));
        if (this.mode === 'stats') void late.stats.load();
        if (this.mode === 'agreement') void late.agreement.load();
        if (this.mode === 'duplicates') void late.duplicates.load();
      }
      this.queue.refresh(0);
      this.nav.restart(e.record);
      return;
    }
    // What is derived from the whole file (rows, figures, matches) is out of date.
    const late = this.late;
    if (late) {
      late.list.invalidate();
      late.stats.invalidate();
      if (this.mode === 'stats') void late.stats.load();
      late.agreement.invalidate(this.mode === 'agreement');
      late.duplicates.invalidate(this.mode === 'duplicates');
    }
    this.search.refresh();
    // This page's own edit: it has the edited record (the edit's answer) and nothing else changed.
    if (e.edited !== undefined) return;
    // A job's results (background): what is cached is stale, still shown at once and fetched again;
    // anything else (the person's own edits elsewhere, undo, save, revert, a reload): dropped.
    if (e.background) this.nav.cache.markStale();
    else this.nav.cache.clear();
    this.queue.refresh();
    if (e.focus !== undefined) void this.navigate(e.focus);
    else this.nav.refresh();
  }

  private flushBackground(): void {
    const b = this.background;
    if (!b) return;
    this.background = undefined;
    // Keys pressed since it was put off: wait again (up to BACKGROUND_WAIT_MS in all).
    const now = performance.now();
    const wait = Math.min(this.lastKeyAt + KEY_QUIET_MS - now, b.since + BACKGROUND_WAIT_MS - now);
    if (wait > 0) {
      this.background = { ...b, timer: setTimeout(() => this.flushBackground(), wait) };
      return;
    }
    this.onEvent(b.event);
  }

  private setInfo(info: DocumentInfo): void {
    this.nav.info = info;
    this.late?.list.setInfo(info);
    this.search.setLabels(info.labels);
    this.toolbar.setInfo(info);
    this.renderPosition();
  }

  // -------------------------------------------------------------------------------------------
  // Keys: the key map (keys.ts) names the action, this table runs it (false: not here, let it be).

  private setKeys(overrides: Record<string, string>): void {
    this.keys = keyMap(overrides);
    for (const p of this.keys.problems)
      this.host.notify({ kind: 'notify', type: 'log', level: 'warn', message: `datasetCurator.editor.keys: ${p}` });
    const keys = this.keys;
    this.help.render(() => helpRows(keys));
    this.toolbar.setKeys(this.keys);
  }

  private onKey(e: KeyboardEvent): void {
    if (this.help.open || this.late?.raw.open) return; // the dialogs handle their own keys
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
    this.lastKeyAt = performance.now();
    const action = this.keys.action(e.key);
    if (action && this.actions[action]()) e.preventDefault();
  }

  private readonly actions: Record<ActionId, () => boolean> = {
    help: () => (this.help.show(), true),
    search: () => (this.search.focus(), true),
    goto: () => (this.toolbar.showGoto(this.info?.lineCount), true),
    toggleList: () => (this.setMode(this.mode === 'list' ? 'record' : 'list'), true),
    toggleStats: () => (this.setMode(this.mode === 'stats' ? 'record' : 'stats'), true),
    toggleAgreement: () => (this.setMode(this.mode === 'agreement' ? 'record' : 'agreement'), true),
    toggleDuplicates: () => (this.setMode(this.mode === 'duplicates' ? 'record' : 'duplicates'), true),
    onlyMatches: () => {
      const list = this.mode === 'list';
      const on = !(list && this.late?.list.onlyMatches);
      if (!list) this.setMode('list');
      // A search just changed (a label picked, a word typed) is the one to list.
      void Promise.all([this.search.settle(), this.views()]).then(([, late]) => late?.list.setOnlyMatches(on));
      return true;
    },
    queueNext: () => (void this.queueStep(1), true),
    queuePrevious: () => (void this.queueStep(-1), true),
    back: () => this.mode !== 'record' && (this.setMode('record'), true),
    next: () => (this.step(1), true),
    previous: () => (this.step(-1), true),
    nextInView: () => this.mode === 'record' && (this.step(1), true),
    previousInView: () => this.mode === 'record' && (this.step(-1), true),
    pageDown: () => this.mode === 'list' && (this.step(this.late?.list.pageSize() ?? 0), true),
    pageUp: () => this.mode === 'list' && (this.step(-(this.late?.list.pageSize() ?? 0)), true),
    first: () => (this.mode === 'list' ? this.late?.list.first() : void this.navigate(0), true),
    last: () => (
      this.mode === 'list' ? this.late?.list.last() : void this.navigate(Math.max(0, (this.info?.lineCount ?? 0) - 1)),
      true
    ),
    openRow: () => this.mode === 'list' && (void this.late?.list.openSelected(), true),
    nextUnreviewed: () => (void this.findNext({ reviewStatus: 'pending' }, 'unreviewed record'), true),
    nextInvalid: () => (void this.findNext({ invalid: true }, 'invalid line'), true),
    editRaw: () => (this.openRaw(), true),
    nextQuestion: () => this.mode === 'record' && this.questions.focusStep(1),
    previousQuestion: () => this.mode === 'record' && this.questions.focusStep(-1),
    moveUp: () => this.mode === 'record' && this.questions.move(-1),
    moveDown: () => this.mode === 'record' && this.questions.move(1),
    accept: () => {
      const q = this.mode === 'record' ? this.questions.focused : undefined;
      if (q) {
        const top = topModel(q.suggestions);
        if (!top) this.say(`${q.question.name} has no model suggestion to accept`);
        else void this.review({ op: 'accept', index: this.index, question: q.question.name, position: top.position });
        return true;
      }
      const s = this.current?.annotation?.suggestions.find((x) => x.type === 'model' && x.question === 'label');
      if (!s) this.say('This record has no model suggestion to accept');
      else void this.review({ op: 'accept', index: this.index, question: s.question, position: s.position });
      return true;
    },
    reject: () => {
      const q = this.mode === 'record' ? this.questions.focused : undefined;
      if (q) {
        if (!q.suggestions.some((x) => x.type === 'model'))
          this.say(`${q.question.name} has no model suggestion to reject`);
        else void this.review({ op: 'reject', index: this.index, question: q.question.name });
        return true;
      }
      const s = this.current?.annotation?.suggestions.find((x) => x.type === 'model' && x.question === 'label');
      if (!s) this.say('This record has no model suggestion to reject');
      else void this.review({ op: 'reject', index: this.index, question: s.question });
      return true;
    },
    swap: () => this.mode === 'record' && (this.swapPair(), true),
    relabel1: () => this.relabelNth(1),
    relabel2: () => this.relabelNth(2),
    relabel3: () => this.relabelNth(3),
    relabel4: () => this.relabelNth(4),
    relabel5: () => this.relabelNth(5),
    relabel6: () => this.relabelNth(6),
    relabel7: () => this.relabelNth(7),
    relabel8: () => this.relabelNth(8),
    relabel9: () => this.relabelNth(9),
  };

  private relabelNth(n: number): boolean {
    // A focused declared question takes the number keys (toggle, rate, candidate, span label).
    if (this.mode === 'record' && this.questions.digit(n)) return true;
    const label = this.info?.labels[n - 1];
    if (label === undefined) this.say(`No label #${n}: the label set has ${this.info?.labels.length ?? 0}`);
    else void this.relabel(label);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Navigation

  private step(delta: number): void {
    if (this.mode === 'list') this.late?.list.move(delta);
    else void this.nav.go(this.nav.from + delta);
  }

  /** Goes to a record in the current mode (list: selects its row); resolves once it is shown. */
  private async navigate(index: number): Promise<void> {
    if (this.mode === 'list') {
      // (before the list is built: the row it will show selected)
      if (this.late) this.late.list.select(this.nav.clamp(index));
      else this.nav.index = this.nav.clamp(index);
      this.search.updatePosition();
    } else {
      if (this.mode !== 'record') this.setMode('record');
      await this.nav.go(index);
    }
  }

  /** Shows the record at `index` (clamped). */
  go(index: number): Promise<void> {
    return this.nav.go(index);
  }

  /** Goes to the next (or previous) record matching `query`, wrapping around; resolves with it, if any. */
  private async findNext(
    query: SearchQuery,
    what: string,
    direction: 1 | -1 = 1,
    none = `No ${what}s`,
  ): Promise<number | undefined> {
    const count = this.info?.lineCount ?? 0;
    if (count === 0) {
      this.say(none);
      return undefined;
    }
    const here = this.mode === 'list' ? (this.late?.list.selectedIndex ?? this.index) : this.index;
    try {
      // The host's scan wraps around the end of the file.
      const from = (here + direction + count) % count;
      const found = (
        await this.host.request('search', {
          query,
          from,
          direction: direction === 1 ? 'forward' : 'backward',
          limit: 1,
        })
      ).matches[0];
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
      if (direction === 1 ? found < here : found > here)
        this.say(`Wrapped to the ${direction === 1 ? 'first' : 'last'} ${what}`);
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
    return this.findNext(
      { inQueue: true },
      'record in the review queue',
      direction,
      afterReview
        ? 'Review queue done: no record left in it'
        : 'The review queue is empty (Send Low-Confidence Records to Review… fills it)',
    );
  }

  /** Opens the records of a confusion-matrix cell: a search for them, the first one on screen. */
  private async openCell(query: SearchQuery, description: string): Promise<void> {
    this.setMode('record');
    await this.search.pin(query, description);
    const first = this.search.firstMatch;
    if (first === undefined) this.say('No record in this cell any more');
    else void this.go(first);
  }

  private setMode(mode: Mode, save = true, focus = true): void {
    this.toolbar.setMode(mode);
    const changed = this.mode !== mode || !save;
    this.mode = mode;
    this.showMode();
    if (changed) this.host.notify({ kind: 'notify', type: 'mode', mode });
    if (mode === 'record' && this.current && this.current.index !== this.index) void this.go(this.index);
    if (mode === 'record' && focus) this.focusContent();
    if (save) this.saveState();
  }

  /** Shows the mode's view (the record's, or a late one: built first if it is not yet). */
  private showMode(): void {
    const mode = this.mode;
    this.recordLayout.hidden = mode !== 'record';
    const late = this.late;
    if (!late) {
      if (mode !== 'record') void this.views();
      return;
    }
    late.list.element.hidden = mode !== 'list';
    late.stats.element.hidden = mode !== 'stats';
    late.agreement.element.hidden = mode !== 'agreement';
    late.duplicates.element.hidden = mode !== 'duplicates';
    if (mode === 'list') late.list.show(this.index);
    else late.list.hide();
    if (mode === 'stats') void late.stats.load();
    if (mode === 'agreement') void late.agreement.load();
    if (mode === 'duplicates') void late.duplicates.load();
  }

  private focusContent(): void {
    if (this.mode === 'list')
      this.late?.list.element.querySelector<HTMLElement>('.list-viewport')?.focus({ preventScroll: true });
    else this.recordScroll.focus({ preventScroll: true });
  }

  // -------------------------------------------------------------------------------------------
  // Edits

  /** Sends what is typed and not yet sent: a question's text answer, a field edited in place, the raw-JSON dialog's text. */
  private flushInputs(): void {
    this.questions.flush();
    this.recordView.flush();
    this.late?.raw.flush();
  }

  /**
   * A new content generation: the file was reverted or reloaded from disk. What is typed and not
   * yet sent was typed against the content that is gone: dropped, not sent later (the host would
   * refuse it anyway: see the protocol's Generation).
   */
  private noteGeneration(generation: number): void {
    const was = this.generation;
    this.generation = generation;
    if (was === undefined || was === generation) return;
    const dropped = [this.questions.discard(), this.recordView.discard(), this.late?.raw.discard()].some(Boolean);
    if (dropped) this.say(REVERTED_TYPING);
  }

  /** Sends an edit; renders the updated record. Resolves with an error message on failure. */
  private async edit(req: EditIntent): Promise<string | undefined> {
    const r = this.current;
    if (!r || r.index !== req.index) return 'No record';
    if (req.op !== 'replaceRaw' && (r.invalid || r.lossy)) {
      const key = this.keys.keysOf('editRaw')[0];
      const msg = r.invalid
        ? `This line is not a valid record: edit its raw JSON${key ? ` (${key})` : ''}`
        : `Structured edits are off for this record: ${r.lossy?.reason ?? ''}`;
      this.say(msg, true);
      return msg;
    }
    try {
      // The answer is the edited record; the host's `changed` for it says `edited` (no refetch).
      const updated = await this.host.request('edit', { ...req, generation: this.generation ?? 0 });
      this.nav.replaced(updated);
      if (updated.index === this.index) this.render();
      if (isQueued(r.annotation) !== isQueued(updated.annotation)) this.queue.refresh();
      return undefined;
    } catch (err) {
      if (err instanceof HostError && err.code === 'stale') {
        // Sent before the page heard of a revert: dropped, as what is still in the boxes was.
        this.say(REVERTED_TYPING);
        return err.message;
      }
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
  private async review(
    req: Extract<EditIntent, { op: 'relabel' | 'accept' | 'reject' | 'setReviewStatus' }>,
  ): Promise<void> {
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
    // (the dialog is a late view: on a key pressed before it is here, it opens once it is)
    void this.views().then((late) => {
      if (late && this.current?.index === r.index) late.raw.show(r.index, r.lineNumber, r.raw);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Rendering

  private say(text: string, error = false): void {
    this.toolbar.say(text, error);
  }

  private renderPosition(): void {
    this.toolbar.renderPosition(this.info, this.current?.lineNumber ?? 0);
  }

  /** What render() draws from: the record, the label set, the questions' state. */
  private renderKey(r: RecordPayload): string {
    return JSON.stringify([r, this.info?.labels, this.info?.questionsError, this.autoAdvance]);
  }

  private render(): void {
    this.renderPosition();
    const r = this.current;
    this.renderedKey = r && this.renderKey(r);
    if (!r) return;
    const hidden = new Set([
      ...(r.annotation ? (r.annotationFields ?? DEFAULT_ANNOTATION_FIELDS) : []),
      ...(r.preference?.fields ?? []),
    ]);
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
      columns: this.late?.list.selectedColumns ?? this.columns,
      initToken: this.initToken,
      ...(this.goldField ? { goldField: this.goldField } : {}),
    };
    this.host.state = state;
  }
}
