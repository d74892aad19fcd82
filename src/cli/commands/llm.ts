// curate label (annotate) | judge | consistency | critique | rationale: the LLM jobs from the command
// line, through the CLI's one operation runner (run-operation.ts).
// The API key comes from OPENAI_API_KEY (never a flag: flags end up in shell history and CI logs).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { humanLabeledExamples } from '../../core/llm/tasks';
import type { TaskId } from '../../core/llm/prompts';
import { judgesSummaryOfLines } from '../../core/metrics/judges';
import { llmEntries } from '../../core/registry';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../core/jobs/store-io';
import { defaultFields } from '../../core/schema/annotation';
import { datasetLines } from '../../core/sources';
import { UsageError, type Command, type Io, type OptionValues } from '../cli';
import { endpointOptions, list, llmFlags, llmUsage, num } from './llm-common';
import { runOperation } from './run-operation';
import { fieldFlags, fieldMapOf, openJsonl } from './util';

const common = { ...llmFlags, 'in-place': { type: 'boolean' }, ...fieldFlags } as const;

const commonUsage =
  llmUsage.replace('  --cache-dir', '  --out FILE | --in-place   --cache-dir') +
  '\n  --label-field, --rationale-field, --judge-field, --judges-field, --annotations-field NAME (where the results go)';

function commonOptions(values: OptionValues, input: string, defaultModel?: string): Record<string, unknown> {
  if (values.out && values['in-place']) throw new UsageError('choose --out FILE or --in-place, not both');
  if (!values.out && !values['in-place']) throw new UsageError('say where results go: --out FILE (a copy of FILE with the results) or --in-place');
  const o = endpointOptions(values, input, defaultModel);
  const fields = fieldMapOf(values);
  if (fields !== undefined) o.fields = fields;
  if (values['in-place']) o.inPlace = true;
  return o;
}

interface LlmRun {
  values: OptionValues;
  input: string;
  /** The task's own options. */
  extra: Record<string, unknown>;
  defaultModel?: string;
  /** Few-shot demonstrations wanted (records a person labeled, from the file). */
  fewShot?: number;
}

/**
 * Runs an LLM task through the CLI's runner. The input is opened and indexed once: the few-shot
 * examples, the estimate and the job read that dataset; with --out, it becomes the copy (written
 * once the estimate is confirmed), so results never touch the input.
 */
async function runLlm(id: TaskId, name: string, io: Io, r: LlmRun): Promise<number> {
  if (!existsSync(r.input)) throw new UsageError(`no such file: ${r.input}`);
  const raw = { ...commonOptions(r.values, r.input, r.defaultModel), ...r.extra };
  const out = typeof r.values.out === 'string' && resolve(r.values.out) !== resolve(r.input) ? r.values.out : undefined;
  let job = await openJsonl(r.input, io.signal);
  try {
    if (r.fewShot) raw.examples = humanLabeledExamples(job, r.fewShot, fieldMapOf(r.values));
    const op = llmEntries({
      apiKey: () => process.env.OPENAI_API_KEY,
      openSource: async () => new StoreRecordSource(job),
      openSink: async (_source, o) => new StoreResultSink(job, { fields: o.fields ?? defaultFields }),
    })[id];
    return await runOperation(op, raw, r.values, io, {
      name,
      async beforeRun() {
        if (!out) return;
        if (!existsSync(out)) await job.saveAs(out);
        else {
          // An unfinished run's copy: the job goes on there (openJobTarget checks it is a copy).
          job.close();
          job = await openJobTarget(r.input, out);
        }
      },
      // Several judges: how they agree, over the file they wrote (the dataset still open).
      async after(summary) {
        if (!summary.parts) return {};
        const agreement = await judgesSummaryOfLines(datasetLines(job, io.signal));
        const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
        return {
          json: { agreement },
          lines: [
            `agreement: the judges disagree on ${agreement.disagree} of ${agreement.records} record(s) (spread >= ${Math.round(agreement.threshold * 100)}% of the scale); Krippendorff's alpha ${f(agreement.alpha)}`,
            ...agreement.pairs.map((p) => `  ${p.a} / ${p.b}: ${p.n} records, Pearson ${f(p.pearson)}, Spearman ${f(p.spearman)}, mean abs. difference ${f(p.meanAbsoluteDifference)}`),
          ],
        };
      },
    });
  } finally {
    job.close();
  }
}

/** `curate label` (and its earlier name, `curate annotate`). */
function labelCommand(name: string, summary: string): Command {
  return {
    name,
    summary,
    usage: `curate ${name} FILE --labels a,b,c [--few-shot N] [--question label]\n${commonUsage}`,
    options: { ...common, labels: { type: 'string', short: 'l' }, 'few-shot': { type: 'string' }, question: { type: 'string' } },
    async run({ values, positionals }, io) {
      const input = positionals[0];
      if (!input) throw new UsageError('missing FILE');
      const labels = list(values.labels);
      if (labels.length < 2) throw new UsageError('--labels needs at least two labels, e.g. --labels positive,negative,neutral');
      const fewShot = num(values['few-shot'], 'few-shot') ?? 0;
      return runLlm('label', name, io, { values, input, fewShot, extra: { labels, ...(values.question ? { question: values.question } : {}) } });
    },
  };
}

export const label = labelCommand('label', 'Label records with an LLM (zero- or few-shot), with confidence and rationale');
export const annotate = labelCommand('annotate', 'The same as label (its earlier name)');

export const judge: Command = {
  name: 'judge',
  summary: 'Score records with one or several LLM judges against a rubric, per criterion, with reasons',
  usage: `curate judge FILE --rubric TEXT|FILE [--scale 1-10] [--criteria a,b,c] [--judge-models a,b,c]\n${commonUsage}`,
  details:
    'With --judge-models every listed model judges every record (one job per model over the same file, one after\n' +
    'the other, sharing the cache): each verdict goes to judges[], and judge holds their mean with n and spread, so\n' +
    '"curate filter --where \'judge.score >= 7\'" filters on the mean and \'judge.spread >= 3\' finds disagreement.\n' +
    '--model, when given as well, is one of the judges.',
  options: { ...common, rubric: { type: 'string', short: 'r' }, scale: { type: 'string' }, criteria: { type: 'string' }, 'judge-models': { type: 'string' } },
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
    if (values['judge-models'] !== undefined) {
      const judges = list(values['judge-models']);
      if (judges.length === 0) throw new UsageError('--judge-models needs model names, e.g. --judge-models gpt-4.1,llama3.1');
      const model = typeof values.model === 'string' ? values.model : undefined;
      extra.judgeModels = [...new Set([...(model ? [model] : []), ...judges])];
      return runLlm('judge', 'judge', io, { values, input, extra, defaultModel: judges[0] });
    }
    return runLlm('judge', 'judge', io, { values, input, extra });
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
    return runLlm('consistency', 'consistency', io, { values, input, extra: { labels, ...(values.samples ? { k: num(values.samples, 'samples') } : {}) } });
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
    return runLlm('critique', 'critique', io, { values, input, extra: values.field ? { field: values.field } : {} });
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
    return runLlm('rationale', 'rationale', io, { values, input, extra: {} });
  },
};
