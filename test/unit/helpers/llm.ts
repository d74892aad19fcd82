// Shared by the generation tests: the loopback server for a test file (reset before each test),
// a fresh folder per test, a JSONL reader, and a generation operation in a child process (for the
// kill -9 tests).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { pendingBatchJobs, type PendingBatchJob } from '../../../src/core/llm/batch/operation';
import { startOpenAIServer, type OpenAITestServer } from '../../support/openai-server';
import { tempDir } from './store';

/** Starts the server once for the file; before each test: reset, no latency, a new temp folder (removed at exit). */
export function useLoopbackServer(prefix: string): { server: () => OpenAITestServer; dir: () => string } {
  let server: OpenAITestServer | undefined;
  let dir = '';
  before(async () => {
    server = await startOpenAIServer();
  });
  after(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server?.reset();
    if (server) server.latencyMs = 0;
    dir = tempDir(prefix);
  });
  return {
    server: () => {
      if (!server) throw new Error('the loopback server is not started');
      return server;
    },
    dir: () => dir,
  };
}

/** The rows of a JSONL file, untyped as JSON.parse gives them (the tests' assertions check them). */
export const readJsonl = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** A JSONL file's records without the keys that say when or by which run (`time`, or the keys named): what was written. */
export function readJsonlContent(p: string, timeKeys: readonly string[] = ['time']): unknown[] {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => !timeKeys.includes(k))
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  return readJsonl(p).map(strip);
}

/** Runs a generation operation in a child process (test/support/generate-child.ts). */
export function runGenerateChild(task: string, options: unknown) {
  return runSupportChild('generate-child.ts', [task, JSON.stringify(options)]);
}

/** Runs a script of test/support in a child process: its exit, stdout and stderr. */
export function runSupportChild(script: string, args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'support', script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { proc, done };
}

/**
 * What VS Code finds on activation for the dataset at `path` when exactly one batch job of it is
 * unfinished: that job (asserted: one, and no file of options it could not read).
 */
export function onePendingBatchJob(path: string, what = 'one unfinished batch job'): PendingBatchJob {
  const problems: string[] = [];
  const jobs = pendingBatchJobs(path, (job, why) => problems.push(`${job}: ${why}`));
  assert.deepEqual(problems, []);
  assert.equal(jobs.length, 1, what);
  const [job] = jobs;
  assert.ok(job);
  return job;
}
