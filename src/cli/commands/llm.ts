// curate annotate | judge | consistency | critique | rationale: the LLM jobs from the command line.
// The API key comes from OPENAI_API_KEY (never a flag: flags end up in shell history and CI logs).
import { existsSync } from 'node:fs';
import type { ZodType } from 'zod';
import { humanLabeledExamples, llmOperations, targetPath, type CommonOptions } from '../../core/llm/tasks';
import { judgesSummaryOfFile } from '../../core/metrics/judges';
import { modelsAgreementOfFile } from '../../core/metrics/agreement';
import type { FewShotExample } from '../../core/llm/templates';
import { JsonlDataset } from '../../core/store';
import { JobCancelledError, type JobSummary } from '../../core/jobs/runner';
import { UserError, type Operation } from '../../core/operation';
import { ExitCode, UsageError, textOrFile, type Command, type Io, type OptionValues } from '../cli';
import { confirmEstimate, endpointOptions, interrupted, list, llmFlags, llmUsage, num, parseOptions, progressPrinter } from './llm-common';
import { fieldFlags, fieldMapOf } from './util';
import { resolveQuestion } from '../../core/questions/resolve';
import type { Question } from '../../core/questions/schema';
import { humanAnswerExamples } from '../../core/questions/task';
import { questionFlags, questionOptionsOf, questionUsage } from './question-flags';

const common = { ...llmFlags, 'in-place': { type: 'boolean' }, replace: { type: 'boolean' }, ...fieldFlags } as const;

const commonUsage =
  llmUsage.replace('  --cache-dir', '  --out FILE | --in-place   --cache-dir') +
  '\n  --label-field, --rationale-field, --judge-field, --judges-field, --annotations-field NAME (where the results go)' +
  '\n  --replace   replace a label or rationale the record already has (the old value is kept in annotations.history);\n' +
  '              without it an existing one stays and the model\'s answer is a suggestion beside it';

async function commonOptions(values: OptionValues, input: string, defaultModel: string | undefined, signal: AbortSignal): Promise<Record<string, unknown>> {
  if (values.out && values['in-place']) throw new UsageError('choose --out FILE or --in-place, not both');
  if (!values.out && !values['in-place']) throw new UsageError('say where results go: --out FILE (a copy of FILE with the results) or --in-place');
  const o = await endpointOptions(values, input, defaultModel, signal);
  const fields = fieldMapOf(values);
  if (fields !== undefined) o.fields = fields;
  if (values['in-place']) o.inPlace = true;
  if (values.replace) o.replaceExisting = true;
  return o;
}

type OpId = 'annotate' | 'judge' | 'consistency' | 'critique' | 'rationale';

async function runLlm(id: OpId, values: OptionValues, extra: Record<string, unknown>, input: string, io: Io, defaultModel?: string): Promise<number> {
  if (!existsSync(input)) throw new UsageError(`no such file: ${input}`);
  // The records are read and the results written through the dataset store (the core's default).
  const ops = llmOperations({ apiKey: () => process.env.OPENAI_API_KEY });
  // One face over five operations that share CommonOptions.
  const op = ops[id] as unknown as Operation<ZodType<CommonOptions>, JobSummary>;
  const options: CommonOptions = parseOptions(op.options, { ...(await commonOptions(values, input, defaultModel, io.signal)), ...extra });
  const printer = progressPrinter(io);
  try {
    const go = await confirmEstimate(id, await op.estimate!(options, { signal: io.signal }), values, io);
    if (go !== true) return go;
    const summary: JobSummary = await op.run(options, { signal: io.signal, log: (l) => io.err(`${l}\n`), progress: printer.progress });
    printer.done();
    // Several judges: how they agree, over the file they wrote.
    const agreement = summary.parts && id === 'judge' ? await judgesSummaryOfFile(targetPath(options, 'judge'), undefined, io.signal) : undefined;
    if (values.json) io.out(`${JSON.stringify(agreement ? { ...summary, agreement } : summary, null, 2)}\n`);
    else {
      io.out(
        `${id}: ${summary.ok} ok, ${summary.failed.length} failed, ${summary.skipped.length} skipped (invalid lines), ` +
          `${summary.cached} from cache, ${summary.resumed} resumed; ${summary.requests} request(s), ` +
          `${summary.tokens.input_tokens} + ${summary.tokens.output_tokens} tokens${summary.cost ? `, $${summary.cost.toFixed(4)}` : ''}\n`,
      );
      for (const p of summary.parts ?? []) io.out(`  ${p.model}: ${p.ok} ok, ${p.failed.length} failed, ${p.cached} from cache, ${p.requests} request(s)\n`);
      if (summary.parts && id === 'annotate') {
        // Several models: how each agrees with people, and with the others, over the file written.
        const ma = await modelsAgreementOfFile(targetPath(options, 'label'), (options as { question?: string }).question ?? 'label', io.signal);
        const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
        for (const p of ma.modelPairs ?? []) io.out(`  ${p.a} / ${p.b}: agree on ${Math.round((p.metrics.accuracy ?? 0) * p.metrics.n)} of ${p.metrics.n} record(s), kappa ${f(p.metrics.kappa)}\n`);
        for (const m of ma.models ?? []) if (m.vsReference.metrics.n > 0) io.out(`  ${m.model} / people: ${m.vsReference.metrics.n} record(s), accuracy ${f(m.vsReference.metrics.accuracy)}, kappa ${f(m.vsReference.metrics.kappa)}\n`);
      }
      if (agreement) {
        const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
        io.out(`  agreement: the judges disagree on ${agreement.disagree} of ${agreement.records} record(s) (spread >= ${Math.round(agreement.threshold * 100)}% of the scale); Krippendorff's alpha ${f(agreement.alpha)}\n`);
        for (const p of agreement.pairs) io.out(`    ${p.a} / ${p.b}: ${p.n} records, Pearson ${f(p.pearson)}, Spearman ${f(p.spearman)}, mean abs. difference ${f(p.meanAbsoluteDifference)}\n`);
      }
      for (const f of summary.failed.slice(0, 20)) io.out(`  line ${f.line}${summary.parts ? ` (${f.model})` : ''}: ${f.reason}\n`);
      if (summary.failed.length > 20) io.out(`  ... and ${summary.failed.length - 20} more\n`);
    }
    return summary.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
  } catch (err) {
    printer.done();
    if (err instanceof JobCancelledError) {
      // Finished records are journaled and saved; the same command resumes.
      if (values.json) io.out(`${JSON.stringify(err.summary, null, 2)}\n`);
      const s = err.summary;
      return interrupted(io, `${s.ok + s.failed.length + s.skipped.length} of ${s.total} records are done and kept`);
    }
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  }
}

export const annotate: Command = {
  name: 'annotate',
  summary: 'Label records with an LLM (zero- or few-shot), with confidence and rationale; or answer any question type',
  usage: `curate annotate FILE --labels a,b,c [--few-shot N] [--question label] [--models a,b]\n${questionUsage}\n${commonUsage}`,
  details:
    'With --models every listed model labels every record (one job per model over the same file, one after the other,\n' +
    "sharing the cache): each model's answer is a suggestion of its own, side by side; \"curate agreement\" then compares\n" +
    'each model with people and the models with each other.',
  options: { ...common, labels: { type: 'string', short: 'l' }, 'few-shot': { type: 'string' }, models: { type: 'string' }, ...questionFlags },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    // Question types (src/core/questions): the flags become the operation's question options.
    const q = questionOptionsOf(values);
    const question = existsSync(input) ? checkedQuestion(input, values) : undefined;
    const labels = q.labels ?? list(values.labels);
    if (q.questionType === undefined && !question && labels.length < 2) throw new UsageError('--labels needs at least two labels, e.g. --labels positive,negative,neutral');
    const fewShot = num(values['few-shot'], 'few-shot') ?? 0;
    const other = question && question.type !== 'label' ? question : undefined;
    const examples = fewShot > 0 && !other ? await humanExamples(input, fewShot, values) : [];
    const answerExamples = fewShot > 0 && other ? await humanAnswers(input, other, fewShot, values) : [];
    const extra = { ...q, labels, examples, answerExamples };
    // Several models (--models a,b): one suggestion per model; see "curate agreement" for how they agree.
    if (values.models !== undefined) {
      const models = list(values.models);
      if (models.length === 0) throw new UsageError('--models needs model names, e.g. --models gpt-4.1-mini,llama3.1');
      const model = typeof values.model === 'string' ? values.model : undefined;
      const all = [...new Set([...(model ? [model] : []), ...models])];
      return runLlm('annotate', values, { ...extra, models: all }, input, io, all[0]);
    }
    return runLlm('annotate', values, extra, input, io);
  },
};

/** The question annotate works on, from the declarations and flags (undefined: the single label). */
function checkedQuestion(input: string, values: OptionValues) {
  try {
    return resolveQuestion({ input, ...questionOptionsOf(values), fields: fieldMapOf(values) });
  } catch (err) {
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  }
}

/** Few-shot demonstrations of a question of another type: records a person answered. */
async function humanAnswers(file: string, q: Question, n: number, values: OptionValues): Promise<{ record: Record<string, unknown>; value: unknown }[]> {
  const ds = await JsonlDataset.open(file);
  try {
    await ds.ready;
    return humanAnswerExamples(ds, q, n, fieldMapOf(values));
  } finally {
    ds.close();
  }
}

/** Few-shot demonstrations: records a human already labeled. */
async function humanExamples(file: string, n: number, values: OptionValues): Promise<FewShotExample[]> {
  const ds = await JsonlDataset.open(file);
  try {
    await ds.ready;
    return humanLabeledExamples(ds, n, fieldMapOf(values));
  } finally {
    ds.close();
  }
}

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
      if (judges.length === 0) throw new UsageError('--judge-models needs model names, e.g. --judge-models gpt-4.1,llama3.1');
      const model = typeof values.model === 'string' ? values.model : undefined;
      extra.judgeModels = [...new Set([...(model ? [model] : []), ...judges])];
      return runLlm('judge', values, extra, input, io, judges[0]);
    }
    return runLlm('judge', values, extra, input, io);
  },
};

export const consistency: Command = {
  name: 'consistency',
  summary: 'Self-consistency: k sampled labels, majority vote, agreement as confidence',
  usage: `curate consistency FILE --labels a,b --samples K\n${questionUsage}\n${commonUsage}`,
  options: { ...common, labels: { type: 'string', short: 'l' }, samples: { type: 'string', short: 'k' }, ...questionFlags },
  async run({ values, positionals }, io) {
    const input = positionals[0];
    if (!input) throw new UsageError('missing FILE');
    // Question types (src/core/questions): k samples of the question's own task.
    const q = questionOptionsOf(values);
    const question = existsSync(input) ? checkedQuestion(input, values) : undefined;
    const labels = q.labels ?? list(values.labels);
    if (q.questionType === undefined && !question && labels.length < 2) throw new UsageError('--labels needs at least two labels');
    return runLlm('consistency', values, { ...q, labels, ...(values.samples ? { k: num(values.samples, 'samples') } : {}) }, input, io);
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
