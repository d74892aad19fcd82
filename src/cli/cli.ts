// The `curate` command line: a registry of subcommands (src/cli/commands/*.ts), each a thin face
// over the core. A subcommand declares its options for node's util.parseArgs and returns an exit
// code; errors thrown as UsageError become exit 2 with the usage line.
import { existsSync, statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes (docs/cli.md). */
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
  /** Raw bytes to stdout (curate get). */
  write(bytes: Uint8Array): void;
  /** True when stdout is a terminal (progress lines only then). */
  isTTY: boolean;
  signal: AbortSignal;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** More help: options and examples. */
  details?: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: OptionValues; positionals: string[] }, io: Io): Promise<number>;
}

export function parse(cmd: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as OptionValues, positionals: r.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/^TypeError \[\w+\]: /, '') : String(err));
  }
}

/** The first positional argument (FILE); a usage error when missing. */
export function requireFile(positionals: string[], what = 'FILE'): string {
  const f = positionals[0];
  if (!f) throw new UsageError(`missing ${what}`);
  return f;
}

/** The one FILE argument; a missing or extra one is a usage error, a missing file too. */
export function fileArg(positionals: string[], what = 'FILE'): string {
  const f = positionals[0];
  if (!f) throw new UsageError(`missing ${what}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
  if (statSync(f).isDirectory()) throw new UsageError(`${f} is a folder, not a dataset file`);
  return f;
}

export function stringOption(v: unknown, name: string, required = true): string | undefined {
  if (typeof v === 'string') return v;
  if (required) throw new UsageError(`missing --${name}`);
  return undefined;
}

export function intOption(v: unknown, name: string, min = 1): number {
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  }
  return Number(v);
}

/** "label", "judge.score", "messages.0.content", or a JSON array of keys for keys with dots. */
export function fieldPath(p: string): (string | number)[] {
  if (p.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(p);
    } catch {
      throw new UsageError(`--field ${JSON.stringify(p)} is not a JSON array of keys`);
    }
    if (!Array.isArray(v) || v.length === 0 || !v.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k) && k >= 0))) {
      throw new UsageError('--field as JSON must be a non-empty array of keys (strings) and indices (integers)');
    }
    return v as (string | number)[];
  }
  const parts = p.split('.');
  if (!p || parts.some((s) => s === '')) throw new UsageError(`--field must be a dotted path like "label", "judge.score" or "messages.0.content", got ${JSON.stringify(p)}`);
  return parts.map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
