// A batch job (label task, in place, 60 records in 3 batches of at most 25) killed with SIGKILL in
// each phase of a batch, then run again: it resumes the same batches (never a second batch or a
// second upload for the same requests), and every record ends with exactly one answer, the one an
// uninterrupted run gives; the rest of each record is as it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { fileWith, tempDir } from './helpers/store';

let server: OpenAITestServer;
after(async () => {
  await server.close();
});

const N = 60;
const PER_FILE = 25;
const PARTS = 3;
const child = join(__dirname, '..', 'support', 'batch-child.ts');

function run(
  file: string,
  pause?: string,
  mode: 'store' | 'file' = 'store',
): {
  out: () => string;
  kill(): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
} {
  const args = [
    '--import',
    'tsx',
    child,
    server.baseURL,
    file,
    `${file}.curator-journal`,
    'job',
    String(PER_FILE),
    ...(pause ? [pause] : []),
  ];
  const p = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', DC_BATCH_MODE: mode },
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    out: () => out,
    kill: () => p.kill('SIGKILL'),
    done: new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, out, err }))),
  };
}

function dataset(): { file: string; original: string } {
  const lines = Array.from({ length: N }, (_, i) =>
    JSON.stringify({ id: i, text: `review number ${i}: ${i % 3 === 0 ? 'great' : 'poor'} product` }),
  );
  const original = `${lines.join('\n')}\n`;
  return { file: fileWith(original, 'data.jsonl', tempDir('dc-batch-crash-')), original };
}

function journalEntries(file: string): Array<Record<string, unknown>> {
  const p = join(`${file}.curator-journal`, 'job.batch.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const until = async (what: string, cond: () => boolean, exited: () => boolean, ms = 60_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (exited()) assert.fail(`the job ended before ${what}`);
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The records without the answer's time (an uninterrupted run is the reference). */
function normalized(text: string): unknown[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l) as {
        annotations?: { suggestions?: Record<string, Array<{ provenance?: { time?: string } }>> };
      };
      for (const list of Object.values(r.annotations?.suggestions ?? {}))
        for (const s of list) if (s.provenance) delete s.provenance.time;
      return r;
    });
}

let reference: unknown[] = [];
let referenceRun: { code: number | null; out: string; err: string } | undefined;

// The reference: the same job, uninterrupted (each test below compares with it).
before(async () => {
  server = await startOpenAIServer();
  const { file } = dataset();
  referenceRun = await run(file).done;
  if (referenceRun.code === 0) reference = normalized(readFileSync(file, 'utf8'));
});

test('reference: an uninterrupted batch job labels every record once', () => {
  const r = referenceRun;
  assert.ok(r);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out.trim().split('\n').pop() as string) as {
    ok: number;
    created: number;
    applied: number;
    complete: boolean;
  };
  assert.deepEqual(
    { ok: summary.ok, created: summary.created, applied: summary.applied, complete: summary.complete },
    { ok: N, created: PARTS, applied: N, complete: true },
  );
  const first = reference[0] as {
    label: string;
    annotations: { suggestions: { label: Array<{ value: string; agent: string }> } };
  };
  assert.ok(['positive', 'negative'].includes(first.label));
  assert.equal(first.annotations.suggestions.label.length, 1);
});

interface Scenario {
  phase: string;
  pause?: string;
  setup?(s: OpenAITestServer): void;
  /** When to kill (after the child printed "paused" when `pause` is set). */
  ready?(file: string, s: OpenAITestServer): boolean;
  /** Wait this long after the kill (a request the server was still answering). */
  settleMs?: number;
  /** What the second run says it found again. */
  adopts?: RegExp;
  /** The job as runFileBatchJob (one pass into the file at the end) instead of through the store. */
  mode?: 'store' | 'file';
}

const has = (file: string, type: string, extra: (e: Record<string, unknown>) => boolean = () => true): boolean =>
  journalEntries(file).some((e) => e.type === type && extra(e));

const scenarios: Scenario[] = [
  { phase: 'writing the input files', pause: 'build:40' },
  {
    phase: 'uploading an input file (the upload reached the server)',
    setup: (s) => s.addFault({ kind: 'latency', ms: 800 }, { path: '/v1/files', when: (r) => r.method === 'POST' }),
    ready: (_f, s) => s.requests.some((r) => r.method === 'POST' && r.path === '/v1/files'),
    settleMs: 1000,
    adopts: /part 0: its upload finished before the process stopped/,
  },
  {
    phase: 'creating a batch (the server created it)',
    setup: (s) => s.addFault({ kind: 'latency', ms: 800 }, { path: '/v1/batches', when: (r) => r.method === 'POST' }),
    ready: (_f, s) => s.requests.some((r) => r.method === 'POST' && r.path === '/v1/batches'),
    settleMs: 1000,
    adopts: /part 0: its batch was created before the process stopped/,
  },
  { phase: 'validating', setup: (s) => s.batches.hold('validating'), ready: (f) => has(f, 'created') },
  {
    phase: 'in_progress',
    setup: (s) => s.batches.hold('in_progress'),
    ready: (f) => has(f, 'status', (e) => e.status === 'in_progress'),
  },
  {
    phase: 'finalizing',
    setup: (s) => s.batches.hold('finalizing'),
    ready: (f) => has(f, 'status', (e) => e.status === 'finalizing'),
  },
  {
    phase: 'downloading the output file',
    setup: (s) => s.addFault({ kind: 'latency', ms: 800 }, { path: '', when: (r) => r.path.endsWith('/content') }),
    ready: (f, s) => has(f, 'ended') && s.requests.some((r) => r.path.endsWith('/content')),
  },
  { phase: 'applying results (none saved yet)', pause: 'apply:10' },
  { phase: 'a part is saved but not yet marked applied', pause: 'saved' },
  // the one-pass file apply (runFileBatchJob)
  {
    mode: 'file',
    phase: 'in_progress (file mode)',
    setup: (s) => s.batches.hold('in_progress'),
    ready: (f) => has(f, 'status', (e) => e.status === 'in_progress'),
  },
  {
    mode: 'file',
    phase: 'creating a batch (file mode)',
    setup: (s) => s.addFault({ kind: 'latency', ms: 800 }, { path: '/v1/batches', when: (r) => r.method === 'POST' }),
    ready: (_f, s) => s.requests.some((r) => r.method === 'POST' && r.path === '/v1/batches'),
    settleMs: 1000,
    adopts: /part 0: its batch was created before the process stopped/,
  },
  { mode: 'file', phase: 'every part applied, before the write into the file (file mode)', pause: 'write' },
];

for (const sc of scenarios) {
  test(
    `SIGKILL while ${sc.phase}, then again: the same batches, each record answered once`,
    { timeout: 180_000 },
    async () => {
      const mode = sc.mode ?? 'store';
      assert.ok(reference.length === N, 'the reference run ran first');
      server.reset();
      const { file, original } = dataset();
      sc.setup?.(server);
      const first = run(file, sc.pause, mode);
      let exited = false;
      void first.done.then(() => (exited = true));
      if (sc.pause)
        await until(
          `it paused (${sc.pause})`,
          () => first.out().includes('paused'),
          () => exited,
        );
      if (sc.ready)
        await until(
          sc.phase,
          () => sc.ready?.(file, server) ?? true,
          () => exited,
        );
      first.kill();
      const r1 = await first.done;
      assert.equal(r1.signal, 'SIGKILL', r1.err);
      await new Promise((r) => setTimeout(r, sc.settleMs ?? 100));
      if (sc.pause !== 'saved') assert.equal(readFileSync(file, 'utf8'), original, 'nothing was saved before the kill');
      const batchesBefore = server.batches.list().length;
      server.batches.release();
      server.clearFaults();

      const second = await run(file, undefined, mode).done;
      assert.equal(second.code, 0, second.err);
      if (sc.adopts) assert.match(second.err, sc.adopts);
      const summary = JSON.parse(second.out.trim().split('\n').pop() as string) as {
        ok: number;
        created: number;
        complete: boolean;
        failed: number;
        redo: number;
      };
      assert.equal(summary.complete, true);
      assert.equal(summary.ok, N);
      assert.equal(summary.failed, 0);
      assert.equal(summary.redo, 0);
      // never a second batch, never a second upload for the same requests
      assert.equal(
        server.batches.list().length,
        PARTS,
        `${server.batches.list().length} batches for ${PARTS} input files`,
      );
      assert.equal(summary.created, PARTS - batchesBefore, 'the second run created only the batches the first had not');
      const uploads = [...server.batches.files.values()].filter((f) => f.purpose === 'batch');
      assert.equal(uploads.length, PARTS, 'each input file uploaded once');
      assert.equal(new Set(uploads.map((f) => f.filename)).size, PARTS);
      // every record answered exactly once, as in the uninterrupted run; the rest as it was
      assert.deepEqual(normalized(readFileSync(file, 'utf8')), reference);
    },
  );
}

test('a kill while writing the input files leaves no half file under a final name', { timeout: 120_000 }, async () => {
  server.reset();
  const { file } = dataset();
  const first = run(file, 'build:40');
  let exited = false;
  void first.done.then(() => (exited = true));
  await until(
    'it paused',
    () => first.out().includes('paused'),
    () => exited,
  );
  first.kill();
  await first.done;
  const entries = journalEntries(file);
  assert.ok(!entries.some((e) => e.type === 'built'), 'the round is not marked built');
  const dir = join(`${file}.curator-journal`, 'job.batch.files');
  assert.ok(existsSync(dir));
  assert.ok(
    !readdirSync(dir).some(
      (n) =>
        /^job-\d+\.jsonl$/.test(n) &&
        readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean).length !== PER_FILE,
    ),
    'only whole files under a final name',
  );
  assert.equal(server.batches.list().length, 0, 'nothing was sent');
});
