// The curation editor's toolbar: previous / next, the position and the go-to-line box, the view
// tabs, the review queue's bar, the unsaved and indexing marks, the status line and the help button.
// Key names in titles come from the key map, so a rebound key is what the tooltips say.
import type { DocumentInfo, ViewMode } from '../../src/shared/protocol';
import { el, icon, vsButton } from './dom';
import type { ActionId, KeyMap } from './keys';

export interface ToolbarActions {
  step(delta: 1 | -1): void;
  setMode(mode: ViewMode): void;
  help(): void;
  /** A line number typed in the go-to box (1-based), or undefined for something else. */
  gotoLine(line: number | undefined): void;
  /** The go-to box closed: focus goes back to the content (unless it went elsewhere). */
  gotoClosed(refocus: boolean): void;
}

const TABS: { mode: ViewMode; label: string; icon: string; key: ActionId }[] = [
  { mode: 'record', label: 'Record', icon: 'file', key: 'toggleList' },
  { mode: 'list', label: 'List', icon: 'list-flat', key: 'toggleList' },
  { mode: 'stats', label: 'Stats', icon: 'graph', key: 'toggleStats' },
  { mode: 'agreement', label: 'Agreement', icon: 'pulse', key: 'toggleAgreement' },
  { mode: 'duplicates', label: 'Duplicates', icon: 'copy', key: 'toggleDuplicates' },
];

export class Toolbar {
  readonly element: HTMLElement;
  private readonly position = el('span', { class: 'position', 'data-testid': 'position', 'aria-live': 'polite' });
  private readonly status = el('span', { class: 'status', 'data-testid': 'status', role: 'status' });
  private readonly dirty = el(
    'span',
    { class: 'dirty', 'data-testid': 'dirty', hidden: '', title: 'Unsaved changes (Ctrl+S saves)' },
    icon('circle-filled'),
    ' Unsaved',
  );
  private readonly indexing = el(
    'span',
    { class: 'meta', 'data-testid': 'indexing', hidden: '' },
    icon('loading', 'codicon-modifier-spin'),
    ' Indexing…',
  );
  private readonly gotoBox = el('vscode-textfield', {
    type: 'number',
    min: '1',
    placeholder: 'Line',
    'aria-label': 'Go to line',
    'data-testid': 'goto-input',
    class: 'goto',
    hidden: '',
  });
  private readonly prev = vsButton({ secondary: '', icon: 'arrow-up', 'data-testid': 'prev' }, 'Previous');
  private readonly next = vsButton({ icon: 'arrow-down', 'data-testid': 'next' }, 'Next');
  private readonly tabs: Record<ViewMode, HTMLButtonElement>;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly actions: ToolbarActions,
    queueBar: HTMLElement,
  ) {
    this.prev.addEventListener('click', () => actions.step(-1));
    this.next.addEventListener('click', () => actions.step(1));
    const tabs = {} as Record<ViewMode, HTMLButtonElement>;
    for (const t of TABS) {
      const b = el(
        'button',
        { type: 'button', role: 'tab', class: 'tab', 'data-testid': `mode-${t.mode}` },
        icon(t.icon),
        ` ${t.label}`,
      );
      b.addEventListener('click', () => actions.setMode(t.mode));
      tabs[t.mode] = b;
    }
    this.tabs = tabs;
    const helpButton = el(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        'data-testid': 'help-button',
        'aria-label': 'Keyboard shortcuts (?)',
        title: 'Keyboard shortcuts (?)',
      },
      icon('keyboard'),
    );
    helpButton.addEventListener('click', () => actions.help());
    this.element = el(
      'header',
      { class: 'toolbar' },
      this.prev,
      this.next,
      this.position,
      this.gotoBox,
      el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'View' }, ...TABS.map((t) => tabs[t.mode])),
      queueBar,
      this.dirty,
      this.indexing,
      this.status,
      helpButton,
    );
    this.gotoBox.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const n = Number(this.gotoBox.value);
        this.hideGoto();
        actions.gotoLine(Number.isInteger(n) && n >= 1 ? n : undefined);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.hideGoto();
      }
    });
    this.gotoBox.addEventListener('blur', () => setTimeout(() => this.hideGoto(false), 0));
  }

  /** Titles name the keys in effect. */
  setKeys(keys: KeyMap): void {
    const name = (id: ActionId) => keys.keysOf(id)[0];
    const titled = (what: string, id: ActionId) => (name(id) ? `${what} (${name(id)})` : what);
    this.prev.title = titled('Previous record', 'previous');
    this.next.title = titled('Next record', 'next');
    for (const t of TABS) this.tabs[t.mode].title = titled(t.label, t.key);
  }

  setMode(mode: ViewMode): void {
    for (const [m, b] of Object.entries(this.tabs)) {
      b.setAttribute('aria-selected', m === mode ? 'true' : 'false');
      b.tabIndex = m === mode ? 0 : -1;
    }
  }

  setInfo(info: DocumentInfo): void {
    this.dirty.hidden = !info.dirty;
    this.indexing.hidden = info.indexed;
  }

  renderPosition(info: DocumentInfo | undefined, lineNumber: number): void {
    const count = info?.lineCount ?? 0;
    const more = info && !info.indexed ? '+' : '';
    const text = count === 0 ? 'No records' : `Line ${lineNumber} of ${count}${more}`;
    // Set on every `changed` too (a job's results): unchanged text is not set again (no relayout).
    if (this.position.textContent !== text) this.position.textContent = text;
  }

  say(text: string, error = false): void {
    clearTimeout(this.statusTimer);
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
    if (!error) this.statusTimer = setTimeout(() => (this.status.textContent = ''), 4000);
  }

  clearError(): void {
    if (this.status.classList.contains('error')) this.status.textContent = '';
  }

  showGoto(max: number | undefined): void {
    this.gotoBox.hidden = false;
    this.gotoBox.value = '';
    this.gotoBox.max = max;
    this.gotoBox.focus();
  }

  private hideGoto(refocus = true): void {
    if (this.gotoBox.hidden) return;
    this.gotoBox.hidden = true;
    this.actions.gotoClosed(refocus);
  }
}
