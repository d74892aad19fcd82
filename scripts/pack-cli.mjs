// `npm run package:cli`: the `curate` command line as an npm package of its own, installable
// without the extension: `npm install -g dataset-curator-cli-VERSION.tgz` (or from a registry).
// The package holds only what runs: cli.js (the CLI with every runtime dependency bundled by
// esbuild: zod, openai, csv-parse, franc-min), scan-worker.js (the store's worker thread, loaded
// from beside the bundle), tokenizer.js and parquet.js (loaded from beside it when first needed), its package.json, a README (docs/cli.md) and the LICENSE. No
// dependencies to install, no network needed. Staged in out/cli-package, packed with `npm pack`.
// `--out DIR` puts the tarball in DIR (default out/); prints its path on the last line.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDependencies, root } from './bootstrap.mjs';
import { zodEnglishOnly } from './zod-english-only.mjs';

const outArg = process.argv.indexOf('--out');
const outDir = outArg === -1 ? join(root, 'out') : resolve(process.argv[outArg + 1] ?? 'out');
const stage = join(root, 'out', 'cli-package');

ensureDependencies();
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
mkdirSync(outDir, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
  absWorkingDir: root,
  plugins: [zodEnglishOnly],
  outdir: stage,
};
await esbuild.build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, banner: { js: '#!/usr/bin/env node' } });
await esbuild.build({
  ...common,
  entryPoints: {
    'scan-worker': 'src/core/store/scan-worker.ts',
    'aggregate-worker': 'src/core/store/aggregate-worker.ts',
  },
});
// Loaded from beside cli.js when first needed: OpenAI's token encodings and the Parquet libraries.
await esbuild.build({
  ...common,
  entryPoints: { tokenizer: 'src/core/llm/tokenizer-impl.ts', parquet: 'src/core/formats/parquet-libs.ts' },
});

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cli = {
  name: 'dataset-curator-cli',
  version: pkg.version,
  description:
    'curate: Dataset Curator headless. Stats, validation, filters, LLM labeling and judging, synthesis and export of JSONL training data, for CI and servers.',
  license: pkg.license,
  bin: { curate: 'cli.js' },
  files: ['cli.js', 'scan-worker.js', 'aggregate-worker.js', 'tokenizer.js', 'parquet.js', 'README.md', 'LICENSE'],
  engines: { node: '>=20' },
  keywords: ['jsonl', 'dataset', 'llm', 'annotation', 'labeling', 'cli', 'fine-tuning'],
  ...(pkg.repository ? { repository: pkg.repository } : {}),
  ...(pkg.bugs ? { bugs: pkg.bugs } : {}),
  ...(pkg.homepage ? { homepage: pkg.homepage } : {}),
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(cli, null, 2)}\n`);
cpSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
cpSync(join(root, 'docs', 'cli.md'), join(stage, 'README.md'));

const r = spawnSync('npm', ['pack', '--json', '--pack-destination', outDir], {
  cwd: stage,
  encoding: 'utf8',
  env: {
    ...process.env,
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  },
});
if (r.status !== 0) {
  process.stderr.write(r.stderr);
  process.exit(r.status ?? 1);
}
const [packed] = JSON.parse(r.stdout);
console.log(`${packed.files.map((f) => `  ${f.path} (${(f.size / 1024).toFixed(0)} KiB)`).join('\n')}`);
console.log(join(outDir, packed.filename));
