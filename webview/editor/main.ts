// The curation editor webview's entry point. Dataset text and model output reach the DOM only as
// text (textContent, text nodes), never as HTML.
import './start-mark';
import { EditorApp } from './app';
import { embeddedInit } from './embedded-init';
import { loadPageScript, onScreen, pageLoaded } from './protocol-loader';
import { HostConnection } from './rpc';

performance.mark('dc:modules');
/** The longest the components and codicons wait for the first record on screen (see below). */
const LATE_MS = 1000;
void pageLoaded.then(() => performance.mark('dc:load'));
const root = document.getElementById('app');
if (root) {
  // undefined until built below (a const would be in its dead zone when the host's callback reads it):
  // events that arrive before then wait in `pending`
  let app: EditorApp | undefined = undefined;
  const pending: Parameters<EditorApp['onEvent']>[0][] = [];
  const host = new HostConnection((e) => (app ? app.onEvent(e) : pending.push(e)));
  const embedded = embeddedInit(host.state);
  const first = embedded?.event;
  // Started from the embedded first record, the page says nothing to the host until that record
  // is on screen (ready, the current record, the records fetched ahead: rpc.ts, hold; onScreen in
  // protocol-loader.ts). Without it, it asks at once.
  if (first?.record) host.hold();
  app = new EditorApp(root, host, embedded?.token);
  if (first) app.onEvent(first);
  for (const e of pending.splice(0)) app.onEvent(e);
  // The schemas load after the page's load event (protocol-loader.ts); then the embedded init is checked too.
  void host.schemas().then(
    (p) => {
      const check = first && p.HostEvent.safeParse(first);
      if (check && !check.success)
        host.notify({
          kind: 'notify',
          type: 'log',
          level: 'warn',
          message: `the page's embedded init does not match the protocol: ${check.error.message}`,
        });
    },
    (err: unknown) =>
      host.notify({
        kind: 'notify',
        type: 'log',
        level: 'error',
        message: `the protocol's schemas did not load: ${String(err)}`,
      }),
  );
  // VS Code shows the page on its load event; a frame or two later it is on screen (its first
  // contentful paint). Then what the first record's paint did not need: the components, the
  // codicons (at the latest after LATE_MS, should the frame stay hidden and draw no frame).
  let late = false;
  const afterFirstPaint = () => {
    host.release();
    if (late) return;
    late = true;
    applyLateStyles();
    void defineComponents().then(
      () => performance.mark('dc:components'),
      (err: unknown) =>
        host.notify({
          kind: 'notify',
          type: 'log',
          level: 'error',
          message: `the components did not load: ${String(err)}`,
        }),
    );
  };
  setTimeout(afterFirstPaint, LATE_MS);
  void onScreen.then(() => {
    host.release();
    host.notify({ kind: 'notify', type: 'shown' });
    setTimeout(afterFirstPaint, 0);
  });
}

/**
 * The stylesheets the host puts in the page inert (a template: the codicons' link), applied in
 * their place before the page's own once the first record is on screen: an icon without its font
 * draws nothing, so they are not needed for the first paint, and their stylesheet and font (160 KB)
 * are fetched only then.
 */
function applyLateStyles(): void {
  const late = document.getElementById('dc-late-styles');
  if (!(late instanceof HTMLTemplateElement)) return;
  document.head.insertBefore(late.content, document.getElementById('dc-styles'));
  late.remove();
}

/**
 * The @vscode-elements components (webview/editor/components.ts): a script of their own, named by
 * the host (`#dc-components`), loaded once the first record is on screen. Half of the page's
 * script, they are then neither sent with the page nor parsed before the first paint. (The dev
 * page defines them itself.)
 */
function defineComponents(): Promise<void> {
  if (customElements.get('vscode-button')) return Promise.resolve();
  return loadPageScript('dc-components');
}
