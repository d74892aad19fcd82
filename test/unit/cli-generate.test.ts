// `curate generate` as a user runs it (the real CLI: in a child process where the process matters,
// exit codes, Ctrl-C; else its main() in this process) against the loopback
// server: the summary on stdout (text and --json), the stop reason, the exit codes, Ctrl-C (130)
// and the re-run that resumes, usage errors, and `curate stats` showing the generated share.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, test } from 'node:test';
import type { OpenAITestServer } from '../support/openai-server';
import { synthResponder } from '../support/synth-responder';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { curateInProcess, root } from './helpers/store';

const loopback = useLoopbackServer('dc-cli-gen-');
let server: OpenAITestServer;
let dir: string;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI in a child process, asynchronously (the server answers from this process). */
function curate(args: string[], opts: { onStart?: (proc: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  // tsx by path: the command runs in the data's folder, where `--import tsx` would not resolve
  const proc = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href,
      join(root, 'src/cli/main.ts'),
      ...args,
    ],
    {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-cli-test', OPENAI_BASE_URL: '', CURATE_MODEL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  opts.onStart?.(proc);
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, out, err })));
}

/**
 * The same CLI in this process (its `main` with the process's streams replaced), in the data's
 * folder: much faster than a child process, for the cases where the process itself is not the point.
 */
const curateHere = (args: string[]) => curateInProcess(args, dir);

const SEEDS = [
  'Write a limerick about a cat who cooks',
  'Explain photosynthesis in two sentences',
  'List four capitals in South America',
  'Describe a sunrise to someone who cannot see',
];

beforeEach(() => {
  server = loopback.server();
  dir = loopback.dir();
  server.respond = synthResponder({ copyShare: 0.3 });
  writeFileSync(
    join(dir, 'seeds.jsonl'),
    `${SEEDS.map((instruction) => JSON.stringify({ instruction })).join('\n')}\n`,
  );
});
const ep = () => ['--base-url', server.baseURL, '--model', 'cli-model'];
const lines = (f: string) => readJsonl(join(dir, f));

describe('curate generate', () => {
  test('instructions: the summary with the stop reason, exit 0 at the target; --json; the output marked generated in stats', async () => {
    const r = await curate([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'gen.jsonl',
      ...ep(),
      '--target',
      '25',
      '--similarity',
      '0.7',
      '--seed',
      '3',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /generate instructions: 25 record\(s\), about \d+ request\(s\)/);
    assert.match(
      r.out,
      /^generate instructions: 25 of 25 instruction\(s\) written to gen\.jsonl in \d+ round\(s\); \d+ rejected \(\d+ near-copies\), acceptance \d+%/,
    );
    assert.match(r.out, /\ntarget reached: 25 instructions in \d+ round\(s\)\n$/);
    assert.equal(lines('gen.jsonl').length, 25);
    const j = await curateHere([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'gen2.jsonl',
      ...ep(),
      '--target',
      '25',
      '--seed',
      '3',
      '--json',
    ]);
    assert.equal(j.code, 0, j.err);
    const s = JSON.parse(j.out) as {
      stop: { reason: string };
      records: number;
      cached: number;
      requests: number;
      instructions: { accepted: number; target: number };
    };
    assert.equal(s.stop.reason, 'target');
    assert.equal(s.records, 25);
    assert.equal(s.requests, 0, 'the same prompts: answered by the cache');
    assert.ok(s.cached > 0);
    assert.deepEqual(
      lines('gen2.jsonl').map((x) => x.instruction),
      lines('gen.jsonl').map((x) => x.instruction),
    );
    const st = await curateHere(['stats', 'gen.jsonl', '--json']);
    const stats = JSON.parse(st.out) as { generated: number; generatedShare: number };
    assert.equal(stats.generated, 25);
    assert.equal(stats.generatedShare, 1);
    const text = await curateHere(['stats', 'seeds.jsonl']);
    assert.match(text.out, /generated\s+0\.0% \(0\)/);
  });

  test('instructions that stop short of the target: exit 1 and the reason', async () => {
    server.respond = synthResponder({ copyShare: 1 });
    const r = await curateHere([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'gen.jsonl',
      ...ep(),
      '--target',
      '50',
      '--window',
      '20',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.out, /generate instructions: 0 of 50 instruction\(s\)/);
    assert.match(r.out, /stopped early: only 0% of the last 20 candidates were kept \(below 10%\)/);
  });

  test('preferences: pairs written, ties listed as skipped with their line; --json has them', async () => {
    writeFileSync(
      join(dir, 'prompts.jsonl'),
      `${Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: i, prompt: `Prompt ${i}` })).join('\n')}\n`,
    );
    const r = await curateHere([
      'generate',
      'preferences',
      'prompts.jsonl',
      '--out',
      'pairs.jsonl',
      ...ep(),
      '--candidates',
      '2',
      '--judge-model',
      'judge-x',
      '--json',
    ]);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as { records: number; skipped: { line: number; reason: string }[]; inputs: number };
    assert.equal(s.inputs, 30);
    assert.equal(s.records + s.skipped.length, 30);
    for (const x of s.skipped) assert.match(x.reason, /^tie: every candidate was rated \d+$/);
    const pairs = lines('pairs.jsonl');
    assert.equal(pairs.length, s.records);
    for (const p of pairs) {
      assert.ok(p.chosen_rating > p.rejected_rating);
      assert.equal(p.annotations.origin.judge_model, 'judge-x');
    }
    // text: the skipped lines are named
    const t = await curate([
      'generate',
      'preferences',
      'prompts.jsonl',
      '--out',
      'pairs2.jsonl',
      ...ep(),
      '--candidates',
      '2',
      '--judge-model',
      'judge-x',
    ]);
    assert.equal(t.code, 0);
    for (const x of s.skipped) assert.ok(t.out.includes(`  skipped line ${x.line}: tie`), t.out);
  });

  test('usage errors: exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['generate'], /missing the task: instructions, responses, preferences, dialogues/],
      [['generate', 'poems', 'seeds.jsonl', '--out', 'x.jsonl', ...ep()], /unknown task "poems"/],
      [['generate', 'instructions', 'seeds.jsonl', ...ep()], /missing --out FILE/],
      [['generate', 'instructions', 'nope.jsonl', '--out', 'x.jsonl', ...ep()], /no such file: nope\.jsonl/],
      [
        ['generate', 'responses', 'seeds.jsonl', '--out', 'x.jsonl', ...ep(), '--similarity', '0.5'],
        /--similarity is an option of generate instructions, not of generate responses/,
      ],
      [
        ['generate', 'instructions', 'seeds.jsonl', '--out', 'x.jsonl', ...ep(), '--similarity', '1.5'],
        /similarity: Too big/i,
      ],
      [['generate', 'instructions', 'seeds.jsonl', '--out', 'x.jsonl', '--model', 'm'], /missing --base-url/],
      [['generate', 'instructions', 'seeds.jsonl', '--out', 'seeds.jsonl', ...ep()], /is an input/],
      [
        ['generate', 'preferences', 'seeds.jsonl', '--out', 'x.jsonl', ...ep(), '--scale', 'ten'],
        /--scale takes MIN-MAX/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await curateHere(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
    assert.equal(server.counts.chat, 0, 'usage errors sent no request');
    writeFileSync(join(dir, 'taken.jsonl'), '{"a":1}\n');
    const taken = await curate([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'taken.jsonl',
      ...ep(),
      '--target',
      '3',
    ]);
    assert.equal(taken.code, 2);
    assert.match(taken.err, /taken\.jsonl exists .* pass --force/);
    assert.equal(readFileSync(join(dir, 'taken.jsonl'), 'utf8'), '{"a":1}\n');
    const forced = await curateHere([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'taken.jsonl',
      ...ep(),
      '--target',
      '3',
      '--force',
    ]);
    assert.equal(forced.code, 0, forced.err);
    assert.equal(lines('taken.jsonl').length, 3);
  });

  test('an estimate above --max-cost needs --yes when there is no terminal', async () => {
    const r = await curateHere([
      'generate',
      'instructions',
      'seeds.jsonl',
      '--out',
      'g.jsonl',
      ...ep(),
      '--target',
      '500',
      '--price-in',
      '1000',
      '--price-out',
      '1000',
      '--max-cost',
      '0.5',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /above --max-cost \$0\.5; pass --yes/);
    assert.equal(server.counts.chat, 0);
    assert.equal(existsSync(join(dir, 'g.jsonl')), false);
  });

  test(
    'Ctrl-C: exit 130 with what is kept; the same command again resumes and finishes, no record twice',
    { timeout: 90_000 },
    async () => {
      writeFileSync(
        join(dir, 'qs.jsonl'),
        `${Array.from({ length: 120 }, (_, i) => JSON.stringify({ id: i, instruction: `Question ${i}` })).join('\n')}\n`,
      );
      server.respond = undefined;
      server.latencyMs = 30;
      const args = ['generate', 'responses', 'qs.jsonl', '--out', 'answers.jsonl', ...ep(), '--concurrency', '4'];
      const jdir = join(dir, 'answers.jsonl.curator-journal');
      const first = await curate(args, {
        onStart: (proc) => {
          const timer = setInterval(() => {
            const f = existsSync(jdir)
              ? readdirSync(jdir).find((n) => n.endsWith('.jsonl') && !n.includes('.done-'))
              : undefined;
            if (f && readFileSync(join(jdir, f), 'utf8').split('\n').length > 30) {
              clearInterval(timer);
              proc.kill('SIGINT');
            }
          }, 10);
          proc.on('exit', () => clearInterval(timer));
        },
      });
      assert.equal(first.code, 130, first.err);
      assert.match(
        first.err,
        /curate: interrupted; \d+ generated record\(s\) are kept in answers\.jsonl\. Run the same command again to resume\./,
      );
      const kept = lines('answers.jsonl');
      assert.ok(kept.length >= 25 && kept.length < 120, `${kept.length} kept`);
      const second = await curate(args);
      assert.equal(second.code, 0, second.err);
      assert.match(
        second.out,
        /generate responses: 120 record\(s\) written to answers\.jsonl; 120 input record\(s\): 120 ok, 0 skipped, 0 failed; 0 from cache, \d+ from the journal of an earlier run/,
      );
      const all = lines('answers.jsonl');
      assert.deepEqual(
        all.map((x) => x.id),
        Array.from({ length: 120 }, (_, i) => i),
      );
      for (const k of kept) assert.deepEqual(all[k.id as number]!.output, k.output, 'a kept response is not redone');
    },
  );
});
