// What the LLM subcommands (annotate, judge, ..., generate) share: the endpoint flags, their parsing
// into operation options, the estimate and cost confirmation, progress lines and an interrupted
// job's message. The API key is read from OPENAI_API_KEY (never a flag: flags end up in shell
// history and CI logs).
import { createInterface } from 'node:readline/promises';
import { ZodError } from 'zod';
import type { Estimate, Progress } from '../../core/operation';
import { ExitCode, UsageError, type Io, type OptionValues } from '../cli';

/** The flags of every LLM subcommand. */
export const llmFlags = {
  'base-url': { type: 'string' },
  model: { type: 'string', short: 'm' },
  concurrency: { type: 'string', short: 'c' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  timeout: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'price-in': { type: 'string' },
  'price-out': { type: 'string' },
  'max-cost': { type: 'string' },
  out: { type: 'string', short: 'o' },
  'cache-dir': { type: 'string' },
  'prompts-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  limit: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
} as const;

export const llmUsage =
  '  --base-url URL (or OPENAI_BASE_URL)  --model M (or CURATE_MODEL)  --concurrency N  --temperature T  --max-tokens N\n' +
  '  --timeout S  --rpm N  --tpm N  --price-in USD/M  --price-out USD/M  --max-cost USD (ask above it; default 1)\n' +
  '  --cache-dir DIR | --no-cache   --prompts-dir DIR (prompt overrides, e.g. .curator/prompts)   --limit N   --yes   --json\n' +
  '  The API key is read from OPENAI_API_KEY. A killed or interrupted job resumes when run again.';

export function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function list(v: unknown): string[] {
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** The endpoint and engine flags as operation options (CommonOptions' names). */
export function endpointOptions(values: OptionValues, input: string, defaultModel?: string): Record<string, unknown> {
  const baseURL = (values['base-url'] as string | undefined) ?? process.env.OPENAI_BASE_URL;
  const model = (values.model as string | undefined) ?? process.env.CURATE_MODEL ?? defaultModel;
  if (!baseURL) throw new UsageError('missing --base-url (or OPENAI_BASE_URL), e.g. http://127.0.0.1:11434/v1');
  if (!model) throw new UsageError('missing --model (or CURATE_MODEL)');
  const o: Record<string, unknown> = { input, baseURL, model };
  const put = (k: string, v: unknown) => v !== undefined && (o[k] = v);
  put('concurrency', num(values.concurrency, 'concurrency'));
  put('temperature', num(values.temperature, 'temperature'));
  put('maxTokens', num(values['max-tokens'], 'max-tokens'));
  put('timeoutSeconds', num(values.timeout, 'timeout'));
  put('requestsPerMinute', num(values.rpm, 'rpm'));
  put('tokensPerMinute', num(values.tpm, 'tpm'));
  put('pricePerMillionInputTokens', num(values['price-in'], 'price-in'));
  put('pricePerMillionOutputTokens', num(values['price-out'], 'price-out'));
  put('limit', num(values.limit, 'limit'));
  put('cacheDir', values['cache-dir']);
  put('promptsDir', values['prompts-dir']);
  put('noCache', values['no-cache'] ? true : undefined);
  put('output', values.out);
  return o;
}

/** Runs `f`; a schema's complaint about options becomes a usage error naming each option. */
export function usageErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ZodError) throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
    throw err;
  }
}

/**
 * Prints the estimate and asks above --max-cost (default $1): true to go on, else the exit code
 * (2 when it cannot ask: not a terminal and no --yes; 0 when the user says no).
 */
export async function confirmEstimate(label: string, est: Estimate, values: OptionValues, io: Io): Promise<true | number> {
  const cost = est.cost ?? 0;
  io.err(`${label}: ${est.records} record(s), about ${est.requests} request(s), ${est.inputTokens} input and ${est.outputTokens} output tokens${cost ? `, about $${cost.toFixed(4)}` : ''}\n`);
  const maxCost = num(values['max-cost'], 'max-cost') ?? 1;
  if (cost <= maxCost || values.yes) return true;
  if (!io.isTTY || !process.stdin.isTTY) {
    io.err(`curate: the estimated cost $${cost.toFixed(2)} is above --max-cost $${maxCost}; pass --yes to run it\n`);
    return ExitCode.usage;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Run it for about $${cost.toFixed(2)}? [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim()) ? true : ExitCode.ok;
}

/** Progress on one terminal line (only on a terminal), at most five times a second. */
export function progressPrinter(io: Io): { progress(p: Progress): void; done(): void } {
  let last = 0;
  let printed = false;
  return {
    progress(p) {
      if (!io.isTTY || Date.now() - last < 200) return;
      last = Date.now();
      printed = true;
      io.err(`\r${p.message ?? `${p.done}/${p.total ?? '?'}`}   `);
    },
    done() {
      if (printed) io.err('\n');
      printed = false;
    },
  };
}

/** A job stopped by Ctrl-C: say what is kept and how to go on; exit 130. */
export function interrupted(io: Io, what: string): number {
  io.err(`curate: interrupted; ${what}. Run the same command again to resume.\n`);
  return ExitCode.interrupted;
}
