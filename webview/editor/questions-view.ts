// The dataset's declared questions in the annotation panel (docs/questions.md): each question with
// the person's decision beside every model's suggestion, accept per suggestion and reject per
// question, and the input of its type: label buttons, multi-label toggles, a rating scale, a
// ranking's candidates moved up and down, a text answer (sent after a pause, when left, on save),
// spans from a selection in the record's text field with a label picker and a list per question
// (several span questions on one field: a colour each, and a legend). One question
// has the keyboard's focus (`]` / `[`): the number keys act on it. The values are worked out by
// the host (src/core/session/questions.ts); this view only says what the person did. Every text
// from the record or a model is set as text.
import type { EditIntent, QuestionAnswersView, RecordPayload } from '../../src/shared/protocol';
import { type Child, el, formatPercent, icon, vsButton } from './dom';

type QView = QuestionAnswersView;
type Question = QView['question'];
export type QuestionEditRequest = Extract<
  EditIntent,
  { op: 'answer' | 'clearAnswer' | 'toggleLabel' | 'moveCandidate' | 'addSpan' | 'removeSpan' }
>;
/** What a question edit needs besides the record's index. */
type Intent = QuestionEditRequest extends infer R ? (R extends unknown ? Omit<R, 'index'> : never) : never;

export interface QuestionActions {
  /** Sends a question edit for the record shown; resolves with an error message, or undefined on success. */
  edit(req: Intent): Promise<string | undefined>;
  accept(question: string, position: number): void;
  reject(question: string): void;
  say(text: string, error?: boolean): void;
  /** The record's fields (a span question's text is selected there). */
  recordElement(): HTMLElement;
  /** Gives the keyboard back to the record (after leaving a text answer). */
  leave(): void;
}

/** A text answer is sent after this long without typing (and at once on leaving the box or saving). */
const TEXT_PAUSE_MS = 800;

/** The drag data type of a ranked candidate (its id). */
const RANK_DRAG = 'application/x-dataset-curator-candidate';

/** A value as text (JSON for what is not a string). */
function display(v: unknown): string {
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v) as string | undefined;
  return s ?? String(v);
}

interface Span {
  label: string;
  start: number;
  end: number;
  text?: string;
}
/** A text field that span questions mark: its box, and every question's spans in it. */
interface SpanField {
  field: string;
  text: string;
  box: HTMLElement;
  /** The record's section of the field, when its text is marked there (else the box is a copy in the panel). */
  section: HTMLElement | undefined;
  questions: string[];
  spans: Marked[];
}
interface Rank {
  value: string;
  rank: number;
}
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function spansOf(v: unknown): Span[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x): Span[] =>
    isObj(x) && typeof x.label === 'string' && typeof x.start === 'number' && typeof x.end === 'number'
      ? [{ label: x.label, start: x.start, end: x.end, ...(typeof x.text === 'string' ? { text: x.text } : {}) }]
      : [],
  );
}

function ranksOf(v: unknown): Rank[] {
  if (!Array.isArray(v)) return [];
  const out = v.flatMap((x, i): Rank[] =>
    typeof x === 'string'
      ? [{ value: x, rank: i + 1 }]
      : isObj(x) && typeof x.value === 'string' && typeof x.rank === 'number'
        ? [{ value: x.value, rank: x.rank }]
        : [],
  );
  return out.sort((a, b) => a.rank - b.rank);
}

/** An answer as one line of text, per type. */
function showAnswer(q: Question, v: unknown): string {
  switch (q.type) {
    case 'multi-label':
      return Array.isArray(v) ? (v.length ? v.map(display).join(', ') : '(no label)') : display(v);
    case 'ranking': {
      const r = ranksOf(v);
      if (!r.length) return display(v);
      return r.map((x, i) => `${i && r[i - 1]?.rank === x.rank ? '= ' : i ? '> ' : ''}${x.value}`).join(' ');
    }
    case 'span': {
      const s = spansOf(v);
      if (!Array.isArray(v)) return display(v);
      return s.length ? s.map((x) => `${x.label} “${x.text ?? ''}” ${x.start}–${x.end}`).join('; ') : '(no span)';
    }
    default:
      return display(v);
  }
}

/** A code-point offset of a text as a UTF-16 index (spans count code points; the DOM, UTF-16 units). */
function utf16At(text: string, cp: number): number {
  let i = 0;
  for (let k = 0; k < cp && i < text.length; k++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

/** How many span colours there are (editor.css: .span-c0 .. .span-c5); the n-th span question takes n mod this. */
const SPAN_COLOURS = 6;

/** A span to mark, with the question it answers (its colour) and its place in that question's list. */
interface Marked extends Span {
  question: string;
  colour: number;
  position: number;
}

/**
 * Shows a text in `box` with the spans of every span question on it marked: one <mark> per question
 * over each piece of text (nested where the spans of two questions overlap, so both stay visible),
 * coloured per question and titled with the question and its labels. The text itself is unchanged.
 */
function highlight(box: HTMLElement, text: string, spans: readonly Marked[]): void {
  const ranges = spans
    .map((s) => ({ ...s, a: utf16At(text, s.start), b: utf16At(text, s.end) }))
    .filter((r) => r.b > r.a);
  const cuts = [...new Set([0, text.length, ...ranges.flatMap((r) => [r.a, r.b])])].sort((x, y) => x - y);
  const parts: Node[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k] ?? 0;
    const b = cuts[k + 1] ?? a;
    let node: Node = document.createTextNode(text.slice(a, b));
    const over = ranges.filter((r) => r.a <= a && b <= r.b);
    // One mark per question, the first question's outermost.
    const questions = [...new Set(over.map((r) => r.question))].reverse();
    for (const question of questions) {
      const mine = over.filter((r) => r.question === question);
      const labels = [...new Set(mine.map((r) => r.label))];
      const colour = mine[0]?.colour ?? 0;
      node = el(
        'mark',
        {
          class: `span-mark span-c${colour}`,
          title: `${question}: ${labels.join(', ')}`,
          'data-question': question,
          'data-labels': labels.join(' '),
          'data-spans': mine.map((r) => String(r.position)).join(' '),
        },
        node,
      );
    }
    parts.push(node);
  }
  box.replaceChildren(...parts);
}

/** The offset of (node, offset) in the text of `box` (UTF-16, as the DOM counts). */
function offsetIn(box: Node, node: Node, offset: number): number {
  const r = document.createRange();
  r.setStart(box, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}

export class QuestionsView {
  readonly element = el('div', { class: 'questions', 'data-testid': 'questions' });
  private views: QView[] = [];
  private recordIndex = -1;
  private structured = true;
  /** The question the number keys act on; undefined: none (the keys relabel, as without questions). */
  private focusedName: string | undefined;
  private focusChosen = false;
  /** Ranking: the candidate the move keys act on, per question. */
  private readonly selected = new Map<string, string>();
  /** The last text selected in a span field's text (UTF-16 offsets of the field's text). */
  private selection: { field: string; start: number; end: number; index: number } | undefined;
  /**
   * Per text field that span questions mark: where it is selected and marked (the record's field,
   * else one copy in the panel, under the first of its questions), shared by all its questions.
   */
  private spanFields = new Map<string, SpanField>();

  constructor(private readonly actions: QuestionActions) {
    document.addEventListener('selectionchange', () => this.trackSelection());
  }

  /** The declared questions of the record shown (none: the dataset has only the single label). */
  get names(): string[] {
    return this.views.map((v) => v.question.name);
  }

  get focused(): QView | undefined {
    return this.views.find((v) => v.question.name === this.focusedName);
  }

  /** Renders the questions of a record (none: empties the view). */
  render(r: RecordPayload | undefined, structured: boolean): void {
    const typing = this.typing();
    const views = r?.questions ?? [];
    if (r?.index !== this.recordIndex) this.selection = undefined;
    this.recordIndex = r?.index ?? -1;
    this.views = views;
    this.structured = structured;
    if (!this.focusChosen || (this.focusedName !== undefined && !this.names.includes(this.focusedName)))
      this.focusedName = this.names[0];
    this.spanFields = this.markSpans(views);
    // The boxes replaced here are not left by the person: their blur sends nothing.
    this.rendering = true;
    try {
      this.element.replaceChildren(...views.map((v) => this.question(v)));
    } finally {
      this.rendering = false;
    }
    this.element.hidden = views.length === 0;
    // A text answer being typed stays as typed (and focused) through a refresh of its record; when
    // everything typed was sent, the box shows the record's answer (it may be an undo's).
    if (typing && typing.index === this.recordIndex) {
      const area = this.element.querySelector<HTMLTextAreaElement>(
        `textarea[data-question="${CSS.escape(typing.question)}"]`,
      );
      if (area) {
        if (typing.pending) area.value = typing.value;
        const n = area.value.length;
        const refocus = () => {
          if (!area.isConnected || document.activeElement === area) return;
          area.focus();
          area.setSelectionRange(Math.min(typing.start, n), Math.min(typing.end, n));
        };
        refocus();
        // Again once the panel holding this view has put it back in its place (annotation-panel.ts).
        queueMicrotask(refocus);
      }
    }
  }

  private typing():
    { index: number; question: string; value: string; start: number; end: number; pending: boolean } | undefined {
    const a = document.activeElement;
    if (!(a instanceof HTMLTextAreaElement) || !this.element.contains(a) || !a.dataset.question) return undefined;
    const name = a.dataset.question;
    const v = this.views.find((x) => x.question.name === name);
    return {
      index: this.recordIndex,
      question: name,
      value: a.value,
      start: a.selectionStart,
      end: a.selectionEnd,
      // typed and not sent yet, or sent and not answered yet
      pending: this.textTimers.has(name) || this.textInFlight.has(name) || (!!v && a.value !== this.ownText(v)),
    };
  }

  /** Moves the keyboard's focus to the next (or previous) question; after the last: none (the single label). */
  focusStep(delta: 1 | -1): boolean {
    const names = this.names;
    if (!names.length) return false;
    const slots: (string | undefined)[] = [...names, undefined];
    const at = slots.indexOf(this.focusedName);
    this.focusedName = slots[(at + delta + slots.length) % slots.length];
    this.focusChosen = true;
    for (const s of this.element.querySelectorAll<HTMLElement>('.question')) {
      const on = s.dataset.question === this.focusedName;
      s.classList.toggle('question-focused', on);
      if (on) s.setAttribute('aria-current', 'true');
      else s.removeAttribute('aria-current');
    }
    const section = this.element.querySelector<HTMLElement>('.question-focused');
    section?.scrollIntoView({ block: 'nearest' });
    const q = this.focused;
    if (q?.question.type === 'text') section?.querySelector('textarea')?.focus();
    this.actions.say(q ? `Question: ${q.question.title ?? q.question.name} (${q.question.type})` : 'The label');
    return true;
  }

  /** The number key `n` on the focused question; false when no question has the focus. */
  digit(n: number): boolean {
    const v = this.focused;
    if (!v) return false;
    const q = v.question;
    const name = q.name;
    switch (q.type) {
      case 'label':
      case 'multi-label': {
        const label = q.labels[n - 1];
        if (label === undefined) this.actions.say(`${name} has no label #${n}`, true);
        else if (q.type === 'label') void this.actions.edit({ op: 'answer', question: name, value: label });
        else void this.actions.edit({ op: 'toggleLabel', question: name, label });
        return true;
      }
      case 'rating': {
        const value = n >= q.min && n <= q.max ? n : q.min + n - 1;
        if (value > q.max) this.actions.say(`${name} is rated ${q.min}–${q.max}`, true);
        else void this.actions.edit({ op: 'answer', question: name, value });
        return true;
      }
      case 'ranking': {
        const id = this.order(v)[n - 1];
        if (id === undefined) this.actions.say(`${name} has no candidate #${n}`, true);
        else {
          this.selected.set(name, id);
          this.render(this.recordStub(), this.structured);
        }
        return true;
      }
      case 'span': {
        const label = q.labels[n - 1];
        if (label === undefined) this.actions.say(`${name} has no span label #${n}`, true);
        else void this.mark(v, label);
        return true;
      }
      case 'text':
        this.element.querySelector<HTMLTextAreaElement>(`textarea[data-question="${CSS.escape(name)}"]`)?.focus();
        return true;
    }
  }

  /** Moves the selected candidate of the focused ranking; false when the focused question is not a ranking. */
  move(by: -1 | 1): boolean {
    const v = this.focused;
    if (v?.question.type !== 'ranking') return false;
    const order = this.order(v);
    const id = this.selected.get(v.question.name) ?? order[0];
    if (id === undefined) this.actions.say(`This record has nothing for ${v.question.name} to rank`, true);
    else void this.actions.edit({ op: 'moveCandidate', question: v.question.name, candidate: id, by });
    return true;
  }

  /** The record as last rendered (for a re-render that only changes this view's own state). */
  private recordStub(): RecordPayload {
    return { index: this.recordIndex, lineNumber: this.recordIndex + 1, raw: '', questions: this.views, edited: false };
  }

  // -------------------------------------------------------------------------------------------

  private question(v: QView): HTMLElement {
    const q = v.question;
    const focused = q.name === this.focusedName;
    const section = el(
      'section',
      {
        class: `panel-section question${focused ? ' question-focused' : ''}`,
        'data-testid': `question-${q.name}`,
        'data-question': q.name,
        'data-type': q.type,
        'aria-label': q.title ?? q.name,
        ...(focused ? { 'aria-current': 'true' } : {}),
      },
      el(
        'h2',
        { class: 'panel-title' },
        q.title ?? q.name,
        el('span', { class: 'question-type' }, ` · ${q.type}${q.type === 'rating' ? ` ${q.min}–${q.max}` : ''}`),
      ),
      q.description ? el('div', { class: 'meta' }, q.description) : null,
      q.guidelines
        ? el(
            'details',
            { class: 'samples-details' },
            el('summary', {}, 'Guidelines'),
            el('p', { class: 'prose' }, q.guidelines),
          )
        : null,
      this.decision(v),
      this.input(v),
      ...this.suggestions(v),
    );
    section.addEventListener('mousedown', () => {
      if (this.focusedName === q.name) return;
      this.focusedName = q.name;
      this.focusChosen = true;
      for (const s of this.element.querySelectorAll<HTMLElement>('.question')) {
        s.classList.toggle('question-focused', s === section);
        if (s === section) s.setAttribute('aria-current', 'true');
        else s.removeAttribute('aria-current');
      }
    });
    return section;
  }

  /** The person's decision: the answer (or none yet), who and when, and why it no longer fits. */
  private decision(v: QView): HTMLElement {
    const h = v.human;
    const box = el('div', { class: 'question-decision', 'data-testid': 'decision' });
    if (!h) {
      box.append(el('span', { class: 'chip chip-none' }, 'no answer yet'));
      return box;
    }
    const discarded = h.status === 'discarded';
    box.append(
      el(
        'span',
        { class: `chip ${discarded ? 'chip-status status-rejected' : 'chip-label'}`, 'data-testid': 'decision-value' },
        discarded ? 'rejected' : showAnswer(v.question, h.value),
      ),
      el(
        'div',
        { class: 'meta' },
        `${discarded ? 'Suggestions rejected' : 'Your answer'}${h.user ? ` · ${h.user}` : ''}${h.status !== 'submitted' && !discarded ? ` · ${h.status}` : ''}`,
      ),
    );
    if (h.problem)
      box.append(
        el(
          'div',
          { class: 'notice notice-warning', 'data-testid': 'decision-problem' },
          icon('warning'),
          el('span', {}, `This answer no longer fits: ${h.problem}`),
        ),
      );
    return box;
  }

  private input(v: QView): HTMLElement | null {
    switch (v.question.type) {
      case 'label':
      case 'multi-label':
        return this.labels(v, v.question.labels);
      case 'rating':
        return this.rating(v, v.question.min, v.question.max);
      case 'ranking':
        return this.ranking(v);
      case 'text':
        return this.text(v, v.question.field);
      case 'span':
        return this.spans(v, v.question.labels, v.question.field);
    }
  }

  /** The person's own answer (not a rejected suggestion). */
  private own(v: QView): unknown {
    return v.human && v.human.status !== 'discarded' ? v.human.value : undefined;
  }

  private button(attrs: Record<string, string>, pressed: boolean | undefined, ...children: Child[]): HTMLElement {
    const b = vsButton(
      { ...attrs, ...(pressed !== undefined ? { 'aria-pressed': String(pressed) } : {}) },
      ...children,
    );
    if (pressed === false || pressed === undefined) b.setAttribute('secondary', '');
    if (!this.structured) b.setAttribute('disabled', '');
    return b;
  }

  private keyHint(i: number): HTMLElement | null {
    return i < 9 ? el('span', { class: 'key-hint', 'aria-hidden': 'true' }, String(i + 1)) : null;
  }

  private labels(v: QView, labels: readonly string[]): HTMLElement {
    const q = v.question;
    const own = this.own(v);
    const on = new Set(Array.isArray(own) ? own.map(display) : typeof own === 'string' ? [own] : []);
    const multi = q.type === 'multi-label';
    const group = el('div', { class: 'relabel', role: 'group', 'aria-label': q.title ?? q.name });
    labels.forEach((label, i) => {
      const b = this.button(
        {
          'data-testid': `${multi ? 'toggle' : 'answer'}-${q.name}-${label}`,
          title: `${multi ? 'Toggle' : 'Answer'} ${label}${i < 9 ? ` (${i + 1} when focused)` : ''}`,
        },
        on.has(label),
        this.keyHint(i),
        label,
      );
      b.addEventListener(
        'click',
        () =>
          void this.actions.edit(
            multi ? { op: 'toggleLabel', question: q.name, label } : { op: 'answer', question: q.name, value: label },
          ),
      );
      group.append(b);
    });
    return group;
  }

  private rating(v: QView, min: number, max: number): HTMLElement {
    const q = v.question;
    const own = this.own(v);
    const group = el('div', {
      class: 'relabel rating',
      role: 'group',
      'aria-label': `${q.title ?? q.name}: ${min} to ${max}`,
    });
    for (let n = min; n <= max; n++) {
      const b = this.button({ 'data-testid': `rate-${q.name}-${n}`, title: `Rate ${n}` }, own === n, String(n));
      b.addEventListener('click', () => void this.actions.edit({ op: 'answer', question: q.name, value: n }));
      group.append(b);
    }
    return group;
  }

  /** The candidates in the order a move starts from: the person's ranking, else the record's order. */
  private order(v: QView): string[] {
    const ids = (v.candidates ?? []).map((c) => c.id);
    const own = ranksOf(this.own(v)).map((r) => r.value);
    return [...own.filter((x) => ids.includes(x)), ...ids.filter((x) => !own.includes(x))];
  }

  private ranking(v: QView): HTMLElement {
    const q = v.question;
    if (!v.candidates) return el('div', { class: 'meta' }, 'This record has nothing to rank.');
    const order = this.order(v);
    const selected = this.selected.get(q.name) ?? order[0];
    const byId = new Map(v.candidates.map((c) => [c.id, c.value]));
    const list = el('ol', { class: 'ranking', 'data-testid': `ranking-${q.name}` });
    order.forEach((id, i) => {
      const up = this.button(
        { icon: 'arrow-up', 'icon-only': '', 'aria-label': `Move ${id} up`, title: 'Move up (u)' },
        undefined,
      );
      const down = this.button(
        { icon: 'arrow-down', 'icon-only': '', 'aria-label': `Move ${id} down`, title: 'Move down (b)' },
        undefined,
      );
      up.addEventListener(
        'click',
        () => void this.actions.edit({ op: 'moveCandidate', question: q.name, candidate: id, by: -1 }),
      );
      down.addEventListener(
        'click',
        () => void this.actions.edit({ op: 'moveCandidate', question: q.name, candidate: id, by: 1 }),
      );
      const item = el(
        'li',
        {
          class: `candidate${id === selected ? ' candidate-selected' : ''}`,
          'data-candidate': id,
          'aria-selected': String(id === selected),
        },
        el('span', { class: 'key-hint' }, `${i + 1}.`),
        el('span', { class: 'candidate-id' }, id),
        el('span', { class: 'candidate-text' }, display(byId.get(id))),
        el('span', { class: 'candidate-moves' }, up, down),
      );
      // Drag a candidate onto another to put it there (the keys and buttons do the same).
      if (this.structured) {
        item.draggable = true;
        item.addEventListener('dragstart', (e) => {
          e.dataTransfer?.setData(RANK_DRAG, id);
          if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
        });
        item.addEventListener('dragover', (e) => {
          if (e.dataTransfer?.types.includes(RANK_DRAG)) e.preventDefault();
        });
        item.addEventListener('drop', (e) => {
          const from = e.dataTransfer?.getData(RANK_DRAG);
          if (from === undefined || !order.includes(from)) return;
          e.preventDefault();
          const by = order.indexOf(id) - order.indexOf(from);
          this.selected.set(q.name, from);
          if (by !== 0) void this.actions.edit({ op: 'moveCandidate', question: q.name, candidate: from, by });
        });
      }
      item.addEventListener('click', () => {
        this.selected.set(q.name, id);
        for (const li of list.children) {
          const on = li === item;
          li.classList.toggle('candidate-selected', on);
          li.setAttribute('aria-selected', String(on));
        }
      });
      list.append(item);
    });
    const keep = this.button(
      { 'data-testid': `keep-order-${q.name}`, icon: 'check', title: 'Answer with this order' },
      undefined,
      'Keep this order',
    );
    keep.addEventListener('click', () => void this.actions.edit({ op: 'answer', question: q.name, value: order }));
    return el('div', {}, list, el('div', { class: 'actions' }, keep));
  }

  private text(v: QView, field: string | undefined): HTMLElement {
    const q = v.question;
    const area = el('textarea', {
      class: 'field-editor question-text',
      'data-testid': `text-${q.name}`,
      'data-question': q.name,
      'data-index': String(this.recordIndex),
      'aria-label': q.title ?? q.name,
      placeholder: field ? `Your answer (a correction of ${field})` : 'Your answer',
      rows: '3',
    });
    area.value = this.ownText(v);
    if (!this.structured) area.disabled = true;
    // Sent after a pause in typing (one edit, so one undo step, per pause, not per key), when the
    // box is left, and at once when the page is asked to flush (Ctrl+S, or the host before a save).
    area.addEventListener('input', (e) => {
      if (!(e instanceof InputEvent && e.isComposing)) this.scheduleText(q.name);
    });
    area.addEventListener('compositionend', () => this.scheduleText(q.name));
    area.addEventListener('blur', () => this.rendering || this.commitText(q.name, area));
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        area.blur();
        this.actions.leave();
      }
    });
    return el(
      'div',
      {},
      area,
      el(
        'div',
        { class: 'hint' },
        'Sent as you type (after a pause), when you leave the box (Escape) or save; empty takes the answer back',
      ),
    );
  }

  /** A text question's answer as its box shows it ('' for none). */
  private ownText(v: QView): string {
    const own = this.own(v);
    return typeof own === 'string' ? own : '';
  }

  /** Set while the view replaces its elements. */
  private rendering = false;
  /** Text answers typed but not yet sent: a timer per question. */
  private readonly textTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Text answers sent and not yet answered by the host, per question (not sent twice). */
  private readonly textInFlight = new Map<string, string>();

  private scheduleText(name: string): void {
    clearTimeout(this.textTimers.get(name));
    this.textTimers.set(
      name,
      setTimeout(() => this.commitText(name), TEXT_PAUSE_MS),
    );
  }

  /**
   * Sends a text question's typed answer, if it differs from the record's (empty: takes the answer
   * back). The message is posted before this returns, so an edit sent here reaches the host before
   * anything the page sends after it (the `flushed` answer).
   */
  private commitText(name: string, area?: HTMLTextAreaElement): void {
    clearTimeout(this.textTimers.get(name));
    this.textTimers.delete(name);
    const box =
      area ?? this.element.querySelector<HTMLTextAreaElement>(`textarea[data-question="${CSS.escape(name)}"]`);
    const v = this.views.find((x) => x.question.name === name);
    // A box of another record (being replaced as the page moves on) is not this record's answer.
    if (!box || !v || box.disabled || box.dataset.index !== String(this.recordIndex)) return;
    const value = box.value;
    if (value === this.ownText(v) || this.textInFlight.get(name) === value) return;
    if (value.trim() === '' && !v.human) return;
    this.textInFlight.set(name, value);
    const sent =
      value.trim() === ''
        ? this.actions.edit({ op: 'clearAnswer', question: name })
        : this.actions.edit({ op: 'answer', question: name, value });
    void sent.finally(() => {
      if (this.textInFlight.get(name) === value) this.textInFlight.delete(name);
    });
  }

  /** Sends every text answer typed and not yet sent (before a save). */
  flush(): void {
    for (const area of this.element.querySelectorAll<HTMLTextAreaElement>('textarea[data-question]'))
      if (area.dataset.question) this.commitText(area.dataset.question, area);
  }

  /**
   * Drops every text answer typed and not yet sent (the file was reverted or reloaded): the boxes
   * show the record's answers again and nothing typed before is sent later. True if text was dropped.
   */
  discard(): boolean {
    let dropped = this.textTimers.size > 0 || this.textInFlight.size > 0;
    for (const t of this.textTimers.values()) clearTimeout(t);
    this.textTimers.clear();
    this.textInFlight.clear();
    for (const area of this.element.querySelectorAll<HTMLTextAreaElement>('textarea[data-question]')) {
      const v = this.views.find((x) => x.question.name === area.dataset.question);
      const answer = v ? this.ownText(v) : '';
      if (area.value !== answer) dropped = true;
      area.value = answer;
    }
    return dropped;
  }

  /** The span questions' colours: the n-th span question of the record's questions takes colour n. */
  private spanColour(name: string): number {
    const spans = this.views.filter((x) => x.question.type === 'span').map((x) => x.question.name);
    return Math.max(0, spans.indexOf(name)) % SPAN_COLOURS;
  }

  /**
   * Marks the person's spans of every span question in its field's text, each question in its own
   * colour; two questions on one field share its box (and a legend beside it names them).
   */
  private markSpans(views: readonly QView[]): Map<string, SpanField> {
    const fields = new Map<string, SpanField>();
    const record = this.actions.recordElement();
    for (const v of views) {
      const q = v.question;
      if (q.type !== 'span' || v.text === undefined) continue;
      let f = fields.get(q.field);
      if (!f) {
        // The record's own field when it shows the text as it is, else a copy in the panel.
        const section = [...record.querySelectorAll<HTMLElement>('section.field')].find(
          (x) => x.dataset.field === q.field,
        );
        const shown = section?.querySelector<HTMLElement>('.field-value[data-kind="string"]');
        const inRecord = shown?.textContent === v.text ? shown : undefined;
        const box = inRecord ?? el('div', { class: 'span-text prose', 'data-testid': `span-text-${q.field}` });
        f = { field: q.field, text: v.text, box, section: inRecord ? section : undefined, questions: [], spans: [] };
        fields.set(q.field, f);
      }
      f.questions.push(q.name);
      // The person's spans (not when one no longer fits the text: the list says why).
      if (v.human?.status !== 'discarded' && v.human?.problem === undefined) {
        const colour = this.spanColour(q.name);
        spansOf(v.human?.value).forEach((x, position) => f.spans.push({ ...x, question: q.name, colour, position }));
      }
    }
    for (const f of fields.values()) {
      highlight(f.box, f.text, f.spans);
      f.section?.querySelector('.span-legend')?.remove();
      if (f.questions.length > 1) f.section?.append(this.legend(f));
    }
    return fields;
  }

  /** Which colour is which question, for a field that several span questions mark. */
  private legend(f: SpanField): HTMLElement {
    return el(
      'div',
      { class: 'span-legend meta', 'data-testid': `span-legend-${f.field}` },
      'Spans: ',
      ...f.questions.map((name) => {
        const q = this.views.find((x) => x.question.name === name)?.question;
        return el(
          'span',
          { class: `span-swatch span-c${this.spanColour(name)}`, 'data-question': name },
          q?.title ?? name,
        );
      }),
    );
  }

  private spans(v: QView, labels: readonly string[], field: string): HTMLElement {
    const q = v.question;
    const box = el('div', { class: 'spans' });
    const f = this.spanFields.get(field);
    if (v.text === undefined || !f) {
      box.append(el('div', { class: 'meta' }, `This record has no text field "${field}" to mark.`));
      return box;
    }
    const colour = this.spanColour(q.name);
    const others = f.questions.filter((n) => n !== q.name);
    box.append(
      el(
        'div',
        { class: 'meta' },
        el('span', { class: `span-swatch span-c${colour}`, 'data-testid': `span-swatch-${q.name}` }, q.title ?? q.name),
        others.length ? ` marks “${field}” beside ${others.join(', ')} (one colour each)` : ` marks “${field}”`,
      ),
    );
    // A copy of a text the record does not show as it is: under the field's first question.
    if (!f.section && f.questions[0] === q.name) box.append(f.box);
    const picked =
      this.selection?.field === field && this.selection.index === this.recordIndex ? this.selection : undefined;
    box.append(
      el(
        'div',
        { class: 'meta', 'data-testid': `span-selection-${q.name}` },
        picked
          ? `Selected: “${v.text.slice(picked.start, picked.end)}”. Pick its label:`
          : `Select text in “${field}”, then pick its label:`,
      ),
    );
    const group = el('div', { class: 'relabel', role: 'group', 'aria-label': `Span labels of ${q.title ?? q.name}` });
    labels.forEach((label, i) => {
      const b = this.button(
        { 'data-testid': `span-${q.name}-${label}`, title: `Mark the selected text as ${label}` },
        undefined,
        this.keyHint(i),
        label,
      );
      // Keep the selection: a press on the button would otherwise clear it before the click.
      b.addEventListener('mousedown', (e) => e.preventDefault());
      b.addEventListener('click', () => void this.mark(v, label));
      group.append(b);
    });
    box.append(group);
    const own = this.own(v);
    const list = el('ul', { class: 'span-list', 'data-testid': `spans-${q.name}` });
    spansOf(own).forEach((s, i) => {
      const remove = this.button(
        {
          icon: 'close',
          'icon-only': '',
          'aria-label': `Remove span ${i + 1} (${s.label})`,
          'data-testid': `remove-span-${q.name}-${i}`,
        },
        undefined,
      );
      remove.addEventListener(
        'click',
        () => void this.actions.edit({ op: 'removeSpan', question: q.name, position: i }),
      );
      const item = el(
        'li',
        { class: 'span-item', 'data-label': s.label, 'data-question': q.name },
        el('span', { class: `chip span-chip span-c${colour}`, title: `${q.name}: ${s.label}` }, s.label),
        el('span', { class: 'span-offsets' }, `${s.start}–${s.end}`),
        el('span', { class: 'span-covered' }, `“${s.text ?? ''}”`),
        remove,
      );
      // Pointing at a span in the list outlines it in the text.
      const hot = (on: boolean) => {
        for (const m of f.box.querySelectorAll<HTMLElement>('mark.span-mark'))
          if (m.dataset.question === q.name && (m.dataset.spans ?? '').split(' ').includes(String(i)))
            m.classList.toggle('span-hot', on);
      };
      item.addEventListener('mouseenter', () => hot(true));
      item.addEventListener('mouseleave', () => hot(false));
      list.append(item);
    });
    if (list.children.length) box.append(list);
    return box;
  }

  /** Marks the selected text of a span question with a label. */
  private async mark(v: QView, label: string): Promise<void> {
    this.trackSelection();
    const s = this.selection;
    const field = v.question.type === 'span' ? v.question.field : '';
    if (s?.field !== field || s.index !== this.recordIndex) {
      this.actions.say(`Select text in “${field}” first`, true);
      return;
    }
    const failure = await this.actions.edit({
      op: 'addSpan',
      question: v.question.name,
      label,
      start: s.start,
      end: s.end,
    });
    if (!failure) {
      this.selection = undefined;
      document.getSelection()?.removeAllRanges();
    }
  }

  private trackSelection(): void {
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    const range = sel.getRangeAt(0);
    for (const f of this.spanFields.values()) {
      const box = f.box;
      if (!box.isConnected || !box.contains(range.startContainer) || !box.contains(range.endContainer)) continue;
      const start = offsetIn(box, range.startContainer, range.startOffset);
      const end = offsetIn(box, range.endContainer, range.endOffset);
      this.selection = { field: f.field, start, end, index: this.recordIndex };
      // Every question marking this field can label the selection.
      for (const question of f.questions) {
        const hint = this.element.querySelector(`[data-testid="span-selection-${CSS.escape(question)}"]`);
        if (hint) hint.textContent = `Selected: “${f.text.slice(start, end)}”. Pick its label:`;
      }
      return;
    }
  }

  /** Each model's suggestion (value, score, agent, why it no longer fits) with Accept, and Reject for the question. */
  private suggestions(v: QView): Child[] {
    const q = v.question;
    const models = v.suggestions.filter((s) => s.type === 'model');
    const cards = v.suggestions.map((s) => {
      const acc = this.button(
        { icon: 'check', 'data-testid': `accept-${q.name}-${s.position}`, title: 'Accept this as your answer' },
        undefined,
        'Accept',
      );
      if (s.problem) acc.setAttribute('disabled', '');
      acc.addEventListener('click', () => this.actions.accept(q.name, s.position));
      const scores =
        q.type === 'multi-label' && s.labelScores
          ? el(
              'div',
              { class: 'meta' },
              Object.entries(s.labelScores)
                .map(([l, c]) => `${l} ${formatPercent(c)}`)
                .join(' · '),
            )
          : null;
      return el(
        'div',
        { class: 'suggestion', 'data-testid': 'question-suggestion', 'data-position': String(s.position) },
        el(
          'div',
          { class: 'suggestion-head' },
          el('span', { class: 'chip chip-suggestion' }, showAnswer(q, s.value)),
          s.score !== undefined ? el('span', { class: 'score', title: 'Confidence' }, formatPercent(s.score)) : null,
        ),
        el(
          'div',
          { class: 'meta' },
          `${s.task === 'consistency' ? 'self-consistency vote' : s.type}${s.agent ? ` · ${s.agent}` : ''}`,
        ),
        scores,
        s.rationale ? el('p', { class: 'prose' }, s.rationale) : null,
        s.problem
          ? el('div', { class: 'notice notice-warning' }, icon('warning'), el('span', {}, `Does not fit: ${s.problem}`))
          : null,
        el('div', { class: 'actions' }, acc),
      );
    });
    if (!models.length) return cards;
    const reject = this.button(
      { icon: 'close', 'data-testid': `reject-${q.name}`, title: "Reject the models' suggestions (r when focused)" },
      undefined,
      'Reject suggestions',
    );
    reject.addEventListener('click', () => this.actions.reject(q.name));
    return [...cards, el('div', { class: 'actions' }, reject)];
  }
}
