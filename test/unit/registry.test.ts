// The operation registry: one id per operation, from which the CLI subcommand and the VS Code
// command are derived; both exist for every operation; one summary in the same words for both faces.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { batchableIds, faceNames, filterEntry, jobReporting, registeredIds } from '../../src/core/registry';
import { commands } from '../../src/cli/commands';
import type { JobSummary } from '../../src/core/jobs/runner';
import pkg from '../../package.json';

const vscodeCommands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));

test('every registered operation is a CLI subcommand and a VS Code command of the same name', async () => {
  const ids = registeredIds();
  assert.deepEqual(ids.sort(), [
    'confidence',
    'consistency',
    'critique',
    'filter',
    'generate-dialogues',
    'generate-instructions',
    'generate-preferences',
    'generate-responses',
    'judge',
    'label',
    'rationale',
  ]);
  for (const id of ids) {
    const n = faceNames(id);
    const entry = commands.find((c) => c.name === n.cli[0]);
    assert.ok(entry, `curate ${n.cli.join(' ')}`);
    const cli = await entry.load();
    if (n.cli.length > 1) assert.match(cli.usage, new RegExp(n.cli[1]!), `curate ${n.cli.join(' ')} in its usage`);
    assert.ok(vscodeCommands.has(n.vscode), `${n.vscode} in package.json`);
  }
  for (const id of ['label', 'rationale', 'judge', 'consistency', 'critique'])
    assert.ok(vscodeCommands.has(faceNames(id).vscodeRecord), faceNames(id).vscodeRecord);
  // "Run as Batch": a command for each operation with a batch mode, and none for the others
  assert.deepEqual(batchableIds().sort(), [
    'confidence',
    'consistency',
    'critique',
    'generate-dialogues',
    'generate-instructions',
    'generate-preferences',
    'generate-responses',
    'judge',
    'label',
    'rationale',
  ]);
  for (const id of ids)
    assert.equal(vscodeCommands.has(faceNames(id).vscodeBatch), batchableIds().includes(id), faceNames(id).vscodeBatch);
  assert.deepEqual(faceNames('generate-responses'), {
    cli: ['generate', 'responses'],
    vscode: 'datasetCurator.generateResponses',
    vscodeRecord: 'datasetCurator.generateResponsesRecord',
    vscodeBatch: 'datasetCurator.generateResponsesBatch',
  });
});

test('a job summary: the same neutral words for both faces; failures make it incomplete', () => {
  const s: JobSummary = {
    jobId: 'j',
    task: 'label',
    model: 'm',
    total: 3,
    ok: 1,
    failed: [
      {
        i: 1,
        line: 2,
        reason: 'the answer was cut off at the output token limit (8); raise the limit of output tokens',
      },
    ],
    skipped: [{ i: 2, line: 3, reason: 'invalid JSON' }],
    cached: 0,
    resumed: 0,
    requests: 2,
    tokens: { input_tokens: 10, output_tokens: 5 },
    cost: 0,
    elapsedMs: 1,
    journal: 'x',
    complete: true,
  };
  const r = jobReporting.summarize(s);
  assert.equal(
    r.headline,
    '1 ok, 1 failed, 1 skipped (invalid lines), 0 from cache, 0 resumed; 2 request(s), 10 + 5 tokens',
  );
  assert.equal(r.outcome, 'incomplete');
  assert.deepEqual(r.failures, [{ where: 'line 2', reason: s.failed[0]!.reason }]);
  assert.doesNotMatch(JSON.stringify(r), /--/, 'no CLI flag in the words');
});

test('the filter runs over the lines it is given (the open document), not the file', async () => {
  const lines = [
    { index: 0, raw: '{"judge":{"score":9}}', value: { judge: { score: 9 } } },
    { index: 1, raw: '{"judge":{"score":2}}', value: { judge: { score: 2 } } },
  ];
  const r = await filterEntry({ open: () => lines })
    .prepare({ file: '/nonexistent/never-read.jsonl', rules: ['judge.score >= 8'], action: 'tag' })
    .run({ signal: new AbortController().signal, progress: () => {}, log: () => {} });
  assert.equal(r.kept, 1);
  assert.deepEqual(r.deleteIndices, [1]);
  assert.deepEqual(
    r.edits?.map((e) => e.index),
    [1],
  );
});
