// What the LLM subcommands (annotate, judge, ..., generate) share: the endpoint flags, their parsing
// into operation options, the estimate and cost confirmation, progress lines and an interrupted
// job's message. The API key is read from OPENAI_API_KEY (never a flag: flags end up in shell
// history and CI logs).
import { createInterface } from 'node:readline/promises';
import { ZodError } from 'zod';
import { sampledNote } from '../../core/estimate';
import type { Estimate, Progress } from '../../core/operation';
import { confirmationNeeded, DEFAULT_CONFIRM_REQUESTS_ABOVE } from '../../core/llm/prices';
import { isPresetName, modelFromServer, PRESET_NAMES, presetModel, presets } from '../../core/llm/endpoints';
import { UserError } from '../../core/operation';
import { ExitCode, UsageError, type Io, type OptionValues } from '../cli';

/** The model and how it is asked: flags of every LLM subcommand, and of eval-prompt. */
export const modelFlags = {
  model: { type: 'string', short: 'm' },
  concurrency: { type: 'string', short: 'c' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  timeout: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
} as const;

/** The flags of every LLM subcommand. */
export const llmFlags = {
  'base-url': { type: 'string' },
  preset: { type: 'string' },
  ...modelFlags,
  'price-in': { type: 'string' },
  'price-out': { type: 'string' },
  'max-cost': { type: 'string' },
  'max-requests': { type: 'string' },
  out: { type: 'string', short: 'o' },
  'cache-dir': { type: 'string' },
  'prompts-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  limit: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
} as const;

export const llmUsage =
  '  --base-url URL (or --preset NAME, or OPENAI_BASE_URL)   --preset openai|azure|ollama|vllm|lmstudio|llamacpp\n' +
  "  --model M (or CURATE_MODEL; else the preset's, or the one the server serves: GET /v1/models)\n" +
  '  --concurrency N  --temperature T  --max-tokens N  --timeout S  --rpm N  --tpm N\n' +
  '  --price-in USD/M  --price-out USD/M (default: known OpenAI prices)  --max-cost USD (ask above it; default 1)\n' +
  '  --max-requests N (ask above it when the price is unknown; default 1000)\n' +
  '  --cache-dir DIR | --no-cache   --prompts-dir DIR (prompt overrides, e.g. .curator/prompts)   --limit N   --yes   --json\n' +
  '  The API key is read from OPENAI_API_KEY. A killed or interrupted job resumes when run again.';

export function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function list(v: unknown): string[] {
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/**
 * The endpoint and engine flags as operation options (CommonOptions' names). The endpoint:
 * --base-url, else --preset's, else OPENAI_BASE_URL. The model: --model, else the command's own
 * default (the first judge), else CURATE_MODEL, else the preset's; a server that was given no model
 * (vLLM, LM Studio, any --base-url) is asked which it serves (GET /v1/models).
 */
export async function endpointOptions(
  values: OptionValues,
  input: string,
  defaultModel?: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const presetName = values.preset;
  if (presetName !== undefined && !isPresetName(presetName))
    throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(presetName)}`);
  const preset = presetName === undefined ? undefined : presets[presetName];
  const baseURL =
    (values['base-url'] as string | undefined) ?? preset?.baseUrl ?? (process.env.OPENAI_BASE_URL || undefined);
  if (!baseURL)
    throw new UsageError(
      'missing --base-url (or --preset, or OPENAI_BASE_URL), e.g. --preset ollama or --base-url http://127.0.0.1:11434/v1',
    );
  let model =
    (values.model as string | undefined) ??
    defaultModel ??
    (process.env.CURATE_MODEL || undefined) ??
    (presetName === undefined ? undefined : presetModel(presetName));
  if (!model) {
    try {
      model = await modelFromServer(baseURL, process.env.OPENAI_API_KEY, {
        signal,
        how: 'name one with --model (or CURATE_MODEL)',
      });
    } catch (err) {
      if (err instanceof UserError) throw new UsageError(err.message);
      throw err;
    }
  }
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
    if (err instanceof ZodError)
      throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
    throw err;
  }
}

/**
 * Prints the estimate and asks above --max-cost (default $1): true to go on, else the exit code
 * (2 when it cannot ask: not a terminal and no --yes; 0 when the user says no).
 */
export async function confirmEstimate(
  label: string,
  est: Estimate,
  values: OptionValues,
  io: Io,
): Promise<true | number> {
  const cost = est.cost ?? 0;
  const left = est.remaining !== undefined ? ` (resuming: ${est.remaining} left to do)` : '';
  const sampled = sampledNote(est);
  io.err(
    `${label}: ${est.records} record(s)${left}, about ${est.requests} request(s), ${est.inputTokens} input and ${est.outputTokens} output tokens${cost ? `, about $${cost.toFixed(4)}` : ', price unknown'}${sampled}\n`,
  );
  const maxCost = num(values['max-cost'], 'max-cost') ?? 1;
  const maxRequests = num(values['max-requests'], 'max-requests') ?? DEFAULT_CONFIRM_REQUESTS_ABOVE;
  // A known price asks above --max-cost; an unknown one (a local model) above --max-requests.
  const why = confirmationNeeded(est, { confirmCostAbove: maxCost, confirmRequestsAbove: maxRequests });
  if (!why || values.yes) return true;
  if (!io.isTTY || !process.stdin.isTTY) {
    io.err(
      cost
        ? `curate: the estimated cost $${cost.toFixed(2)} is above --max-cost $${maxCost}; pass --yes to run it\n`
        : `curate: the price of this model is unknown and the job makes about ${est.requests} requests, above --max-requests ${maxRequests}; pass --yes to run it\n`,
    );
    return ExitCode.usage;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    cost ? `Run it for about $${cost.toFixed(2)}? [y/N] ` : `Run ${est.requests} requests at an unknown price? [y/N] `,
  );
  rl.close();
  return /^y(es)?$/i.test(answer.trim()) ? true : ExitCode.ok;
}

/** The progress of a job's cost estimate, in the printer's line: "estimating the cost: record x of y". */
export function estimateProgress(printer: { progress: (p: Progress) => void }): (p: Progress) => void {
  return (p) =>
    printer.progress({ ...p, message: `estimating the cost: ${p.message ?? `${p.done} of ${p.total ?? '?'}`}` });
}

/** Progress on one terminal line (only on a terminal), at most five times a second. */
export function progressPrinter(io: Io): { progress: (p: Progress) => void; done: () => void } {
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
