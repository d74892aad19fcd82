// Helpers of the store, format and CLI tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const root = join(__dirname, '..', '..', '..');

let n = 0;
const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder under the OS temp folder, removed when the test process exits. */
export function tempDir(prefix = 'dc-store-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Writes content to a new file in `dir` (a fresh temp folder by default) and returns its path. */
export function fileWith(content: string | Buffer, name?: string, dir = tempDir()): string {
  const p = join(dir, name ?? `f${n++}.jsonl`);
  writeFileSync(p, content);
  return p;
}

/** Splits bytes into lines the way the store must: on LF, CRLF kept as the terminator, no phantom last line. */
export function expectedLines(buf: Buffer): { content: Buffer; eol: '' | '\n' | '\r\n' }[] {
  const out: { content: Buffer; eol: '' | '\n' | '\r\n' }[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 10) {
      const cr = i > start && buf[i - 1] === 13;
      out.push({ content: buf.subarray(start, cr ? i - 1 : i), eol: cr ? '\r\n' : '\n' });
      start = i + 1;
    }
  }
  if (start < buf.length) out.push({ content: buf.subarray(start), eol: '' });
  return out;
}

export interface CliResult {
  code: number;
  stdout: Buffer;
  out: string;
  err: string;
}

/** Runs the real CLI from its TypeScript entry point. */
export function curate(args: string[], opts: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'buffer',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

/**
 * Runs the real CLI in a child process without blocking this one (for tests whose loopback LLM
 * server answers from this process), in `cwd`, with `env` added to this process's environment.
 */
export function curateAsync(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; slowReader?: boolean } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  // tsx by path: the command may run in a data folder, where `--import tsx` would not resolve.
  const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const proc = spawn(process.execPath, ['--import', loader, join(root, 'src/cli/main.ts'), ...args], {
    cwd: opts.cwd ?? root,
    env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // A slow reader: the pipe fills, and the command's writes wait for it.
    if (opts.slowReader) {
      proc.stdout.pause();
      setTimeout(() => proc.stdout.resume(), 5);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': what the process wrote may still be in the pipes when it exits.
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, out, err })));
}

/**
 * Runs the CLI's main() in this process, in `cwd`, its output captured: much faster than a child
 * process, where the process itself is not the point. OPENAI_BASE_URL and CURATE_MODEL are unset
 * meanwhile (the flags alone say where an LLM job goes).
 */
export async function curateInProcess(
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../../src/cli/main');
  let out = '';
  let err = '';
  const here = process.cwd();
  const env = { base: process.env.OPENAI_BASE_URL, model: process.env.CURATE_MODEL };
  delete process.env.OPENAI_BASE_URL;
  delete process.env.CURATE_MODEL;
  process.chdir(cwd);
  try {
    const code = await main(args, {
      out: (t) => (out += t),
      err: (t) => (err += t),
      write: (b) => (out += Buffer.from(b).toString()),
      isTTY: false,
      signal: new AbortController().signal,
    });
    return { code, out, err };
  } finally {
    process.chdir(here);
    if (env.base !== undefined) process.env.OPENAI_BASE_URL = env.base;
    if (env.model !== undefined) process.env.CURATE_MODEL = env.model;
  }
}
