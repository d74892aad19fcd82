// Tiny DOM helpers. Everything that comes from a dataset or a model reaches the DOM through these
// as text (text nodes, textContent) or as non-URL attribute values, never as HTML.

export type Child = Node | string | null | undefined | false;

/** Creates an element with attributes (set with setAttribute) and text/node children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
  append(node, ...children);
  return node;
}

/** Appends children; strings become text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element; attribute values are computed numbers or fixed class names. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  append(node, ...children);
  return node;
}

/** A codicon glyph (decorative). */
export function icon(name: string, extraClass = ''): HTMLSpanElement {
  return el('span', { class: `codicon codicon-${name} ${extraClass}`.trim(), 'aria-hidden': 'true' });
}

/**
 * A vscode-button. Its codicon, if any, is drawn in the light DOM, where the page's own codicon
 * stylesheet (inlined by the host) reaches it: the button's `icon` attribute would render a
 * vscode-icon whose shadow root fetches codicon.css again, for every icon, before the page's load
 * event, and VS Code keeps the webview hidden until that event (or a 200 ms fallback).
 */
export function vsButton(
  attrs: Record<string, string | undefined> & { icon?: string },
  ...children: Child[]
): HTMLElementTagNameMap['vscode-button'] {
  const { icon: name, ...rest } = attrs;
  const button = el('vscode-button', rest, ...children);
  // Beside text, the button's content-before slot spaces the glyph; alone, it is the content.
  if (name)
    button.prepend(
      el('span', {
        class: `button-icon codicon codicon-${name}`,
        'aria-hidden': 'true',
        slot: 'icon-only' in rest ? undefined : 'content-before',
      }),
    );
  return button;
}

/** A keyboard key hint. */
export function kbd(text: string): HTMLElement {
  return el('kbd', {}, text);
}

export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '–';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Whether a keyboard event comes from a place where the user types text. */
export function isTypingTarget(e: Event): boolean {
  const origin = (e.composedPath()[0] ?? e.target) as Element | null;
  for (const node of [origin, e.target as Element | null]) {
    if (!node || !(node instanceof Element)) continue;
    if (node instanceof HTMLElement && node.isContentEditable) return true;
    if (
      /^(INPUT|TEXTAREA|SELECT|VSCODE-TEXTFIELD|VSCODE-TEXTAREA|VSCODE-SINGLE-SELECT|VSCODE-MULTI-SELECT)$/.test(
        node.tagName,
      )
    ) {
      // Checkboxes and buttons do not take text.
      if (node instanceof HTMLInputElement && /^(checkbox|radio|button|submit|range)$/.test(node.type)) return false;
      return true;
    }
  }
  return false;
}

/** Gives focus back after a dialog closes; never leaves it on a now hidden element. */
export function restoreFocus(dialog: HTMLElement, previous: HTMLElement | null): void {
  if (previous && previous !== document.body && previous.isConnected && !dialog.contains(previous)) previous.focus();
  const active = document.activeElement;
  if (active instanceof HTMLElement && dialog.contains(active)) active.blur();
}
