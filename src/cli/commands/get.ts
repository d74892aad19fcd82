// curate get FILE --line N
import { ExitCode, fileArg, intOption, type Command } from '../cli';
import { lineOf, openJsonl } from './util';

export const get: Command = {
  name: 'get',
  summary: 'Print one line exactly as stored (raw bytes and terminator)',
  usage: 'curate get FILE --line N',
  details: 'N is 1-based. The bytes are written unchanged, invalid UTF-8 included, followed by the line\'s own terminator (LF, CRLF, or none for a last line without a final newline).',
  options: { line: { type: 'string', short: 'l' } },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const n = intOption(values.line, 'line');
    const ds = await openJsonl(file, io.signal);
    try {
      const line = ds.line(lineOf(ds, n, file));
      io.write(Buffer.concat([line.bytes(), Buffer.from(line.eol)]));
      return ExitCode.ok;
    } finally {
      ds.close();
    }
  },
};
