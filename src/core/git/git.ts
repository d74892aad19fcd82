// The `git` binary, for the semantic diff (a file as it was at a revision, streamed to a temp file,
// never read into one string), the merge driver's installation and the annotator's identity.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

/** Runs git with small output (config, rev-parse). */
export function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 20, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(
          new GitError(
            code === 'ENOENT'
              ? 'git is not installed (or not on PATH)'
              : `git ${args[0]}: ${stderr.trim() || err.message}`,
          ),
        );
      } else resolve(stdout);
    });
  });
}

/** The repository's top folder, or undefined when `dir` is not in a git work tree. */
export async function repoRoot(dir: string): Promise<string | undefined> {
  try {
    return (await git(['rev-parse', '--show-toplevel'], dir)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the file `file` as it was at revision `rev` to `dest`, streamed from `git cat-file`.
 * Throws a GitError naming the revision when it has no such file.
 */
export function writeBlob(file: string, rev: string, dest: string, signal?: AbortSignal): Promise<void> {
  if (rev.startsWith('-')) return Promise.reject(new GitError(`not a revision: ${rev}`));
  return new Promise((resolve, reject) => {
    const out = createWriteStream(dest);
    const child = spawn('git', ['cat-file', 'blob', `${rev}:./${basename(file)}`], {
      cwd: dirname(file),
      windowsHide: true,
      ...(signal ? { signal } : {}),
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.stdout.pipe(out);
    let exit: number | null | undefined;
    let closed = false;
    const done = () => {
      if (exit === undefined || !closed) return;
      if (exit === 0) resolve();
      else
        reject(
          new GitError(
            `${basename(file)} at ${rev}: ${stderr.trim().replace(/^fatal: /, '') || `git exited with ${exit}`}`,
          ),
        );
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      out.destroy();
      reject(err.code === 'ENOENT' ? new GitError('git is not installed (or not on PATH)') : err);
    });
    child.on('close', (code) => {
      exit = code;
      done();
    });
    out.on('close', () => {
      closed = true;
      done();
    });
    out.on('error', reject);
  });
}

/**
 * A copy of `file` at `rev` in a fresh temp folder; `dispose()` removes it. A file the revision does
 * not have (added since) is an empty file, `missing` true; a revision that does not exist is an error.
 */
export async function fileAtRevision(
  file: string,
  rev: string,
  signal?: AbortSignal,
): Promise<{ path: string; missing: boolean; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'curate-rev-'));
  const path = join(dir, basename(file));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    await writeBlob(file, rev, path, signal);
    return { path, missing: false, dispose };
  } catch (err) {
    if (err instanceof GitError && /does not exist in|exists on disk, but not in/.test(err.message)) {
      writeFileSync(path, '');
      return { path, missing: true, dispose };
    }
    dispose();
    throw err;
  }
}

/**
 * `REV1..REV2`, `REV1..` (to the working tree) or `REV` (to the working tree): the two sides;
 * `undefined` stands for the file in the working tree.
 */
export function parseRange(spec: string): { from: string; to?: string } {
  const m = /^(.*?)\.\.(?!\.)(.*)$/.exec(spec);
  if (!m) return { from: spec };
  return { from: m[1] || 'HEAD', ...(m[2] ? { to: m[2] } : {}) };
}

/** Who decides, by the git identity of the repository holding `dir`: user.name, else user.email. */
export async function gitIdentity(dir: string): Promise<string | undefined> {
  const get = async (k: string) => {
    try {
      return (await git(['config', '--get', k], dir)).trim();
    } catch {
      return '';
    }
  };
  return (await get('user.name')) || (await get('user.email')) || undefined;
}

export const ATTRIBUTES_LINE = '*.jsonl merge=curate';

export interface InstallResult {
  root: string;
  driver: string;
  /** True when .gitattributes got the line (false: it had it). */
  attributesAdded: boolean;
  attributesFile: string;
}

/** A shell word for git's config (the driver runs through the shell). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Installs the merge driver in the repository holding `dir`: `merge.curate.name` and
 * `merge.curate.driver` in its config (`command` is how to run curate, e.g. `curate` or
 * `node /path/to/cli.js`), and `*.jsonl merge=curate` in the top folder's .gitattributes.
 */
export async function installMergeDriver(dir: string, command = 'curate'): Promise<InstallResult> {
  const root = await repoRoot(dir);
  if (!root) throw new GitError(`${dir} is not in a git repository`);
  const driver = `${command} merge-driver %O %A %B %P`;
  await git(['config', 'merge.curate.name', 'Dataset Curator: merges JSONL records by id'], root);
  await git(['config', 'merge.curate.driver', driver], root);
  const attributesFile = join(root, '.gitattributes');
  const text = existsSync(attributesFile) ? readFileSync(attributesFile, 'utf8') : '';
  const has = text.split(/\r?\n/).some((l) => l.trim().replace(/\s+/g, ' ') === ATTRIBUTES_LINE);
  if (!has) writeFileSync(attributesFile, `${text}${text && !text.endsWith('\n') ? '\n' : ''}${ATTRIBUTES_LINE}\n`);
  return { root, driver, attributesAdded: !has, attributesFile };
}
