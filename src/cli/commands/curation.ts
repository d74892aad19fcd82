// curate filter | agreement | export | import | split: faces over the core's filter, metrics and
// export operations, reading files through the store.
import { existsSync } from 'node:fs';
import { ZodError } from 'zod';
import { createFilterOperation, filterOperation, type FilterResult } from '../../core/filter/filter';
import { embedderFor } from '../../core/llm/embeddings';
import { createAgreementOperation } from '../../core/metrics/agreement';
import { createReviewQueueOperation } from '../../core/filter/thresholds';
import type { FieldEdit, LineSource } from '../../core/filter/fields';
import { snapshotLines } from '../../core/sources';
import { createExportOperation, createImportOperation, EXPORT_CHOICES } from '../../core/export/export';
import { FORMATS } from '../../core/export/formats';
import { detectFormat } from '../../core/formats';
import { describeReadiness } from '../../core/export/readiness';
import { createSplitOperation } from '../../core/export/split';
import { JsonlDataset } from '../../core/store';
import { UserError, type OperationContext } from '../../core/operation';
import { flagOf } from './run-operation';
import { ExitCode, UsageError, requireFile, type Command, type Io } from '../cli';
import {
  questionFilterFlags,
  questionFilterOptionsOf,
  questionFilterUsage,
  questionFlags,
  questionReviewFlags,
  questionReviewOptionsOf,
  questionUsage,
} from './question-flags';
import { printPeople, runQuestionAgreement, typedQuestion } from './question-reports';

function ctxOf(io: Io): OperationContext {
  let last = 0;
  return {
    signal: io.signal,
    // The operations' log lines are their summaries (for VS Code's output channel); each command
    // prints its own summary on stdout, once.
    log: () => undefined,
    progress: (p) => {
      if (!io.isTTY || Date.now() - last < 200) return;
      last = Date.now();
      io.err(
        `\r${p.done}${p.total ? ` of ${p.total}` : ''} ${p.unit ?? 'records'}${p.message ? ` · ${p.message}` : ''}   `,
      );
    },
  };
}

/**
 * Opens a file through the store once for a command: the operation reads its lines from it, and
 * the edits it asks for (tags, deletes) go to it, saved once, atomically.
 */
async function withDataset<T>(
  file: string,
  signal: AbortSignal,
  run: (ds: JsonlDataset, lines: (file: string, signal?: AbortSignal) => LineSource) => Promise<T>,
): Promise<T> {
  const ds = await JsonlDataset.open(file, { signal });
  try {
    await ds.ready;
    // The command edits the dataset only after reading it: its file is read in large chunks.
    return await run(ds, (_file, s) => () => snapshotLines(ds, s));
  } finally {
    ds.close();
  }
}

/** Applies field edits or deletes lines of an open dataset, and saves it once, atomically. */
async function editAndSave(
  ds: JsonlDataset,
  change: { edits?: readonly FieldEdit[]; deletes?: readonly number[] },
  signal: AbortSignal,
): Promise<void> {
  for (const e of change.edits ?? []) ds.setField(e.index, e.path, e.value);
  for (const i of [...(change.deletes ?? [])].sort((a, b) => b - a)) ds.deleteLine(i);
  await ds.save({ signal });
}

function input(positionals: string[]): string {
  const f = requireFile(positionals);
  if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
  return f;
}

function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Runs an operation's options through its zod schema; bad options are usage errors. */
function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ZodError)
      throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
    if (err instanceof UserError)
      throw new UsageError(cliWords(err.option ? `${err.message}: pass ${flagOf(err.option)}` : err.message));
    throw err;
  }
}

/** The core names options as the faces' schemas do ("pass overwrite"); on the command line they are flags. */
function cliWords(message: string): string {
  return message.replace(/\bpass overwrite\b/g, 'pass --overwrite');
}

export const filter: Command = {
  name: 'filter',
  summary: 'Keep the good records: rules, score and confidence thresholds, duplicates',
  usage:
    'curate filter FILE [--where RULE]... [--min-score N] [--max-score N] [--min-confidence X] [--keep first|highest-score]\n' +
    '                    [--dedup exact|near|semantic] [--dedup-field PATH] [--threshold X]\n' +
    '                    [--strip-punctuation] [--shingle words|chars] [--shingle-size K]            (exact, near)\n' +
    '                    [--embedding-model M] [--semantic-threshold C] [--base-url URL] [--embedding-batch N]\n' +
    '                    [--embedding-dims N] [--cache-dir DIR | --no-cache]                         (semantic)\n' +
    '                    (--dry-run | --out FILE [--overwrite] | --tag NAME | --delete) [--json]\n' +
    questionFilterUsage +
    '\n' +
    "  RULE: 'len(text) >= 20', 'label in [positive,negative]', 'judge.score >= 7', 'text ~ /refund/i', 'lang(text) == en', 'exists(rationale)', 'not invalid'\n" +
    '  --threshold: near, the estimated Jaccard (default 0.8); semantic, the cosine (default 0.95).\n' +
    "  Semantic duplicates call the endpoint's /embeddings (--base-url or OPENAI_BASE_URL; the key from OPENAI_API_KEY),\n" +
    '  with retries and a response cache (default: your per-user cache, e.g. ~/.cache/dataset-curator/llm; entries signed with your own secret).',
  options: {
    where: { type: 'string', multiple: true, short: 'w' },
    'min-score': { type: 'string' },
    'max-score': { type: 'string' },
    'min-confidence': { type: 'string' },
    dedup: { type: 'string' },
    threshold: { type: 'string' },
    keep: { type: 'string' },
    'dedup-field': { type: 'string' },
    'strip-punctuation': { type: 'boolean' },
    shingle: { type: 'string' },
    'shingle-size': { type: 'string' },
    'embedding-model': { type: 'string' },
    'semantic-threshold': { type: 'string' },
    'base-url': { type: 'string' },
    'embedding-batch': { type: 'string' },
    'embedding-dims': { type: 'string' },
    'cache-dir': { type: 'string' },
    'no-cache': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    out: { type: 'string', short: 'o' },
    overwrite: { type: 'boolean' },
    tag: { type: 'string' },
    delete: { type: 'boolean' },
    json: { type: 'boolean' },
    ...questionFilterFlags,
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    const actions = [
      values['dry-run'] ? 'dry-run' : '',
      values.out ? 'write' : '',
      values.tag ? 'tag' : '',
      values.delete ? 'delete' : '',
    ].filter(Boolean);
    if (actions.length > 1)
      throw new UsageError(`choose one of --dry-run, --out, --tag, --delete (got ${actions.join(', ')})`);
    const action = (actions[0] ?? 'dry-run') as 'dry-run' | 'write' | 'tag' | 'delete';
    // tag and delete edit the file itself: JSONL only (other formats are read, and written with --out)
    const fmt = detectFormat(file);
    if ((action === 'tag' || action === 'delete') && fmt && fmt !== 'jsonl')
      throw new UsageError(
        `--${action} edits the file in place, and ${file} is not JSONL: use --out FILE.jsonl (or convert it first)`,
      );
    const dedup = values.dedup ?? 'none';
    const threshold = num(values['semantic-threshold'], 'semantic-threshold') ?? num(values.threshold, 'threshold');
    const shingleSize = num(values['shingle-size'], 'shingle-size');
    const batchSize = num(values['embedding-batch'], 'embedding-batch');
    const options = checked(() =>
      filterOperation.options.parse({
        file,
        action,
        rules: (values.where as string[] | undefined) ?? [],
        minScore: num(values['min-score'], 'min-score'),
        maxScore: num(values['max-score'], 'max-score'),
        minConfidence: num(values['min-confidence'], 'min-confidence'),
        dedup,
        ...(values.keep ? { keep: values.keep } : {}),
        ...(values['dedup-field'] ? { dedupField: values['dedup-field'] } : {}),
        ...(values['strip-punctuation'] ? { exact: { stripPunctuation: true } } : {}),
        ...(dedup === 'near'
          ? {
              near: {
                ...(threshold !== undefined ? { threshold } : {}),
                ...(values.shingle ? { shingle: values.shingle } : {}),
                ...(shingleSize !== undefined ? { shingleSize } : {}),
              },
            }
          : {}),
        ...(dedup === 'semantic'
          ? {
              semantic: {
                ...(threshold !== undefined ? { threshold } : {}),
                ...(batchSize !== undefined ? { batchSize } : {}),
              },
            }
          : {}),
        ...(values.out ? { out: values.out, overwrite: !!values.overwrite } : {}),
        ...(typeof values.tag === 'string' ? { tag: values.tag } : {}),
        ...questionFilterOptionsOf(values),
      }),
    );
    let embedder: ReturnType<typeof embedderFor> | undefined;
    if (dedup === 'semantic') {
      const baseURL = (values['base-url'] as string | undefined) ?? process.env.OPENAI_BASE_URL;
      const model = values['embedding-model'] as string | undefined;
      if (!baseURL)
        throw new UsageError('--dedup semantic needs --base-url (or OPENAI_BASE_URL), e.g. http://127.0.0.1:11434/v1');
      if (!model)
        throw new UsageError(
          '--dedup semantic needs --embedding-model, e.g. text-embedding-3-small or nomic-embed-text',
        );
      embedder = embedderFor({
        baseURL,
        apiKey: process.env.OPENAI_API_KEY,
        model,
        dataset: file,
        cacheDir: values['cache-dir'] as string | undefined,
        noCache: !!values['no-cache'],
        batchSize,
        dimensions: num(values['embedding-dims'], 'embedding-dims'),
        log: (l) => io.err(`${l}\n`),
      });
    } else if (values['embedding-model'] || values['semantic-threshold'])
      throw new UsageError('--embedding-model and --semantic-threshold go with --dedup semantic');
    // The file is opened and indexed once: the filter reads it; tag and delete are edits of it, one atomic save.
    const filterWith = async (open?: (file: string, signal?: AbortSignal) => LineSource): Promise<FilterResult> => {
      try {
        return await checkedAsync(() =>
          createFilterOperation({ embed: embedder?.embed, ...(open ? { open } : {}) }).run(options, ctxOf(io)),
        );
      } finally {
        embedder?.close();
      }
    };
    // Other formats (.jsonl.gz, Parquet, CSV, ...) are read by the operation's own reader (only --out writes).
    const result: FilterResult =
      fmt && fmt !== 'jsonl'
        ? await filterWith()
        : await withDataset(file, io.signal, async (ds, lines) => {
            const r = await filterWith(lines);
            if (action === 'tag') await editAndSave(ds, { edits: r.edits ?? [] }, io.signal);
            if (action === 'delete') await editAndSave(ds, { deletes: r.deleteIndices ?? [] }, io.signal);
            return r;
          });
    if (embedder)
      io.err(
        `embeddings: ${embedder.counts.requests} request(s) for ${embedder.counts.sent} text(s), ${embedder.counts.cached} from the cache\n`,
      );
    if (values.json) {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
      return ExitCode.ok;
    }
    io.out(
      `${file}: ${result.total} line(s), keep ${result.kept}, drop ${result.dropped} (${result.invalid} invalid)\n`,
    );
    for (const r of result.rules) io.out(`  ${String(r.dropped).padStart(8)}  dropped by  ${r.rule}\n`);
    if (result.dedup) io.out(`  ${result.dedup.clusters.length} duplicate cluster(s) (${result.dedup.method})\n`);
    if (action === 'write') io.out(`wrote ${result.written ?? 0} line(s) to ${result.out}\n`);
    if (action === 'tag') io.out(`tagged ${result.edits?.length ?? 0} record(s) "${options.tag}" in ${file}\n`);
    if (action === 'delete') io.out(`deleted ${result.deleteIndices?.length ?? 0} line(s) from ${file}\n`);
    if (action === 'dry-run') io.out('(dry run: nothing written)\n');
    return ExitCode.ok;
  },
};

async function checkedAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ZodError || err instanceof UserError)
      return checked(() => {
        throw err;
      });
    throw err;
  }
}

const agreementOp = createAgreementOperation();

export const agreement: Command = {
  name: 'agreement',
  summary: "Agreement of the model's suggestions with human decisions or a gold file; between judges; between people",
  usage: `curate agreement FILE [--gold FILE] [--join-on id] [--gold-field label] [--question label] [--json]\n${questionUsage}\n  [--gold-name NAME] (a question's: the gold file's people, e.g. a second annotator's copy)`,
  options: {
    gold: { type: 'string' },
    'join-on': { type: 'string' },
    'gold-field': { type: 'string' },
    json: { type: 'boolean' },
    ...questionFlags,
    labels: { type: 'string' },
    'gold-name': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    // A question of another type than the single label (src/core/questions): its own agreement.
    const typed = typedQuestion(file, values);
    if (typed) return checkedAsync(() => runQuestionAgreement(file, typed, values, io, ctxOf(io)));
    if (typeof values.gold === 'string' && !existsSync(values.gold))
      throw new UsageError(`no such gold file: ${values.gold}`);
    const options = checked(() =>
      agreementOp.options.parse({
        file,
        ...(values.gold ? { gold: values.gold } : {}),
        ...(values['join-on'] ? { joinOn: values['join-on'] } : {}),
        ...(values['gold-field'] ? { goldField: values['gold-field'] } : {}),
        ...(values.question ? { question: values.question } : {}),
        perModel: true,
        people: true,
      }),
    );
    const report = await checkedAsync(() => agreementOp.run(options, ctxOf(io)));
    if (values.json) {
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      return ExitCode.ok;
    }
    const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
    for (const c of report.comparisons) {
      const m = c.metrics;
      io.out(`${c.reference} vs ${c.prediction}: ${m.n} pair(s), ${c.missing} record(s) without both\n`);
      io.out(`  accuracy ${f(m.accuracy)}  kappa ${f(m.kappa)}  macro-F1 ${f(m.macroF1)}\n`);
      for (const l of m.perLabel)
        io.out(`  ${l.label.padEnd(16)} P ${f(l.precision)}  R ${f(l.recall)}  F1 ${f(l.f1)}  support ${l.support}\n`);
      if (m.labels.length) {
        io.out(`  confusion (rows: ${c.reference}, columns: ${c.prediction})\n`);
        io.out(`  ${''.padEnd(16)}${m.labels.map((l) => l.slice(0, 10).padStart(11)).join('')}\n`);
        m.labels.forEach((l, i) =>
          io.out(
            `  ${l.slice(0, 16).padEnd(16)}${(m.confusion[i] ?? []).map((v) => String(v).padStart(11)).join('')}\n`,
          ),
        );
      }
    }
    const models = report.models ?? [];
    if (models.length > 1) {
      io.out(
        `several models suggest labels (${models.map((m) => m.model).join(', ')}): "suggestion" above is the most confident of any; per model:\n`,
      );
    }
    if (
      models.length > 0 &&
      (models.length > 1 ||
        models[0]?.vsReference.metrics.n !== report.comparisons.find((c) => c.prediction === 'suggestion')?.metrics.n)
    ) {
      for (const m of models) {
        const x = m.vsReference.metrics;
        io.out(
          `  ${m.model} vs ${m.vsReference.reference}: ${x.n} pair(s) of ${m.suggested} suggestion(s); accuracy ${f(x.accuracy)}  kappa ${f(x.kappa)}  macro-F1 ${f(x.macroF1)}\n`,
        );
      }
    }
    for (const p of report.modelPairs ?? []) {
      io.out(
        `  ${p.a} vs ${p.b}: ${p.metrics.n} record(s) both labeled; agreement ${f(p.metrics.accuracy)}  kappa ${f(p.metrics.kappa)}\n`,
      );
    }
    const j = report.judges;
    if (j && j.records > 0) {
      io.out(
        `judges: ${j.raters.length} rater(s) over ${j.records} record(s) with 2 or more; Krippendorff's alpha (interval) ${f(j.alpha)}\n`,
      );
      for (const p of j.pairs)
        io.out(
          `  ${p.a} vs ${p.b}: n ${p.n}  Pearson ${f(p.pearson)}  Spearman ${f(p.spearman)}  mean |diff| ${f(p.meanAbsoluteDifference)}\n`,
        );
    } else if (j) io.out('judges: no record has 2 or more judges\n');
    printPeople(report.people, options.question, io);
    if (report.comparisons.length === 0) io.out('no records with both labels to compare\n');
    return ExitCode.ok;
  },
};

const reviewQueueOp = createReviewQueueOperation();

export const reviewQueueCmd: Command = {
  name: 'review-queue',
  summary: 'Send the records the model is unsure about to a human review queue (the uncertainty-guided split)',
  usage:
    'curate review-queue FILE [--min-confidence 0.8] [--max-judge-spread N] [--max-judge-stdev N] [--question label]\n' +
    '                          [--models-disagree [--max-rating-spread N]] (a question of any type: see below)\n' +
    '                          [--queue low-confidence] [--skip-missing] [--include-decided] [--mark] [--json]\n' +
    '  Lists the records for people (below the confidence, without a suggestion, or judges disagreeing); --mark writes\n' +
    '  annotations.review {status: pending, queue} into FILE (saved atomically). The curation editor steps through them (q).\n' +
    questionUsage,
  options: {
    'min-confidence': { type: 'string' },
    'max-judge-spread': { type: 'string' },
    'max-judge-stdev': { type: 'string' },
    queue: { type: 'string' },
    ...questionReviewFlags,
    'skip-missing': { type: 'boolean' },
    'include-decided': { type: 'boolean' },
    mark: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    const options = checked(() =>
      reviewQueueOp.options.parse({
        file,
        minConfidence: num(values['min-confidence'], 'min-confidence'),
        maxJudgeSpread: num(values['max-judge-spread'], 'max-judge-spread'),
        maxJudgeStdev: num(values['max-judge-stdev'], 'max-judge-stdev'),
        ...(values.question ? { question: values.question } : {}),
        ...(values.queue ? { queue: values.queue } : {}),
        ...(values['skip-missing'] ? { missing: 'skip' } : {}),
        ...(values['include-decided'] ? { skipDecided: false } : {}),
        mark: !!values.mark,
        ...questionReviewOptionsOf(values),
      }),
    );
    const r = await withDataset(file, io.signal, async (ds, lines) => {
      const q = await checkedAsync(() => createReviewQueueOperation(lines).run(options, ctxOf(io)));
      if (options.mark && q.edits.length) await editAndSave(ds, { edits: q.edits }, io.signal);
      return q;
    });
    const { edits: _edits, ...queue } = r;
    if (values.json) {
      io.out(`${JSON.stringify(queue, null, 2)}\n`);
      return ExitCode.ok;
    }
    io.out(
      `${file}: ${r.indices.length} record(s) for review in '${r.queue}', ${r.automatic} left to the model, ${r.skipped} skipped (decided or invalid)\n`,
    );
    for (const i of r.indices.slice(0, 50)) io.out(`  line ${i + 1}: ${(r.reasons[i] ?? []).join(', ')}\n`);
    if (r.indices.length > 50) io.out(`  ... and ${r.indices.length - 50} more\n`);
    if (options.mark) io.out(`marked ${r.indices.length} record(s) in ${file}\n`);
    return ExitCode.ok;
  },
};

const exportOp = createExportOperation();
const importOp = createImportOperation();

/** NAME=VALUE pairs of a repeated flag. */
function pairs(v: unknown, flag: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (v as string[] | undefined) ?? []) {
    const at = m.indexOf('=');
    const k = m.slice(0, at);
    const val = m.slice(at + 1);
    if (at <= 0 || !val) throw new UsageError(`--${flag} takes ${what}, got ${JSON.stringify(m)}`);
    out[k] = val;
  }
  return out;
}

/** The skip reasons of a report: the most common ones counted, then the first records with theirs. */
function printSkipped(
  io: Io,
  r: {
    skipped: { index: number; reason: string }[];
    skippedCount: number;
    reasons?: { reason: string; count: number }[];
  },
): void {
  for (const x of r.reasons?.slice(0, 5) ?? []) io.err(`  ${x.count} record(s): ${x.reason}\n`);
  for (const s of r.skipped.slice(0, 3)) io.err(`  line ${s.index + 1}: ${s.reason}\n`);
  if (r.skippedCount > 3) io.err(`  ... and ${r.skippedCount - 3} more (--json lists the first 1,000)\n`);
}

export const exportCmd: Command = {
  name: 'export',
  summary:
    'Export to SFT, DPO, prompt-completion, KTO, Alpaca, ShareGPT, Argilla, distilabel; JSONL, Parquet or the Hugging Face layout',
  usage:
    `curate export FILE --format ${EXPORT_CHOICES.join('|')} --out FILE\n` +
    '                    [--map FIELD=PATH]... [--include-annotations] [--style standard|conversational] [--overwrite]\n' +
    '                    [--hub] [--split train] [--skip-dataset-info] [--argilla-field NAME]... [--argilla-user NAME=UUID]...\n' +
    '                    [--model M] [--context-length N] [--price USD_PER_1M] [--epochs N] [--skip-readiness]',
  details:
    'FILE may be JSONL, .ndjson, .jsonl.gz, Parquet, JSON, CSV or TSV. An --out ending in .parquet writes\n' +
    'Parquet; --format parquet writes the records as they are; --hub writes the Hugging Face layout into\n' +
    'the folder --out (data/<split>-00000-of-00001.parquet and a README.md dataset card). LLaMA-Factory\n' +
    'formats (alpaca, alpaca-ranking, sharegpt, sharegpt-ranking) add their entry to dataset_info.json\n' +
    'beside the file. OpenAI formats (sft, openai-preference) report fine-tune readiness, and any format\n' +
    "with --model or --context-length: tokens per row against the model's context (default gpt-4.1-mini),\n" +
    'rows that would be cut, training tokens and cost.\n' +
    'Exits 1, writing nothing, when no record can be exported; the reasons are printed.',
  options: {
    format: { type: 'string', short: 'f' },
    out: { type: 'string', short: 'o' },
    map: { type: 'string', multiple: true },
    'include-annotations': { type: 'boolean' },
    'dpo-style': { type: 'string' },
    style: { type: 'string' },
    overwrite: { type: 'boolean' },
    hub: { type: 'boolean' },
    split: { type: 'string' },
    'skip-dataset-info': { type: 'boolean' },
    'argilla-field': { type: 'string', multiple: true },
    'argilla-user': { type: 'string', multiple: true },
    'row-group-size': { type: 'string' },
    model: { type: 'string' },
    'context-length': { type: 'string' },
    price: { type: 'string' },
    epochs: { type: 'string' },
    'skip-readiness': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    if (!values.format) throw new UsageError('missing --format');
    if (!values.out) throw new UsageError('missing --out FILE');
    const mapping = pairs(values.map, 'map', 'FIELD=PATH');
    const style = values.style ?? values['dpo-style'];
    const options = checked(() =>
      exportOp.options.parse({
        file,
        format: values.format,
        out: values.out,
        mapping,
        includeAnnotations: !!values['include-annotations'],
        ...(style ? { dpoStyle: style } : {}),
        overwrite: !!values.overwrite,
        hub: !!values.hub,
        ...(values.split ? { split: values.split } : {}),
        datasetInfo: !values['skip-dataset-info'],
        ...(values['argilla-field'] ? { argillaFields: values['argilla-field'] } : {}),
        argillaUsers: pairs(values['argilla-user'], 'argilla-user', 'NAME=UUID'),
        ...(values['row-group-size'] !== undefined
          ? { rowGroupSize: num(values['row-group-size'], 'row-group-size') }
          : {}),
        ...(values['skip-readiness']
          ? { readiness: false }
          : values.model || values['context-length']
            ? { readiness: true }
            : {}),
        ...(values.model ? { model: values.model } : {}),
        ...(values['context-length'] !== undefined
          ? { contextLength: num(values['context-length'], 'context-length') }
          : {}),
        ...(values.price !== undefined ? { pricePerMillion: num(values.price, 'price') } : {}),
        ...(values.epochs !== undefined ? { epochs: num(values.epochs, 'epochs') } : {}),
      }),
    );
    const r = await checkedAsync(() => exportOp.run(options, ctxOf(io)));
    if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
    else if (r.written) {
      io.out(
        `wrote ${r.written} ${r.format} row(s) to ${r.out}; skipped ${r.skippedCount}, invalid lines ${r.invalid}\n`,
      );
      for (const f of r.files ?? []) io.out(`wrote ${f}\n`);
      if (r.readiness) io.out(`${describeReadiness(r.readiness)}\n`);
      if (r.skippedCount) printSkipped(io, r);
    }
    if (r.written === 0) {
      io.err(
        `curate export: no ${r.format} row written (nothing was written to ${options.out}): ${r.skippedCount} record(s) skipped, ${r.invalid} invalid line(s)\n`,
      );
      printSkipped(io, r);
      return ExitCode.failure;
    }
    return ExitCode.ok;
  },
};

export const importCmd: Command = {
  name: 'import',
  summary:
    'Import SFT, DPO, prompt-completion, KTO, Alpaca, ShareGPT, Argilla or distilabel rows into the annotation layout',
  usage: `curate import FILE --format ${FORMATS.join('|')} --out FILE [--argilla-user NAME=UUID]... [--overwrite] [--json]`,
  details:
    'FILE may be JSONL, .ndjson, .jsonl.gz, Parquet (a Hugging Face export), JSON, CSV or TSV.\nExits 1, writing nothing, when no row can be imported; the reasons are printed.',
  options: {
    format: { type: 'string', short: 'f' },
    out: { type: 'string', short: 'o' },
    overwrite: { type: 'boolean' },
    json: { type: 'boolean' },
    'argilla-user': { type: 'string', multiple: true },
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    if (!values.format) throw new UsageError('missing --format');
    if (!values.out) throw new UsageError('missing --out FILE');
    const options = checked(() =>
      importOp.options.parse({
        file,
        format: values.format,
        out: values.out,
        overwrite: !!values.overwrite,
        argillaUsers: pairs(values['argilla-user'], 'argilla-user', 'NAME=UUID'),
      }),
    );
    const r = await checkedAsync(() => importOp.run(options, ctxOf(io)));
    if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
    else if (r.written) {
      io.out(`imported ${r.written} ${r.format} row(s) into ${r.out}; skipped ${r.skippedCount}\n`);
      printSkipped(io, r);
    }
    if (r.written === 0) {
      io.err(
        `curate import: no row imported (nothing was written to ${options.out}): ${r.skippedCount} row(s) are not ${r.format}\n`,
      );
      printSkipped(io, r);
      return ExitCode.failure;
    }
    return ExitCode.ok;
  },
};

const splitOp = createSplitOperation();

export const split: Command = {
  name: 'split',
  summary: 'Train/validation split with a seed, stratified by label, exact sizes',
  usage:
    'curate split FILE [--train 0.9] [--validation 0.1] [--test X] [--seed 42] [--stratify label|none] [--dedup-field PATH | --allow-duplicates] [--overwrite] [--json]',
  details:
    'Writes FILE.train.jsonl, FILE.validation.jsonl, ... beside FILE, each line a byte-exact copy.\n' +
    'Exact duplicates (the same text, compared as "curate filter --dedup exact" does; --dedup-field names the field) go to one\n' +
    'side together, so no record in validation has its copy in train; --allow-duplicates splits them like any record.',
  options: {
    'dedup-field': { type: 'string' },
    'allow-duplicates': { type: 'boolean' },
    train: { type: 'string' },
    validation: { type: 'string' },
    test: { type: 'string' },
    seed: { type: 'string' },
    stratify: { type: 'string' },
    overwrite: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const file = input(positionals);
    const fractions: Record<string, number> = {};
    for (const k of ['train', 'validation', 'test'] as const) {
      const v = num(values[k], k);
      if (v !== undefined) fractions[k] = v;
    }
    const options = checked(() =>
      splitOp.options.parse({
        file,
        ...(Object.keys(fractions).length ? { fractions } : {}),
        ...(values.seed !== undefined ? { seed: num(values.seed, 'seed') } : {}),
        ...(values.stratify ? { stratify: values.stratify === 'none' ? null : values.stratify } : {}),
        ...(values['dedup-field'] ? { dedupField: values['dedup-field'] } : {}),
        ...(values['allow-duplicates'] ? { groupDuplicates: false } : {}),
        overwrite: !!values.overwrite,
      }),
    );
    const r = await checkedAsync(() => splitOp.run(options, ctxOf(io)));
    if (values.json) {
      io.out(`${JSON.stringify(r, null, 2)}\n`);
      return ExitCode.ok;
    }
    const total = Object.values(r.sizes).reduce((a, b) => a + b, 0);
    const w = Math.max(...Object.keys(r.sizes).map((k) => k.length));
    io.out(
      `${file}: ${total} record(s) split with seed ${options.seed}${options.stratify ? `, stratified by ${options.stratify}` : ''}${r.invalid ? `; ${r.invalid} invalid line(s) left out` : ''}\n`,
    );
    for (const [name, n] of Object.entries(r.sizes))
      io.out(
        `  ${name.padEnd(w)}  ${String(n).padStart(8)}  ${total ? ((n / total) * 100).toFixed(1) : '0.0'}%  -> ${r.outputs[name]}\n`,
      );
    if (r.duplicateGroups)
      io.out(
        `  ${r.duplicateGroups} group(s) of exact duplicates (${r.duplicateRecords} records) kept on one side each\n`,
      );
    return ExitCode.ok;
  },
};
