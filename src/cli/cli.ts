// The `curate` command line: a registry of subcommands (src/cli/commands/*.ts), each a thin face
// over the core. A subcommand declares its options for node's util.parseArgs and returns an exit
// code; errors thrown as UsageError become exit 2 with the usage line.
import { existsSync, readFileSync, statSync } from 'node:fs';
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
  const options = { ...cmd.options, help: { type: 'boolean', short: 'h' } } as const;
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // node's message tells how to pass a positional starting with '-': not what a typo needs.
      const given = /'(-[^']*)'/.exec(err instanceof Error ? err.message : '')?.[1] ?? '';
      const name = given.replace(/^-+/, '').replace(/=.*$/, '');
      const near = nearestOption(name, Object.keys(options));
      throw new UsageError(`unknown option ${given || '(empty)'}${near ? `; did you mean --${near}?` : ''}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '--out, -o <value>' argument missing" and friends: keep node's words, without its error class.
      throw new UsageError((err instanceof Error ? err.message : String(err)).replace(/^TypeError \[\w+\]: /, ''));
    }
    throw new UsageError(err instanceof Error ? err.message.replace(/^TypeError \[\w+\]: /, '') : String(err));
  }
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The option a mistyped name most likely meant: a unique prefix either way, else the closest within a third of its length (at least 1, at most 3 edits). */
export function nearestOption(name: string, names: readonly string[]): string | undefined {
  if (!name) return undefined;
  const n = name.toLowerCase();
  const prefixed = names.filter((o) => o.startsWith(n) || n.startsWith(o));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Math.min(3, Math.max(1, Math.floor(n.length / 3)));
  for (const o of prefixed.length > 1 ? prefixed : names) {
    const d = distance(n, o);
    if (d < bestD || (d === bestD && best === undefined)) {
      best = o;
      bestD = d;
    }
  }
  return best;
}

/**
 * An option that takes TEXT or a FILE (--rubric, --system): the file's text when it names a file.
 * A value that looks like a file name (one word with a file extension, or a path with a slash and
 * no spaces) and names no file is an error, not the text: `--rubric rubrik.md` must not judge with
 * the rubric "rubrik.md".
 */
export function textOrFile(v: string, flag: string): string {
  if (existsSync(v)) {
    if (statSync(v).isDirectory()) throw new UsageError(`--${flag} ${v} is a folder; give the text or a file`);
    return readFileSync(v, 'utf8');
  }
  if (looksLikePath(v))
    throw new UsageError(
      `--${flag}: no such file: ${v} (to pass it as text, write it with a space or without the extension)`,
    );
  return v;
}

/** One token with no spaces that is a relative or absolute path, or ends in a file extension. */
export function looksLikePath(v: string): boolean {
  const t = v.trim();
  if (t === '' || /\s/.test(t)) return false;
  if (/^(\.{0,2}\/|~\/|[A-Za-z]:[\\/])/.test(t)) return true;
  if (/[\\/]/.test(t) && !/^https?:/i.test(t)) return true;
  return /^[\w.-]+\.(md|markdown|txt|text|json|jsonl|yaml|yml|toml|csv|tsv|prompt|rst)$/i.test(t);
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
    throw new UsageError(
      `--${name} must be an integer >= ${min}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
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
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      !v.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k) && k >= 0))
    ) {
      throw new UsageError('--field as JSON must be a non-empty array of keys (strings) and indices (integers)');
    }
    return v as (string | number)[];
  }
  const parts = p.split('.');
  if (!p || parts.some((s) => s === ''))
    throw new UsageError(
      `--field must be a dotted path like "label", "judge.score" or "messages.0.content", got ${JSON.stringify(p)}`,
    );
  return parts.map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
