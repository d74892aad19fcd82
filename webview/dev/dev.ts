// The dev page's entry: the fake host first, then the real webview.
import './protocol-global';
import './views-global';
import './fake-host';
// The extension's page loads them as a script of their own (components.js, named by the host).
import '../editor/components';
import '../editor/main';
