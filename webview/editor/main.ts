// The curation editor's UI. Dataset text and model output reach the DOM only as text
// (textContent), never as HTML.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { z } from 'zod';
import type { DocumentInfo, HostEvent, RecordPayload } from '../../src/shared/protocol';
import { HostConnection } from './rpc';

const SavedState = z.object({ index: z.number().int().nonnegative() });

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

class EditorApp {
  private info: DocumentInfo | undefined;
  private index = 0;
  private current: RecordPayload | undefined;
  private readonly host: HostConnection;
  private readonly position = el('span', { class: 'position', 'data-testid': 'position' });
  private readonly status = el('span', { class: 'status', 'data-testid': 'status', role: 'status' });
  private readonly body = el('main', { class: 'record', 'data-testid': 'record' });
  private requestSeq = 0;

  constructor(private readonly root: HTMLElement) {
    this.host = new HostConnection((e) => this.onEvent(e));
    const saved = SavedState.safeParse(this.host.state);
    if (saved.success) this.index = saved.data.index;

    const prev = el('vscode-button', { secondary: '', 'data-testid': 'prev', title: 'Previous record (k)' }, 'Previous');
    const next = el('vscode-button', { 'data-testid': 'next', title: 'Next record (j)' }, 'Next');
    prev.addEventListener('click', () => this.go(this.index - 1));
    next.addEventListener('click', () => this.go(this.index + 1));
    const toolbar = el('header', { class: 'toolbar' }, prev, next, this.position, this.status);
    this.root.append(toolbar, this.body);

    window.addEventListener('keydown', (e) => this.onKey(e));
    this.host.notify({ kind: 'notify', type: 'ready' });
  }

  private onEvent(e: HostEvent): void {
    this.info = e.info;
    if (e.type === 'init') void this.go(Math.min(this.index, Math.max(0, e.info.lineCount - 1)));
    else this.renderPosition();
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j' || e.key === 'ArrowDown' || e.key === 'ArrowRight') {
      e.preventDefault();
      void this.go(this.index + 1);
    } else if (e.key === 'k' || e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
      e.preventDefault();
      void this.go(this.index - 1);
    }
  }

  async go(index: number): Promise<void> {
    const count = this.info?.lineCount ?? 0;
    if (count === 0) {
      this.current = undefined;
      this.renderPosition();
      this.body.replaceChildren(el('p', { class: 'empty' }, 'This file has no lines.'));
      return;
    }
    const target = Math.max(0, Math.min(index, count - 1));
    const seq = ++this.requestSeq;
    try {
      const record = await this.host.request('getRecord', { index: target });
      if (seq !== this.requestSeq) return; // a later navigation won
      this.index = target;
      this.current = record;
      this.host.state = { index: target };
      this.status.textContent = '';
      this.render();
    } catch (err) {
      this.status.textContent = err instanceof Error ? err.message : String(err);
    }
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
    const parts: Node[] = [];
    if (r.invalid) {
      parts.push(
        el('div', { class: 'invalid', 'data-testid': 'invalid' }, el('span', { class: 'codicon codicon-warning' }), ` Invalid line: ${r.invalid.reason}`),
        el('pre', { class: 'raw' }, r.raw),
      );
    } else if (r.value) {
      for (const [key, value] of Object.entries(r.value)) {
        const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
        parts.push(
          el(
            'section',
            { class: 'field', 'data-field': key },
            el('div', { class: 'field-name' }, key),
            el('div', { class: 'field-value' }, text ?? 'undefined'),
          ),
        );
      }
    }
    this.body.replaceChildren(...parts);
  }
}

const root = document.getElementById('app');
if (root) new EditorApp(root);
