// The keyboard shortcuts overlay (`?`), closed with Escape: the key map's table, with the keys in
// effect (the datasetCurator.editor.keys setting's).
import { el, kbd, restoreFocus, vsButton } from './dom';
import type { HelpRow } from './keys';

export class HelpOverlay {
  readonly element = el('div', { class: 'overlay', hidden: '', 'data-testid': 'help' });
  private returnFocus: HTMLElement | null = null;

  private readonly groups = el('div', { class: 'keys-groups' });

  constructor() {
    const close = vsButton(
      { secondary: '', icon: 'close', 'data-testid': 'help-close', 'aria-label': 'Close help' },
      'Close',
    );
    close.addEventListener('click', () => this.hide());
    const dialog = el(
      'div',
      {
        class: 'dialog help-dialog',
        role: 'dialog',
        'aria-modal': 'true',
        'aria-labelledby': 'help-title',
        tabindex: '-1',
      },
      el('div', { class: 'dialog-head' }, el('h2', { id: 'help-title' }, 'Keyboard shortcuts'), close),
      this.groups,
      el(
        'p',
        { class: 'meta' },
        'Keys do nothing while you type in a text box. Undo, redo and save are VS Code’s. The one-letter keys can be changed or turned off: setting datasetCurator.editor.keys.',
      ),
    );
    this.element.append(dialog);
    this.element.addEventListener('click', (e) => {
      if (e.target === this.element) this.hide();
    });
    this.element.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.hide();
      }
    });
  }

  /** The rows to show (worked out when drawn), not yet drawn: see render. */
  private pending: (() => { group: string; items: HelpRow[] }[]) | undefined;

  /**
   * Shows these rows (the key map's, with the keys in effect); a row whose keys are all off says
   * so. Worked out and drawn when the page is idle (the page starts with them: not before its
   * first record is on screen), or at once when the overlay is open or opens.
   */
  render(rows: () => { group: string; items: HelpRow[] }[]): void {
    const first = this.pending === undefined;
    this.pending = rows;
    if (this.open) this.draw();
    else if (first) requestIdleCallback(() => this.draw(), { timeout: 1000 });
  }

  private draw(): void {
    const rows = this.pending;
    if (!rows) return;
    this.pending = undefined;
    this.groups.replaceChildren(
      ...rows().map((g) => {
        const table = el('table', { class: 'keys' });
        for (const item of g.items) {
          const keys = el('td', { class: 'keys-cell' });
          if (item.keys.length === 0) keys.append(el('span', { class: 'meta' }, 'off'));
          item.keys.forEach((k, i) => {
            if (i) keys.append(k === '…' || item.keys[i - 1] === '…' ? ' ' : ' / ');
            keys.append(k === '…' ? '…' : kbd(k));
          });
          table.append(el('tr', { 'data-action': item.what }, keys, el('td', {}, item.what)));
        }
        return el('section', { class: 'keys-group' }, el('h3', {}, g.group), table);
      }),
    );
  }

  get open(): boolean {
    return !this.element.hidden;
  }

  show(): void {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.draw();
    this.element.hidden = false;
    this.element.querySelector<HTMLElement>('.dialog')?.focus();
  }

  hide(): void {
    this.element.hidden = true;
    restoreFocus(this.element, this.returnFocus);
  }
}
