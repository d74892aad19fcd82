// The generation layout outside any job: a preference pair read for the side-by-side view and
// swapped as one edit (key order kept, the human's decision beside the judge's), origins written and
// read, and the human vs machine-generated counts of the statistics (worker threads included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAnnotationEdit } from '../../src/core/annotate-edits';
import { isMachineGenerated, originOf, withOrigin } from '../../src/core/schema/annotation';
import { readPreference, swapPreference } from '../../src/core/schema/preference';
import { EditRequest, FromWebview, RecordPayload } from '../../src/shared/protocol';
import { JsonlDataset, computeStats } from '../../src/core/store';
import { fileWith } from './helpers/store';

const pair = {
  id: 7,
  prompt: 'Explain tides',
  chosen: [
    { role: 'user', content: 'Explain tides' },
    { role: 'assistant', content: 'The moon pulls the oceans.' },
  ],
  chosen_rating: 8,
  chosen_model: 'model-a',
  rejected: [
    { role: 'user', content: 'Explain tides' },
    { role: 'assistant', content: 'Wind.' },
  ],
  rejected_rating: 3,
  rejected_model: 'model-b',
  generations: ['The moon pulls the oceans.', 'Wind.'],
  ratings: [8, 3],
  annotations: { origin: { type: 'model', task: 'preferences' } },
};

test('a preference record reads as prompt + two sides (the last assistant turn), ratings and models', () => {
  const p = readPreference(pair)!;
  assert.equal(p.prompt, 'Explain tides');
  assert.deepEqual(p.chosen, { text: 'The moon pulls the oceans.', rating: 8, model: 'model-a' });
  assert.deepEqual(p.rejected, { text: 'Wind.', rating: 3, model: 'model-b' });
  assert.deepEqual(p.fields, [
    'prompt',
    'chosen',
    'rejected',
    'chosen_rating',
    'rejected_rating',
    'chosen_model',
    'rejected_model',
  ]);
  assert.equal(p.human, undefined);
  // TRL's plain strings, no ratings
  assert.deepEqual(readPreference({ prompt: 'Q', chosen: 'good', rejected: 'bad' }), {
    prompt: 'Q',
    chosen: { text: 'good' },
    rejected: { text: 'bad' },
    fields: ['prompt', 'chosen', 'rejected'],
  });
  assert.equal(readPreference({ text: 'not a pair' }), undefined);
  assert.equal(readPreference({ chosen: 'only one side' }), undefined);
});

test('swap: chosen and rejected exchange texts, ratings and models in place; the human decision is recorded; twice restores the pair', () => {
  const when = { time: '2026-12-01T10:00:00.000Z' };
  const once = swapPreference(pair, when);
  assert.deepEqual(Object.keys(once), Object.keys(pair), 'same keys, same order');
  assert.deepEqual(once.chosen, pair.rejected);
  assert.deepEqual(once.rejected, pair.chosen);
  assert.equal(once.chosen_rating, 3);
  assert.equal(once.rejected_rating, 8);
  assert.equal(once.chosen_model, 'model-b');
  assert.equal(once.rejected_model, 'model-a');
  assert.deepEqual(once.generations, pair.generations, "the judge's candidates and ratings stay as they were");
  assert.deepEqual(once.ratings, pair.ratings);
  assert.deepEqual(once.annotations, {
    origin: { type: 'model', task: 'preferences' },
    human: { preference: { value: 'swapped', status: 'submitted', time: when.time } },
    review: { status: 'reviewed', time: when.time },
  });
  assert.equal(readPreference(once)?.human, 'swapped');
  const twice = swapPreference(once, when);
  const { annotations: a2, ...rest2 } = twice;
  const { annotations: _a, ...rest } = pair;
  assert.deepEqual(rest2, rest);
  assert.equal((a2 as { human: { preference: { value: string } } }).human.preference.value, 'kept');
  // the input is not mutated
  assert.equal(pair.chosen_rating, 8);
  // a side without a rating: the rating moves with its response
  const partial = swapPreference({ prompt: 'Q', chosen: 'a', rejected: 'b', chosen_rating: 2 });
  assert.equal(partial.rejected_rating, 2);
  assert.equal('chosen_rating' in partial, false);
  assert.throws(() => swapPreference({ text: 'x' }), /not a preference pair/);
});

test('the editor asks for a swap with its own edit request; the host applies it through the annotation edits', () => {
  const req = EditRequest.parse({ op: 'swapPreference', index: 3 });
  assert.deepEqual(req, { op: 'swapPreference', index: 3 });
  assert.equal(
    FromWebview.safeParse({ kind: 'request', id: 1, method: 'edit', params: { op: 'swapPreference', index: -1 } })
      .success,
    true,
    'params are checked by the method schema',
  );
  assert.equal(EditRequest.safeParse({ op: 'swapPreference', index: -1 }).success, false);
  const next = applyAnnotationEdit(pair, { op: 'swapPreference', index: 0 }, new Date('2026-12-01T10:00:00.000Z'));
  assert.equal(next.chosen_model, 'model-b');
  // the payload carries the pair for the side-by-side view
  const payload = RecordPayload.parse({
    index: 0,
    lineNumber: 1,
    raw: '{}',
    value: pair,
    preference: readPreference(pair),
    edited: false,
  });
  assert.equal(payload.preference?.chosen.text, 'The moon pulls the oceans.');
});

test('origin: written validated, an earlier origin kept as its input; read back', () => {
  const first = withOrigin(
    { instruction: 'Explain tides' },
    { type: 'model', task: 'instructions', model: 'm1', round: 2 },
  );
  assert.equal(isMachineGenerated(first), true);
  const second = withOrigin(first, { type: 'model', task: 'responses', model: 'm2' });
  const o = originOf(second)!;
  assert.equal(o.task, 'responses');
  assert.deepEqual(o.input, { type: 'model', task: 'instructions', model: 'm1', round: 2 });
  assert.throws(() => withOrigin({}, { type: 'robot' } as never));
  assert.equal(isMachineGenerated({ annotations: { origin: { type: 'human' } } }), false);
  assert.equal(isMachineGenerated({ text: 'no origin' }), false);
});

test('stats count machine-generated records (worker threads and this thread agree)', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const gen = i % 4 === 0;
    lines.push(
      JSON.stringify({
        id: i,
        text: `t${i}`,
        ...(gen
          ? { annotations: { origin: { type: 'model', task: 'responses' } } }
          : i % 4 === 1
            ? { annotations: { origin: { type: 'human' } } }
            : {}),
      }),
    );
  }
  const ds = await JsonlDataset.open(fileWith(`${lines.join('\n')}\n`));
  try {
    await ds.ready;
    const here = await computeStats(ds, undefined, { workers: 0 });
    const diagnostics: { workersUsed?: number } = {};
    const pooled = await computeStats(ds, undefined, { workers: 2, diagnostics });
    assert.ok((diagnostics.workersUsed ?? 0) >= 1, 'a worker thread counted');
    assert.equal(here.generated, 750);
    assert.equal(here.generatedShare, 0.25);
    assert.equal(pooled.generated, 750);
    // an edit counts too
    ds.replaceLine(1, { id: 1, annotations: { origin: { type: 'model' } } });
    assert.equal((await computeStats(ds, undefined, { workers: 0 })).generated, 751);
  } finally {
    ds.close();
  }
});
