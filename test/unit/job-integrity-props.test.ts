// Property (fast-check): random interleavings of a label job's runs (finished, cancelled, killed
// with nothing saved, or meeting another program's change of the file at its save) with another
// writer inserting, deleting, moving, editing and duplicating records, on disk between and during
// runs and in the open dataset while a run goes on (what a person does in the editor). After
// every step no record carries an answer computed for another record; after a last run every
// record carries exactly one answer, its own.
//
// The job is the real one (createTask('label') + runJob + the store's source and sink, as the
// operations wire them) over the loopback server, whose answer says which text it was computed
// for (rationale `for: <text>`).
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { runJob } from '../../src/core/jobs/runner';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import { LlmClient } from '../../src/core/llm/client';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';
import type { JsonlDataset } from '../../src/core/store';
import { lastUserText, startOpenAIServer, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { tempDir } from './helpers/store';

let server: OpenAITestServer;
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});

const labelFor = (text: string): 'pos' | 'neg' => (text.length % 2 === 0 ? 'pos' : 'neg');
function requestText(body: ChatBody): string {
  const m = /"text":"((?:[^"\\]|\\.)*)"/.exec(lastUserText(body));
  return m ? (JSON.parse(`"${m[1]}"`) as string) : '?';
}

/** What another writer does; positions are taken modulo the number of records when it happens. */
type Change =
  | { op: 'insert'; at: number }
  | { op: 'delete'; at: number }
  | { op: 'move'; from: number; to: number }
  | { op: 'edit'; at: number }
  | { op: 'duplicate'; at: number };

/** How a run ends: it finishes; it is cancelled; it is killed (nothing saved); or another writer changes the file (on disk or in the open dataset) meanwhile. */
type Step =
  | { kind: 'run'; end: 'finish' | 'cancel' | 'kill'; after: number }
  | { kind: 'run'; end: 'disk' | 'live'; after: number; change: Change }
  | { kind: 'change'; change: Change };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(40) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(40) }),
  fc.record({ op: fc.constant('move' as const), from: fc.nat(40), to: fc.nat(40) }),
  fc.record({ op: fc.constant('edit' as const), at: fc.nat(40) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(40) }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('run' as const),
    end: fc.constantFrom('finish' as const, 'cancel' as const, 'kill' as const),
    after: fc.nat(12),
  }),
  fc.record({
    kind: fc.constant('run' as const),
    end: fc.constantFrom('disk' as const, 'live' as const),
    after: fc.nat(12),
    change,
  }),
  fc.record({ kind: fc.constant('change' as const), change }),
);

type Rec = {
  id: string;
  text: string;
  label?: string;
  annotations?: { suggestions?: { label?: { value: unknown; rationale?: string }[] } };
};

let fresh = 0;
const newRecord = (): Rec => {
  fresh++;
  return { id: `n${fresh}`, text: `new record ${fresh}${'x'.repeat(fresh % 3)}` };
};

/** Applies a change to a list of records (another program's rewrite: an edited record is a new one). */
function changeList(list: Rec[], c: Change): Rec[] {
  const out = [...list];
  const n = out.length;
  if (c.op === 'insert') out.splice(c.at % (n + 1), 0, newRecord());
  else if (n === 0) return out;
  else if (c.op === 'delete') out.splice(c.at % n, 1);
  else if (c.op === 'move') {
    const [r] = out.splice(c.from % n, 1);
    out.splice(c.to % n, 0, r!);
  } else if (c.op === 'edit') out[c.at % n] = { id: out[c.at % n]!.id, text: newRecord().text };
  else out.splice(c.at % n, 0, structuredClone(out[c.at % n]!));
  return out;
}

function readRecords(file: string): Rec[] {
  const text = readFileSync(file, 'utf8');
  return text === ''
    ? []
    : text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => JSON.parse(l) as Rec);
}
function writeRecords(file: string, list: Rec[]): void {
  writeFileSync(`${file}.w`, list.map((r) => `${JSON.stringify(r)}\n`).join(''));
  renameSync(`${file}.w`, file);
}

/** The same change made in the open dataset, as the editor makes it (a text edit keeps the record's other fields). */
function changeLive(ds: JsonlDataset, c: Change): void {
  const n = ds.lineCount;
  if (c.op === 'insert') ds.insertLine(c.at % (n + 1), newRecord());
  else if (n === 0) return;
  else if (c.op === 'delete') ds.deleteLine(c.at % n);
  else if (c.op === 'move') {
    const v = ds.line(c.from % n).value!;
    ds.deleteLine(c.from % n);
    ds.insertLine(c.to % n, v);
  } else if (c.op === 'edit') ds.replaceLine(c.at % n, { ...ds.line(c.at % n).value!, text: newRecord().text });
  else ds.insertLine(c.at % n, ds.line(c.at % n).value!);
}

/** No record carries an answer that was computed for another text; `complete`: every record carries exactly one. */
function check(file: string, complete: boolean, editedLive: Set<string>): void {
  readRecords(file).forEach((r, i) => {
    const s = r.annotations?.suggestions?.label ?? [];
    if (complete) assert.equal(s.length, 1, `line ${i + 1} (${r.text}) has one answer`);
    assert.ok(s.length <= 1, `line ${i + 1} has at most one answer`);
    if (s.length === 0) return;
    assert.equal(s[0]!.rationale, `for: ${r.text}`, `line ${i + 1} carries the answer computed for its own text`);
    assert.equal(s[0]!.value, labelFor(r.text));
    // The label is the model's first answer for the record (an existing label is never replaced):
    // its own, unless a person edited the text in the editor after it was labeled.
    if (!editedLive.has(r.id)) assert.equal(r.label, labelFor(r.text), `line ${i + 1}: its own label`);
  });
}

/** fc.assert, with the failing check's own message in the error (node's reporter does not print causes). */
async function assertProperty(
  p: fc.IAsyncProperty<[number, Step[]]>,
  params: fc.Parameters<[number, Step[]]>,
): Promise<void> {
  try {
    await fc.assert(p, params);
  } catch (err) {
    const cause = (err as Error).cause;
    throw new Error(`${(err as Error).message}\n${cause instanceof Error ? cause.message : String(cause)}`, {
      cause: err,
    });
  }
}

test(
  'property: whatever another writer does between and during runs, every answer lands on its own record, every record is answered once',
  { timeout: 600_000 },
  async () => {
    const client = new LlmClient({
      baseURL: server.baseURL,
      apiKey: 'k',
      model: 'm',
      concurrency: 3,
      maxRetries: 0,
      timeoutMs: 5000,
    });
    let runs = 0;
    await assertProperty(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.array(step, { minLength: 1, maxLength: 7 }),
        async (n, steps) => {
          const dir = tempDir('dc-job-props-');
          const file = join(dir, 'd.jsonl');
          writeRecords(file, Array.from({ length: n }, newRecord));
          const journalDir = `${file}.curator-journal`;
          const editedLive = new Set<string>();
          const task = createTask(
            'label',
            LabelOptions.parse({ input: file, baseURL: server.baseURL, model: 'm', labels: ['pos', 'neg'] }),
            { client },
          );
          const run = async (
            s: Extract<Step, { kind: 'run' }> | { kind: 'run'; end: 'finish'; after: number },
          ): Promise<void> => {
            runs++;
            const ds = await openJobTarget(file);
            const ctl = new AbortController();
            let asked = 0;
            server.respond = (req) => {
              const body = req.body as ChatBody;
              const text = requestText(body);
              if (++asked === s.after + 1) {
                if (s.end === 'cancel' || s.end === 'kill') ctl.abort();
                else if (s.end === 'disk') writeRecords(file, changeList(readRecords(file), s.change));
                else if (s.end === 'live') {
                  const before = ds.lineCount;
                  changeLive(ds, s.change);
                  if (s.change.op === 'edit' && before > 0)
                    editedLive.add(ds.line(s.change.at % before).value!.id as string);
                }
              }
              return { content: JSON.stringify({ label: labelFor(text), confidence: 0.5, rationale: `for: ${text}` }) };
            };
            try {
              await runJob({
                jobId: 'label-props',
                journalDir,
                task,
                source: new StoreRecordSource(ds),
                sink: new StoreResultSink(ds, { save: s.end !== 'kill' }),
                concurrency: 3,
                signal: ctl.signal,
              });
            } catch (err) {
              const name = (err as Error).name;
              assert.ok(name === 'AbortError' || name === 'ConflictError', `the run ends as it should: ${String(err)}`);
            } finally {
              ds.close();
              server.respond = undefined;
            }
          };
          for (const s of steps) {
            if (s.kind === 'change') writeRecords(file, changeList(readRecords(file), s.change));
            else await run(s);
            check(file, false, editedLive);
          }
          await run({ kind: 'run', end: 'finish', after: 1e9 });
          check(file, true, editedLive);
        },
      ),
      {
        numRuns: Number(process.env.DC_PROPS_RUNS ?? 60),
        ...(process.env.DC_PROPS_SEED
          ? { seed: Number(process.env.DC_PROPS_SEED), path: process.env.DC_PROPS_PATH, endOnFailure: true }
          : {}),
      },
    );
    client.close();
    assert.ok(runs > 1, 'the jobs ran');
  },
);
