// Agreement metrics: between the model's suggestions and people's decisions in the same file, against
// a gold file or field (accuracy, Cohen's kappa, per-label precision/recall/F1, macro/micro F1,
// confusion matrix), and between judges' numeric scores (Pearson, Spearman, mean absolute
// difference, Krippendorff's alpha, interval). The figures and the accumulator that counts them are
// in ./agreement-core.ts (re-exported here); this file has the options, the file reader and the
// operation. Definitions and edge cases: docs/filters.md.
import { openStore } from '../sources';
import { z } from 'zod';
import { defineOperation } from '../operation';
import { getPath, iterateLines, throwIfAborted, type LineSource } from '../filter/fields';
import {
  AgreementAccumulator,
  labelKey,
  type AgreementReport,
  type AgreementSpec,
  type LabelSourceName,
} from './agreement-core';

export * from './agreement-core';

// ---------------------------------------------------------------------------------------------
// From a file

/** Where a label comes from (see LabelSourceName in ./agreement-core.ts). */
export const LabelSource = z.union([
  z.enum(['human', 'suggestion', 'label', 'gold']),
  z.string().regex(/^(field|model):.+/, "'human', 'suggestion', 'label', 'gold', 'field:PATH' or 'model:NAME'"),
]);
export type LabelSource = z.infer<typeof LabelSource>;

export const AgreementOptions = z.object({
  question: z.string().default('label'),
  /** The comparisons, each [reference, prediction]. Default: human vs suggestion; with a gold file also gold vs suggestion and gold vs label. */
  compare: z.array(z.tuple([LabelSource, LabelSource])).optional(),
  /** The gold file's field holding the label. */
  goldField: z.string().default('label'),
  /** How gold records are matched: 'index' (line order) or a key path such as 'id'. */
  joinOn: z.string().default('index'),
  /** Also measure the agreement between judges (judges[]). */
  judges: z.boolean().default(true),
  /**
   * Also per model and between models: each model's suggestions (by agent) against people's
   * decisions (or the gold labels, with a gold file), and each pair of models against each other.
   */
  perModel: z.boolean().default(false),
  /**
   * Also between people: each person's submitted decision on the question (annotations.decisions /
   * annotations.human, by user): Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha (nominal).
   */
  people: z.boolean().default(false),
});
export type AgreementOptions = z.input<typeof AgreementOptions>;

/** The accumulator spec the options ask for (the comparisons, with a gold file or without). */
export function agreementSpec(options: AgreementOptions = {}, withGold = false): AgreementSpec {
  const o = AgreementOptions.parse(options);
  const compare: [LabelSource, LabelSource][] =
    o.compare ??
    (withGold
      ? [
          ['gold', 'suggestion'],
          ['gold', 'label'],
          ['human', 'suggestion'],
        ]
      : [['human', 'suggestion']]);
  if (!withGold && compare.some(([a, b]) => a === 'gold' || b === 'gold'))
    throw new Error("A 'gold' comparison needs a gold file.");
  return {
    question: o.question,
    compare: compare as [LabelSourceName, LabelSourceName][],
    judges: o.judges,
    perModel: o.perModel,
    people: o.people,
    modelReference: withGold ? 'gold' : 'human',
  };
}

/** Agreement figures for a file (and optionally a gold file). */
export async function agreement(
  source: LineSource,
  options: AgreementOptions = {},
  gold?: LineSource,
  signal?: AbortSignal,
): Promise<AgreementReport> {
  const o = AgreementOptions.parse(options);
  const acc = new AgreementAccumulator(agreementSpec(options, gold !== undefined));
  const goldBy = new Map<string | number, unknown>();
  if (gold) {
    for await (const l of iterateLines(gold)) {
      if (!l.value) continue;
      const key = o.joinOn === 'index' ? l.index : getPath(l.value, o.joinOn);
      if (key === undefined || key === null) continue;
      goldBy.set(typeof key === 'number' ? key : labelKey(key), getPath(l.value, o.goldField));
    }
  }
  let n = 0;
  for await (const l of iterateLines(source)) {
    if ((n++ & 1023) === 0) throwIfAborted(signal);
    const v = l.value;
    let g: unknown;
    if (gold && v) {
      const key = o.joinOn === 'index' ? l.index : getPath(v, o.joinOn);
      g = key === undefined || key === null ? undefined : goldBy.get(typeof key === 'number' ? key : labelKey(key));
    }
    acc.add(v, 1, g);
  }
  return acc.report();
}

export const AgreementOperationOptions = AgreementOptions.extend({
  file: z.string().min(1),
  /** A gold JSONL file. */
  gold: z.string().min(1).optional(),
});

/** Operation `agreement`. */
export function createAgreementOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'agreement',
    title: 'Agreement',
    description:
      "Agreement between the model's suggestions, people's decisions, a gold file or field, and between judges.",
    options: AgreementOperationOptions,
    async run(options, ctx) {
      ctx.progress({ done: 0, unit: 'records', message: 'reading' });
      const r = await agreement(
        open(options.file, ctx.signal),
        options,
        options.gold ? open(options.gold, ctx.signal) : undefined,
        ctx.signal,
      );
      ctx.progress({ done: r.records, total: r.records, unit: 'records' });
      return r;
    },
  });
}

export const agreementOperation = createAgreementOperation();

/** How several models' suggestions in a file agree: each with people, and each pair (what `annotate --models` prints). */
export async function modelsAgreementOfFile(
  file: string,
  question = 'label',
  signal?: AbortSignal,
): Promise<Pick<AgreementReport, 'models' | 'modelPairs'>> {
  const r = await agreement(
    openStore(file, signal),
    { question, compare: [], judges: false, perModel: true },
    undefined,
    signal,
  );
  return { models: r.models ?? [], modelPairs: r.modelPairs ?? [] };
}
