// Loads the protocol's zod schemas (zod is over half of the webview's code) without delaying the
// first paint. The build makes them a classic script of their own, dist/webview/protocol.js, that
// defines `__dcProtocol`; the host names its address in the page (`#dc-protocol`). It is added
// with the page's nonce at the page's first frame after its load event: VS Code keeps a webview
// hidden until that event, so nothing may be fetched before it, and the fetch would only delay
// that frame. The dev page (webview/dev) defines the
// global itself.
type Protocol = typeof import('../../src/shared/protocol');

declare global {
  var __dcProtocol: Protocol | undefined;
}

/**
 * The page's load event. Listened for when this module is evaluated, which is before that event
 * (the page's module script runs first). document.readyState cannot tell: VS Code writes the page
 * into a document that had loaded already (fake.html), and it says 'complete' from the start.
 */
export const pageLoaded = new Promise<void>((resolve) =>
  window.addEventListener('load', () => resolve(), { once: true }),
);

/** The longest firstFrame waits for a frame after the load event. */
const FIRST_FRAME_MS = 500;

/**
 * The page's first frame after its load event (a requestAnimationFrame callback: that frame's paint
 * comes right after it). VS Code shows the page on its load event, so this is when the first record
 * goes on screen; at the latest FIRST_FRAME_MS after the load event (a hidden page draws no frame).
 */
export const firstFrame = pageLoaded.then(
  () =>
    new Promise<void>((resolve) => {
      requestAnimationFrame(() => resolve());
      setTimeout(resolve, FIRST_FRAME_MS);
    }),
);

/**
 * Adds the classic script whose address the host names in the page (`<meta id=… data-src>`),
 * with the page's nonce; resolves once it has run.
 */
export function loadPageScript(id: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const src = document.getElementById(id)?.dataset.src;
    // The page's scripts carry its nonce; the property keeps it after the attribute is hidden.
    const nonce = document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce;
    if (!src || !nonce) {
      reject(new Error(`the page names no script for ${id}`));
      return;
    }
    const script = document.createElement('script');
    script.nonce = nonce;
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`${src} failed to load`));
    document.head.append(script);
  });
}

let loading: Promise<Protocol> | undefined;

export function loadProtocol(): Promise<Protocol> {
  const defined = globalThis.__dcProtocol;
  if (defined) return Promise.resolve(defined);
  // Fetched once the first record is on screen: the fetch goes through the workbench's main
  // thread, which is busy drawing the page until then.
  loading ??= firstFrame
    .then(() => loadPageScript('dc-protocol'))
    .then(() => globalThis.__dcProtocol ?? Promise.reject(new Error('protocol.js defined no schemas')));
  return loading;
}
