// Ctrl-C in the real `curate annotate` (src/cli/main.ts under tsx, a child process) against the
// loopback server with latency and concurrency 4: SIGINT midway stops it with exit code 130 and a
// message that says what was kept; the same command again resumes. In the end every record is
// annotated exactly once, the lines the job does not annotate (invalid, lossy) are byte for byte
// what they were, and the server saw at most `concurrency` repeated requests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { lastUserText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { tempDir } from './helpers/store';

const root = join(__dirname, '..', '..');
let server: OpenAITestServer;
before(async () => {
  server = await startOpenAIServer({ latencyMs: 30 });
});
after(async () => {
  await server.close();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function curate(args: string[]): { proc: ReturnType<typeof spawn>; done: Promise<Run> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENAI_API_KEY: 'sk-interrupt-test' },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Run>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done };
}

const recordOf = (text: string): number => Number(/record (\d+) of the set/.exec(text)?.[1] ?? -1);

test(
  'curate annotate: Ctrl-C midway exits 130 and keeps the work; the same command resumes; every record once',
  { timeout: 120_000 },
  async () => {
    const N = 240;
    const concurrency = 4;
    const dir = tempDir('dc-sigint-');
    const file = join(dir, 'data.jsonl');
    // Valid records, and lines the job cannot annotate: invalid JSON, a blank line, duplicate keys (lossy).
    const untouched = new Map<number, string>([
      [10, '{"id": 10, "text": "broken'],
      [50, ''],
      [90, '{"id":90,"text":"record 90 of the set","text":"twice"}'],
    ]);
    const lines = Array.from(
      { length: N },
      (_, i) =>
        untouched.get(i) ?? JSON.stringify({ id: i, text: `record ${i} of the set`, meta: { n: i, tags: ['a', 'b'] } }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const args = [
      'annotate',
      file,
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--model',
      'm',
      '--concurrency',
      String(concurrency),
      '--in-place',
      '--no-cache',
    ];

    const first = curate(args);
    const journalDir = `${file}.curator-journal`;
    const journaled = (): number => {
      if (!existsSync(journalDir)) return 0;
      return readdirSync(journalDir).reduce(
        (n, f) =>
          n +
          readFileSync(join(journalDir, f), 'utf8')
            .split('\n')
            .filter((l) => l.includes('"type":"record"')).length,
        0,
      );
    };
    for (;;) {
      await new Promise((r) => setTimeout(r, 25));
      if (journaled() >= N / 3) break;
      if (first.proc.exitCode !== null) assert.fail(`curate ended before the interrupt: ${(await first.done).err}`);
    }
    first.proc.kill('SIGINT');
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.err);
    assert.match(
      r1.err,
      /curate: interrupted; (\d+) of 240 records are done and kept\. Run the same command again to resume\./,
    );
    const kept = Number(/interrupted; (\d+) of/.exec(r1.err)?.[1]);
    assert.ok(kept >= N / 3 && kept < N, `${kept} records done at the interrupt`);
    // What was done is on disk already (saved when the job stopped), and the journal has it.
    const mid = readFileSync(file, 'utf8').split('\n');
    assert.ok(mid.filter((l) => l.includes('"suggestions"')).length >= N / 3 - untouched.size);

    const second = curate(args);
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.err);
    const resumed = Number(/(\d+) resumed/.exec(r2.out)?.[1]);
    assert.ok(resumed >= kept - untouched.size, r2.out);
    assert.match(r2.out, new RegExp(`annotate: ${N - untouched.size} ok, 0 failed, ${untouched.size} skipped`));

    // Every record annotated exactly once; the rest byte for byte; data fields as they were.
    const after = readFileSync(file, 'utf8').split('\n');
    assert.equal(after.length, N + 1);
    assert.equal(after[N], '');
    for (let i = 0; i < N; i++) {
      const was = untouched.get(i);
      if (was !== undefined) {
        assert.equal(after[i], was, `line ${i + 1} is untouched`);
        continue;
      }
      const r = JSON.parse(after[i]!) as {
        id: number;
        text: string;
        meta: unknown;
        label: string;
        annotations: { suggestions: { label: unknown[] } };
      };
      assert.equal(r.id, i);
      assert.equal(r.text, `record ${i} of the set`);
      assert.deepEqual(r.meta, { n: i, tags: ['a', 'b'] });
      assert.equal(r.annotations.suggestions.label.length, 1, `line ${i + 1} has one suggestion`);
      assert.ok(r.label === 'positive' || r.label === 'negative');
    }
    // Requests per record over both runs: at most `concurrency` records were asked twice.
    const perRecord = new Map<number, number>();
    for (const q of server.chatRequests()) {
      const i = recordOf(lastUserText(q.body));
      perRecord.set(i, (perRecord.get(i) ?? 0) + 1);
    }
    assert.equal(perRecord.size, N - untouched.size);
    const repeated = [...perRecord.values()].filter((c) => c > 1).length;
    assert.ok(repeated <= concurrency, `${repeated} records were requested twice`);
    assert.ok([...perRecord.values()].every((c) => c <= 2));
    // The key is in no file the job wrote.
    for (const f of [file, ...readdirSync(journalDir).map((x) => join(journalDir, x))])
      assert.ok(!readFileSync(f, 'utf8').includes('sk-interrupt-test'));
  },
);
