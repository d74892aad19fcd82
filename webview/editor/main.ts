// The curation editor webview's entry point. Dataset text and model output reach the DOM only as
// text (textContent, text nodes), never as HTML.
import './start-mark';
import { EditorApp } from './app';
import { embeddedInit } from './embedded-init';
import { HostConnection } from './rpc';

performance.mark('dc:modules');
const root = document.getElementById('app');
if (root) {
  let app: EditorApp | undefined;
  const pending: Parameters<EditorApp['onEvent']>[0][] = [];
  const host = new HostConnection((e) => (app ? app.onEvent(e) : pending.push(e)));
  const embedded = embeddedInit(host.state);
  app = new EditorApp(root, host, embedded?.token);
  const first = embedded?.event;
  if (first) app.onEvent(first);
  for (const e of pending.splice(0)) app.onEvent(e);
  // The schemas load once the first record is on screen; then the embedded init is checked too.
  requestAnimationFrame(() =>
    setTimeout(() => {
      void host.schemas().then((p) => {
        const check = first && p.HostEvent.safeParse(first);
        if (check && !check.success) host.notify({ kind: 'notify', type: 'log', level: 'warn', message: `the page's embedded init does not match the protocol: ${check.error.message}` });
      });
    }, 0),
  );
}
