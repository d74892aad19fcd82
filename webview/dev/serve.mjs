// Dev page for the curation editor's webview, without the extension host: bundles
// webview/dev/dev.ts (fake host + real webview) into /tmp/dc-dev and serves it on 127.0.0.1.
// Usage: node webview/dev/serve.mjs [port]   then open http://127.0.0.1:<port>/?theme=dark|light|hc&rows=N
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.env.DC_DEV_OUT ?? '/tmp/dc-dev';
const port = Number(process.argv[2] ?? 5175);
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: [join(root, 'webview/dev/dev.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  outfile: join(out, 'dev.js'),
  loader: { '.jsonl': 'text' },
  tsconfig: join(root, 'webview/tsconfig.json'),
  sourcemap: true,
  logLevel: 'warning',
});
cpSync(join(root, 'webview/editor/editor.css'), join(out, 'editor.css'));
cpSync(join(root, 'webview/dev/dev.css'), join(out, 'dev.css'));
for (const f of ['codicon.css', 'codicon.ttf'])
  cpSync(join(root, 'node_modules/@vscode/codicons/dist', f), join(out, f));
const csp =
  "default-src 'none'; script-src 'nonce-abc'; style-src 'self' 'nonce-abc'; font-src 'self'; img-src 'self' data:";
writeFileSync(
  join(out, 'index.html'),
  `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="codicon.css" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="dev.css">
<link rel="stylesheet" href="editor.css">
<title>Dataset Curator (dev)</title>
</head>
<body>
<div id="app"></div>
<script type="module" nonce="abc" src="dev.js"></script>
</body>
</html>`,
);

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};
const server = createServer((req, res) => {
  const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^(\.\.[/\\])+/, '');
  const file = join(out, path === '/' ? 'index.html' : path);
  if (!file.startsWith(out)) return void res.writeHead(403).end();
  if (path === '/favicon.ico') return void res.writeHead(204).end();
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
server.listen(port, '127.0.0.1', () => console.log(`dev page: http://127.0.0.1:${port}/`));
