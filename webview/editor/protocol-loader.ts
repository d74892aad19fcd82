// Loads the protocol's zod schemas (zod is over half of the webview's code) without delaying the
// first paint. The build makes them a classic script of their own, dist/webview/protocol.js, that
// defines `__dcProtocol`; the host names its address in the page (`#dc-protocol`). It is added
// with the page's nonce once the first record is on screen (onScreen): VS Code keeps a webview
// hidden until its load event, so nothing may be fetched before it, and after it the fetch would
// only delay the first paint. The dev page (webview/dev) defines the global itself.
type Protocol = typeof import('../../src/shared/protocol');
export type LateViews = typeof import('./late-views');

declare global {
  var __dcProtocol: Protocol | undefined;
  var __dcViews: LateViews | undefined;
}

/**
 * The page's load event. Listened for when this module is evaluated, which is before that event
 * (the page's module script runs first). document.readyState cannot tell: VS Code writes the page
 * into a document that had loaded already (fake.html), and it says 'complete' from the start.
 */
export const pageLoaded = new Promise<void>((resolve) =>
  window.addEventListener('load', () => resolve(), { once: true }),
);

/** The longest onScreen waits for the first paint after the load event. */
const ON_SCREEN_MS = 500;

/**
 * The first record on screen: the page's first contentful paint, which comes after its load event
 * (VS Code keeps the frame hidden until then, and shows it a frame or two later). At the latest
 * ON_SCREEN_MS after the load event: a page that stays hidden (opened in the background) paints
 * nothing. What the first paint does not need waits for it (the host's answers, the components,
 * the protocol's schemas): before it, their work would share the 2 cores of a small machine with
 * the workbench drawing the page.
 */
export const onScreen = pageLoaded.then(
  () =>
    new Promise<void>((resolve) => {
      const painted = () => performance.getEntriesByName('first-contentful-paint').length > 0;
      if (painted()) {
        resolve();
        return;
      }
      const done = () => {
        observer?.disconnect();
        resolve();
      };
      let observer: PerformanceObserver | undefined;
      try {
        observer = new PerformanceObserver(() => painted() && done());
        observer.observe({ type: 'paint' });
      } catch {
        // no paint timing here: the timeout alone
      }
      setTimeout(done, ON_SCREEN_MS);
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

/**
 * A global that a script of the page defines: at once if it is defined already (the dev page
 * defines them itself), else from the script the host names under `id` (`<meta id=… data-src>`),
 * fetched once the first record is on screen: the fetch goes through the workbench's main thread,
 * which is busy drawing the page until then. A failed load is tried again on the next call.
 */
function pageGlobal<T>(id: string, read: () => T | undefined, missing: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    const defined = read();
    if (defined) return Promise.resolve(defined);
    loading ??= onScreen
      .then(() => loadPageScript(id))
      .then(() => read() ?? Promise.reject(new Error(missing)))
      .catch((err: unknown) => {
        loading = undefined;
        throw err;
      });
    return loading;
  };
}

/** The protocol's zod schemas (protocol.js). */
export const loadProtocol = pageGlobal('dc-protocol', () => globalThis.__dcProtocol, 'protocol.js defined no schemas');

/**
 * The views the first record does not need (late-views.ts: the list, the statistics, the
 * agreement report, the duplicates, the raw-JSON dialog), from views.js.
 */
export const loadViews = pageGlobal('dc-views', () => globalThis.__dcViews, 'views.js defined no views');
