// A preference record (distilabel's DPO columns: prompt, chosen, rejected, with ratings and
// models) as the prompt above two responses side by side. "Swap" (or the key x) exchanges chosen and
// rejected, with their ratings and models, as one undoable edit. All text is set as text.
import type { PreferenceView as Pair, RecordPayload } from '../../src/shared/protocol';
import { el, icon, vsButton } from './dom';

export interface PreferenceActions {
  swap(): void;
}

function side(kind: 'chosen' | 'rejected', s: Pair['chosen'], other: Pair['chosen']): HTMLElement {
  const better = s.rating !== undefined && other.rating !== undefined && s.rating > other.rating;
  const head = el(
    'div',
    { class: 'pair-head' },
    el(
      'span',
      { class: `pair-kind pair-${kind}` },
      icon(kind === 'chosen' ? 'thumbsup' : 'thumbsdown'),
      kind === 'chosen' ? ' Chosen' : ' Rejected',
    ),
    s.rating !== undefined
      ? el(
          'span',
          {
            class: `pair-rating${better ? ' pair-rating-best' : ''}`,
            'data-testid': `${kind}-rating`,
            'aria-label': `Rating ${s.rating}`,
          },
          String(s.rating),
        )
      : null,
    s.model !== undefined ? el('span', { class: 'meta pair-model', 'data-testid': `${kind}-model` }, s.model) : null,
  );
  return el(
    'div',
    { class: `pair-side pair-side-${kind}`, 'data-testid': kind },
    head,
    el('div', { class: 'pair-text', 'data-testid': `${kind}-text` }, s.text),
  );
}

export class PreferenceView {
  readonly element = el('section', {
    class: 'pair',
    'data-testid': 'preference',
    'aria-label': 'Preference pair',
    hidden: '',
  });

  constructor(private readonly actions: PreferenceActions) {}

  render(r: RecordPayload | undefined, editable: boolean): void {
    const p = r?.preference;
    this.element.hidden = !p;
    if (!p) {
      this.element.replaceChildren();
      return;
    }
    const swap = vsButton(
      { secondary: '', icon: 'arrow-swap', 'data-testid': 'swap', title: 'Swap chosen and rejected (x)' },
      'Swap',
    );
    if (!editable) swap.setAttribute('disabled', '');
    swap.addEventListener('click', () => this.actions.swap());
    const decision =
      p.human === 'swapped'
        ? el('span', { class: 'chip chip-status status-reviewed', 'data-testid': 'pair-human' }, 'swapped by you')
        : p.human === 'kept'
          ? el(
              'span',
              { class: 'chip chip-status status-reviewed', 'data-testid': 'pair-human' },
              "kept the judge's order",
            )
          : null;
    this.element.replaceChildren(
      el('div', { class: 'pair-toolbar' }, el('h2', { class: 'panel-title' }, 'Preference pair'), decision, swap),
      el(
        'div',
        { class: 'pair-prompt' },
        el('div', { class: 'field-name' }, 'Prompt'),
        el('div', { class: 'pair-text', 'data-testid': 'pair-prompt' }, p.prompt),
      ),
      el('div', { class: 'pair-sides' }, side('chosen', p.chosen, p.rejected), side('rejected', p.rejected, p.chosen)),
    );
  }
}
