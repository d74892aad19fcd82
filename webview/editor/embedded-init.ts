// The host puts the webview's init event (document info, the first record, the list's columns)
// in the page as a JSON data block, so that the first paint needs no round trip. The block is
// produced by the host from the protocol's own types; the webview checks its outline here (zod
// is not loaded yet) and validates it fully against the schemas right after the first paint.
// A hidden editor that is shown again reloads the same page: the token, kept in the webview's
// state, says the block was used already (it is stale by then), and the webview waits for the
// host's fresh init instead.
import type { HostEvent } from '../../src/shared/protocol';

type InitEvent = Extract<HostEvent, { type: 'init' }>;

export interface Embedded {
  token: string;
  /** Undefined when this page's block was shown before. */
  event: InitEvent | undefined;
}

export function embeddedInit(state: unknown): Embedded | undefined {
  const text = document.getElementById('dc-init')?.textContent;
  if (!text) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    data === null ||
    typeof data !== 'object' ||
    !('token' in data) ||
    typeof data.token !== 'string' ||
    !('event' in data)
  )
    return undefined;
  // the page's text: nothing is known of its fields until checked
  const event = data.event as { [K in keyof InitEvent]?: unknown } | null;
  const outline =
    event !== null &&
    typeof event === 'object' &&
    event.kind === 'event' &&
    event.type === 'init' &&
    typeof event.info === 'object' &&
    event.info !== null;
  const used = state !== null && typeof state === 'object' && 'initToken' in state && state.initToken === data.token;
  return { token: data.token, event: outline && !used ? (event as InitEvent) : undefined };
}
