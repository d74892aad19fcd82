// Self-instruct over real HTTP against the loopback server, whose responder makes novel
// instructions or near-copies of the prompt's examples on purpose: the similarity filter, the
// target and the stop reasons, personas/attributes/evolutions, provenance, reproducibility, and a
// SIGKILL in the middle of a run followed by a resume.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, test } from 'node:test';
import { quietContext } from '../../src/core/operation';
import { synthOperations, InstructionsOptions, GenerateCancelledError } from '../../src/core/synth';
import { rougeL } from '../../src/core/synth/similarity';
import { lastUserText, type OpenAITestServer } from '../support/openai-server';
import { synthResponder, type SynthResponderStats } from '../support/synth-responder';
import { readJsonl as read, runGenerateChild, useLoopbackServer } from './helpers/llm';

const loopback = useLoopbackServer('dc-synth-');
let server: OpenAITestServer;
let dir: string;
let stats: SynthResponderStats;
const ops = synthOperations({ apiKey: () => 'sk-test' });
const SEEDS = [
  'Write a haiku about autumn leaves falling in the park',
  'Explain the difference between weather and climate to a child',
  'List five practical uses of baking soda around the house',
  'Summarize the plot of Romeo and Juliet in three sentences',
  'Translate the sentence "the library opens at nine" into Spanish',
  'Give three tips for writing a clear email to a colleague',
  'Describe how a bill becomes a law in the United States',
  'Suggest a healthy breakfast that takes under ten minutes',
];

beforeEach(() => {
  server = loopback.server();
  dir = loopback.dir();
  stats = { instructions: 0, copies: 0, evolved: 0, judged: 0, dialogues: 0 };
});

function seeds(): string {
  const p = join(dir, 'seeds.jsonl');
  writeFileSync(p, `${SEEDS.map((instruction, i) => JSON.stringify({ id: i, instruction })).join('\n')}\n`);
  return p;
}
function opts(extra: Record<string, unknown> = {}) {
  // Each test its own response cache (the default is the user's, shared by every test of the file).
  return InstructionsOptions.parse({
    input: seeds(),
    output: join(dir, 'out.jsonl'),
    baseURL: server.baseURL,
    model: 'gen-model',
    cacheDir: join(dir, 'cache'),
    ...extra,
  });
}

test('near-copies are rejected, novel instructions kept; the target is met and said', async () => {
  server.respond = synthResponder({ copyShare: 0.4 }, stats);
  const o = opts({ target: 60, perRequest: 6, requestsPerRound: 4 });
  const s = await ops.instructions.run(o, quietContext());
  assert.equal(s.stop.reason, 'target');
  assert.match(s.stop.message, /target reached: 60 instructions/);
  assert.equal(s.records, 60);
  assert.ok(stats.copies > 10, `the server made ${stats.copies} near-copies`);
  const i = s.instructions!;
  assert.equal(i.accepted, 60);
  assert.ok((i.rejectedBy.similar ?? 0) >= 10, `rejected ${JSON.stringify(i.rejectedBy)}`);
  const out = read(o.output).map((r) => r.instruction as string);
  assert.equal(out.length, 60);
  // every kept instruction is below the threshold against the seeds and every other kept one
  const pool = [...SEEDS];
  for (const text of out) {
    for (const p of pool) assert.ok(rougeL(text, p) < 0.7, `"${text}" is too close to "${p}"`);
    pool.push(text);
  }
  // the decisions in the journal: each rejection as similar has ROUGE-L >= 0.7 to the instruction named
  const journal = readdirSync(join(dir, 'out.jsonl.curator-journal'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => join(dir, 'out.jsonl.curator-journal', f));
  const decisions = journal
    .flatMap((f) => read(f))
    .filter((e) => e.type === 'round')
    .flatMap((e) => e.decisions as Array<{ reason: string; instruction: string; nearest: string; similarity: number }>);
  const similar = decisions.filter((d) => d.reason === 'similar');
  assert.equal(similar.length, i.rejectedBy.similar);
  for (const d of similar) {
    assert.ok(rougeL(d.instruction, d.nearest) >= 0.7);
    assert.equal(d.similarity, Math.round(rougeL(d.instruction, d.nearest) * 1000) / 1000);
  }
  assert.ok(
    out.every((t) => !t.endsWith(' please')),
    'no near-copy made by the server was kept',
  );
});

test('a model that only repeats the pool: stops early with the acceptance rate in the reason', async () => {
  server.respond = synthResponder({ copyShare: 1 }, stats);
  const o = opts({ target: 100, window: 30, minAcceptance: 0.2 });
  const s = await ops.instructions.run(o, quietContext());
  assert.equal(s.stop.reason, 'low-acceptance');
  assert.match(s.stop.message, /only 0% of the last 30 candidates were kept \(below 20%\); 0 of 100 instructions/);
  assert.match(s.stop.message, /personas or attributes, evolutions, a higher temperature/);
  assert.equal(s.records, 0);
  assert.equal(read(o.output).length, 0);
  assert.ok(s.complete);
});

test('the last round reached before the target: stops and says so', async () => {
  server.respond = synthResponder({ copyShare: 0 }, stats);
  const s = await ops.instructions.run(
    opts({ target: 500, rounds: 2, requestsPerRound: 2, perRequest: 5 }),
    quietContext(),
  );
  assert.equal(s.stop.reason, 'rounds');
  assert.equal(s.stop.message, 'stopped after the last of 2 round(s): 20 of 500 instructions');
  assert.equal(s.records, 20);
  assert.equal(server.counts.chat, 4);
});

test('provenance: origin on every record; personas and attributes are drawn per request and recorded; evolutions', async () => {
  server.respond = synthResponder({ copyShare: 0.2 }, stats);
  const o = opts({
    target: 40,
    personas: ['a night-shift nurse', 'a first-year law student'],
    attributes: { topic: ['cooking', 'astronomy'], difficulty: ['easy', 'hard'] },
    evolve: ['deepen', 'constraints'],
    evolveShare: 0.3,
    seed: 11,
  });
  const s = await ops.instructions.run(o, quietContext());
  assert.equal(s.stop.reason, 'target');
  const out = read(o.output);
  assert.ok(stats.evolved > 0);
  let evolved = 0;
  for (const r of out) {
    const g = r.annotations.origin;
    assert.equal(g.type, 'model');
    assert.equal(g.task, 'instructions');
    assert.equal(g.model, 'gen-model');
    assert.match(g.prompt_hash, /^sha256:[0-9a-f]{64}$/);
    assert.ok(Number.isInteger(g.round) && g.round >= 1);
    assert.equal(g.rng_seed, 11);
    assert.equal(g.job, s.jobId);
    assert.ok(!Number.isNaN(Date.parse(g.time)));
    if (g.evolution) {
      evolved++;
      assert.ok(['deepen', 'constraints'].includes(g.evolution.op));
      assert.ok(r.instruction.startsWith(g.evolution.parent), 'the evolved instruction builds on its parent');
      assert.ok(g.seed.evolved_from);
    } else {
      assert.ok(['a night-shift nurse', 'a first-year law student'].includes(g.persona));
      assert.ok(
        ['cooking', 'astronomy'].includes(g.attributes.topic) && ['easy', 'hard'].includes(g.attributes.difficulty),
      );
      // the demonstrations shown: seed lines (1-based) or earlier generated instructions
      assert.ok(g.seed.demonstrations.length === 8);
      for (const d of g.seed.demonstrations)
        assert.ok((d.file === 'seeds.jsonl' && d.line >= 1 && d.line <= SEEDS.length) || d.generated >= 1);
    }
  }
  assert.ok(evolved > 0, 'some kept instructions are evolutions');
  // what the model was told: the persona and attributes of the request (attributes by name)
  const gen = server.chatRequests().filter((q) => q.body.response_format?.json_schema?.name === 'instructions_answer');
  assert.ok(
    gen.every((q) =>
      /Write instructions this person would give: a (night-shift nurse|first-year law student)\nDifficulty: (easy|hard)\nTopic: (cooking|astronomy)\n/.test(
        lastUserText(q.body),
      ),
    ),
  );
  const personas = new Set(gen.map((q) => /person would give: ([^\n]+)/.exec(lastUserText(q.body))?.[1]));
  assert.equal(personas.size, 2, 'both personas were drawn');
});

test('reproducible: the same seed gives the same instructions at any concurrency; a re-run is answered by the cache', async () => {
  server.respond = synthResponder({ copyShare: 0.3 }, stats);
  const a = await ops.instructions.run(
    opts({ target: 30, concurrency: 1, output: join(dir, 'a.jsonl') }),
    quietContext(),
  );
  const b = await ops.instructions.run(
    opts({ target: 30, concurrency: 8, output: join(dir, 'b.jsonl'), noCache: true }),
    quietContext(),
  );
  const text = (p: string) => read(p).map((r) => r.instruction);
  assert.deepEqual(text(join(dir, 'b.jsonl')), text(join(dir, 'a.jsonl')));
  assert.equal(b.requests, a.requests);
  const before = server.counts.chat;
  const c = await ops.instructions.run(opts({ target: 30, output: join(dir, 'c.jsonl') }), quietContext());
  assert.equal(server.counts.chat, before, 'no request: every answer came from the cache');
  assert.equal(c.cached, a.requests);
  assert.deepEqual(text(join(dir, 'c.jsonl')), text(join(dir, 'a.jsonl')));
  // another seed, other instructions
  await ops.instructions.run(opts({ target: 30, seed: 5, output: join(dir, 'd.jsonl') }), quietContext());
  assert.notDeepEqual(text(join(dir, 'd.jsonl')), text(join(dir, 'a.jsonl')));
});

test('the output is a new file: an existing one is refused unless forced; an input is refused', async () => {
  server.respond = synthResponder({}, stats);
  const o = opts({ target: 5 });
  writeFileSync(o.output, '{"keep":"me"}\n');
  await assert.rejects(
    ops.instructions.run(o, quietContext()),
    /exists and no unfinished run of this job is writing it/,
  );
  assert.equal(readFileSync(o.output, 'utf8'), '{"keep":"me"}\n');
  await assert.rejects(ops.instructions.run({ ...o, output: o.input }, quietContext()), /is an input/);
  const s = await ops.instructions.run({ ...o, force: true }, quietContext());
  assert.equal(s.records, 5);
  await assert.rejects(ops.instructions.run(opts({ input: join(dir, 'nope.jsonl') }), quietContext()), /no such file/);
  writeFileSync(join(dir, 'empty.jsonl'), '{"other":1}\n');
  await assert.rejects(
    ops.instructions.run(opts({ input: join(dir, 'empty.jsonl'), output: join(dir, 'e.jsonl') }), quietContext()),
    /no seed instructions/,
  );
});

test('the estimate: requests for whole rounds, tokens, cost; no request sent', async () => {
  const e = await ops.instructions.estimate!(
    opts({
      target: 100,
      perRequest: 8,
      requestsPerRound: 8,
      pricePerMillionInputTokens: 1,
      pricePerMillionOutputTokens: 2,
    }),
    { signal: new AbortController().signal },
  );
  assert.equal(e.records, 100);
  assert.equal(e.requests % 8, 0);
  assert.ok(e.requests >= 100 / 8, `${e.requests} requests`);
  assert.ok(e.inputTokens > 0 && e.outputTokens > 0);
  assert.equal(e.cost, (e.inputTokens + 2 * e.outputTokens) / 1e6);
  assert.equal(server.counts.chat, 0);
});

test('cancel: the kept instructions stay in the output; a resume continues without redoing a request', async () => {
  server.respond = synthResponder({ copyShare: 0.3 }, stats);
  server.latencyMs = 15;
  const o = opts({ target: 80, perRequest: 5, requestsPerRound: 4, concurrency: 2 });
  const ac = new AbortController();
  let rounds = 0;
  await assert.rejects(
    ops.instructions.run(o, {
      ...quietContext(ac.signal),
      progress: (p) => {
        if (/^round (\d+):/.test(p.message ?? '') && ++rounds >= 2) ac.abort();
      },
    }),
    (e: unknown) => e instanceof GenerateCancelledError && e.summary.records > 0 && !e.summary.complete,
  );
  const kept = read(o.output).map((r) => r.instruction);
  assert.ok(kept.length > 0 && kept.length < 80);
  const sent = server.chatRequests().map((q) => lastUserText(q.body));
  const s = await ops.instructions.run(o, quietContext());
  assert.equal(s.stop.reason, 'target');
  const all = read(o.output).map((r) => r.instruction);
  assert.deepEqual(all.slice(0, kept.length), kept, 'the first run’s instructions are kept, in order');
  assert.equal(new Set(all).size, 80);
  const again = server
    .chatRequests()
    .slice(sent.length)
    .map((q) => lastUserText(q.body));
  const repeated = again.filter((t) => sent.includes(t)).length;
  assert.ok(repeated <= 2, `${repeated} requests were sent again (at most the 2 in flight at the cancel)`);
});

test(
  'SIGKILL in the middle of a run, then resume: no instruction lost or doubled, the same ones as an uninterrupted run',
  { timeout: 120_000 },
  async () => {
    server.respond = synthResponder({ copyShare: 0.3 }, stats);
    server.latencyMs = 20;
    const base = {
      input: seeds(),
      baseURL: server.baseURL,
      model: 'gen-model',
      cacheDir: join(dir, 'cache'),
      target: 150,
      perRequest: 5,
      requestsPerRound: 6,
      concurrency: 3,
    };
    const output = join(dir, 'killed.jsonl');
    const journalDir = `${output}.curator-journal`;
    const journaled = (): { rounds: number; answers: number } => {
      if (!existsSync(journalDir)) return { rounds: 0, answers: 0 };
      const f = readdirSync(journalDir).find((n) => n.endsWith('.jsonl') && !n.includes('.done-'));
      if (!f) return { rounds: 0, answers: 0 };
      const lines = readFileSync(join(journalDir, f), 'utf8').split('\n');
      return {
        rounds: lines.filter((l) => l.startsWith('{"type":"round"')).length,
        answers: lines.filter((l) => l.startsWith('{"type":"answer"')).length,
      };
    };
    const first = runGenerateChild('instructions', { ...base, output });
    // kill it in the middle of a round: two rounds decided and some answers of the third journaled
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      const j = journaled();
      if (j.rounds >= 2 && j.answers > 2 * 6) break;
      if (first.proc.exitCode !== null) assert.fail(`the child exited early: ${(await first.done).err}`);
    }
    first.proc.kill('SIGKILL');
    assert.equal((await first.done).signal, 'SIGKILL');
    const requestsBefore = server.counts.chat;
    const second = runGenerateChild('instructions', { ...base, output });
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.err);
    const summary = JSON.parse(r2.out) as {
      records: number;
      resumed: number;
      requests: number;
      stop: { reason: string };
    };
    assert.equal(summary.stop.reason, 'target');
    assert.equal(summary.records, 150);
    assert.ok(summary.resumed >= 2 * 6, `${summary.resumed} requests from the journal`);
    const resumed = read(output).map((r) => r.instruction);
    assert.equal(resumed.length, 150);
    assert.equal(new Set(resumed).size, 150, 'no instruction twice');
    // an uninterrupted run (no cache) gives exactly these instructions
    const requestsTotal = server.counts.chat;
    const ref = await ops.instructions.run(
      InstructionsOptions.parse({ ...base, output: join(dir, 'ref.jsonl'), noCache: true }),
      quietContext(),
    );
    assert.deepEqual(
      resumed,
      read(join(dir, 'ref.jsonl')).map((r) => r.instruction),
    );
    // at most the requests in flight at the kill were sent twice
    assert.ok(
      requestsTotal - ref.requests <= 3,
      `${requestsTotal} requests across both runs, ${ref.requests} without a kill (in flight at the kill: at most 3); second run sent ${requestsTotal - requestsBefore}`,
    );
  },
);
