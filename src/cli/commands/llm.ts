// curate annotate | judge | consistency | critique | rationale: the LLM jobs from the command line.
// The API key comes from OPENAI_API_KEY (never a flag: flags end up in shell history and CI logs).
import { existsSync, readFileSync } from 'node:fs';
import type { ZodType } from 'zod';
import { llmOperations, type CommonOptions } from '../../core/llm/tasks';
import { StoreRecordSource, StoreResultSink, openJobTarget } from '../../core/jobs/store-io';
import { JobCancelledError, type JobSummary } from '../../core/jobs/runner';
import type { JsonlDataset } from '../../core/store';
import { UserError, type Operation } from '../../core/operation';
import { ExitCode, UsageError, type Command, type Io, type OptionValues } from '../cli';
import { confirmEstimate, endpointOptions, interrupted, list, llmFlags, llmUsage, num, parseOptions, progressPrinter } from './llm-common';

const common = { ...llmFlags, 'in-place': { type: 'boolean' } } as const;

const commonUsage = llmUsage.replace('  --cache-dir', '  --out FILE | --in-place   --cache-dir');

function commonOptions(values: OptionValues, input: string): Record<string, unknown> {
  if (values.out && values['in-place']) throw new UsageError('choose --out FILE or --in-place, not both');
  if (!values.out && !values['in-place']) throw new UsageError('say where results go: --out FILE (a copy of FILE with the results) or --in-place');
  return endpointOptions(values, input);
}

type OpId = 'annotate' | 'judge' | 'consistency' | 'critique' | 'rationale';

async function runLlm(id: OpId, values: OptionValues, extra: Record<string, unknown>, input: string, io: Io): Promise<number> {
  if (!existsSync(input)) throw new UsageError(`no such file: ${input}`);
  let target: JsonlDataset | undefined;
  const ops = llmOperations({
    apiKey: () => process.env.OPENAI_API_KEY,
    openSource: async (o: CommonOptions) => {
      target ??= await openJobTarget(o.input, o.output);
      return new StoreRecordSource(target);
    },
    openSink: async (source) => new StoreResultSink((source as StoreRecordSource).dataset),
  });
  // One face over five operations that share CommonOptions.
  const op = ops[id] as unknown as Operation<ZodType<CommonOptions>, JobSummary>;
  const options: CommonOptions = parseOptions(op.options, { ...commonOptions(values, input), ...extra });
  const printer = progressPrinter(io);
  try {
    const go = await confirmEstimate(id, await op.estimate!(options, { signal: io.signal }), values, io);
    if (go !== true) return go;
    // The estimate opened the target; the run reopens it (after a kill, it resumes from the journal).
    target?.close();
    target = undefined;
    const summary: JobSummary = await op.run(options, { signal: io.signal, log: (l) => io.err(`${l}\n`), progress: printer.progress });
    printer.done();
    if (values.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      io.out(
        `${id}: ${summary.ok} ok, ${summary.failed.length} failed, ${summary.skipped.length} skipped (invalid lines), ` +
          `${summary.cached} from cache, ${summary.resumed} resumed; ${summary.requests} request(s), ` +
          `${summary.tokens.input_tokens} + ${summary.tokens.output_tokens} tokens${summary.cost ? `, $${summary.cost.toFixed(4)}` : ''}\n`,
      );
      for (const f of summary.failed.slice(0, 20)) io.out(`  line ${f.line}: ${f.reason}\n`);
      if (summary.failed.length > 20) io.out(`  ... and ${summary.failed.length - 20} more\n`);
    }
    return summary.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
  } catch (err) {
    printer.done();
    if (err instanceof UserError) throw new UsageError(err.message);
    if (err instanceof JobCancelledError) {
      const s = err.summary;
      return interrupted(io, `${s.ok + s.failed.length + s.skipped.length} of ${s.total} records are done and kept`);
    }
    throw err;
  } finally {
    target?.close();
  }
}

export const annotate: Command = {
  name: 'annotate',
  summary: 'Label records with an LLM (zero- or few-shot), with confidence and rationale',
  usage: `curate annotate FILE --labels a,b,c [--few-shot N] [--question label]\n${commonUsage}`,
  options: { ...common, labels: { type: 'string', short: 'l' }, 'few-shot': { type: 'string' }, question: { type: 'string' } },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    const labels = list(values.labels);
    if (labels.length < 2) throw new UsageError('--labels needs at least two labels, e.g. --labels positive,negative,neutral');
    const fewShot = num(values['few-shot'], 'few-shot') ?? 0;
    const examples = fewShot > 0 ? await humanExamples(input, fewShot) : [];
    return runLlm('annotate', values, { labels, examples, ...(values.question ? { question: values.question } : {}) }, input, io);
  },
};

/** Few-shot demonstrations: records a human already labeled. */
async function humanExamples(file: string, n: number): Promise<{ record: Record<string, unknown>; label: string }[]> {
  const { JsonlDataset } = await import('../../core/store');
  const { readAnnotation } = await import('../../core/schema/annotation');
  const ds = await JsonlDataset.open(file);
  try {
    await ds.ready;
    const out: { record: Record<string, unknown>; label: string }[] = [];
    for (let i = 0; i < ds.lineCount && out.length < n; i++) {
      const v = ds.line(i).value;
      if (!v) continue;
      const h = readAnnotation(v).human;
      if (h && h.status === 'submitted' && typeof h.value === 'string') {
        const { label: _l, rationale: _r, judge: _j, annotations: _a, ...record } = v;
        out.push({ record, label: h.value });
      }
    }
    return out;
  } finally {
    ds.close();
  }
}

export const judge: Command = {
  name: 'judge',
  summary: 'Score records with an LLM judge against a rubric, per criterion, with reasons',
  usage: `curate judge FILE --rubric TEXT|FILE [--scale 1-10] [--criteria a,b,c]\n${commonUsage}`,
  options: { ...common, rubric: { type: 'string', short: 'r' }, scale: { type: 'string' }, criteria: { type: 'string' } },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    const extra: Record<string, unknown> = {};
    if (typeof values.rubric === 'string') extra.rubric = existsSync(values.rubric) ? readFileSync(values.rubric, 'utf8') : values.rubric;
    if (typeof values.scale === 'string') {
      const m = /^(-?\d+)-(-?\d+)$/.exec(values.scale);
      if (!m) throw new UsageError(`--scale takes MIN-MAX, e.g. 1-10; got ${JSON.stringify(values.scale)}`);
      extra.scaleMin = Number(m[1]);
      extra.scaleMax = Number(m[2]);
    }
    if (values.criteria) extra.criteria = list(values.criteria);
    return runLlm('judge', values, extra, input, io);
  },
};

export const consistency: Command = {
  name: 'consistency',
  summary: 'Self-consistency: k sampled labels, majority vote, agreement as confidence',
  usage: `curate consistency FILE --labels a,b --samples K\n${commonUsage}`,
  options: { ...common, labels: { type: 'string', short: 'l' }, samples: { type: 'string', short: 'k' } },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    const labels = list(values.labels);
    if (labels.length < 2) throw new UsageError('--labels needs at least two labels');
    return runLlm('consistency', values, { labels, ...(values.samples ? { k: num(values.samples, 'samples') } : {}) }, input, io);
  },
};

export const critique: Command = {
  name: 'critique',
  summary: 'Critique a response field and propose a refined one, kept beside the original',
  usage: `curate critique FILE [--field response]\n${commonUsage}`,
  options: { ...common, field: { type: 'string' } },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    return runLlm('critique', values, values.field ? { field: values.field } : {}, input, io);
  },
};

export const rationale: Command = {
  name: 'rationale',
  summary: "Write a rationale for each record's current label",
  usage: `curate rationale FILE\n${commonUsage}`,
  options: { ...common },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    return runLlm('rationale', values, {}, input, io);
  },
};
