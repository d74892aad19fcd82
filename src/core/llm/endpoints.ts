// The endpoint presets (OpenAI, Azure, Ollama, vLLM, LM Studio, llama.cpp) and the question every
// face asks a local server that serves a model of the user's choosing: which models do you serve?
// (GET /v1/models). vLLM and LM Studio have no model name one could guess: the preset has none,
// and the faces take the one the server serves (or ask which, when it serves several).
import { UserError } from '../operation';
import { LlmClient } from './client';

export interface EndpointPreset {
  baseUrl: string;
  /** The default model; undefined: ask the server (GET /v1/models). */
  model?: string;
  needsKey: boolean;
  /** The default embeddings model; undefined: ask the server. */
  embeddingModel?: string;
}

export const presets = {
  openai: {
    baseUrl: 'https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    needsKey: true,
    embeddingModel: 'text-embedding-3-small',
  },
  azure: {
    baseUrl: 'https://YOUR-RESOURCE.openai.azure.com/openai/v1',
    model: 'YOUR-DEPLOYMENT',
    needsKey: true,
    embeddingModel: 'YOUR-EMBEDDING-DEPLOYMENT',
  },
  ollama: {
    baseUrl: 'http://127.0.0.1:11434/v1',
    model: 'llama3.1',
    needsKey: false,
    embeddingModel: 'nomic-embed-text',
  },
  vllm: { baseUrl: 'http://127.0.0.1:8000/v1', needsKey: false },
  lmstudio: { baseUrl: 'http://127.0.0.1:1234/v1', needsKey: false },
  llamacpp: { baseUrl: 'http://127.0.0.1:8080/v1', model: 'default', needsKey: false, embeddingModel: 'default' },
} as const satisfies Record<string, EndpointPreset>;
export type PresetName = keyof typeof presets;

export const PRESET_NAMES = Object.keys(presets) as PresetName[];

export function isPresetName(v: unknown): v is PresetName {
  return typeof v === 'string' && Object.hasOwn(presets, v);
}

/** The preset's default model, or undefined when the server is to be asked. */
export function presetModel(name: PresetName): string | undefined {
  const p: EndpointPreset = presets[name];
  return p.model;
}

/** The models a server lists (GET {baseURL}/models), in its order. Throws (the client's errors) when it cannot be asked. */
export async function serverModels(
  baseURL: string,
  apiKey: string | undefined,
  signal?: AbortSignal,
  timeoutMs = 5000,
): Promise<string[]> {
  const client = new LlmClient({ baseURL, apiKey, model: 'unused', timeoutMs, maxRetries: 0, concurrency: 1 });
  try {
    return await client.listModels(
      signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    );
  } finally {
    client.close();
  }
}

/**
 * The model to use on a server that was given none: the one it serves. Several: `choose` picks
 * (a face's question), else a UserError naming them. None, or no answer: a UserError saying how
 * to name one.
 */
export async function modelFromServer(
  baseURL: string,
  apiKey: string | undefined,
  opts: { signal?: AbortSignal; choose?: (models: string[]) => Promise<string | undefined>; how?: string } = {},
): Promise<string> {
  const how = opts.how ?? 'name one (the model option)';
  let models: string[];
  try {
    models = await serverModels(baseURL, apiKey, opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new UserError(
      `No model was given and ${baseURL} could not be asked which it serves (GET /models: ${why}); ${how}.`,
    );
  }
  const unique = [...new Set(models.filter((m) => typeof m === 'string' && m.trim() !== ''))];
  if (unique.length === 1) return unique[0] as string;
  if (unique.length === 0)
    throw new UserError(
      `No model was given and ${baseURL} serves none (GET /models is empty); load a model in the server, or ${how}.`,
    );
  const picked = await opts.choose?.(unique);
  if (picked) return picked;
  throw new UserError(`No model was given and ${baseURL} serves ${unique.length}: ${unique.join(', ')}; ${how}.`);
}
