// The question-type faces of `curate agreement`, `filter` and `review-queue`: when --question names
// a question of another type than the single label (declared, or described by the flags of
// ./question-flags.ts), these run the core's question operations and print their reports.
import { existsSync } from 'node:fs';
import type { ClassificationMetrics } from '../../core/metrics/agreement-core';
import type { AnnotatorsReport } from '../../core/metrics/people';
import { createQuestionAgreementOperation, type QuestionAgreementReport } from '../../core/metrics/question-agreement';
import type {
  MultiLabelAgreement,
  RankingAgreement,
  RatingAgreement,
  SpanAgreement,
  TextAgreement,
} from '../../core/metrics/question-metrics';
import { UserError, type OperationContext } from '../../core/operation';
import { resolveQuestion } from '../../core/questions/resolve';
import type { Question } from '../../core/questions/schema';
import { ExitCode, UsageError, type Io, type OptionValues } from '../cli';
import { questionOptionsOf } from './question-flags';
import { fieldMapOf } from './util';

/** The question --question (and the type flags) name, when it is not the single-label question; undefined: the command's usual path. */
export function typedQuestion(file: string, values: OptionValues): Question | undefined {
  if (values.question === undefined) {
    questionOptionsOf(values); // a type flag without --question is a usage error
    return undefined;
  }
  try {
    const q = resolveQuestion({ input: file, ...questionOptionsOf(values), fields: fieldMapOf(values) });
    return q && q.type !== 'label' ? q : undefined;
  } catch (err) {
    if (err instanceof UserError) throw new UsageError(err.message);
    throw err;
  }
}

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

function metricsLines(type: Question['type'], m: QuestionAgreementReport['pairs'][number]['metrics']): string[] {
  switch (type) {
    case 'label': {
      const c = m as ClassificationMetrics;
      return [`accuracy ${f(c.accuracy)}  kappa ${f(c.kappa)}  macro-F1 ${f(c.macroF1)}`];
    }
    case 'multi-label': {
      const c = m as MultiLabelAgreement;
      return [
        `Jaccard ${f(c.jaccard)}  Hamming loss ${f(c.hamming)}  exact ${f(c.exact)}  micro-F1 ${f(c.microF1)}  mean kappa ${f(c.meanKappa)}`,
        ...c.perLabel.map(
          (l) =>
            `  ${l.label.padEnd(16)} kappa ${f(l.kappa)}  agreement ${f(l.agreement)}  Jaccard ${f(l.jaccard)}  (${l.a} / ${l.b} / both ${l.both})`,
        ),
      ];
    }
    case 'rating': {
      const c = m as RatingAgreement;
      return [
        `exact ${f(c.exact)}  mean |diff| ${f(c.meanAbsoluteDifference)}  weighted kappa linear ${f(c.linearKappa)} quadratic ${f(c.quadraticKappa)}  Pearson ${f(c.pearson)}`,
      ];
    }
    case 'ranking': {
      const c = m as RankingAgreement;
      return [`Kendall's tau-b ${f(c.kendallTau)}  top-1 ${f(c.top1)}  same order ${f(c.exact)}`];
    }
    case 'span': {
      const c = m as SpanAgreement;
      return [
        `exact F1 ${f(c.exact.f1)} (P ${f(c.exact.precision)} R ${f(c.exact.recall)})  overlap F1 ${f(c.overlap.f1)} (P ${f(c.overlap.precision)} R ${f(c.overlap.recall)})  spans ${c.a} / ${c.b}`,
        ...c.perLabel.map((l) => `  ${l.label.padEnd(16)} exact F1 ${f(l.exactF1)}  (${l.a} / ${l.b})`),
      ];
    }
    case 'text': {
      const c = m as TextAgreement;
      return [`exact ${f(c.exact)}  token F1 ${f(c.tokenF1)}`];
    }
  }
}

/**
 * The "people with people" section of `curate agreement` (the figures of `curate annotators`):
 * printed when two or more people decided the question.
 */
export function printPeople(r: AnnotatorsReport | undefined, question: string, io: Io): void {
  if (!r || r.people.length < 2) return;
  io.out(
    `people with people (${question}): ${r.people.map((p) => `${p.user} ${p.decided}`).join(', ')} decided; ${r.shared} record(s) decided by two or more, ${r.disagreements} of them differently\n`,
  );
  for (const p of r.pairs)
    io.out(
      `  ${p.a} vs ${p.b}: ${p.n} record(s) both decided; agreement ${f(p.accuracy)}  Cohen's kappa ${f(p.kappa)}\n`,
    );
  if (r.pairs.length === 0) io.out('  no record was decided by two of them yet\n');
  io.out(`  Fleiss' kappa ${f(r.fleissKappa)}  Krippendorff's alpha (nominal) ${f(r.krippendorffAlpha)}\n`);
}

/** Prints a question agreement report. */
export function printQuestionAgreement(r: QuestionAgreementReport, io: Io): void {
  io.out(
    `${r.question.name} (${r.question.type}): ${r.records} record(s); raters ${r.raters.map((x) => `${x.name} ${x.answers}${x.invalid ? ` (+${x.invalid} invalid)` : ''}`).join(', ') || 'none'}\n`,
  );
  for (const p of r.pairs) {
    io.out(`${p.a} vs ${p.b}: ${p.n} record(s) both answered\n`);
    for (const line of metricsLines(r.question.type, p.metrics)) io.out(`  ${line}\n`);
  }
  if (r.alpha !== undefined) io.out(`Krippendorff's alpha (interval), every rater: ${f(r.alpha)}\n`);
  for (const p of r.problems) io.out(`  line ${p.line}, ${p.rater}: ${p.reason}\n`);
  printPeople(r.people, r.question.name, io);
  if (r.pairs.length === 0 && r.people.pairs.length === 0)
    io.out("no two raters to compare (a person's answers, models' suggestions, or --gold FILE)\n");
}

/** `curate agreement FILE --question NAME` for a question of any type. */
export async function runQuestionAgreement(
  file: string,
  q: Question,
  values: OptionValues,
  io: Io,
  ctx: OperationContext,
): Promise<number> {
  if (typeof values.gold === 'string' && !existsSync(values.gold))
    throw new UsageError(`no such gold file: ${values.gold}`);
  const op = createQuestionAgreementOperation();
  const fl = questionOptionsOf(values);
  const options = op.options.parse({
    ...fl,
    file,
    question: q.name,
    ...(values.gold ? { gold: values.gold } : {}),
    ...(values['join-on'] ? { joinOn: values['join-on'] } : {}),
    ...(values['gold-field'] ? { goldField: values['gold-field'] } : {}),
    ...(values['gold-name'] ? { goldName: values['gold-name'] } : {}),
  });
  const r = await op.run(options, ctx);
  if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
  else printQuestionAgreement(r, io);
  return ExitCode.ok;
}
