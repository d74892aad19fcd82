// `curate annotate --in-place` (the store path the CLI and the extension use: results as edits of
// the dataset, a journal, one atomic save at the end) killed with SIGKILL midway, then run again:
// every record is annotated exactly once, the file is never half-written, the other fields of
// every record are as they were, and at most `concurrency` records are requested twice (the
// requests in flight when it was killed). test/unit/jobs-runner.test.ts does the same for the
// runner with file sinks.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lastUserText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { bundle } from './helpers/bundle';
import { fileWith, tempDir } from './helpers/store';

let server: OpenAITestServer;
let cli = '';
before(async () => {
  server = await startOpenAIServer({ latencyMs: 10 });
  cli = join(await bundle({ cli: 'src/cli/main.ts' }), 'cli.js');
});
after(async () => {
  await server.close();
});

const N = 600;
const CONCURRENCY = 8;

function annotate(file: string): {
  kill(): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
} {
  const p = spawn(
    process.execPath,
    [
      cli,
      'annotate',
      file,
      '--labels',
      'positive,negative',
      '--in-place',
      '--base-url',
      server.baseURL,
      '--model',
      'm',
      '--concurrency',
      String(CONCURRENCY),
      '--no-cache',
      '--yes',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: 'sk-job-crash', NODE_OPTIONS: '' } },
  );
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    kill: () => p.kill('SIGKILL'),
    done: new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, out, err }))),
  };
}

test(
  'SIGKILL of curate annotate --in-place midway, then again: every record exactly once, nothing half-written',
  { timeout: 300_000 },
  async () => {
    const dir = tempDir('dc-job-crash-');
    const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ id: i, text: `record-${i}-text` }));
    const original = Buffer.from(`${lines.join('\n')}\n`);
    const file = fileWith(original, 'data.jsonl', dir);
    const journalDir = `${file}.curator-journal`;
    const journaled = () => {
      if (!existsSync(journalDir)) return 0;
      return readdirSync(journalDir)
        .filter((n) => n.endsWith('.jsonl'))
        .reduce(
          (sum, n) =>
            sum +
            readFileSync(join(journalDir, n), 'utf8')
              .split('\n')
              .filter((l) => l.includes('"type":"record"')).length,
          0,
        );
    };

    const first = annotate(file);
    let exited = false as boolean; // set by the callback (not a narrowing the checker can follow)
    void first.done.then(() => (exited = true));
    while (journaled() < N / 3) {
      if (exited) assert.fail(`the job ended before it could be killed: ${(await first.done).err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill();
    const r1 = await first.done;
    assert.equal(r1.signal, 'SIGKILL');
    const mid = journaled();
    assert.ok(mid >= N / 3 && mid < N, `journaled ${mid} of ${N} before the kill`);
    // The results were journaled, not yet saved: the dataset is the original, whole.
    assert.ok(readFileSync(file).equals(original), 'the killed job left the file as it was');

    const second = await annotate(file).done;
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, new RegExp(`annotate: ${N} ok, 0 failed, .*${mid} resumed`));

    const after = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(after.length, N);
    after.forEach((line, i) => {
      const r = JSON.parse(line) as {
        id: number;
        text: string;
        label?: string;
        annotations: { suggestions: { label: { agent: string; value: string }[] } };
      };
      assert.equal(r.id, i);
      assert.equal(r.text, `record-${i}-text`, `line ${i + 1}: the other fields are as they were`);
      assert.equal(r.annotations.suggestions.label.length, 1, `line ${i + 1}: exactly one suggestion`);
      assert.equal(r.annotations.suggestions.label[0]!.agent, 'm');
      assert.ok(['positive', 'negative'].includes(r.annotations.suggestions.label[0]!.value));
    });

    const perRecord = new Map<number, number>();
    for (const q of server.requests.filter((x) => x.path.endsWith('/chat/completions'))) {
      const i = Number(/record-(\d+)-text/.exec(lastUserText(q.body as Parameters<typeof lastUserText>[0]))?.[1] ?? -1);
      perRecord.set(i, (perRecord.get(i) ?? 0) + 1);
    }
    assert.equal(perRecord.size, N, 'every record was requested');
    const twice = [...perRecord.values()].filter((c) => c > 1).length;
    assert.ok(
      twice <= CONCURRENCY,
      `${twice} records were requested twice (at most the ${CONCURRENCY} in flight at the kill)`,
    );
    assert.ok([...perRecord.values()].every((c) => c <= 2));
  },
);
