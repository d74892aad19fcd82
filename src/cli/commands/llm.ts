// curate label (annotate) | judge | consistency | critique | rationale: the LLM jobs from the command
// line, through the CLI's one operation runner (run-operation.ts).
// The API key comes from OPENAI_API_KEY (never a flag: flags end up in shell history and CI logs).
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { annotationKeys, humanLabeledExamples } from '../../core/llm/tasks';
import type { TaskId } from '../../core/llm/prompts';
import { LlmError } from '../../core/llm/client';
import { judgesSummaryOfLines } from '../../core/metrics/judges';
import { modelsAgreementOfFile } from '../../core/metrics/agreement';
import { llmEntries } from '../../core/registry';
import { journalDirFor } from '../../core/jobs/runner';
import { openJobTarget, SINK_BATCH, StoreRecordSource, StoreResultSink } from '../../core/jobs/store-io';
import { defaultFields } from '../../core/schema/annotation';
import { datasetLines } from '../../core/sources';
import { UserError } from '../../core/operation';
import { resolveQuestion } from '../../core/questions/resolve';
import type { Question } from '../../core/questions/schema';
import { humanAnswerExamples } from '../../core/questions/task';
import { assertDatasetFile, type JsonlDataset } from '../../core/store';
import { UsageError, textOrFile, type Command, type Io, type OptionValues } from '../cli';
import { endpointOptions, list, llmFlags, llmUsage, num } from './llm-common';
import { questionFlags, questionOptionsOf, questionUsage } from './question-flags';
import { batchFlags, batchUsage, runOperation } from './run-operation';
import { fieldFlags, fieldMapOf, openJsonl } from './util';

const common = {
  ...llmFlags,
  'in-place': { type: 'boolean' },
  replace: { type: 'boolean' },
  ...fieldFlags,
  ...batchFlags,
} as const;

const commonUsage =
  llmUsage.replace('  --cache-dir', '  --out FILE | --in-place   --cache-dir') +
  '\n  --label-field, --rationale-field, --judge-field, --judges-field, --annotations-field NAME (where the results go)' +
  '\n  --replace   replace a label or rationale the record already has (the old value is kept in annotations.history);\n' +
  "              without it an existing one stays and the model's answer is a suggestion beside it\n" +
  batchUsage;

async function commonOptions(
  values: OptionValues,
  input: string,
  defaultModel: string | undefined,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  if (values.out && values['in-place']) throw new UsageError('choose --out FILE or --in-place, not both');
  if (!values.out && !values['in-place'])
    throw new UsageError('say where results go: --out FILE (a copy of FILE with the results) or --in-place');
  const o = await endpointOptions(values, input, defaultModel, signal);
  const fields = fieldMapOf(values);
  if (fields !== undefined) o.fields = fields;
  if (values['in-place']) o.inPlace = true;
  if (values.replace) o.replaceExisting = true;
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
  /** The question of another type the job answers (its few-shot examples are the person's answers). */
  question?: Question;
}

/**
 * Runs an LLM task through the CLI's runner. The input is opened and indexed once: the few-shot
 * examples, the estimate and the job read that dataset; with --out, it becomes the copy (written
 * once the estimate is confirmed), so results never touch the input.
 */
async function runLlm(id: TaskId, name: string, io: Io, r: LlmRun): Promise<number> {
  if (!existsSync(r.input)) throw new UsageError(`no such file: ${r.input}`);
  assertDatasetFile(r.input); // a folder or a binary file: exit 2 before anything is read or asked
  const raw = { ...(await commonOptions(r.values, r.input, r.defaultModel, io.signal)), ...r.extra };
  const out = typeof r.values.out === 'string' && resolve(r.values.out) !== resolve(r.input) ? r.values.out : undefined;
  const fields = fieldMapOf(r.values);
  let job: JsonlDataset = await openJsonl(r.input, io.signal);
  // A copy made by this run (and its journal folder), removed again when the job stops on a fatal
  // error (no server there, a bad key) before any record had a result.
  // Set in beforeRun, a callback the narrowing does not follow: `as boolean` keeps it boolean.
  let fresh = false as boolean;
  const journalDirExisted = out !== undefined && existsSync(journalDirFor(out));
  const sinks: StoreResultSink[] = [];
  try {
    if (r.fewShot && r.question) raw.answerExamples = humanAnswerExamples(job, r.question, r.fewShot, fields);
    else if (r.fewShot) raw.examples = humanLabeledExamples(job, r.fewShot, fields);
    const op = llmEntries({
      apiKey: () => process.env.OPENAI_API_KEY,
      openSource: () => Promise.resolve(new StoreRecordSource(job)),
      openSink: (_source, o) => {
        const sink = new StoreResultSink(job, {
          fields: o.fields ?? defaultFields,
          replace: o.replaceExisting,
          batchSize: SINK_BATCH,
        });
        sinks.push(sink);
        return Promise.resolve(sink);
      },
    })[id];
    return await runOperation(op, raw, r.values, io, {
      name,
      flags: { replaceExisting: '--replace' },
      async beforeRun() {
        if (!out) return;
        if (!existsSync(out)) {
          await job.saveAs(out);
          fresh = true;
        } else {
          // An earlier run's copy: the job goes on there (openJobTarget brings it in line with the input).
          job.close();
          job = await openJobTarget(r.input, out, {
            annotationKeys: annotationKeys(fields),
            log: (l) => io.err(`${l}\n`),
          });
        }
      },
      // Several judges or models: how they agree, over the file they wrote (the dataset still open).
      async after(summary) {
        if (!summary.parts) return {};
        const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
        if (id === 'label') {
          const ma = await modelsAgreementOfFile(
            job.path,
            typeof raw.question === 'string' ? raw.question : 'label',
            io.signal,
          );
          return {
            json: { agreement: ma },
            lines: [
              ...(ma.modelPairs ?? []).map(
                (p) =>
                  `${p.a} / ${p.b}: agree on ${Math.round((p.metrics.accuracy ?? 0) * p.metrics.n)} of ${p.metrics.n} record(s), kappa ${f(p.metrics.kappa)}`,
              ),
              ...(ma.models ?? [])
                .filter((m) => m.vsReference.metrics.n > 0)
                .map(
                  (m) =>
                    `${m.model} / people: ${m.vsReference.metrics.n} record(s), accuracy ${f(m.vsReference.metrics.accuracy)}, kappa ${f(m.vsReference.metrics.kappa)}`,
                ),
            ],
          };
        }
        if (id !== 'judge') return {};
        const agreement = await judgesSummaryOfLines(datasetLines(job, io.signal));
        return {
          json: { agreement },
          lines: [
            `agreement: the judges disagree on ${agreement.disagree} of ${agreement.records} record(s) (spread >= ${Math.round(agreement.threshold * 100)}% of the scale); Krippendorff's alpha ${f(agreement.alpha)}`,
            ...agreement.pairs.map(
              (p) =>
                `  ${p.a} / ${p.b}: ${p.n} records, Pearson ${f(p.pearson)}, Spearman ${f(p.spearman)}, mean abs. difference ${f(p.meanAbsoluteDifference)}`,
            ),
          ],
        };
      },
    });
  } catch (err) {
    if (out && fresh && sinks.every((k) => k.received === 0) && err instanceof LlmError && err.kind === 'fatal') {
      job.close();
      rmSync(out, { force: true });
      if (!journalDirExisted) rmSync(journalDirFor(out), { recursive: true, force: true });
    }
    throw err;
  } finally {
    job.close();
  }
}

/** The question a job works on, from the declarations and flags (undefined: the single label). */
function checkedQuestion(input: string, values: OptionValues): Question | undefined {
  try {
    return resolveQuestion({ input, ...questionOptionsOf(values), fields: fieldMapOf(values) });
  } catch (err) {
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * What a job that answers a question is given: the question flags as options, the question
 * declared for FILE (when the file exists) and the labels (--labels, unless the flags name them).
 * At least two labels are needed unless a question type is given or declared; `example` ends the
 * error saying so.
 */
function questionAndLabels(input: string, values: OptionValues, example = '') {
  const q = questionOptionsOf(values);
  const question = existsSync(input) ? checkedQuestion(input, values) : undefined;
  const labels = q.labels ?? list(values.labels);
  if (q.questionType === undefined && !question && labels.length < 2)
    throw new UsageError(`--labels needs at least two labels${example}`);
  return { q, question, labels };
}

/** `curate label` (and its earlier name, `curate annotate`); any question type (src/core/questions). */
function labelCommand(name: string, summary: string): Command {
  return {
    name,
    summary,
    usage: `curate ${name} FILE --labels a,b,c [--few-shot N] [--question label] [--models a,b] [--cascade small,large [--escalate-below 0.8]] [--confidence verbal|logprobs]\n${questionUsage}\n${commonUsage}`,
    details:
      'With --models every listed model labels every record (one job per model over the same file, one after the other,\n' +
      'sharing the cache): each model\'s answer is a suggestion of its own, side by side; "curate agreement" then compares\n' +
      'each model with people and the models with each other.\n' +
      'With --cascade small,large the first model labels every record, the next only the records whose confidence is\n' +
      'below --escalate-below (default 0.8), and what the last leaves below it goes to the review queue "low-confidence";\n' +
      'the summary gives the records, counts, tokens and cost per stage. Online, or with --batch each stage as a batch.\n' +
      "--confidence logprobs: the confidence is the probability of the label's tokens, normalised over the label set\n" +
      "(the endpoint must give logprobs; where it does not, the model's stated confidence stays and provenance says so).",
    options: {
      ...common,
      labels: { type: 'string', short: 'l' },
      'few-shot': { type: 'string' },
      models: { type: 'string' },
      cascade: { type: 'string' },
      'escalate-below': { type: 'string' },
      confidence: { type: 'string' },
      ...questionFlags,
    },
    async run({ values, positionals }, io) {
      const input = positionals[0];
      if (!input) throw new UsageError('missing FILE');
      // Question types: the flags become the operation's question options.
      const { q, question, labels } = questionAndLabels(input, values, ', e.g. --labels positive,negative,neutral');
      const fewShot = num(values['few-shot'], 'few-shot') ?? 0;
      const other = question && question.type !== 'label' ? question : undefined;
      const extra: Record<string, unknown> = { ...q, labels };
      if (values.confidence !== undefined) {
        if (values.confidence !== 'verbal' && values.confidence !== 'logprobs')
          throw new UsageError(`--confidence must be verbal or logprobs, got ${JSON.stringify(values.confidence)}`);
        extra.confidence = values.confidence;
      }
      const run: LlmRun = { values, input, fewShot, extra, ...(other ? { question: other } : {}) };
      // Several models (--models a,b): one suggestion per model; "curate agreement" says how they agree.
      if (values.models !== undefined) {
        const models = list(values.models);
        if (models.length === 0)
          throw new UsageError('--models needs model names, e.g. --models gpt-4.1-mini,llama3.1');
        const model = typeof values.model === 'string' ? values.model : undefined;
        const all = [...new Set([...(model ? [model] : []), ...models])];
        extra.models = all;
        run.defaultModel = all[0];
      }
      // A cost cascade: the cheap model first, the strong one where it is unsure, then people.
      if (values.cascade !== undefined) {
        const stages = list(values.cascade);
        if (stages.length < 2)
          throw new UsageError(
            '--cascade needs two models or more, cheapest first, e.g. --cascade gpt-4.1-nano,gpt-4.1',
          );
        if (values.models !== undefined) throw new UsageError('choose --cascade or --models, not both');
        extra.cascade = stages;
        extra.escalateBelow = num(values['escalate-below'], 'escalate-below') ?? 0.8;
        run.defaultModel = stages[0];
      } else if (values['escalate-below'] !== undefined) throw new UsageError('--escalate-below goes with --cascade');
      return runLlm('label', name, io, run);
    },
  };
}

export const label = labelCommand(
  'label',
  'Label records with an LLM (zero- or few-shot), with confidence and rationale; or answer any question type',
);
export const annotate = labelCommand('annotate', 'The same as label (its earlier name)');

export const judge: Command = {
  name: 'judge',
  summary: 'Score records with one or several LLM judges against a rubric, per criterion, with reasons',
  usage: `curate judge FILE --rubric TEXT|FILE [--scale 1-10] [--criteria a,b,c] [--judge-models a,b,c]\n${commonUsage}`,
  details:
    'With --judge-models every listed model judges every record (one job per model over the same file, one after\n' +
    'the other, sharing the cache): each verdict goes to judges[], and judge holds their mean with n and spread, so\n' +
    "\"curate filter --where 'judge.score >= 7'\" filters on the mean and 'judge.spread >= 3' finds disagreement.\n" +
    '--model, when given as well, is one of the judges.',
  options: {
    ...common,
    rubric: { type: 'string', short: 'r' },
    scale: { type: 'string' },
    criteria: { type: 'string' },
    'judge-models': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    const extra: Record<string, unknown> = {};
    if (typeof values.rubric === 'string') extra.rubric = textOrFile(values.rubric, 'rubric');
    if (typeof values.scale === 'string') {
      const m = /^(-?\d+)-(-?\d+)$/.exec(values.scale);
      if (!m) throw new UsageError(`--scale takes MIN-MAX, e.g. 1-10; got ${JSON.stringify(values.scale)}`);
      extra.scaleMin = Number(m[1]);
      extra.scaleMax = Number(m[2]);
    }
    if (values.criteria) extra.criteria = list(values.criteria);
    if (values['judge-models'] !== undefined) {
      const judges = list(values['judge-models']);
      if (judges.length === 0)
        throw new UsageError('--judge-models needs model names, e.g. --judge-models gpt-4.1,llama3.1');
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
  usage: `curate consistency FILE --labels a,b --samples K\n${questionUsage}\n${commonUsage}`,
  options: {
    ...common,
    labels: { type: 'string', short: 'l' },
    samples: { type: 'string', short: 'k' },
    ...questionFlags,
  },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    // Question types: k samples of the question's own task.
    const { q, labels } = questionAndLabels(input, values);
    return runLlm('consistency', 'consistency', io, {
      values,
      input,
      extra: { ...q, labels, ...(values.samples ? { k: num(values.samples, 'samples') } : {}) },
    });
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
