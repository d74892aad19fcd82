// The curation editor webview's entry point. Dataset text and model output reach the DOM only as
// text (textContent, text nodes), never as HTML.
import { EditorApp } from './app';
import { HostConnection } from './rpc';

const root = document.getElementById('app');
if (root) {
  let app: EditorApp | undefined;
  const pending: Parameters<EditorApp['onEvent']>[0][] = [];
  const host = new HostConnection((e) => (app ? app.onEvent(e) : pending.push(e)));
  app = new EditorApp(root, host);
  for (const e of pending.splice(0)) app.onEvent(e);
}
