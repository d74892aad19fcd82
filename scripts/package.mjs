// `npm run package`: builds dataset-curator.vsix with @vscode/vsce, offline. The extension is
// staged in out/vsix/ (production bundles: minified, no source maps, every runtime dependency
// bundled by esbuild, so no node_modules), then `vsce package --no-dependencies` packs the stage
// with the allowlist in .vscodeignore. The development build in dist/ is left alone.
// Prints the .vsix's size and its files. `--out FILE` writes it elsewhere.
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDependencies, must, root } from './bootstrap.mjs';

const outArg = process.argv.indexOf('--out');
const vsix = outArg === -1 ? join(root, 'dataset-curator.vsix') : resolve(process.argv[outArg + 1] ?? '');
const stage = join(root, 'out', 'vsix');

ensureDependencies();
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
must(process.execPath, [join(root, 'scripts/build.mjs'), '--production', '--dist', join(stage, 'dist')]);
for (const f of [
  'package.json',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  'CONTRIBUTING.md',
  '.vscodeignore',
  'media',
  'samples',
  'docs',
]) {
  if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true });
}
rmSync(vsix, { force: true });
must(
  process.execPath,
  [
    join(root, 'node_modules/@vscode/vsce/vsce'),
    'package',
    '--no-dependencies',
    // Links stay relative: docs/ and media/ are inside the package, where VS Code's extension
    // page resolves them.
    '--no-rewrite-relative-links',
    '--out',
    vsix,
  ],
  // vsce looks for a git repository and for npm only to list dependencies, which are bundled.
  { cwd: stage, env: { ...process.env, npm_config_offline: 'true' } },
);
const size = statSync(vsix).size;
console.log(`\n${vsix}: ${(size / 1024).toFixed(0)} KiB (${size} bytes)`);
