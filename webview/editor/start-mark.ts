// Imported first by main.ts, so this runs once the bundle is parsed and before any module of it
// is evaluated. bench/editor.ts reads the marks to say where the open time goes.
performance.mark('dc:script');
