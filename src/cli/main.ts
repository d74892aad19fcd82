// curate: Dataset Curator's engine, headless. `curate help` lists the commands. Light on
// purpose: a command's module loads only when it runs (commands/index.ts), so this file imports
// nothing heavy. Errors are told apart by name: a command's bundle has its own copy of the
// error classes (scripts/build.mjs), so instanceof would not see them.
import { version } from '../../package.json';
import { printable } from '../core/store/check';
import { ExitCode, UsageError, parse, type Command, type Io } from './cli';
import { commands } from './commands';

// By name or shape, not instanceof: a command's bundle has its own copies of these classes.
const isUsage = (err: unknown): err is Error =>
  err instanceof UsageError || (err instanceof Error && err.name === 'UsageError');
/** A ConflictError or its LockedError (code ECONFLICT): the file changed, or another writer holds it. */
const isConflict = (err: unknown): err is Error =>
  err instanceof Error && (err as { code?: unknown }).code === 'ECONFLICT';
const isSaveError = (err: unknown): err is Error & { detail: string } =>
  err instanceof Error && err.name === 'SaveError' && typeof (err as { detail?: unknown }).detail === 'string';
/** A UserError (or a subclass such as NotADatasetError): its message is for the user, with its exit code. */
const isUserError = (err: unknown): err is Error & { exitCode: number } =>
  err instanceof Error && typeof (err as { exitCode?: unknown }).exitCode === 'number';

function commandHelp(c: Command): string {
  return `${c.summary}\n\nUsage: ${c.usage}\n${c.details ? `\n${c.details}\n` : ''}`;
}

function help(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return (
    `curate ${version}: curate LLM training data (JSONL) from the command line\n\n` +
    `Usage: curate COMMAND [options]\n\nCommands:\n` +
    commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}\n`).join('') +
    `\nRun "curate help COMMAND" for a command's options. Line numbers are 1-based.\n` +
    `Exit codes: 0 ok, 1 invalid data or failure, 2 bad arguments or missing file, 3 conflict (file changed underneath, or another writer saved it first), 130 interrupted.\n`
  );
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    io.err(help());
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h') {
    io.out(help());
    return ExitCode.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`${version}\n`);
    return ExitCode.ok;
  }
  if (name === 'help') {
    if (!rest[0]) {
      io.out(help());
      return ExitCode.ok;
    }
    const c = commands.find((x) => x.name === rest[0]);
    if (!c) {
      io.err(`curate: unknown command "${rest[0]}". Run "curate help".\n`);
      return ExitCode.usage;
    }
    io.out(commandHelp(await c.load()));
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.err(`curate: unknown command "${name}". Run "curate help".\n`);
    return ExitCode.usage;
  }
  entry.prestart?.(rest);
  const cmd = await entry.load();
  let json = false;
  try {
    const args = parse(cmd, rest);
    json = args.values.json === true;
    if (args.values.help) {
      io.out(commandHelp(cmd));
      return ExitCode.ok;
    }
    return await cmd.run(args, io);
  } catch (err) {
    const { code, message } = failure(cmd, err, io);
    // --json: the failure as JSON on stdout too (a script reading stdout must not get nothing).
    if (json) io.out(`${JSON.stringify({ error: { message, exitCode: code, ...errorFields(err) } }, null, 2)}\n`);
    return code;
  }
}

/** Says what went wrong on stderr; returns the exit code and the message. */
function failure(cmd: Command, err: unknown, io: Io): { code: number; message: string } {
  const say = (code: number, message: string, extra = ''): { code: number; message: string } => {
    io.err(`curate ${cmd.name}: ${message}\n${extra}`);
    return { code, message };
  };
  if (isUsage(err)) return say(ExitCode.usage, err.message, `Usage: ${cmd.usage}\n`);
  if (isConflict(err)) return say(ExitCode.conflict, err.message);
  if (err instanceof Error && err.name === 'AbortError')
    return say(ExitCode.interrupted, 'interrupted; nothing was written');
  // A bad input the core recognised (a folder or a binary file for a dataset, ...): its exit code (2, as for a usage error).
  if (isUserError(err)) return say(err.exitCode, err.message);
  const msg = isSaveError(err)
    ? `${err.detail} The file on disk was not changed.`
    : err instanceof Error
      ? err.message
      : String(err);
  return say(ExitCode.failure, msg);
}

/** The machine-readable fields of an error (an LLM error's kind and HTTP status). */
function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return {};
  const e = err as Error & { kind?: unknown; status?: unknown; code?: unknown };
  return {
    name: e.name,
    ...(typeof e.kind === 'string' ? { kind: e.kind } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

/** Escapes control characters (core's printable()) but LF and tab, and CR on stderr where progress lines use it. */
export function terminalSafe(text: string, allowCR: boolean): string {
  return text.replace(allowCR ? /[^\n\t\r]+/g : /[^\n\t]+/g, printable);
}

if (require.main === module) {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  // `curate get ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // Text reaches the terminal with its control characters escaped: a label or a reason quoted
  // from a hostile file cannot clear the screen or retitle the window. `write` (curate get) is
  // the exception: it prints a line's bytes exactly as stored, by design.
  const io: Io = {
    out: (t) => process.stdout.write(terminalSafe(t, false)),
    err: (t) => process.stderr.write(terminalSafe(t, true)),
    write: (b) => process.stdout.write(b),
    // undefined, not false, when stderr is a pipe or a file (whatever @types/node says)
    isTTY: (process.stderr.isTTY as boolean | undefined) === true,
    signal: ac.signal,
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
