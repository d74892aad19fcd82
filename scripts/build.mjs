// Builds every bundle with esbuild: the extension (Node, `vscode` external), the CLI (Node, with a
// shebang), one browser bundle per webview, worker threads, and the integration tests that run
// inside the VS Code extension host. `--watch` rebuilds on change. `--production` minifies and drops
// source maps; `--dist DIR` writes the extension's bundles to DIR instead of dist/ and skips the
// test bundles (scripts/package.mjs stages the .vsix that way, leaving the development build alone).
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zodEnglishOnly } from './zod-english-only.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const distArg = process.argv.indexOf('--dist');
const dist = distArg === -1 ? join(root, 'dist') : resolve(root, process.argv[distArg + 1] ?? 'dist');
const packaging = distArg !== -1;

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  plugins: [zodEnglishOnly],
  // jsonc-parser's "main" is a UMD build that require()s its own files at run time, which a
  // bundle does not have; its ES module build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

// The CLI: a small main bundle (cli.js: argument parsing, help) and one bundle per command module
// (cli-NAME.js), loaded when that command runs: the modules that src/cli/commands/index.ts
// imports with import(). `curate --help` then starts in about the time of `node -e 0` plus a
// little, instead of loading the LLM engine, the filters and every format for every command.
const commandModules = [
  ...new Set(
    [...readFileSync(join(root, 'src/cli/commands/index.ts'), 'utf8').matchAll(/import\('\.\/([\w-]+)'\)/g)].map(
      (m) => m[1],
    ),
  ),
];
const lazyCommands = {
  name: 'lazy-commands',
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w-]+$/ }, (args) =>
      args.kind === 'dynamic-import' && /[\\/]src[\\/]cli[\\/]commands[\\/]index\.ts$/.test(args.importer)
        ? { path: `./cli-${args.path.slice(2)}.js`, external: true }
        : undefined,
    );
  },
};
const cliBuild = {
  ...node,
  entryPoints: {
    cli: 'src/cli/main.ts',
    ...Object.fromEntries(commandModules.map((m) => [`cli-${m}`, `src/cli/commands/${m}.ts`])),
  },
  outdir: dist,
  plugins: [...node.plugins, lazyCommands],
  // import() becomes require(): a CommonJS file loaded through import() goes through Node's ESM
  // loader, which first runs a lexer over the whole bundle to find its exports (about 0.4 s for
  // a 0.5 MB bundle on a loaded machine); require() just runs it.
  supported: { 'dynamic-import': false },
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: dist, external: ['vscode'] },
  ...(packaging ? [] : [{ ...cliBuild, banner: { js: '#!/usr/bin/env node' } }]),
  {
    ...node,
    entryPoints: {
      'scan-worker': 'src/core/store/scan-worker.ts',
      'aggregate-worker': 'src/core/store/aggregate-worker.ts',
    },
    outdir: dist,
  },
  // OpenAI's token encodings (about 4 MB): a bundle of their own, loaded on the first token count
  // (src/core/llm/tokenizer.ts), so neither the extension's nor the CLI's start-up parses them.
  { ...node, entryPoints: { tokenizer: 'src/core/llm/tokenizer-impl.ts' }, outdir: dist },
  // The Parquet reader and writer (hyparquet, its decompressors, hyparquet-writer): loaded when a
  // Parquet file is first read or written (src/core/formats/parquet.ts).
  { ...node, entryPoints: { parquet: 'src/core/formats/parquet-libs.ts' }, outdir: dist },
  // The webview: editor.js, which the host inlines in the page (so it must be one file with no
  // imports); protocol.js, the protocol's zod schemas as a classic script defining
  // `__dcProtocol`, which the page loads after its load event (webview/editor/protocol-loader.ts);
  // components.js, the @vscode-elements components (lit), a classic script the page loads once
  // the first record is on screen (webview/editor/main.ts); views.js, the views the first record
  // does not need (webview/editor/late-views.ts), a classic script defining `__dcViews`, loaded then too.
  // What the webview parses on every open: always minified (the source map stays for debugging).
  ...[
    { entryPoints: { editor: 'webview/editor/main.ts' }, format: 'esm' },
    { entryPoints: { protocol: 'src/shared/protocol.ts' }, format: 'iife', globalName: '__dcProtocol' },
    { entryPoints: { components: 'webview/editor/components.ts' }, format: 'iife' },
    { entryPoints: { views: 'webview/editor/late-views.ts' }, format: 'iife', globalName: '__dcViews' },
  ].map((entry) => ({
    ...entry,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    sourcemap: production ? false : 'linked',
    minify: true,
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
    absWorkingDir: root,
    outdir: join(dist, 'webview'),
    tsconfig: 'webview/tsconfig.json',
  })),
  ...(packaging
    ? []
    : [
        {
          ...node,
          entryPoints: { 'integration/index': 'test/integration/index.ts', electron: 'test/electron.ts' },
          outdir: 'out/test',
          external: ['vscode', 'mocha', '@vscode/test-electron'],
        },
      ]),
];

function copyAssets() {
  const dest = join(dist, 'webview');
  mkdirSync(dest, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) {
    cpSync(join(root, 'node_modules/@vscode/codicons/dist', f), join(dest, f));
  }
  const css = readFileSync(join(root, 'webview/editor/editor.css'), 'utf8');
  writeFileSync(
    join(dest, 'editor.css'),
    production ? esbuild.transformSync(css, { loader: 'css', minify: true }).code : css,
  );
}

if (!watch) rmSync(dist, { recursive: true, force: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  copyAssets();
  console.log('watching...');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyAssets();
  if (!packaging) chmodSync(join(dist, 'cli.js'), 0o755);
}
