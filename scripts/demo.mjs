// `npm run demo`: opens Dataset Curator on the bundled sample in a real VS Code. With the desktop
// `code` on PATH it opens that; otherwise it starts the code-server build of VS Code on 127.0.0.1
// and prints the URL to open. The sample is copied to a scratch workspace, so the repo's copy stays
// as committed. Ctrl-C stops it.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { build, ensureDependencies, root } from './bootstrap.mjs';

ensureDependencies();
build();

const cache = process.env.DC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dataset-curator');
const workspace = join(cache, 'demo-workspace');
if (!existsSync(join(workspace, 'samples'))) {
  mkdirSync(workspace, { recursive: true });
  cpSync(join(root, 'samples'), join(workspace, 'samples'), { recursive: true });
}

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0 && !process.env.DC_DEMO_WEB;
if (hasCode) {
  console.log(`Opening VS Code on ${workspace} with Dataset Curator loaded from ${root}`);
  spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${root}`, workspace], { stdio: 'inherit' });
} else {
  const port = process.env.PORT ?? '8080';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/harness/serve.ts'), '--port', port, '--folder', workspace],
    { cwd: root, stdio: 'inherit' },
  );
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => process.exit(code ?? 0));
}
