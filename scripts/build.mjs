// Builds every bundle with esbuild: the extension (Node, `vscode` external), the CLI (Node, with a
// shebang), one browser bundle per webview, worker threads, and the integration tests that run
// inside the VS Code extension host. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

/**
 * zod's error messages in 40 languages are most of its size in a browser bundle; the webview
 * speaks English (zod's default), so it gets only that one. The extension and CLI keep them all.
 * @type {import('esbuild').Plugin}
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(args.resolveDir, '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * Writes dist/webview/preload.json: the chunks editor.js imports statically, which the host
 * preloads in the page (<link rel="modulepreload">) so that they load beside editor.js, not after it.
 * @type {import('esbuild').Plugin}
 */
const webviewPreloads = {
  name: 'webview-preloads',
  setup(b) {
    b.onEnd((result) => {
      if (!result.metafile) return;
      const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'webview/editor/main.ts');
      const chunks = (entry?.[1].imports ?? []).filter((i) => i.kind === 'import-statement').map((i) => basename(i.path));
      mkdirSync(join(root, 'dist/webview'), { recursive: true });
      writeFileSync(join(root, 'dist/webview/preload.json'), JSON.stringify(chunks));
    });
  },
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: { 'scan-worker': 'src/core/store/scan-worker.ts' }, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    // What the webview loads and parses on every open: always minified (the source map stays for debugging).
    sourcemap: production ? false : 'linked',
    minify: true,
    plugins: [zodEnglishOnly, webviewPreloads],
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: { editor: 'webview/editor/main.ts' },
    // The protocol's schemas (zod) are a chunk of their own, loaded after the first paint (rpc.ts).
    splitting: true,
    chunkNames: '[name]-[hash]',
    outdir: 'dist/webview',
    tsconfig: 'webview/tsconfig.json',
  },
  {
    ...node,
    entryPoints: { 'integration/index': 'test/integration/index.ts', electron: 'test/electron.ts' },
    outdir: 'out/test',
    external: ['vscode', 'mocha', '@vscode/test-electron'],
  },
];

function copyAssets() {
  const dest = join(root, 'dist/webview');
  mkdirSync(dest, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) {
    cpSync(join(root, 'node_modules/@vscode/codicons/dist', f), join(dest, f));
  }
  cpSync(join(root, 'webview/editor/editor.css'), join(dest, 'editor.css'));
}

if (!watch) rmSync(join(root, 'dist'), { recursive: true, force: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  copyAssets();
  console.log('watching...');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyAssets();
  chmodSync(join(root, 'dist/cli.js'), 0o755);
}
