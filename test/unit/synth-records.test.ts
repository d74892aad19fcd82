// Responses, preference pairs and dialogues over real HTTP against the loopback server: what is
// asked, what is written (layout, provenance), ties skipped, invalid input skipped with a reason,
// a SIGKILL in the middle and a resume.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, test } from 'node:test';
import { quietContext } from '../../src/core/operation';
import { DialoguesOptions, PreferencesOptions, ResponsesOptions, synthOperations } from '../../src/core/synth';
import { contentText, lastUserText, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { synthResponder } from '../support/synth-responder';
import { readJsonl as read, runGenerateChild, useLoopbackServer } from './helpers/llm';

const loopback = useLoopbackServer('dc-synth-rec-');
let server: OpenAITestServer;
let dir: string;
const ops = synthOperations({ apiKey: () => 'sk-test' });

beforeEach(() => {
  server = loopback.server();
  dir = loopback.dir();
});

function file(name: string, lines: unknown[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return p;
}
// Each test its own response cache (the default is the user's, shared by every test of the file).
const common = () => ({ baseURL: server.baseURL, model: 'gen-model', cacheDir: join(dir, 'cache') });

test('responses: beside an instruction (output), a prompt (response), or as the next assistant turn; several per record', async () => {
  const input = file('in.jsonl', [
    { id: 1, instruction: 'Sort these numbers', input: '3, 1, 2' },
    { id: 2, prompt: 'Name a prime number' },
    { id: 3, messages: [{ role: 'user', content: 'Hi there' }] },
    {
      id: 4,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
      ],
    },
    '{"broken": ',
  ]);
  const o = ResponsesOptions.parse({ ...common(), input, output: join(dir, 'out.jsonl'), n: 2, system: 'Be brief.' });
  const s = await ops.responses.run(o, quietContext());
  assert.equal(s.inputs, 5);
  assert.equal(s.ok, 3);
  assert.equal(s.records, 6);
  assert.deepEqual(
    s.skipped.map((x) => [x.line, x.reason.replace(/:.*/, '')]),
    [
      [4, 'the conversation in "messages" ends with an assistant message'],
      [5, 'invalid JSON'],
    ],
  );
  assert.equal(s.failed.length, 0);
  const out = read(o.output);
  assert.deepEqual(
    out.map((r) => r.id),
    [1, 1, 2, 2, 3, 3],
  );
  assert.equal(out[0]!.instruction, 'Sort these numbers');
  assert.equal(out[0]!.system, 'Be brief.');
  assert.equal(typeof out[0]!.output, 'string');
  assert.notEqual(out[0]!.output, out[1]!.output, 'two samples, two answers');
  assert.equal(typeof out[2]!.response, 'string');
  assert.deepEqual(
    out[4]!.messages.map((m: { role: string }) => m.role),
    ['system', 'user', 'assistant'],
  );
  for (const [k, r] of out.entries()) {
    const g = r.annotations.origin;
    assert.equal(g.type, 'model');
    assert.equal(g.task, 'responses');
    assert.equal(g.model, 'gen-model');
    assert.equal(g.sample, k % 2);
    assert.deepEqual(g.seed, { file: 'in.jsonl', line: r.id });
    assert.match(g.prompt_hash, /^sha256:/);
  }
  // what the model saw: the system prompt, then the instruction with its input
  const first = server.chatRequests().find((q) => lastUserText(q.body).startsWith('Sort'))!.body;
  assert.deepEqual(first.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Sort these numbers\n\n3, 1, 2' },
  ]);
  assert.equal(first.temperature, 0.7);
});

/** Candidates say their rating (the responder's judge reads it): by prompt and candidate index. */
function rated(): void {
  const judge = synthResponder();
  server.respond = (req) => {
    const chat = req.body as ChatBody;
    if (chat.response_format) return judge(req);
    const prompt = lastUserText(chat);
    const k = chat.seed ?? 0;
    const rating = prompt.includes('TIE') ? 5 : prompt.includes('CLOSE') ? [6, 7][k] : [3, 8][k];
    return { content: `answer ${k} by ${chat.model} rating=${rating}` };
  };
}

test('preferences: candidates from two models, rated by the judge; chosen = highest, rejected = lowest; ties skipped', async () => {
  rated();
  const input = file('prompts.jsonl', [
    { id: 'a', instruction: 'Explain gravity' },
    { id: 'b', instruction: 'A TIE question' },
    { id: 'c', prompt: 'A CLOSE call' },
    {
      id: 'd',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Explain tides' },
      ],
    },
    { id: 'e', other: 1 },
  ]);
  const o = PreferencesOptions.parse({
    ...common(),
    input,
    output: join(dir, 'pairs.jsonl'),
    models: ['ma', 'mb'],
    judgeModel: 'judge-m',
    candidates: 2,
  });
  const s = await ops.preferences.run(o, quietContext());
  assert.equal(s.records, 3);
  assert.deepEqual(
    s.skipped.map((x) => x.reason),
    [
      'tie: every candidate was rated 5',
      'the record has none of the fields messages, instruction, prompt, question, query, input, text to take a prompt from',
    ],
  );
  assert.deepEqual(
    s.skipped.map((x) => x.line),
    [2, 5],
  );
  const out = read(o.output);
  assert.deepEqual(
    out.map((r) => r.id),
    ['a', 'c', 'd'],
  );
  const [a, c, d] = out;
  // distilabel's DPO columns
  assert.equal(a.prompt, 'Explain gravity');
  assert.match(a.prompt_id, /^[0-9a-f]{64}$/);
  assert.deepEqual(a.chosen, [
    { role: 'user', content: 'Explain gravity' },
    { role: 'assistant', content: 'answer 1 by mb rating=8' },
  ]);
  assert.deepEqual(a.rejected, [
    { role: 'user', content: 'Explain gravity' },
    { role: 'assistant', content: 'answer 0 by ma rating=3' },
  ]);
  assert.equal(a.chosen_rating, 8);
  assert.equal(a.rejected_rating, 3);
  assert.equal(a.chosen_model, 'mb');
  assert.equal(a.rejected_model, 'ma');
  // every candidate kept, aligned with its rating and model (whatever order the judge saw them in)
  for (const r of out) {
    assert.equal(r.generations.length, 2);
    r.generations.forEach((g: string, k: number) => {
      assert.equal(r.ratings[k], Number(/rating=(\d+)/.exec(g)?.[1]));
      assert.equal(r.generation_models[k], ['ma', 'mb'][k]);
      assert.equal(typeof r.rationales[k], 'string');
    });
    assert.equal(r.chosen_rating, Math.max(...r.ratings));
    assert.equal(r.rejected_rating, Math.min(...r.ratings));
    const g = r.annotations.origin;
    assert.equal(g.type, 'model');
    assert.equal(g.task, 'preferences');
    assert.deepEqual(g.models, ['ma', 'mb']);
    assert.equal(g.judge_model, 'judge-m');
  }
  assert.equal(c.chosen_rating - c.rejected_rating, 1);
  assert.deepEqual(
    d.chosen.map((m: { role: string }) => m.role),
    ['system', 'user', 'assistant'],
  );
  assert.equal(d.prompt, 'Explain tides');
  // the judge: its own model, temperature 0, all candidates in one request
  const judged = server.chatRequests().filter((q) => q.body.response_format);
  assert.equal(judged.length, 4);
  for (const q of judged) {
    assert.equal(q.body.model, 'judge-m');
    assert.equal(q.body.temperature, 0);
    assert.match(lastUserText(q.body), /Response 1:\n[\s\S]*Response 2:\n/);
  }
  // the tie's candidates and ratings are in the journal for review
  const jdir = `${o.output}.curator-journal`;
  const entries = readdirSync(jdir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => read(join(jdir, f)));
  const tie = entries.find((e) => e.type === 'record' && e.status === 'skipped' && e.line === 2)!;
  assert.deepEqual(tie.detail.ratings, [5, 5]);
  assert.equal(tie.detail.generations.length, 2);
});

test('preferences: a margin below --min-margin is skipped; the pair exports to DPO', async () => {
  rated();
  const input = file('prompts.jsonl', [{ instruction: 'Explain gravity' }, { prompt: 'A CLOSE call' }]);
  const o = PreferencesOptions.parse({ ...common(), input, output: join(dir, 'pairs.jsonl'), minMargin: 2 });
  const s = await ops.preferences.run(o, quietContext());
  assert.equal(s.records, 1);
  assert.deepEqual(
    s.skipped.map((x) => x.reason),
    ['ratings 6, 7 differ by 1, less than the minimum margin 2'],
  );
  const { exportRecord } = await import('../../src/core/export/formats');
  const row = exportRecord(read(o.output)[0], 0, { format: 'dpo' });
  assert.deepEqual(row, {
    ok: true,
    row: {
      prompt: 'Explain gravity',
      chosen: 'answer 1 by gen-model rating=8',
      rejected: 'answer 0 by gen-model rating=3',
    },
  });
});

test('dialogues, turn by turn: a simulated user and the assistant; roles alternate, the system prompt first', async () => {
  const input = file('topics.txt', ['# one topic a line', 'planning a trip to Lisbon', '', 'learning to bake bread']);
  const o = DialoguesOptions.parse({
    ...common(),
    input,
    output: join(dir, 'dialogues.jsonl'),
    turns: 3,
    system: 'You are a travel agent.',
    personas: ['a retired teacher'],
  });
  const s = await ops.dialogues.run(o, quietContext());
  assert.equal(s.records, 2);
  assert.equal(s.requests, 2 * 2 * 3);
  const out = read(o.output);
  for (const r of out) {
    assert.deepEqual(
      r.messages.map((m: { role: string }) => m.role),
      ['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant'],
    );
    assert.ok(r.messages.every((m: { content: string }) => m.content.trim().length > 0));
    assert.equal(r.persona, 'a retired teacher');
    const g = r.annotations.origin;
    assert.equal(g.task, 'dialogues');
    assert.equal(g.persona, 'a retired teacher');
    assert.equal(g.seed.file, 'topics.txt');
  }
  assert.equal(out[0]!.annotations.origin.seed.line, 2);
  assert.equal(out[0]!.text, 'planning a trip to Lisbon');
  // the simulated user sees the seed and the transcript; the assistant sees the conversation
  const userTurns = server
    .chatRequests()
    .filter((q) => contentText(q.body.messages?.[0]?.content).startsWith('You play the user'));
  assert.equal(userTurns.length, 6);
  assert.match(
    lastUserText(userTurns[0]!.body),
    /The conversation is about: planning a trip to Lisbon\nYou are this user: a retired teacher\n\nThe conversation has not started yet/,
  );
  assert.ok(userTurns.some((q) => /The conversation so far:\n\nUser: .+\n\nAssistant: .+/.test(lastUserText(q.body))));
});

test('dialogues in one request: validated; a conversation whose roles do not alternate is a failure with the reason', async () => {
  const input = file('seeds.jsonl', [{ persona: 'a nervous first-time home buyer' }, { topic: 'BROKEN' }]);
  const synth = synthResponder();
  server.respond = (req) => {
    if (req.rawBody.includes('BROKEN'))
      return {
        content: JSON.stringify({
          messages: [
            { role: 'user', content: 'a' },
            { role: 'user', content: 'b' },
            { role: 'assistant', content: 'c' },
            { role: 'assistant', content: 'd' },
          ],
        }),
      };
    return synth(req);
  };
  const o = DialoguesOptions.parse({ ...common(), input, output: join(dir, 'd.jsonl'), turns: 2, mode: 'whole' });
  const s = await ops.dialogues.run(o, quietContext());
  assert.equal(s.records, 1);
  assert.equal(s.failed.length, 1);
  assert.match(
    s.failed[0]!.reason,
    /message 2 is from "user", expected "assistant" \(roles must alternate, starting with the user\)/,
  );
  assert.match(s.failed[0]!.reason, /after one repair/);
  const [r] = read(o.output);
  assert.deepEqual(
    r!.messages.map((m: { role: string }) => m.role),
    ['user', 'assistant', 'user', 'assistant'],
  );
  assert.equal(r!.annotations.origin.seed.persona, 'a nervous first-time home buyer');
  // the failed record is retried by the next run of the same job (its journal is kept)
  server.respond = synth;
  const again = await ops.dialogues.run(o, quietContext());
  assert.equal(again.failed.length, 0);
  assert.equal(again.resumed, 1, 'the good conversation came from the journal');
  assert.equal(again.requests, 1, 'only the failed one was asked again');
  assert.deepEqual(
    read(o.output).map((x) => x.topic ?? x.persona),
    ['a nervous first-time home buyer', 'BROKEN'],
  );
});

test(
  'SIGKILL in the middle of a preferences job, then resume: every pair exactly once, in input order',
  { timeout: 120_000 },
  async () => {
    const N = 300;
    server.respond = synthResponder();
    server.latencyMs = 3;
    const input = file(
      'prompts.jsonl',
      Array.from({ length: N }, (_, i) => ({ id: i, instruction: `Question number ${i}` })),
    );
    const output = join(dir, 'pairs.jsonl');
    const options = { ...common(), input, output, candidates: 2, concurrency: 8, minMargin: 0 };
    const journalDir = `${output}.curator-journal`;
    const first = runGenerateChild('preferences', options);
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      const f = existsSync(journalDir)
        ? readdirSync(journalDir).find((n) => n.endsWith('.jsonl') && !n.includes('.done-'))
        : undefined;
      if (f && readFileSync(join(journalDir, f), 'utf8').split('\n').length > N / 3) break;
      if (first.proc.exitCode !== null) assert.fail(`the child exited early: ${(await first.done).err}`);
    }
    first.proc.kill('SIGKILL');
    assert.equal((await first.done).signal, 'SIGKILL');
    const second = runGenerateChild('preferences', options);
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.err);
    const s = JSON.parse(r2.out) as { records: number; skipped: unknown[]; resumed: number; inputs: number };
    assert.ok(s.resumed >= N / 4, `${s.resumed} pairs from the journal (ties journaled as skipped are not counted)`);
    const out = read(output);
    assert.equal(out.length + s.skipped.length, N, 'every prompt is a pair or a skipped tie');
    const ids = out.map((r) => r.id as number);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
      'in input order',
    );
    assert.equal(new Set(ids).size, ids.length, 'no pair twice');
    // each prompt's candidates were requested at most twice (only the ones in flight at the kill)
    const per = new Map<string, number>();
    for (const q of server.chatRequests())
      if (!q.body.response_format)
        per.set(`${lastUserText(q.body)}#${q.body.seed}`, (per.get(`${lastUserText(q.body)}#${q.body.seed}`) ?? 0) + 1);
    assert.equal(per.size, 2 * N);
    const twice = [...per.values()].filter((n) => n > 1).length;
    assert.ok(twice <= 2 * 8, `${twice} candidates were requested twice`);
  },
);
