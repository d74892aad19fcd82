// curate set FILE --line N --field PATH --value JSON
// Reads only as far as line N (no index of the whole file) and saves through the store's atomic
// machinery: a kernel copy of the file with only the edited line written when its length is kept
// (core/store/line-edit.ts).
import { ConflictError, EditError, LossyEditError } from '../../core/store/errors';
import { NoSuchLineError, setFieldsOfLine } from '../../core/store/line-edit';
import { ExitCode, UsageError, fieldPath, fileArg, intOption, stringOption, type Command } from '../cli';
import { assertJsonl } from './jsonl-only';

export const set: Command = {
  name: 'set',
  summary: 'Set one field of one record (atomic save; every other byte unchanged)',
  usage: 'curate set FILE --line N --field PATH --value JSON',
  details:
    'PATH: "label", "judge.score", "messages.0.content" (numbers index arrays), or a JSON array of keys\n' +
    '(\'["key.with.dots", 0]\'). JSON: the new value, e.g. --value \'"positive"\' or --value 7.\n' +
    'Only the edited line is rewritten (compact JSON, its own terminator kept). Records whose\n' +
    're-serialization would lose information (duplicate keys, integers beyond 2^53, ...) are refused (exit 1).\n' +
    'If the file changes on disk during the command nothing is written (exit 3).',
  options: {
    line: { type: 'string', short: 'l' },
    field: { type: 'string', short: 'f' },
    value: { type: 'string', short: 'v' },
  },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const n = intOption(values.line, 'line');
    const path = fieldPath(stringOption(values.field, 'field PATH')!);
    const text = stringOption(values.value, 'value JSON')!;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsageError(
        `--value must be JSON (quote strings: --value '"positive"'): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    assertJsonl(file);
    try {
      await setFieldsOfLine(file, n, [{ path, value }], { signal: io.signal, releaseAfterExit: true });
    } catch (err) {
      if (err instanceof NoSuchLineError) throw new UsageError(err.message);
      if (err instanceof LossyEditError || err instanceof EditError || err instanceof ConflictError) {
        io.err(`curate set: ${err.message}\n`);
        return err instanceof ConflictError ? ExitCode.conflict : ExitCode.failure;
      }
      throw err;
    }
    io.err(`line ${n}: set ${path.join('.')}\n`);
    return ExitCode.ok;
  },
};
