// curate: Dataset Curator's engine, headless. `curate help` lists the commands.
import { version } from '../../package.json';
import { ExitCode, UsageError, parse, type Command, type Io } from './cli';
import { get, set, stats, validate } from './commands/store';

const commands: Command[] = [stats, get, set, validate];

function help(io: Io): void {
  io.out(`curate ${version}: curate LLM training data (JSONL) from the command line\n\nUsage: curate COMMAND [options]\n\nCommands:\n`);
  const w = Math.max(...commands.map((c) => c.name.length));
  for (const c of commands) io.out(`  ${c.name.padEnd(w)}  ${c.summary}\n`);
  io.out(`\nRun "curate help COMMAND" for a command's options.\nExit codes: 0 ok, 1 failure or invalid data, 2 bad arguments, 3 conflict (file changed underneath), 130 interrupted.\n`);
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    help(io);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${version}\n`);
    return ExitCode.ok;
  }
  if (name === 'help') {
    const c = commands.find((x) => x.name === rest[0]);
    if (c) io.out(`${c.summary}\n\nUsage: ${c.usage}\n`);
    else help(io);
    return ExitCode.ok;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.err(`curate: unknown command "${name}". Run "curate help".\n`);
    return ExitCode.usage;
  }
  try {
    const args = parse(cmd, rest);
    if (args.values.help) {
      io.out(`${cmd.summary}\n\nUsage: ${cmd.usage}\n`);
      return ExitCode.ok;
    }
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`curate ${cmd.name}: ${err.message}\nUsage: ${cmd.usage}\n`);
      return ExitCode.usage;
    }
    if (err instanceof Error && err.name === 'AbortError') {
      io.err('curate: interrupted; finished work is kept\n');
      return ExitCode.interrupted;
    }
    io.err(`curate ${cmd.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.failure;
  }
}

if (require.main === module) {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  // `curate get ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const io: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    stdout: process.stdout,
    isTTY: !!process.stdout.isTTY,
    signal: ac.signal,
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
