// curate questions | pairs: a dataset's declared questions (what they are, how far along their
// answers are), to and from Argilla's settings; and preference pairs from a ranking or rating.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ANNOTATION_KEYS, iterateLines } from '../../core/filter/fields';
import { defaultFields } from '../../core/schema/annotation';
import { UserError } from '../../core/operation';
import { fromArgillaSettings, rankingSizesOf, toArgillaSettings } from '../../core/questions/argilla';
import {
  datasetKey,
  findQuestionsFile,
  questionsFor,
  QUESTIONS_FILE,
  readQuestionsFile,
  writeQuestionsFile,
} from '../../core/questions/declarations';
import { answersOf } from '../../core/questions/layout';
import { createQuestionPairsOperation } from '../../core/questions/pairs';
import { describeQuestion, type Question, type QuestionInput } from '../../core/questions/schema';
import { openStore } from '../../core/sources';
import { writeLinesAtomic } from '../../core/write-lines';
import { ExitCode, fileArg, UsageError, type Command, type Io, type OptionValues } from '../cli';
import { questionFlags, questionOptionsOf } from './question-flags';

function usageErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  });
}

interface QuestionCounts {
  name: string;
  type: Question['type'];
  description: string;
  /** Records a person answered (submitted), that have a model suggestion, whose answers do not fit. */
  human: number;
  suggested: number;
  invalid: number;
}

async function counts(
  file: string,
  questions: readonly Question[],
  signal: AbortSignal,
): Promise<{
  records: number;
  perQuestion: QuestionCounts[];
  records_: Record<string, unknown>[];
  undeclared: Map<string, number>;
  textFields: string[];
}> {
  const per = questions.map((q) => ({
    name: q.name,
    type: q.type,
    description: describeQuestion(q),
    human: 0,
    suggested: 0,
    invalid: 0,
  }));
  const sample: Record<string, unknown>[] = [];
  // the single label question and the rationale task's provenance are not questions to declare
  const declared = new Set([...questions.map((q) => q.name), defaultFields.question, defaultFields.rationale]);
  // the records' top-level text fields: what Argilla shows (its settings need at least one field)
  const textFields = new Set<string>();
  // Answers kept under names nothing declares (given with flags, or imported): worth declaring.
  const undeclared = new Map<string, number>();
  let records = 0;
  for await (const l of iterateLines(openStore(file, signal))) {
    if (!l.value) continue;
    records++;
    for (const [k, v] of Object.entries(l.value))
      if (typeof v === 'string' && !ANNOTATION_KEYS.has(k)) textFields.add(k);
    const ann = l.value.annotations;
    if (ann && typeof ann === 'object' && !Array.isArray(ann)) {
      const names = new Set<string>();
      for (const k of ['suggestions', 'human'] as const) {
        const o = (ann as Record<string, unknown>)[k];
        if (o && typeof o === 'object' && !Array.isArray(o))
          for (const n of Object.keys(o)) if (!declared.has(n)) names.add(n);
      }
      for (const n of names) undeclared.set(n, (undeclared.get(n) ?? 0) + 1);
    }
    if (questions.some((q) => q.type === 'ranking')) sample.push(l.value);
    questions.forEach((q, i) => {
      const a = answersOf(l.value as Record<string, unknown>, q);
      const c = per[i] as QuestionCounts;
      if (a.human?.status === 'submitted') c.human++;
      if (a.suggestions.some((s) => s.type === 'model')) c.suggested++;
      if (a.human?.problem || a.suggestions.some((s) => s.problem)) c.invalid++;
    });
  }
  return { records, perQuestion: per, records_: sample, undeclared, textFields: [...textFields] };
}

export const questionsCmd: Command = {
  name: 'questions',
  summary:
    "A dataset's questions (multi-label, rating, ranking, text, spans): what they are, how far along; to and from Argilla's settings",
  usage:
    'curate questions FILE [--json]\n' +
    '       curate questions FILE --to-argilla SETTINGS.json [--overwrite]     (Argilla 2.x settings for the questions)\n' +
    "       curate questions FILE --from-argilla SETTINGS.json                 (declare Argilla's questions for FILE)",
  details:
    "Questions are declared in .curator/questions.json, the nearest one in the dataset's folder or above\n" +
    "(docs/questions.md). --from-argilla writes them there, as the dataset's own (creating .curator/ in its folder).",
  options: {
    json: { type: 'boolean' },
    'to-argilla': { type: 'string' },
    'from-argilla': { type: 'string' },
    overwrite: { type: 'boolean' },
    'questions-file': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    return usageErrors(async () => {
      if (typeof values['from-argilla'] === 'string') return fromArgilla(file, values['from-argilla'], values, io);
      const decl = questionsFor(
        file,
        typeof values['questions-file'] === 'string' ? values['questions-file'] : findQuestionsFile(file),
      );
      if (typeof values['to-argilla'] === 'string') {
        if (decl.questions.length === 0)
          throw new UserError(`${file} has no declared questions (.curator/${QUESTIONS_FILE})`);
        const c = await counts(file, decl.questions, io.signal);
        const { settings, problems } = toArgillaSettings(decl.questions, {
          fields: c.textFields,
          rankingSizes: rankingSizesOf(c.records_, decl.questions),
        });
        await writeLinesAtomic(
          values['to-argilla'],
          [JSON.stringify(settings, null, 2)],
          io.signal,
          !!values.overwrite,
        );
        io.out(`wrote Argilla settings with ${settings.questions.length} question(s) to ${values['to-argilla']}\n`);
        for (const p of problems) io.out(`  left out: ${p}\n`);
        return ExitCode.ok;
      }
      const c = await counts(file, decl.questions, io.signal);
      const undeclared = Object.fromEntries(c.undeclared);
      if (values.json) {
        io.out(
          `${JSON.stringify({ file: decl.file ?? null, records: c.records, questions: decl.questions, counts: c.perQuestion, undeclared }, null, 2)}\n`,
        );
        return ExitCode.ok;
      }
      if (decl.questions.length === 0)
        io.out(
          `${file}: ${c.records} record(s); no declared questions (.curator/${QUESTIONS_FILE}, docs/questions.md): the single label question only\n`,
        );
      else io.out(`${file}: ${c.records} record(s); questions from ${decl.file}\n`);
      for (const q of c.perQuestion)
        io.out(
          `  ${q.description}\n    answered by a person ${q.human}, suggested by a model ${q.suggested}${q.invalid ? `, ${q.invalid} with answers that do not fit` : ''}\n`,
        );
      if (c.undeclared.size)
        io.out(
          `  answers under undeclared names (records): ${[...c.undeclared].map(([n, k]) => `${n} (${k})`).join(', ')}\n`,
        );
      return ExitCode.ok;
    });
  },
};

async function fromArgilla(file: string, settingsFile: string, values: OptionValues, io: Io): Promise<number> {
  if (!existsSync(settingsFile)) throw new UsageError(`no such file: ${settingsFile}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(settingsFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`${settingsFile} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { questions, problems } = fromArgillaSettings(raw);
  const target =
    typeof values['questions-file'] === 'string'
      ? values['questions-file']
      : (findQuestionsFile(file) ?? join(dirname(file), '.curator', QUESTIONS_FILE));
  const existing = existsSync(target) ? readQuestionsFile(target) : { questions: [], datasets: {} };
  const key = datasetKey(target, file);
  const own = (existing.datasets[key] ?? []).filter((q) => !questions.some((n) => n.name === q.name));
  mkdirSync(dirname(target), { recursive: true });
  await writeQuestionsFile(target, {
    questions: existing.questions,
    datasets: { ...existing.datasets, [key]: [...own, ...questions] as QuestionInput[] },
  });
  io.out(`declared ${questions.length} question(s) for ${key} in ${target}\n`);
  for (const q of questions) io.out(`  ${describeQuestion(q)}\n`);
  for (const p of problems) io.out(`  left out: ${p}\n`);
  return ExitCode.ok;
}

export const pairsCmd: Command = {
  name: 'pairs',
  summary: 'Preference pairs (prompt, chosen, rejected) from a ranking or from ratings of responses to the same prompt',
  usage:
    'curate pairs FILE --question NAME --out FILE [--pairs best-worst|all] [--prompt-field F] [--response-field F] [--overwrite] [--json]\n' +
    "  NAME: a ranking (best against worst of each record's candidates) or a rating (per prompt, the highest rated\n" +
    "  response against the lowest). The person's answer counts, else the top model suggestion.",
  options: {
    ...questionFlags,
    out: { type: 'string', short: 'o' },
    pairs: { type: 'string' },
    'prompt-field': { type: 'string' },
    'response-field': { type: 'string' },
    overwrite: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    if (typeof values.question !== 'string')
      throw new UsageError('missing --question NAME (a ranking or rating question)');
    if (typeof values.out !== 'string') throw new UsageError('missing --out FILE');
    const op = createQuestionPairsOperation();
    return usageErrors(async () => {
      const parsed = op.options.safeParse({
        ...questionOptionsOf(values),
        file,
        out: values.out,
        overwrite: !!values.overwrite,
        ...(values.pairs ? { pairs: values.pairs } : {}),
        ...(values['prompt-field'] ? { promptField: values['prompt-field'] } : {}),
        ...(values['response-field'] ? { responseField: values['response-field'] } : {}),
      });
      if (!parsed.success)
        throw new UsageError(
          parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'),
        );
      const r = await op.run(parsed.data, { signal: io.signal, progress: () => {}, log: () => {} });
      if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        io.out(`wrote ${r.written} pair(s) from "${r.question}" to ${r.out}; ${r.skippedCount} skipped\n`);
        for (const s of r.skipped.slice(0, 10))
          io.out(
            `  ${s.line !== undefined ? `line ${s.line}` : `prompt ${JSON.stringify((s.prompt ?? '').slice(0, 40))}`}: ${s.reason}\n`,
          );
      }
      return ExitCode.ok;
    });
  },
};
