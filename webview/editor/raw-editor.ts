// Edit the raw line as JSON: live validation with the error's message and position; Apply sends
// replaceRaw (a pretty-printed valid record is compacted back to one line first). A save (Ctrl+S,
// or the host's flush before it) applies the edited text first when it is valid JSON, as the
// text questions' boxes are sent; invalid JSON stays in the dialog, not applied, and says so.
import { el, icon, restoreFocus, vsButton } from './dom';
import { checkJson, describeProblem } from './json-check';

export class RawEditor {
  readonly element = el('div', { class: 'overlay', hidden: '', 'data-testid': 'raw-editor-dialog' });
  private readonly area = el('textarea', {
    class: 'raw-editor',
    'data-testid': 'raw-editor',
    spellcheck: 'false',
    'aria-label': 'Raw JSON of the line',
    'aria-describedby': 'raw-status',
  });
  private readonly status = el('div', {
    class: 'raw-status',
    id: 'raw-status',
    'data-testid': 'raw-error',
    role: 'status',
  });
  private readonly title = el('h2', { id: 'raw-title' });
  private readonly apply = vsButton(
    { icon: 'check', 'data-testid': 'raw-apply', title: 'Apply (Ctrl+Enter)' },
    'Apply',
  );
  private index = -1;
  private original = '';
  private returnFocus: HTMLElement | null = null;

  constructor(private readonly onApply: (index: number, raw: string) => Promise<string | undefined>) {
    const cancel = vsButton({ secondary: '', 'data-testid': 'raw-cancel' }, 'Cancel');
    const format = vsButton(
      {
        secondary: '',
        icon: 'json',
        'data-testid': 'raw-format',
        title: 'Pretty-print for editing (compacted again on Apply)',
      },
      'Format',
    );
    cancel.addEventListener('click', () => this.hide());
    format.addEventListener('click', () => {
      const c = checkJson(this.area.value);
      if (c.ok) {
        this.area.value = JSON.stringify(c.value, null, 2);
        this.validate();
      }
    });
    this.apply.addEventListener('click', () => void this.submit());
    this.area.addEventListener('input', () => this.validate());
    const dialog = el(
      'div',
      { class: 'dialog raw-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'raw-title' },
      el('div', { class: 'dialog-head' }, this.title),
      this.area,
      this.status,
      el(
        'div',
        { class: 'actions' },
        this.apply,
        format,
        cancel,
        el('span', { class: 'meta' }, 'Ctrl+Enter applies · Escape cancels'),
      ),
    );
    this.element.append(dialog);
    this.element.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.hide();
      } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        e.stopPropagation();
        void this.submit();
      }
    });
  }

  get open(): boolean {
    return !this.element.hidden;
  }

  show(index: number, lineNumber: number, raw: string): void {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.index = index;
    this.original = raw;
    this.title.textContent = `Raw JSON of line ${lineNumber}`;
    this.area.value = raw;
    this.element.hidden = false;
    this.validate();
    this.area.focus();
  }

  hide(): void {
    this.element.hidden = true;
    restoreFocus(this.element, this.returnFocus);
  }

  /** The text to send, or undefined when it cannot be one line. */
  private validate(): { send: string | undefined } {
    const text = this.area.value;
    const c = checkJson(text);
    this.status.classList.toggle('error', !c.ok);
    this.area.toggleAttribute('aria-invalid', !c.ok);
    if (c.ok) {
      const isObject = c.value !== null && typeof c.value === 'object' && !Array.isArray(c.value);
      this.status.replaceChildren(
        icon(isObject ? 'pass' : 'warning'),
        isObject ? ' Valid JSON' : ' Valid JSON, but not an object: the line will not be a record',
      );
      return { send: text.includes('\n') ? JSON.stringify(c.value) : text };
    }
    const multiLine = text.includes('\n');
    this.status.replaceChildren(
      icon('error'),
      ` ${describeProblem(c.problem)}`,
      multiLine
        ? ' — an invalid line cannot span several lines; fix it to apply'
        : ' — you can still apply it as an invalid line',
    );
    return { send: multiLine ? undefined : text };
  }

  /**
   * Before a save: applies the edited text if it is valid JSON (the edit is posted before this
   * returns, so it reaches the host before the save's `flushed`); invalid JSON is not applied and
   * the dialog stays open saying so. Nothing to do when the dialog is closed or the text unchanged.
   */
  flush(): void {
    if (!this.open || this.area.value === this.original || this.inFlight === this.area.value) return;
    const c = checkJson(this.area.value);
    if (c.ok) {
      void this.submit();
      return;
    }
    this.status.classList.add('error');
    this.area.setAttribute('aria-invalid', 'true');
    this.status.replaceChildren(
      icon('error'),
      ` Not applied: ${describeProblem(c.problem)} — the save went on without this line's edit; fix it and apply, or cancel`,
    );
  }

  /** Closes the dialog without applying (the file was reverted or reloaded); true if it was open with an edit. */
  discard(): boolean {
    if (!this.open) return false;
    const edited = this.area.value !== this.original;
    this.inFlight = undefined;
    this.hide();
    return edited;
  }

  /** The text being applied (sent, not answered yet): not sent twice. */
  private inFlight: string | undefined;

  private async submit(): Promise<void> {
    const { send } = this.validate();
    if (send === undefined) return;
    if (send === this.original) {
      this.hide();
      return;
    }
    const text = this.area.value;
    this.inFlight = text;
    this.apply.setAttribute('disabled', '');
    const failure = await this.onApply(this.index, send);
    this.apply.removeAttribute('disabled');
    if (this.inFlight !== text) return; // discarded meanwhile
    this.inFlight = undefined;
    if (failure) {
      this.status.classList.add('error');
      this.status.replaceChildren(icon('error'), ` ${failure}`);
    } else this.hide();
  }
}
