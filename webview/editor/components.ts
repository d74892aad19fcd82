// The @vscode-elements components the page uses (lit custom elements: about 110 KB, as much as
// the rest of the page's script). A bundle of their own (dist/webview/components.js, a classic
// script), loaded once the first record is on screen (main.ts), not while the page starts: until
// then the elements are plain, hidden (editor.css: `:not(:defined)`), and whatever the views set
// on them is kept and applied when they upgrade (lit keeps properties set before the upgrade).
// Every view that makes one of these elements relies on this module for its definition.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
