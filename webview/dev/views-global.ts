// The dev page has no host to name views.js: it bundles the late views and defines the global
// that protocol-loader.ts (loadViews) looks for first.
import * as views from '../editor/late-views';
import '../editor/protocol-loader';

globalThis.__dcViews = views;
