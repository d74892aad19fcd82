// curate leakage FILE...: records shared between train, validation and eval files (src/core/filter/leakage.ts).
import { describeLeak, findLeaks, splitRole, type SplitFile } from '../../core/filter/leakage';
import { ExitCode, UsageError, fileArg, type Command } from '../cli';
import { num } from './llm-common';

export const leakage: Command = {
  name: 'leakage',
  summary: 'Exact and near duplicates shared between train, validation and eval files; exit 1 when there are any',
  usage: 'curate leakage FILE FILE... [--near X | --exact-only] [--field PATH] [--json]',
  details:
    "Each FILE's split comes from its name: eval (*test*, *eval*, *holdout*), else validation (*valid*, *val.*, *_val*, *-val*,\n" +
    '*dev*), else train (*train*); a file with none of them is a usage error. A record of a later split (validation after train,\n' +
    'eval after both) that repeats one of an earlier split is listed as FILE:LINE with the record it repeats.\n' +
    '--near X: near duplicates at estimated Jaccard >= X (default 0.8); --exact-only: exact duplicates only (normalized text).\n' +
    '--field PATH: the text compared (default: text, messages, conversations, prompt, instruction, input or question).',
  options: {
    near: { type: 'string' },
    'exact-only': { type: 'boolean' },
    field: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length < 2) throw new UsageError('give two or more files (train, validation, eval)');
    const files: SplitFile[] = positionals.map((p) => {
      const path = fileArg([p]);
      const role = splitRole(path);
      if (!role)
        throw new UsageError(`${p}: its name says no split (train, validation or eval); rename it or leave it out`);
      return { path, role };
    });
    const near = values['exact-only'] ? false : (num(values.near, 'near') ?? 0.8);
    if (near !== false && (near <= 0 || near > 1)) throw new UsageError('--near must be in (0, 1]');
    const leaks = await findLeaks(files, {
      near,
      ...(typeof values.field === 'string' ? { field: values.field } : {}),
      signal: io.signal,
    });
    if (values.json) io.out(`${JSON.stringify({ files, leaks }, null, 2)}\n`);
    else {
      for (const l of leaks) io.out(`${l.file}:${l.line}: ${describeLeak(l, (f) => f)}\n`);
      io.out(
        `${leaks.length} record(s) of a later split repeat an earlier split (${files.map((f) => `${f.path}: ${f.role}`).join(', ')})\n`,
      );
    }
    return leaks.length ? ExitCode.failure : ExitCode.ok;
  },
};
