// Shared by `npm test` and `npm run demo`: makes a clean clone runnable with nothing but Node 20,
// npm and apt-get. Installs the npm packages when node_modules is missing or older than the
// lockfile, and builds the bundles.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

export function must(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed with exit code ${code}`);
    process.exit(code);
  }
}

export function ensureDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    console.log('# installing npm packages (npm ci)');
    must('npm', ['ci', '--no-audit', '--no-fund']);
  }
}

export function build() {
  must(process.execPath, [join(root, 'scripts/build.mjs')]);
}
