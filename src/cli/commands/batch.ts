// curate batch status|cancel|export|import: a thin face over src/core/llm/batch (docs/batch.md).
//   curate batch status FILE                 the batch jobs of FILE (its journal; no network)
//   curate batch cancel FILE [--job ID]      cancels their batches (OPENAI_API_KEY)
//   curate batch export FILE --task label --labels a,b --model M --out requests.jsonl
//   curate batch import FILE RESULTS --task label --labels a,b --model M (--in-place | --out F)
import { existsSync } from 'node:fs';
import { ZodError } from 'zod';
import { StoreRecordSource } from '../../core/jobs/store-io';
import { BatchApiClient } from '../../core/llm/batch/api';
import { batchFacet } from '../../core/llm/batch/facet';
import { FileApplier } from '../../core/llm/batch/file-apply';
import { outcomesOf } from '../../core/llm/batch/format';
import { exportRequests } from '../../core/llm/batch/offline';
import { taskAdapter, type BatchTaskAdapter } from '../../core/llm/batch/records';
import { batchJobState, jobOptionsPath } from '../../core/llm/batch/job-options';
import { batchJobStatus, cancelBatchJob, listBatchJobs } from '../../core/llm/batch/run';
import { LlmClient } from '../../core/llm/client';
import { createTask, CritiqueOptions, JudgeOptions, LabelOptions, RationaleOptions } from '../../core/llm/tasks';
import { JsonlDataset } from '../../core/store';
import { ExitCode, UsageError, stringOption, type Command, type Io, type OptionValues } from '../cli';

const TASKS = ['label', 'rationale', 'judge', 'critique'] as const;
type BatchTask = (typeof TASKS)[number];

function list(v: unknown): string[] {
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** The batch jobs of a dataset: `<file>.curator-journal/*.batch.jsonl`. */
function batchJournals(file: string): Array<{ job: string; path: string }> {
  return listBatchJobs(file);
}

/** The task's adapter from the flags (the same options as the task's own subcommand). */
function adapterFor(
  values: OptionValues,
  input: string,
): { adapter: BatchTaskAdapter; close: () => void; task: BatchTask; model: string } {
  const task = (stringOption(values.task, 'task label|rationale|judge|critique') ?? 'label') as BatchTask;
  if (!TASKS.includes(task))
    throw new UsageError(`--task must be one of ${TASKS.join(', ')}, got ${JSON.stringify(task)}`);
  const model = (values.model as string | undefined) ?? process.env.CURATE_MODEL;
  if (!model) throw new UsageError('missing --model (or CURATE_MODEL): it is part of each request');
  // the endpoint is not part of an offline request; a placeholder satisfies the options
  const raw: Record<string, unknown> = {
    input,
    model,
    baseURL: values['base-url'] ?? process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1/v1',
  };
  if (values.labels !== undefined) raw.labels = list(values.labels);
  if (values.rubric !== undefined) raw.rubric = values.rubric;
  if (values.field !== undefined) raw.field = values.field;
  if (values['prompts-dir'] !== undefined) raw.promptsDir = values['prompts-dir'];
  const schema = { label: LabelOptions, rationale: RationaleOptions, judge: JudgeOptions, critique: CritiqueOptions }[
    task
  ];
  let options;
  try {
    options = schema.parse(raw);
  } catch (err) {
    if (err instanceof ZodError)
      throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
    throw err;
  }
  const client = new LlmClient({ baseURL: options.baseURL, model });
  const t = createTask(task, options as never, { client });
  const facet = batchFacet(t);
  if (!facet) throw new UsageError(`the ${task} task cannot run as a batch`);
  const confidence = values.confidence as string | undefined;
  if (confidence !== undefined && confidence !== 'verbal' && confidence !== 'logprobs')
    throw new UsageError(`--confidence must be verbal or logprobs, got ${JSON.stringify(confidence)}`);
  if (confidence === 'logprobs' && task !== 'label')
    throw new UsageError('--confidence logprobs is for the label task');
  const labels = task === 'label' ? (options as LabelOptions).labels : [];
  return {
    adapter: taskAdapter(facet, { ...(confidence ? { confidence } : {}), labels }),
    close: () => client.close(),
    task,
    model,
  };
}

function status(file: string, values: OptionValues, io: Io): number {
  const jobs = batchJournals(file);
  const out = jobs.map(({ job, path }) => {
    const st = batchJobStatus(path);
    // A job whose journal ended while its options say it runs stopped between two rounds: the
    // next round (a judge's batch, the records sent again) is not sent yet (job-options.ts).
    const betweenRounds = st.ended && batchJobState(jobOptionsPath(path)) === 'running';
    return { job, ...st, betweenRounds };
  });
  if (values.json) {
    io.out(
      `${JSON.stringify(out.map((j) => ({ job: j.job, model: j.header?.model, ended: j.ended, betweenRounds: j.betweenRounds, cancelRequested: j.cancelRequested, parts: j.parts.map((p) => ({ part: p.part, round: p.round, requests: p.requests, batchId: p.batchId ?? null, status: p.status ?? (p.batchId ? 'submitted' : 'not submitted'), counts: p.counts ?? null, applied: p.applied ?? null })) })))}\n`,
    );
    return ExitCode.ok;
  }
  if (out.length === 0) {
    io.out(`${file}: no batch jobs\n`);
    return ExitCode.ok;
  }
  for (const j of out) {
    io.out(
      `${j.job} (${j.header?.model ?? '?'})${j.betweenRounds ? ': stopped between two rounds, the next one not sent (run the same command again to go on)' : j.ended ? ': done' : j.cancelRequested ? ': cancel requested' : j.parts.length === 0 ? ': no batch sent yet' : ''}\n`,
    );
    for (const p of j.parts) {
      const state = p.applied
        ? `applied: ${p.applied.ok} ok, ${p.applied.failed} failed`
        : p.status
          ? `${p.status}${p.counts ? `: ${p.counts.completed} done, ${p.counts.failed} failed of ${p.counts.total}` : ''}`
          : p.batchId
            ? 'submitted'
            : 'not submitted';
      io.out(
        `  part ${p.part}${p.round ? ` (round ${p.round})` : ''}: ${p.requests} request(s), ${p.batchId ?? 'no batch yet'}, ${state}\n`,
      );
    }
  }
  return ExitCode.ok;
}

async function cancel(file: string, values: OptionValues, io: Io): Promise<number> {
  const only = values.job as string | undefined;
  const jobs = batchJournals(file).filter((j) => !only || j.job === only);
  if (jobs.length === 0) throw new UsageError(`${file}: no batch job${only ? ` ${only}` : ''} to cancel`);
  for (const { job, path } of jobs) {
    const st = batchJobStatus(path);
    if (st.ended) {
      io.err(`${job}: already done\n`);
      continue;
    }
    const api = new BatchApiClient({
      baseURL: (values['base-url'] as string | undefined) ?? st.header?.base_url ?? '',
      apiKey: process.env.OPENAI_API_KEY,
    });
    const r = await cancelBatchJob(api, path, io.signal);
    io.out(
      `${job}: ${r.length === 0 ? 'no batch running; nothing more will be sent' : r.map((x) => `${x.batchId} ${x.status}`).join(', ')}\n`,
    );
  }
  return ExitCode.ok;
}

async function exportCmd(file: string, values: OptionValues, io: Io): Promise<number> {
  const out = stringOption(values.out, 'out requests.jsonl') as string;
  if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists; pass --force to replace it`);
  const { adapter, close } = adapterFor(values, file);
  const ds = await JsonlDataset.open(file);
  try {
    await ds.ready;
    const r = await exportRequests(new StoreRecordSource(ds), adapter, out);
    io.err(
      `${file} -> ${out}: ${r.requests} request(s)${r.skipped.length ? `, ${r.skipped.length} record(s) skipped` : ''}; run them with: vllm run-batch -i ${out} -o results.jsonl --model ${typeof values.model === 'string' ? values.model : '<model>'}\n`,
    );
    if (values.json) io.out(`${JSON.stringify(r)}\n`);
    return ExitCode.ok;
  } finally {
    close();
    ds.close();
  }
}

async function importCmd(file: string, results: string, values: OptionValues, io: Io): Promise<number> {
  if (!existsSync(results)) throw new UsageError(`${results}: no such file`);
  const inPlace = values['in-place'] === true;
  const out = values.out as string | undefined;
  if (inPlace === (out !== undefined)) throw new UsageError('pass --in-place or --out FILE');
  if (out !== undefined && existsSync(out) && values.force !== true)
    throw new UsageError(`${out} exists; pass --force to replace it`);
  const { adapter, close } = adapterFor(values, file);
  try {
    // one pass over the file (file-apply.ts): memory is the results, not the file
    const applier = new FileApplier(adapter);
    const badLines: Array<{ line: number; reason: string }> = [];
    let outcomes = 0;
    for await (const o of outcomesOf(results, (line, reason) => badLines.push({ line, reason }))) {
      outcomes++;
      applier.add(o);
    }
    if (outcomes === 0) {
      const why = badLines[0] ? ` (line ${badLines[0].line}: ${badLines[0].reason})` : '';
      throw new UsageError(`${results} holds no batch output lines${why}; nothing was written`);
    }
    const r = { ...(await applier.write(file, out ?? file, io.signal)), badLines };
    if (values.json)
      io.out(
        `${JSON.stringify({ applied: r.applied, failed: r.failed, stale: r.stale.length, redo: r.redo, badLines: r.badLines })}\n`,
      );
    io.err(
      `${results} -> ${out ?? file}: ${r.applied} record(s) answered, ${r.failed.length} failed, ${r.stale.length} answer(s) refused (their record changed or is gone), ${r.redo.length} record(s) without an answer${r.badLines.length ? `, ${r.badLines.length} line(s) not batch output` : ''}\n`,
    );
    for (const f of r.failed.slice(0, 10)) io.err(`  line ${f.line}: ${f.reason}\n`);
    return r.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
  } finally {
    close();
  }
}

export const batch: Command = {
  name: 'batch',
  summary: 'Batch jobs: status, cancel; offline request files for vllm run-batch and their results',
  usage:
    'curate batch status|cancel FILE | curate batch export FILE --task T --model M --out REQUESTS | curate batch import FILE RESULTS --task T --model M (--in-place | --out F)',
  details:
    'status FILE                  the batch jobs of FILE (parts, batch ids, statuses, counts), from their journal\n' +
    'cancel FILE [--job ID]       cancels the batches that have not ended (the key from OPENAI_API_KEY)\n' +
    'export FILE --out REQUESTS   the requests in the OpenAI batch input format, which `vllm run-batch` reads\n' +
    'import FILE RESULTS          an OpenAI or vLLM output file applied by custom_id (--in-place or --out F);\n' +
    '                             a line whose record changed since the export is refused\n' +
    'Task flags (export, import): --task label|rationale|judge|critique --model M --labels a,b --rubric TEXT\n' +
    '  --field NAME --prompts-dir DIR --confidence verbal|logprobs (label). See docs/batch.md.',
  options: {
    task: { type: 'string' },
    model: { type: 'string', short: 'm' },
    labels: { type: 'string' },
    rubric: { type: 'string' },
    field: { type: 'string' },
    'prompts-dir': { type: 'string' },
    confidence: { type: 'string' },
    'base-url': { type: 'string' },
    out: { type: 'string', short: 'o' },
    'in-place': { type: 'boolean' },
    force: { type: 'boolean' },
    job: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const [sub, file, results] = positionals;
    if (!sub || !['status', 'cancel', 'export', 'import'].includes(sub))
      throw new UsageError('curate batch status|cancel|export|import FILE ...');
    if (!file) throw new UsageError(`curate batch ${sub}: missing FILE`);
    // A generation's output is written at its end: its batch jobs (status, cancel) are known
    // before, by their journal folder.
    const journalOnly = (sub === 'status' || sub === 'cancel') && existsSync(`${file}.curator-journal`);
    if (!existsSync(file) && !journalOnly) throw new UsageError(`${file}: no such file`);
    if (sub === 'status') return status(file, values, io);
    if (sub === 'cancel') return cancel(file, values, io);
    if (sub === 'export') return exportCmd(file, values, io);
    if (!results) throw new UsageError('curate batch import FILE RESULTS: missing RESULTS');
    return importCmd(file, results, values, io);
  },
};
