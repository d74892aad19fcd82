// Builds every bundle with esbuild: the extension (Node, `vscode` external), the CLI (Node, with a
// shebang), one browser bundle per webview, worker threads, and the integration tests that run
// inside the VS Code extension host. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: { editor: 'webview/editor/main.ts' },
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
