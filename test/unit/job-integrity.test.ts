// Issue 14 (part A) through the real `curate` (bundled, a child process) against the loopback
// server: an answer never lands on a record it was not computed for, whatever happens to the file
// between or during runs, and a model never silently replaces a label or rationale.
//
// The server answers each record from its own text: the rationale is `for: <text>` and the label
// is a function of the text, so every record's answer says which record it was computed for.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { lastUserText, startOpenAIServer, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { bundle } from './helpers/bundle';
import { tempDir } from './helpers/store';

let server: OpenAITestServer;
let cli = '';
before(async () => {
  server = await startOpenAIServer();
  cli = join(await bundle({ cli: 'src/cli/main.ts' }), 'cli.js');
});
after(async () => {
  await server.close();
});

/** The label the server gives a record's text (a function of the text alone). */
function labelFor(text: string): 'pos' | 'neg' {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 2 === 0 ? 'pos' : 'neg';
}

/** The text of the record a request was rendered from (`"text":"…"` in the record's JSON). */
function requestText(body: ChatBody): string {
  const m = /"text":"((?:[^"\\]|\\.)*)"/.exec(lastUserText(body));
  return m ? (JSON.parse(`"${m[1]}"`) as string) : '?';
}

beforeEach(() => {
  server.reset();
  server.latencyMs = 40;
  server.respond = (req) => {
    const body = req.body;
    if (!body?.messages) return undefined;
    const text = requestText(body);
    const schema = JSON.stringify(body.response_format ?? '');
    if (schema.includes('rationale_answer')) return { content: JSON.stringify({ rationale: `for: ${text}` }) };
    return { content: JSON.stringify({ label: labelFor(text), confidence: 0.5, rationale: `for: ${text}` }) };
  };
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function curate(args: string[]): { kill(sig: NodeJS.Signals): void; exited(): boolean; done: Promise<Run> } {
  const p = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENAI_API_KEY: 'sk-integrity', NODE_OPTIONS: '' },
  });
  let out = '';
  let err = '';
  let exited = false;
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Run>((resolve) =>
    p.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, out, err });
    }),
  );
  return { kill: (sig) => p.kill(sig), exited: () => exited, done };
}

const annotateArgs = (file: string, ...more: string[]): string[] => [
  'annotate',
  file,
  '--labels',
  'pos,neg',
  '--base-url',
  server.baseURL,
  '--model',
  'm',
  '--yes',
  ...more,
];

function journaled(file: string): number {
  const dir = `${file}.curator-journal`;
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .reduce(
      (sum, n) =>
        sum +
        readFileSync(join(dir, n), 'utf8')
          .split('\n')
          .filter((l) => l.includes('"type":"record"')).length,
      0,
    );
}

async function until(cond: () => boolean, job: { exited(): boolean; done: Promise<Run> }): Promise<void> {
  while (!cond()) {
    if (job.exited()) assert.fail(`the job ended first: ${(await job.done).err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Replaces the file the way `sed -i` and editors do: a new file renamed over it. */
function rewrite(file: string, edit: (lines: string[]) => string[]): void {
  const lines = readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
  writeFileSync(`${file}.new`, `${edit(lines).join('\n')}\n`);
  renameSync(`${file}.new`, file);
}

type Rec = {
  id: number | string;
  text: string;
  label?: string;
  rationale?: string;
  annotations?: {
    suggestions?: Record<string, { value: unknown; rationale?: string }[]>;
    history?: { field: string; value: unknown }[];
  };
};
const read = (file: string): Rec[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

/** Every record carries exactly one answer, and it is the answer computed for its own text. */
function assertOwnAnswers(file: string, n: number): void {
  const recs = read(file);
  assert.equal(recs.length, n);
  recs.forEach((r, i) => {
    const s = r.annotations?.suggestions?.label ?? [];
    assert.equal(s.length, 1, `line ${i + 1} (${r.text}) has one suggestion`);
    assert.equal(s[0]!.rationale, `for: ${r.text}`, `line ${i + 1} carries the answer computed for its own text`);
    assert.equal(s[0]!.value, labelFor(r.text), `line ${i + 1}: its own label`);
    assert.equal(r.label, labelFor(r.text), `line ${i + 1}: the label is its own`);
  });
}

const records = (n: number, tag = 'record'): string[] =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: i, text: `${tag} ${i}: ${'abcdefghij'.slice(0, (i * 7) % 10)}` }),
  );

/**
 * 40 records in a fresh folder, and `annotate --in-place` on them (two requests at a time) running
 * until 8 answers are journaled.
 */
async function jobUnderway(): Promise<{ file: string; args: string[]; first: ReturnType<typeof curate> }> {
  const dir = tempDir('dc-integrity-');
  const file = join(dir, 'd.jsonl');
  writeFileSync(file, `${records(40).join('\n')}\n`);
  const args = annotateArgs(file, '--in-place', '--no-cache', '--concurrency', '2');
  const first = curate(args);
  await until(() => journaled(file) >= 8, first);
  return { file, args, first };
}

/** Another program puts a new record at the top of the file. */
function prependRecord(file: string): void {
  rewrite(file, (lines) => [JSON.stringify({ id: 'new', text: 'a record added in between' }), ...lines]);
}

/** The same command again: it ends well, and each of the `n` records carries its own answer. */
async function runAgainOk(args: string[], file: string, n: number): Promise<Run> {
  const r = await curate(args).done;
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`annotate: ${n} ok, 0 failed`));
  assertOwnAnswers(file, n);
  return r;
}

/** `n` records in a fresh folder, and the arguments of `annotate --out` on them (with a cache). */
function outputJob(n: number): { input: string; out: string; args: string[] } {
  const dir = tempDir('dc-integrity-');
  const input = join(dir, 'in.jsonl');
  const out = join(dir, 'out.jsonl');
  writeFileSync(input, `${records(n).join('\n')}\n`);
  return { input, out, args: annotateArgs(input, '--out', out, '--cache-dir', join(dir, 'cache')) };
}

test(
  'case 1: Ctrl-C, then `sed -i 1d` (record 1 removed), then the same command: every record carries its own answer',
  { timeout: 120_000 },
  async () => {
    const { file, args, first } = await jobUnderway();
    first.kill('SIGINT');
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.err);
    rewrite(file, (lines) => lines.slice(1));
    await runAgainOk(args, file, 39);
    // The records answered before the interrupt were not asked again (moved by one line, found by content).
    const asked = server.chatRequests().map((q) => requestText(q.body));
    const twice = asked.filter((t, k) => asked.indexOf(t) !== k);
    assert.ok(
      twice.length <= 2,
      `at most the 2 requests in flight at the interrupt are asked twice: ${twice.join(', ')}`,
    );
  },
);

test(
  'case 1: kill -9, then a record prepended by another program, then the same command: every record carries its own answer',
  { timeout: 120_000 },
  async () => {
    const { file, args, first } = await jobUnderway();
    first.kill('SIGKILL');
    assert.equal((await first.done).signal, 'SIGKILL');
    prependRecord(file);
    await runAgainOk(args, file, 41);
  },
);

test(
  'case 1: another program prepends a record during the job (exit 3, conflict), then the same command: every record carries its own answer',
  { timeout: 120_000 },
  async () => {
    const { file, args, first } = await jobUnderway();
    prependRecord(file);
    const r1 = await first.done;
    assert.equal(r1.code, 3, `the job's save meets the change: ${r1.err}`);
    const r2 = await runAgainOk(args, file, 41);
    assert.match(r2.out, /40 resumed/, 'the 40 records answered before the conflict are not asked again');
  },
);

test(
  "case 2: annotate --out EXISTING after a record's text was edited in the input: the output has the new text and its answer",
  { timeout: 120_000 },
  async () => {
    const { input, out, args } = outputJob(3);
    assert.equal((await curate(args).done).code, 0);
    rewrite(input, (lines) => [lines[0]!, JSON.stringify({ id: 1, text: 'record 1, edited' }), lines[2]!]);
    const r2 = await curate(args).done;
    assert.equal(r2.code, 0, r2.err);
    const recs = read(out);
    assert.equal(recs[1]!.text, 'record 1, edited', 'the edited text, not the stale copy');
    assertOwnAnswers(out, 3);
    assert.match(
      r2.out,
      /annotate: 3 ok, 0 failed, 0 skipped \(invalid lines\), 2 from cache/,
      'the edited record was asked, the others came from the cache',
    );
  },
);

test(
  'case 2: annotate --out EXISTING after records were edited, moved and removed in the input: the output follows the input, each record with its own answer',
  { timeout: 120_000 },
  async () => {
    const { input, out, args } = outputJob(5);
    const r1 = await curate(args).done;
    assert.equal(r1.code, 0, r1.err);
    assertOwnAnswers(out, 5);
    // A record's text edited, the last record moved to the top (the others one line down), one removed.
    rewrite(input, (lines) => {
      const edited = JSON.stringify({ id: 2, text: 'record 2, edited after the first run' });
      return [lines[4]!, lines[0]!, lines[1]!, edited];
    });
    const r2 = await curate(args).done;
    assert.equal(r2.code, 0, r2.err);
    const recs = read(out);
    assert.deepEqual(
      recs.map((r) => r.id),
      [4, 0, 1, 2],
      'the output has the input records, in the input order',
    );
    assert.equal(recs[3]!.text, 'record 2, edited after the first run', 'the edited text, not the stale copy');
    assertOwnAnswers(out, 4);
    // The earlier output is kept in the journal folder.
    assert.ok(readdirSync(`${out}.curator-journal`).some((f) => f.startsWith('out.jsonl.before-')));
    assert.match(
      r2.err,
      /rebuilt from it; 3 record\(s\) keep their results \(3 at another line\), 1 new or changed record\(s\) are done again, 2 output record\(s\) without an input record left out/,
    );
  },
);

test(
  'case 5: a label from the source data or `curate set` is never replaced by a model; --replace keeps the old one in the history',
  { timeout: 120_000 },
  async () => {
    const dir = tempDir('dc-integrity-');
    const file = join(dir, 'd.jsonl');
    const texts = ['great phone', 'awful battery', 'fine screen', 'no label yet'];
    writeFileSync(
      file,
      `${texts.map((text, i) => JSON.stringify(i === 3 ? { id: i, text } : { id: i, text, label: i === 0 ? 'from-source' : 'x' })).join('\n')}\n`,
    );
    const set = await curate(['set', file, '--line', '2', '--field', 'label', '--value', '"set-by-hand"']).done;
    assert.equal(set.code, 0, set.err);
    const args = annotateArgs(file, '--in-place', '--cache-dir', join(dir, 'cache'));
    const r1 = await curate(args).done;
    assert.equal(r1.code, 0, r1.err);
    assert.match(
      r1.err,
      /3 record\(s\) already had a label other than the model's answer: kept \(the answer is a suggestion beside it\); --replace/,
    );
    let recs = read(file);
    assert.deepEqual(
      recs.map((r) => r.label),
      ['from-source', 'set-by-hand', 'x', labelFor('no label yet')],
    );
    // The model's answer is a suggestion beside the label.
    recs.forEach((r) => assert.equal(r.annotations?.suggestions?.label?.[0]?.value, labelFor(r.text)));
    // Applied again (a re-run from the cache): the same bytes.
    const bytes = readFileSync(file);
    assert.equal((await curate(args).done).code, 0);
    assert.ok(readFileSync(file).equals(bytes), 'a second run changes nothing');
    // --replace: the model's label replaces it, the old one is in the history.
    const r3 = await curate([...args, '--replace']).done;
    assert.equal(r3.code, 0, r3.err);
    recs = read(file);
    assert.deepEqual(
      recs.map((r) => r.label),
      texts.map(labelFor),
    );
    assert.deepEqual(
      recs[0]!.annotations?.history?.map((h) => [h.field, h.value]),
      [['label', 'from-source']],
    );
    assert.deepEqual(
      recs[1]!.annotations?.history?.map((h) => [h.field, h.value]),
      [['label', 'set-by-hand']],
    );
    assert.equal(recs[3]!.annotations?.history, undefined, 'nothing was replaced there');
    const again = readFileSync(file);
    assert.equal((await curate([...args, '--replace']).done).code, 0);
    assert.ok(readFileSync(file).equals(again), 'replacing twice gives the same record (no second history entry)');
  },
);

test(
  'case 5: `curate rationale` keeps an existing rationale; its answer is a suggestion; --replace keeps the old one in the history',
  { timeout: 120_000 },
  async () => {
    const dir = tempDir('dc-integrity-');
    const file = join(dir, 'd.jsonl');
    writeFileSync(
      file,
      `${[
        { id: 0, text: 'one', label: 'pos', rationale: 'written by Maria' },
        { id: 1, text: 'two', label: 'neg' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    const args = [
      'rationale',
      file,
      '--base-url',
      server.baseURL,
      '--model',
      'm',
      '--yes',
      '--in-place',
      '--cache-dir',
      join(dir, 'cache'),
    ];
    const r1 = await curate(args).done;
    assert.equal(r1.code, 0, r1.err);
    const recs = read(file);
    assert.equal(recs[0]!.rationale, 'written by Maria');
    assert.equal(recs[0]!.annotations?.suggestions?.rationale?.[0]?.value, 'for: one');
    assert.equal(recs[1]!.rationale, 'for: two', "a record without a rationale gets the model's");
    const r2 = await curate([...args, '--replace']).done;
    assert.equal(r2.code, 0, r2.err);
    const replaced = read(file);
    assert.equal(replaced[0]!.rationale, 'for: one');
    assert.deepEqual(
      replaced[0]!.annotations?.history?.map((h) => [h.field, h.value]),
      [['rationale', 'written by Maria']],
    );
  },
);
