// A child process that runs a label job over the store (used by the kill -9 / resume test):
//   node --import tsx test/support/job-child.ts <baseURL> <input> <output> <journalDir> <jobId> <concurrency>
// Prints a JSON summary on stdout when it finishes.
import { runJob } from '../../src/core/jobs/runner';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import { LlmClient } from '../../src/core/llm/client';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';

async function main(): Promise<void> {
  const [baseURL, input, output, journalDir, jobId, conc] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const concurrency = Number(conc);
  const client = new LlmClient({ baseURL, apiKey: 'sk-child', model: 'm', concurrency, timeoutMs: 5000 });
  const options = LabelOptions.parse({ input, baseURL, model: 'm', labels: ['positive', 'negative'], concurrency });
  const task = createTask('label', options, { client });
  const dataset = await openJobTarget(input, output);
  const summary = await runJob({
    jobId,
    journalDir,
    task,
    source: new StoreRecordSource(dataset),
    sink: new StoreResultSink(dataset),
    concurrency,
  });
  client.close();
  dataset.close();
  process.stdout.write(
    `${JSON.stringify({ ok: summary.ok, resumed: summary.resumed, failed: summary.failed.length, requests: summary.requests })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
