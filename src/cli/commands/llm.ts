// curate annotate | judge | consistency | critique | rationale: the LLM jobs from the command line.
// The API key comes from OPENAI_API_KEY (never a flag: flags end up in shell history and CI logs).
import { createInterface } from 'node:readline/promises';
import { existsSync, readFileSync } from 'node:fs';
import { ZodError, type ZodType } from 'zod';
import { humanLabeledExamples, llmOperations, targetPath, type CommonOptions } from '../../core/llm/tasks';
import { judgesSummaryOfFile } from '../../core/metrics/judges';
import type { FewShotExample } from '../../core/llm/templates';
import { JsonlDataset } from '../../core/store';
import { JobCancelledError, type JobSummary } from '../../core/jobs/runner';
import { UserError, type Operation } from '../../core/operation';
import { ExitCode, UsageError, type Command, type Io, type OptionValues } from '../cli';
import { fieldFlags, fieldMapOf } from './util';

const common = {
  'base-url': { type: 'string' },
  model: { type: 'string', short: 'm' },
  concurrency: { type: 'string', short: 'c' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  timeout: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'price-in': { type: 'string' },
  'price-out': { type: 'string' },
  'max-cost': { type: 'string' },
  out: { type: 'string', short: 'o' },
  'in-place': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  prompts: { type: 'string' },
  ...fieldFlags,
  limit: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
} as const;

const commonUsage =
  '  --base-url URL (or OPENAI_BASE_URL)  --model M (or CURATE_MODEL)  --concurrency N  --temperature T  --max-tokens N\n' +
  '  --timeout S  --rpm N  --tpm N  --price-in USD/M  --price-out USD/M  --max-cost USD (ask above it; default 1)\n' +
  '  --out FILE | --in-place   --cache-dir DIR | --no-cache   --prompts DIR (default: the nearest .curator/prompts)\n' +
  '  --label-field, --rationale-field, --judge-field, --judges-field, --annotations-field NAME   --limit N   --yes   --json\n' +
  '  The API key is read from OPENAI_API_KEY. A killed or interrupted job resumes when run again.';

function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function commonOptions(values: OptionValues, input: string, defaultModel?: string): Record<string, unknown> {
  const baseURL = (values['base-url'] as string | undefined) ?? process.env.OPENAI_BASE_URL;
  const model = (values.model as string | undefined) ?? process.env.CURATE_MODEL ?? defaultModel;
  if (!baseURL) throw new UsageError('missing --base-url (or OPENAI_BASE_URL), e.g. http://127.0.0.1:11434/v1');
  if (!model) throw new UsageError('missing --model (or CURATE_MODEL)');
  if (values.out && values['in-place']) throw new UsageError('choose --out FILE or --in-place, not both');
  if (!values.out && !values['in-place']) throw new UsageError('say where results go: --out FILE (a copy of FILE with the results) or --in-place');
  const o: Record<string, unknown> = { input, baseURL, model };
  const put = (k: string, v: unknown) => v !== undefined && (o[k] = v);
  put('concurrency', num(values.concurrency, 'concurrency'));
  put('temperature', num(values.temperature, 'temperature'));
  put('maxTokens', num(values['max-tokens'], 'max-tokens'));
  put('timeoutSeconds', num(values.timeout, 'timeout'));
  put('requestsPerMinute', num(values.rpm, 'rpm'));
  put('tokensPerMinute', num(values.tpm, 'tpm'));
  put('pricePerMillionInputTokens', num(values['price-in'], 'price-in'));
  put('pricePerMillionOutputTokens', num(values['price-out'], 'price-out'));
  put('limit', num(values.limit, 'limit'));
  put('cacheDir', values['cache-dir']);
  put('noCache', values['no-cache'] ? true : undefined);
  put('promptsDir', values.prompts);
  put('fields', fieldMapOf(values));
  put('output', values.out);
  put('inPlace', values['in-place'] ? true : undefined);
  return o;
}

type OpId = 'annotate' | 'judge' | 'consistency' | 'critique' | 'rationale';

async function runLlm(id: OpId, values: OptionValues, extra: Record<string, unknown>, input: string, io: Io, defaultModel?: string): Promise<number> {
  if (!existsSync(input)) throw new UsageError(`no such file: ${input}`);
  // The records are read and the results written through the dataset store (the core's default).
  const ops = llmOperations({ apiKey: () => process.env.OPENAI_API_KEY });
  // One face over five operations that share CommonOptions.
  const op = ops[id] as unknown as Operation<ZodType<CommonOptions>, JobSummary>;
  let options: CommonOptions;
  try {
    options = op.options.parse({ ...commonOptions(values, input, defaultModel), ...extra });
  } catch (err) {
    if (err instanceof ZodError) throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
    throw err;
  }
  try {
    const est = await op.estimate!(options, { signal: io.signal });
    const cost = est.cost ?? 0;
    io.err(`${id}: ${est.records} record(s), about ${est.requests} request(s), ${est.inputTokens} input and ${est.outputTokens} output tokens${cost ? `, about $${cost.toFixed(4)}` : ''}\n`);
    const maxCost = num(values['max-cost'], 'max-cost') ?? 1;
    if (cost > maxCost && !values.yes) {
      if (!io.isTTY || !process.stdin.isTTY) {
        io.err(`curate: the estimated cost $${cost.toFixed(2)} is above --max-cost $${maxCost}; pass --yes to run it\n`);
        return ExitCode.usage;
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Run it for about $${cost.toFixed(2)}? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) return ExitCode.ok;
    }
    let last = 0;
    const summary: JobSummary = await op.run(options, {
      signal: io.signal,
      log: (l) => io.err(`${l}\n`),
      progress: (p) => {
        if (!io.isTTY || Date.now() - last < 200) return;
        last = Date.now();
        io.err(`\r${p.message ?? `${p.done}/${p.total ?? '?'}`}   `);
      },
    });
    if (io.isTTY) io.err('\n');
    // Several judges: how they agree, over the file they wrote.
    const agreement = summary.parts ? await judgesSummaryOfFile(targetPath(options, 'judge'), undefined, io.signal) : undefined;
    if (values.json) io.out(`${JSON.stringify(agreement ? { ...summary, agreement } : summary, null, 2)}\n`);
    else {
      io.out(
        `${id}: ${summary.ok} ok, ${summary.failed.length} failed, ${summary.skipped.length} skipped (invalid lines), ` +
          `${summary.cached} from cache, ${summary.resumed} resumed; ${summary.requests} request(s), ` +
          `${summary.tokens.input_tokens} + ${summary.tokens.output_tokens} tokens${summary.cost ? `, $${summary.cost.toFixed(4)}` : ''}\n`,
      );
      for (const p of summary.parts ?? []) io.out(`  ${p.model}: ${p.ok} ok, ${p.failed.length} failed, ${p.cached} from cache, ${p.requests} request(s)\n`);
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
    if (io.isTTY) io.err('\n');
    if (err instanceof JobCancelledError) {
      // Finished records are journaled and saved; the same command resumes.
      io.err(`curate ${id}: interrupted: ${err.summary.ok + err.summary.failed.length + err.summary.skipped.length} of ${err.summary.total} records done and kept; run the same command again to resume\n`);
      if (values.json) io.out(`${JSON.stringify(err.summary, null, 2)}\n`);
      return ExitCode.interrupted;
    }
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  }
}

function list(v: unknown): string[] {
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
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
    const examples = fewShot > 0 ? await humanExamples(input, fewShot, values) : [];
    return runLlm('annotate', values, { labels, examples, ...(values.question ? { question: values.question } : {}) }, input, io);
  },
};

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
      return runLlm('judge', values, extra, input, io, judges[0]);
    }
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
