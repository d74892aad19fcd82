// curate get FILE --line N
// Reads only as far as line N: no index of the whole file (core/store/scan.ts findLine), so the
// first lines of a 1 GB file print as fast as those of a small one.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { findLine } from '../../core/store/scan';
import { ExitCode, UsageError, fileArg, intOption, type Command } from '../cli';
import { assertJsonl } from './jsonl-only';

export const get: Command = {
  name: 'get',
  summary: 'Print one line exactly as stored (raw bytes and terminator)',
  usage: 'curate get FILE --line N',
  details:
    "N is 1-based. The bytes are written unchanged, invalid UTF-8 included, followed by the line's own terminator (LF, CRLF, or none for a last line without a final newline).",
  options: { line: { type: 'string', short: 'l' } },
  // eslint-disable-next-line @typescript-eslint/require-await -- Command.run returns a Promise: async makes the usage errors below rejections, as in every command
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const n = intOption(values.line, 'line');
    assertJsonl(file);
    const fd = openSync(file, 'r');
    try {
      const found = findLine(fd, fstatSync(fd).size, n);
      if ('lines' in found) throw new UsageError(`line ${n} does not exist: ${file} has ${found.lines} line(s)`);
      const out = Buffer.allocUnsafe(found.end - found.start + found.eol.length);
      let got = 0;
      while (got < found.end - found.start) {
        const r = readSync(fd, out, got, found.end - found.start - got, found.start + got);
        if (r <= 0) break;
        got += r;
      }
      out.write(found.eol, got, 'latin1');
      io.write(out.subarray(0, got + found.eol.length));
      return ExitCode.ok;
    } finally {
      closeSync(fd);
    }
  },
};
