// curate annotators FILE: several people's decisions (src/core/git/annotators.ts): human-human
// agreement, and a person's queue (--todo USER).
import { annotatorsAgreement, decisionsByPerson } from '../../core/git/annotators';
import { gitIdentity } from '../../core/git/git';
import { defaultFields } from '../../core/schema/annotation';
import { ExitCode, fileArg, type Command } from '../cli';
import { fieldFlags, fieldMapOf, openJsonl } from './util';
import { dirname } from 'node:path';

const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

export const annotators: Command = {
  name: 'annotators',
  summary:
    "Several people's decisions: agreement between people (Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha), a person's queue",
  usage: 'curate annotators FILE [--question Q] [--todo [--annotator USER]] [--json]',
  details:
    "Reads each record's decisions by person: annotations.decisions.<question> (one per person, written when a second person\n" +
    'decides, and by the merge driver) and annotations.human.<question>, submitted ones with a user.\n' +
    "Prints who decided how many records, Cohen's kappa and agreement per pair of people (on the records both decided),\n" +
    "Fleiss' kappa and Krippendorff's alpha (nominal) over the records two or more people decided.\n" +
    '--todo: "my queue", the lines of the records USER has not decided (USER: --annotator, else the git identity of the\n' +
    "file's repository: user.name, else user.email).",
  options: {
    question: { type: 'string' },
    todo: { type: 'boolean' },
    annotator: { type: 'string' },
    json: { type: 'boolean' },
    ...fieldFlags,
  },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const fields = fieldMapOf(values) ?? defaultFields;
    const question = typeof values.question === 'string' ? values.question : fields.question;
    const me = values.todo
      ? ((values.annotator as string | undefined) ?? (await gitIdentity(dirname(file))))
      : undefined;
    if (values.todo && !me) {
      io.err('curate annotators: --todo needs a person: --annotator USER, or git config user.name\n');
      return ExitCode.usage;
    }
    const ds = await openJsonl(file, io.signal);
    const rows: Map<string, string>[] = [];
    const todo: number[] = [];
    try {
      for (let i = 0; i < ds.lineCount; i++) {
        const l = ds.line(i);
        if (!l.value || l.invalid) continue;
        const row = decisionsByPerson(l.value, fields, question);
        rows.push(row);
        if (me && !row.has(me)) todo.push(i + 1);
      }
    } finally {
      ds.close();
    }
    const report = annotatorsAgreement(rows);
    if (values.json) {
      io.out(`${JSON.stringify({ file, question, ...report, ...(me ? { annotator: me, todo } : {}) }, null, 2)}\n`);
      return ExitCode.ok;
    }
    if (me) {
      io.out(
        `${todo.length} record(s) ${me} has not decided (${question}): line${todo.length === 1 ? '' : 's'} ${todo.slice(0, 200).join(', ')}${todo.length > 200 ? ', ...' : ''}\n`,
      );
      return ExitCode.ok;
    }
    io.out(
      `${file}: ${report.people.length} people decided ${question}; ${report.shared} record(s) decided by two or more, ${report.disagreements} of them differently\n`,
    );
    for (const p of report.people) io.out(`  ${p.user.padEnd(24)} ${String(p.decided).padStart(8)} decided\n`);
    if (report.pairs.length) {
      io.out('  pairs\n');
      for (const p of report.pairs)
        io.out(`    ${p.a} / ${p.b}: n ${p.n}, agreement ${f3(p.accuracy)}, Cohen's kappa ${f3(p.kappa)}\n`);
    }
    io.out(
      `  Fleiss' kappa ${f3(report.fleissKappa)}, Krippendorff's alpha (nominal) ${f3(report.krippendorffAlpha)}\n`,
    );
    return ExitCode.ok;
  },
};
