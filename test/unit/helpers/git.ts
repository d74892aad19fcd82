// Real git repositories for the git-native tests: made in a temp folder, isolated from the
// machine's global and system git config.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, tempDir } from './store';

export const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_DATE: '2026-12-01T10:00:00Z',
  GIT_COMMITTER_DATE: '2026-12-01T10:00:00Z',
  NODE_OPTIONS: '',
};

/** Runs git in `cwd`; throws with its stderr unless `allowFail`. */
export function git(cwd: string, args: string[], allowFail = false): { code: number; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });
  if (!allowFail && r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A fresh repository on branch main with a committer identity. */
export function repo(user = 'lead'): string {
  const dir = tempDir('dc-git-');
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', user]);
  git(dir, ['config', 'user.email', `${user}@example.com`]);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  return dir;
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** How git runs the real CLI from its TypeScript entry (tsx's loader by absolute path: any cwd). */
export const curateCommand = [
  process.execPath,
  '--import',
  join(root, 'node_modules/tsx/dist/loader.mjs'),
  join(root, 'src/cli/main.ts'),
]
  .map(q)
  .join(' ');

/** Runs the real CLI in `cwd` (any folder: tsx's loader by absolute path). */
export function curateIn(cwd: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, 'src/cli/main.ts'), ...args],
    { cwd, env: gitEnv, encoding: 'utf8' },
  );
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Runs the real CLI without blocking this process (a loopback server in it keeps answering). */
export function curateAsync(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, 'src/cli/main.ts'), ...args],
      { cwd, env: { ...gitEnv, ...env } },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}
