// The record's fields: strings as wrapped text, chat `messages` as a conversation, nested objects
// and arrays as collapsible trees (collapsed beyond depth 2). Click a value to edit it in place.
import type { RecordPayload } from '../../src/shared/protocol';
import { el, icon } from './dom';
import { checkJson, describeProblem } from './json-check';
import { numberSources, pathKey } from './json-source';

/** A number's text as the line has it (by its path), when known: see json-source.ts. */
export type NumberSource = (path: readonly (string | number)[]) => string | undefined;

export interface RecordViewOptions {
  /** Top-level keys shown by the annotation panel instead. */
  hidden: ReadonlySet<string>;
  /** Whether structured edits are allowed (not for invalid or lossy records). */
  editable: boolean;
  /** Sends a setField edit; resolves with an error message, or undefined on success. */
  setField(key: string, value: unknown): Promise<string | undefined>;
  /** Re-renders the current record (after an in-place edit closed). */
  refresh(): void;
}

const KNOWN_ROLES = new Set(['system', 'user', 'assistant', 'tool', 'function', 'developer']);

function isConversation(v: unknown): v is { role: string; content: unknown }[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every(
      (m) =>
        m !== null &&
        typeof m === 'object' &&
        !Array.isArray(m) &&
        typeof (m as { role?: unknown }).role === 'string' &&
        'content' in m,
    )
  );
}

function scalar(v: unknown, path: readonly (string | number)[], src?: NumberSource): HTMLElement {
  if (typeof v === 'string') return el('span', { class: 'v-string' }, v);
  if (typeof v === 'number') {
    // As the file has it: 12345678901234567890 stays that, not 12345678901234567000.
    const text = src?.(path);
    return el(
      'span',
      {
        class: 'v-number',
        ...(text !== undefined && text !== String(v)
          ? { title: `Read as ${String(v)}: the file's number is kept as written` }
          : {}),
      },
      text ?? String(v),
    );
  }
  if (typeof v === 'boolean') return el('span', { class: 'v-boolean' }, String(v));
  if (v === null) return el('span', { class: 'v-null' }, 'null');
  // JSON.stringify gives undefined for undefined, a function or a symbol, whatever its type says
  return el('span', { class: 'v-other' }, String(JSON.stringify(v) as string | undefined));
}

function renderConversation(
  messages: { role: string; content: unknown }[],
  depth: number,
  path: readonly (string | number)[],
  src?: NumberSource,
): HTMLElement {
  const list = el('div', { class: 'conversation', role: 'list' });
  for (const [n, m] of messages.entries()) {
    const role = KNOWN_ROLES.has(m.role) ? m.role : 'other';
    const extra = Object.entries(m).filter(([k]) => k !== 'role' && k !== 'content');
    list.append(
      el(
        'div',
        { class: `message role-${role}`, role: 'listitem' },
        el('div', { class: 'message-role' }, m.role),
        el(
          'div',
          { class: 'message-content' },
          typeof m.content === 'string' ? m.content : renderValue(m.content, depth + 1, [...path, n, 'content'], src),
        ),
        extra.length ? renderValue(Object.fromEntries(extra), depth + 1, [...path, n], src) : null,
      ),
    );
  }
  return list;
}

/** Renders any JSON value; depth 1 is a top-level field's value, at `path` in the record (numbers shown as `src` has them). */
export function renderValue(
  v: unknown,
  depth: number,
  path: readonly (string | number)[] = [],
  src?: NumberSource,
): HTMLElement {
  if (isConversation(v)) return renderConversation(v, depth, path, src);
  if (v === null || typeof v !== 'object') return scalar(v, path, src);
  const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
  const summaryText = Array.isArray(v)
    ? `[${entries.length} item${entries.length === 1 ? '' : 's'}]`
    : `{${entries.length} key${entries.length === 1 ? '' : 's'}}`;
  if (entries.length === 0) return el('span', { class: 'v-empty' }, Array.isArray(v) ? '[]' : '{}');
  const details = el('details', { class: 'tree' }, el('summary', {}, summaryText));
  if (depth <= 2) details.open = true;
  const body = el('div', { class: 'tree-body' });
  for (const [k, x] of entries) {
    body.append(
      el(
        'div',
        { class: 'tree-row' },
        el('span', { class: 'tree-key' }, Array.isArray(v) ? k : `${k}:`),
        renderValue(x, depth + 1, [...path, Array.isArray(v) ? Number(k) : k], src),
      ),
    );
  }
  details.append(body);
  return details;
}

export class RecordView {
  readonly element = el('div', { class: 'fields', 'data-testid': 'record' });
  /** The key being edited in place, if any. */
  private editingKey: string | undefined;
  private shownIndex = -1;

  /** The index of the record on screen (-1 before the first). */
  get index(): number {
    return this.shownIndex;
  }

  get editing(): boolean {
    return this.editingKey !== undefined;
  }

  /** Sends the field being edited in place, as Enter would (before a save: Ctrl+S keeps what is typed). */
  private pendingCommit: (() => void) | undefined;
  flush(): void {
    if (this.editingKey !== undefined) this.pendingCommit?.();
  }

  /** Closes the field being edited in place without sending it (the file was reverted); true if one was open. */
  private pendingDiscard: (() => void) | undefined;
  discard(): boolean {
    if (this.editingKey === undefined) return false;
    this.pendingDiscard?.();
    return true;
  }

  render(r: RecordPayload, opts: RecordViewOptions): void {
    const newRecord = r.index !== this.shownIndex;
    const first = this.shownIndex === -1;
    this.shownIndex = r.index;
    this.editingKey = undefined;
    const parts: Node[] = [];
    if (r.invalid) {
      parts.push(
        el(
          'div',
          { class: 'notice notice-error', 'data-testid': 'invalid-raw' },
          icon('warning'),
          ` This line is not a valid record. Press E to edit its raw text.`,
        ),
        el('pre', { class: 'raw', 'data-field': '$raw' }, r.raw),
      );
    } else if (r.value) {
      const keys = Object.keys(r.value).filter((k) => !opts.hidden.has(k));
      if (keys.length === 0) parts.push(el('p', { class: 'empty' }, 'No fields besides the annotation.'));
      // Numbers as the line has them (the store sends its bytes as `raw`), scanned once per render.
      let sources: Map<string, string> | undefined;
      const src: NumberSource = (path) => (sources ??= numberSources(r.raw)).get(pathKey(path));
      for (const key of keys) parts.push(this.field(key, r.value[key], opts, src));
    }
    // Another record starts at its top. Scrolled back before the new fields are in, and only when
    // it is not there already: after them, the scroll would lay them out at once, in the key's task
    // (about 1 ms a record, more for a long one), and a scroll moves content under the mouse, which
    // the browser answers with a hit test of its own. The page's first record: nothing has scrolled
    // yet (a forced layout in the page's first script, docs/performance.md).
    const box = this.element.parentElement;
    if (newRecord && !first && box && box.scrollTop !== 0) box.scrollTop = 0;
    this.element.replaceChildren(...parts);
  }

  private field(key: string, value: unknown, opts: RecordViewOptions, src?: NumberSource): HTMLElement {
    const valueBox = el('div', { class: 'field-value', 'data-kind': typeof value === 'string' ? 'string' : 'json' });
    if (typeof value === 'string') valueBox.append(value);
    else valueBox.append(renderValue(value, 1, [key], src));
    const header = el('div', { class: 'field-name' }, el('span', {}, key));
    const section = el('section', { class: 'field', 'data-field': key }, header, valueBox);
    if (opts.editable) {
      const edit = el(
        'button',
        { class: 'icon-button field-edit', type: 'button', 'aria-label': `Edit field ${key}`, title: 'Edit' },
        icon('edit'),
      );
      edit.addEventListener('click', () => this.startEdit(section, valueBox, key, value, opts));
      header.append(edit);
      valueBox.classList.add('editable');
      valueBox.addEventListener('click', (e) => {
        // Selecting text or toggling a tree is not a request to edit.
        if ((e.target as Element).closest('summary')) return;
        const sel = window.getSelection();
        if (sel && !sel.isCollapsed) return;
        this.startEdit(section, valueBox, key, value, opts);
      });
    }
    return section;
  }

  private startEdit(
    section: HTMLElement,
    valueBox: HTMLElement,
    key: string,
    value: unknown,
    opts: RecordViewOptions,
  ): void {
    if (this.editingKey !== undefined) return;
    this.editingKey = key;
    const isString = typeof value === 'string';
    const initial = isString ? value : JSON.stringify(value, null, 2);
    const area = el('textarea', {
      class: 'field-editor',
      'data-testid': 'field-editor',
      'aria-label': `Value of ${key}${isString ? '' : ' (JSON)'}`,
      spellcheck: isString ? 'true' : 'false',
    });
    area.value = initial;
    area.rows = Math.min(20, Math.max(2, initial.split('\n').length + (isString ? Math.ceil(initial.length / 90) : 0)));
    const error = el('div', { class: 'field-error', 'data-testid': 'field-error', role: 'alert' });
    const hint = el(
      'div',
      { class: 'hint' },
      `Enter to save · Shift+Enter for a new line · Escape to cancel${isString ? '' : ' · value is JSON'}`,
    );
    const editor = el('div', { class: 'field-editing' }, area, error, hint);
    valueBox.hidden = true;
    section.append(editor);
    area.focus();

    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      editor.remove();
      valueBox.hidden = false;
      this.editingKey = undefined;
      this.pendingCommit = undefined;
      this.pendingDiscard = undefined;
    };
    const validate = (): { ok: true; value: unknown } | { ok: false } => {
      if (isString) return { ok: true, value: area.value };
      const c = checkJson(area.value);
      if (!c.ok) {
        error.textContent = `Invalid JSON: ${describeProblem(c.problem)}`;
        area.setAttribute('aria-invalid', 'true');
        return { ok: false };
      }
      error.textContent = '';
      area.removeAttribute('aria-invalid');
      return c;
    };
    const commit = async () => {
      if (closed || area.disabled) return;
      if (area.value === initial) {
        close();
        return;
      }
      const v = validate();
      if (!v.ok) return; // nothing is sent while the JSON is invalid
      area.disabled = true;
      const failure = await opts.setField(key, v.value);
      // closed during the await (TypeScript keeps the check above narrowed across it)
      if (closed as boolean) return;
      area.disabled = false;
      if (failure) {
        error.textContent = failure;
        area.focus();
      } else {
        close();
        opts.refresh();
      }
    };
    area.addEventListener('input', () => {
      if (!isString && error.textContent) validate();
    });
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        close();
        section.querySelector<HTMLElement>('.field-edit')?.focus();
      } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void commit();
      }
    });
    area.addEventListener('blur', () => void commit());
    this.pendingCommit = () => void commit();
    this.pendingDiscard = close;
  }
}
