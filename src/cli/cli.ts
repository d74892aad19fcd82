// The `curate` command line: a registry of subcommands, each a thin face over a core operation.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const ExitCode = {
  ok: 0,
  /** The data has problems (invalid lines), or the work failed. */
  failure: 1,
  /** Bad arguments, missing files. */
  usage: 2,
  /** The file changed on disk underneath: nothing was written. */
  conflict: 3,
  /** Interrupted (Ctrl-C); finished work is kept. */
  interrupted: 130,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdout: NodeJS.WritableStream;
  isTTY: boolean;
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, io: Io): Promise<number>;
}

export function parse(cmd: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/^TypeError \[\w+\]: /, '') : String(err));
  }
}

export function requireFile(positionals: string[], what = 'FILE'): string {
  const f = positionals[0];
  if (!f) throw new UsageError(`missing ${what}`);
  return f;
}

export function intOption(v: unknown, name: string, min = 1): number {
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v ?? '')}`);
  return Number(v);
}
