// The views the first record does not need: the list, the statistics, the agreement report, the
// duplicates and the raw-JSON dialog (a third of the page's script). The build makes them a
// classic script of their own, dist/webview/views.js, that defines `__dcViews`; the page loads it
// once the first record is on screen (protocol-loader.ts, loadViews), so VS Code neither passes
// them through its frames with the page's html nor the page parses them before its first paint.
// Every import of theirs is a type or a pure helper: nothing here shares state with editor.js.
export { AgreementView } from './agreement-view';
export { DuplicatesView } from './duplicates-view';
export { ListView } from './list-view';
export { RawEditor } from './raw-editor';
export { StatsView } from './stats-view';
