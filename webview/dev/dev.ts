// The dev page's entry: the fake host first, then the real webview.
import './protocol-global';
import './fake-host';
import '../editor/main';
