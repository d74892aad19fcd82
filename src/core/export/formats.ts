// Export to and import from training formats: OpenAI chat SFT (with tools), OpenAI preference
// fine-tuning, TRL DPO, prompt-completion and KTO, distilabel DPO, Alpaca (LLaMA-Factory: multi-turn
// with `history`, ranking), ShareGPT (and its ranking variant), Argilla 2.x records, the 1.x style
// and the Hub export's flat columns, distilabel columns, and the records as they are. Every exported
// row is validated against the format's zod schema. Imports give records in the annotation layout.
// Field mappings and what each format carries: docs/filters.md and docs/interop.md.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  getPath,
  humanOf,
  isObject,
  judgesOf,
  reviewStatusOf,
  suggestionsOf,
  textOf,
  ANNOTATION_KEYS,
} from '../filter/fields';
import { ArgillaHubRow, ArgillaRow, fromArgilla, fromArgillaHub, toArgilla, toArgillaHub } from './argilla';

// ---------------------------------------------------------------------------------------------
// Schemas of the target formats

export const Role = z.enum(['system', 'developer', 'user', 'assistant']);
export type Role = z.infer<typeof Role>;
export const Message = z.object({ role: Role, content: z.string() });
export type Message = z.infer<typeof Message>;
const AssistantMessage = z.object({ role: z.literal('assistant'), content: z.string() });

/** A tool call of an assistant message (OpenAI: `arguments` is a JSON string). */
export const ToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});
/** A message of an OpenAI chat fine-tuning example: text, or an assistant's tool calls, or a tool's result. */
export const SftMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.string().nullable().optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).min(1).optional(),
    tool_call_id: z.string().optional(),
    /** 0: this assistant turn is not trained on; 1: it is (OpenAI's multi-turn `weight`). */
    weight: z.union([z.literal(0), z.literal(1)]).optional(),
  })
  .refine(
    (m) => typeof m.content === 'string' || (m.role === 'assistant' && m.tool_calls !== undefined),
    'a message has no content',
  )
  .refine((m) => m.tool_calls === undefined || m.role === 'assistant', 'only assistant messages call tools')
  .refine((m) => m.weight === undefined || m.role === 'assistant', 'only assistant messages have a weight');
export type SftMessage = z.infer<typeof SftMessage>;
/** A tool the model may call (`tools` of a fine-tuning example). */
export const Tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
/** OpenAI chat fine-tuning: at least one assistant message; tools and their calls, weights. */
export const SftRow = z.object({
  messages: z
    .array(SftMessage)
    .min(1)
    .refine((m) => m.some((x) => x.role === 'assistant'), 'needs an assistant message'),
  tools: z.array(Tool).optional(),
  parallel_tool_calls: z.boolean().optional(),
});
/** OpenAI preference fine-tuning (DPO). */
export const OpenAIPreferenceRow = z.object({
  input: z.object({ messages: z.array(Message).min(1) }),
  preferred_output: z.array(AssistantMessage).min(1),
  non_preferred_output: z.array(AssistantMessage).min(1),
});
/** TRL DPO, standard (strings) or conversational (message lists) style. */
export const DpoRow = z.union([
  z.object({ prompt: z.string(), chosen: z.string(), rejected: z.string() }),
  z.object({
    prompt: z.array(Message).min(1),
    chosen: z.array(AssistantMessage).min(1),
    rejected: z.array(AssistantMessage).min(1),
  }),
]);
/** distilabel's DPO columns (FormatTextGenerationDPO): chosen/rejected include the prompt turn. */
export const DistilabelDpoRow = z.object({
  prompt: z.string(),
  prompt_id: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex of the prompt'),
  chosen: z.array(Message).min(2),
  chosen_model: z.string().nullable(),
  chosen_rating: z.number().nullable(),
  rejected: z.array(Message).min(2),
  rejected_model: z.string().nullable(),
  rejected_rating: z.number().nullable(),
});
/** TRL prompt-completion: standard (strings) or conversational (message lists). */
export const PromptCompletionRow = z.union([
  z.object({ prompt: z.string(), completion: z.string() }),
  z.object({ prompt: z.array(Message).min(1), completion: z.array(AssistantMessage).min(1) }),
]);
/** TRL KTO (unpaired preference): a prompt, a completion and whether it is desirable. */
export const KtoRow = z.union([
  z.object({ prompt: z.string(), completion: z.string(), label: z.boolean() }),
  z.object({ prompt: z.array(Message).min(1), completion: z.array(AssistantMessage).min(1), label: z.boolean() }),
]);
/** Alpaca (LLaMA-Factory: `history` holds the earlier [instruction, response] turns). */
export const AlpacaRow = z.object({
  instruction: z.string(),
  input: z.string(),
  output: z.string(),
  system: z.string().optional(),
  history: z.array(z.tuple([z.string(), z.string()])).optional(),
});
/** LLaMA-Factory's Alpaca preference (ranking) rows. */
export const AlpacaRankingRow = z.object({
  instruction: z.string(),
  input: z.string(),
  chosen: z.string(),
  rejected: z.string(),
  system: z.string().optional(),
});
const ShareGptTurn = z.object({
  from: z.enum(['human', 'gpt', 'system', 'function_call', 'observation']),
  value: z.string(),
});
export const ShareGptRow = z.object({
  conversations: z.array(ShareGptTurn).min(1),
  /** LLaMA-Factory: the tools as a JSON string. */
  tools: z.string().optional(),
});
/** LLaMA-Factory's ShareGPT preference (ranking) rows: the conversation up to the last human turn, two answers. */
export const ShareGptRankingRow = z.object({
  conversations: z.array(ShareGptTurn).min(1),
  chosen: z.object({ from: z.literal('gpt'), value: z.string() }),
  rejected: z.object({ from: z.literal('gpt'), value: z.string() }),
});
const Json: z.ZodType = z.unknown();
/** Argilla's 1.x FeedbackRecord style: suggestions and responses as lists with `question_name`. */
export const ArgillaV1Row = z.object({
  id: z.string().min(1),
  status: z.enum(['pending', 'completed']),
  fields: z.record(z.string(), Json),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  suggestions: z.array(
    z.object({
      question_name: z.string(),
      value: Json,
      score: z.number().min(0).max(1).nullable(),
      agent: z.string().nullable(),
      type: z.enum(['model', 'human']).nullable(),
    }),
  ),
  responses: z.array(
    z.object({
      question_name: z.string(),
      value: Json,
      user_id: z.string().nullable(),
      status: z.enum(['draft', 'submitted', 'discarded']),
    }),
  ),
});
/** distilabel text-generation / rating / classification columns. */
export const DistilabelRow = z.object({
  instruction: z.string(),
  generation: z.string().nullable(),
  model_name: z.string().nullable(),
  ratings: z.array(z.number().nullable()).nullable(),
  rationales: z.array(z.string().nullable()).nullable(),
  labels: z.union([z.string(), z.array(z.string())]).nullable(),
  distilabel_metadata: z.record(z.string(), Json),
});

/** The records as they are (for Parquet and the Hugging Face layout). */
export const RecordsRow = z.record(z.string(), z.unknown());

export const FORMATS = [
  'sft',
  'openai-preference',
  'dpo',
  'prompt-completion',
  'kto',
  'distilabel-dpo',
  'alpaca',
  'alpaca-ranking',
  'sharegpt',
  'sharegpt-ranking',
  'argilla',
  'argilla-hub',
  'argilla-v1',
  'distilabel',
  'records',
] as const;
export const ExportFormat = z.enum(FORMATS);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const SCHEMAS: Record<ExportFormat, z.ZodType> = {
  sft: SftRow,
  'openai-preference': OpenAIPreferenceRow,
  dpo: DpoRow,
  'prompt-completion': PromptCompletionRow,
  kto: KtoRow,
  'distilabel-dpo': DistilabelDpoRow,
  alpaca: AlpacaRow,
  'alpaca-ranking': AlpacaRankingRow,
  sharegpt: ShareGptRow,
  'sharegpt-ranking': ShareGptRankingRow,
  argilla: ArgillaRow,
  'argilla-hub': ArgillaHubRow,
  'argilla-v1': ArgillaV1Row,
  distilabel: DistilabelRow,
  records: RecordsRow,
};

/** The formats LLaMA-Factory reads (their exports write a `dataset_info.json` entry). */
export const LLAMA_FACTORY_FORMATS: ReadonlySet<ExportFormat> = new Set([
  'alpaca',
  'alpaca-ranking',
  'sharegpt',
  'sharegpt-ranking',
]);

// ---------------------------------------------------------------------------------------------
// Options

/** Which record fields hold what (dotted paths). */
export const FieldMapping = z.object({
  messages: z.string().default('messages'),
  system: z.string().default('system'),
  instruction: z.string().default('instruction'),
  input: z.string().default('input'),
  output: z.string().default('output'),
  prompt: z.string().default('prompt'),
  response: z.string().default('response'),
  /** TRL's completion (prompt-completion and KTO rows). */
  completion: z.string().default('completion'),
  /** LLaMA-Factory's earlier turns of an Alpaca row: [[instruction, response], ...]. */
  history: z.string().default('history'),
  /** A boolean field that says whether the completion is desirable (KTO), when there is no accept/reject decision. */
  kto: z.string().default('kto_tag'),
  tools: z.string().default('tools'),
  chosen: z.string().default('chosen'),
  rejected: z.string().default('rejected'),
  id: z.string().default('id'),
  /** The question whose label goes to distilabel's `labels`. */
  label: z.string().default('label'),
});
export type FieldMapping = z.output<typeof FieldMapping>;

export const ExportOptions = z.object({
  format: ExportFormat,
  mapping: FieldMapping.default(FieldMapping.parse({})),
  /** Keep label, rationale, judge(s) and annotations (verbatim, top level) where the format has no place for them. */
  includeAnnotations: z.boolean().default(false),
  /** TRL DPO, prompt-completion and KTO: plain strings (the prompt must be one user message) or message lists. */
  dpoStyle: z.enum(['standard', 'conversational']).default('standard'),
  /** Argilla: the record fields that become Argilla fields (default: every top-level string or message list). */
  argillaFields: z.array(z.string()).optional(),
  /** Argilla: our user names and their Argilla user ids (UUIDs); other names get a name-based UUID. */
  argillaUsers: z.record(z.string(), z.uuid()).default({}),
});
export type ExportOptions = z.input<typeof ExportOptions>;
type Opts = z.output<typeof ExportOptions>;

export type ExportResult = { ok: true; row: Record<string, unknown> } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------
// Reading records

const SHAREGPT_FROM: Record<string, Role> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  system: 'system',
  chatgpt: 'assistant',
  bing: 'assistant',
  bard: 'assistant',
};
const SHAREGPT_TO: Record<string, 'human' | 'gpt' | 'system'> = {
  user: 'human',
  assistant: 'gpt',
  system: 'system',
  developer: 'system',
};

/** A message list from a field value (chat messages or ShareGPT turns), or a reason. */
function toMessages(v: unknown): Message[] | string {
  if (!Array.isArray(v)) return 'not a list of messages';
  const out: Message[] = [];
  for (const item of v) {
    if (!isObject(item)) return 'a message is not an object';
    const role =
      typeof item.role === 'string' ? item.role : typeof item.from === 'string' ? SHAREGPT_FROM[item.from] : undefined;
    const parsed = Role.safeParse(role);
    if (!parsed.success)
      return `unsupported role ${JSON.stringify(item.role ?? item.from)}${item.role === 'tool' || item.from === 'observation' ? ' (tool messages: export as sft)' : ''}`;
    if (Array.isArray(item.tool_calls) && item.tool_calls.length)
      return 'a message calls tools (tool calls: export as sft)';
    const content = textOf('content' in item ? item.content : item.value);
    if (content === undefined) return 'a message has no content';
    out.push({ role: parsed.data, content });
  }
  return out;
}

/** ShareGPT (LLaMA-Factory) tool turns: `function_call` is {name, arguments} as JSON, `observation` a tool's result. */
function shareGptToolTurn(item: Record<string, unknown>, i: number): SftMessage | string {
  const value = typeof item.value === 'string' ? item.value : undefined;
  if (value === undefined) return 'a message has no content';
  if (item.from === 'observation') return { role: 'tool', content: value };
  let call: unknown;
  try {
    call = JSON.parse(value);
  } catch {
    return 'a function_call turn is not JSON';
  }
  const calls = Array.isArray(call) ? call : [call];
  const toolCalls = [];
  for (const [k, c] of calls.entries()) {
    if (!isObject(c) || typeof c.name !== 'string') return 'a function_call turn has no name';
    toolCalls.push({
      id: `call_${i}_${k}`,
      type: 'function' as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {}),
      },
    });
  }
  return { role: 'assistant', tool_calls: toolCalls };
}

/**
 * The messages of an OpenAI fine-tuning example: text turns, assistant tool calls (`arguments`
 * given as an object, as TRL writes them, become a JSON string), tool results, `name`,
 * `tool_call_id` and `weight` kept.
 */
function toSftMessages(v: unknown): SftMessage[] | string {
  if (!Array.isArray(v)) return 'not a list of messages';
  const out: SftMessage[] = [];
  for (const [i, item] of v.entries()) {
    if (!isObject(item)) return 'a message is not an object';
    if (item.from === 'function_call' || item.from === 'observation') {
      const t = shareGptToolTurn(item, i);
      if (typeof t === 'string') return t;
      out.push(t);
      continue;
    }
    const role =
      typeof item.role === 'string'
        ? item.role === 'function'
          ? 'tool'
          : item.role
        : typeof item.from === 'string'
          ? SHAREGPT_FROM[item.from]
          : undefined;
    if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant' && role !== 'tool')
      return `unsupported role ${JSON.stringify(item.role ?? item.from)}`;
    const msg: SftMessage = { role };
    const raw = 'content' in item ? item.content : item.value;
    const content = raw === null ? undefined : textOf(raw);
    if (Array.isArray(item.tool_calls) && item.tool_calls.length) {
      if (role !== 'assistant') return `a ${role} message calls tools`;
      const calls = [];
      for (const c of item.tool_calls) {
        if (!isObject(c) || !isObject(c.function) || typeof c.function.name !== 'string')
          return 'a tool call has no function name';
        const args = c.function.arguments;
        calls.push({
          ...c,
          ...(typeof c.id === 'string' ? { id: c.id } : {}),
          type: 'function' as const,
          function: {
            ...c.function,
            name: c.function.name,
            arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
          },
        });
      }
      msg.tool_calls = calls;
      if (content !== undefined && content !== '') msg.content = content;
    } else if (content === undefined) return 'a message has no content';
    else msg.content = content;
    if (typeof item.name === 'string') msg.name = item.name;
    if (typeof item.tool_call_id === 'string') msg.tool_call_id = item.tool_call_id;
    if (item.weight !== undefined) {
      if (role !== 'assistant') return `a ${role} message has a weight (only assistant turns have one)`;
      if (item.weight !== 0 && item.weight !== 1) return `weight must be 0 or 1, got ${JSON.stringify(item.weight)}`;
      msg.weight = item.weight;
    }
    out.push(msg);
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The conversation of a record: messages, or instruction/input/output, or prompt/response. */
export function conversationOf(v: Record<string, unknown>, m: FieldMapping): Message[] | string {
  let msgs: Message[] | string | undefined;
  const raw = getPath(v, m.messages) ?? v.conversations;
  if (raw !== undefined) msgs = toMessages(raw);
  else {
    const instruction = str(getPath(v, m.instruction));
    const output = str(getPath(v, m.output));
    const p = getPath(v, m.prompt);
    const r = getPath(v, m.response) ?? getPath(v, m.completion);
    if (instruction !== undefined && output !== undefined) {
      const input = str(getPath(v, m.input));
      const history = historyOf(getPath(v, m.history));
      if (typeof history === 'string') return history;
      msgs = [
        ...history,
        { role: 'user', content: input ? `${instruction}\n\n${input}` : instruction },
        { role: 'assistant', content: output },
      ];
    } else if (p !== undefined && r !== undefined) {
      const prompt = typeof p === 'string' ? [{ role: 'user' as const, content: p }] : toMessages(p);
      const response = typeof r === 'string' ? [{ role: 'assistant' as const, content: r }] : toMessages(r);
      if (typeof prompt === 'string') return `${m.prompt}: ${prompt}`;
      if (typeof response === 'string') return `${m.response}: ${response}`;
      msgs = [...prompt, ...response];
    } else return `no ${m.messages}, ${m.instruction}/${m.output} or ${m.prompt}/${m.response} fields`;
  }
  if (typeof msgs === 'string') return msgs;
  const system = str(getPath(v, m.system));
  if (system !== undefined && !msgs.some((x) => x.role === 'system'))
    msgs = [{ role: 'system', content: system }, ...msgs];
  return msgs;
}

/** LLaMA-Factory's `history`: [[instruction, response], ...] as messages. */
function historyOf(h: unknown): Message[] | string {
  if (h === undefined || h === null) return [];
  if (!Array.isArray(h)) return 'history is not a list of [instruction, response] pairs';
  const out: Message[] = [];
  for (const pair of h) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string')
      return 'history is not a list of [instruction, response] pairs';
    out.push({ role: 'user', content: pair[0] }, { role: 'assistant', content: pair[1] });
  }
  return out;
}

/** A conversation split before its final assistant turns: the prompt and the completion. */
export function promptCompletionOf(
  v: Record<string, unknown>,
  m: FieldMapping,
): { prompt: Message[]; completion: Message[] } | string {
  const msgs = conversationOf(v, m);
  if (typeof msgs === 'string') return msgs;
  let k = msgs.length;
  while (k > 0 && msgs[k - 1]?.role === 'assistant') k--;
  if (k === msgs.length) return 'the conversation does not end with an assistant turn';
  if (k === 0) return 'the conversation has no prompt before the assistant turn';
  return { prompt: msgs.slice(0, k), completion: msgs.slice(k) };
}

/**
 * Whether a record's completion is desirable (KTO): a boolean field (`kto_tag`, or a boolean
 * `label` as TRL writes it), else the accept/reject decision: reviewed (accepted or relabeled)
 * is true, rejected (or a discarded decision) false.
 */
export function desirabilityOf(v: Record<string, unknown>, m: FieldMapping): boolean | string {
  const tag = getPath(v, m.kto);
  if (typeof tag === 'boolean') return tag;
  if (typeof v.label === 'boolean') return v.label;
  const review = reviewStatusOf(v);
  const h = getPath(v, ['annotations', 'human', 'label']);
  if (review === 'rejected' || (isObject(h) && h.status === 'discarded')) return false;
  if (review === 'reviewed') return true;
  return `no accept or reject decision (annotations.review.status is ${review ? JSON.stringify(review) : 'not set'}; or a boolean ${m.kto} field)`;
}

export interface Preference {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
  chosenModel: string | null;
  rejectedModel: string | null;
  chosenRating: number | null;
  rejectedRating: number | null;
}

/** A response: a string (one assistant message) or messages; a shared prefix with the prompt is removed. */
function toResponse(v: unknown, prompt: Message[]): Message[] | string {
  if (typeof v === 'string') return [{ role: 'assistant', content: v }];
  const msgs = toMessages(v);
  if (typeof msgs === 'string') return msgs;
  let k = 0;
  while (
    k < prompt.length &&
    k < msgs.length &&
    msgs[k]?.role === prompt[k]?.role &&
    msgs[k]?.content === prompt[k]?.content
  )
    k++;
  const rest = msgs.slice(k);
  if (rest.length === 0 || rest.some((x) => x.role !== 'assistant')) return 'the response is not assistant messages';
  return rest;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The preference pair of a record: prompt + chosen/rejected fields, or generations + ratings (best vs worst). */
export function preferenceOf(v: Record<string, unknown>, m: FieldMapping): Preference | string {
  let prompt: Message[] | string;
  const p = getPath(v, m.prompt);
  if (typeof p === 'string') prompt = [{ role: 'user', content: p }];
  else if (Array.isArray(p)) prompt = toMessages(p);
  else if (getPath(v, m.messages) !== undefined) prompt = toMessages(getPath(v, m.messages));
  else {
    const instruction = str(getPath(v, m.instruction));
    if (instruction === undefined) return `no ${m.prompt}, ${m.messages} or ${m.instruction} field`;
    const input = str(getPath(v, m.input));
    prompt = [{ role: 'user', content: input ? `${instruction}\n\n${input}` : instruction }];
  }
  if (typeof prompt === 'string') return prompt;
  const system = str(getPath(v, m.system));
  if (system !== undefined && !prompt.some((x) => x.role === 'system'))
    prompt = [{ role: 'system', content: system }, ...prompt];
  const c = getPath(v, m.chosen);
  const r = getPath(v, m.rejected);
  if (c !== undefined && r !== undefined) {
    const chosen = toResponse(c, prompt);
    const rejected = toResponse(r, prompt);
    if (typeof chosen === 'string') return `chosen: ${chosen}`;
    if (typeof rejected === 'string') return `rejected: ${rejected}`;
    return {
      prompt,
      chosen,
      rejected,
      chosenModel: str(v.chosen_model) ?? null,
      rejectedModel: str(v.rejected_model) ?? null,
      chosenRating: num(v.chosen_rating),
      rejectedRating: num(v.rejected_rating),
    };
  }
  const gens = v.generations;
  const ratings = v.ratings;
  if (Array.isArray(gens) && Array.isArray(ratings) && gens.length === ratings.length && gens.length >= 2) {
    let best = -1;
    let worst = -1;
    ratings.forEach((x, i) => {
      const s = num(x);
      if (s === null || typeof gens[i] !== 'string') return;
      if (best < 0 || s > (num(ratings[best]) as number)) best = i;
      if (worst < 0 || s < (num(ratings[worst]) as number)) worst = i;
    });
    if (best < 0 || worst < 0 || num(ratings[best]) === num(ratings[worst]))
      return 'the generations are not rated differently';
    const models = Array.isArray(v.generation_models) ? v.generation_models : [];
    return {
      prompt,
      chosen: [{ role: 'assistant', content: gens[best] as string }],
      rejected: [{ role: 'assistant', content: gens[worst] as string }],
      chosenModel: str(models[best]) ?? null,
      rejectedModel: str(models[worst]) ?? null,
      chosenRating: num(ratings[best]),
      rejectedRating: num(ratings[worst]),
    };
  }
  return `no ${m.chosen}/${m.rejected} fields nor generations with ratings`;
}

function annotationsOf(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ANNOTATION_KEYS) if (v[k] !== undefined) out[k] = v[k];
  return out;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const isChat = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && ('role' in x || 'from' in x));

// ---------------------------------------------------------------------------------------------
// Export

function build(v: Record<string, unknown>, index: number, o: Opts): Record<string, unknown> | string {
  const m = o.mapping;
  switch (o.format) {
    case 'sft': {
      const raw = getPath(v, m.messages) ?? v.conversations;
      const msgs = raw !== undefined ? toSftMessages(raw) : conversationOf(v, m);
      if (typeof msgs === 'string') return msgs;
      const system = str(getPath(v, m.system));
      const all =
        system !== undefined && !msgs.some((x) => x.role === 'system')
          ? [{ role: 'system' as const, content: system }, ...msgs]
          : msgs;
      const row: Record<string, unknown> = { messages: all };
      const tools = toolsOf(getPath(v, m.tools));
      if (typeof tools === 'string') return tools;
      if (tools) row.tools = tools;
      if (typeof v.parallel_tool_calls === 'boolean') row.parallel_tool_calls = v.parallel_tool_calls;
      return row;
    }
    case 'prompt-completion':
    case 'kto': {
      const pc = promptCompletionOf(v, m);
      if (typeof pc === 'string') return pc;
      let label: boolean | undefined;
      if (o.format === 'kto') {
        const d = desirabilityOf(v, m);
        if (typeof d === 'string') return d;
        label = d;
      }
      const tail = label === undefined ? {} : { label };
      if (o.dpoStyle === 'conversational') return { prompt: pc.prompt, completion: pc.completion, ...tail };
      if (pc.prompt.length !== 1 || pc.prompt[0]?.role !== 'user')
        return 'the prompt is not one user message (use the conversational style)';
      if (pc.completion.length !== 1) return 'the completion has several messages (use the conversational style)';
      return { prompt: pc.prompt[0].content, completion: pc.completion[0]?.content, ...tail };
    }
    case 'openai-preference': {
      const p = preferenceOf(v, m);
      if (typeof p === 'string') return p;
      return { input: { messages: p.prompt }, preferred_output: p.chosen, non_preferred_output: p.rejected };
    }
    case 'dpo': {
      const p = preferenceOf(v, m);
      if (typeof p === 'string') return p;
      if (o.dpoStyle === 'conversational') return { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
      if (p.prompt.length !== 1 || p.prompt[0]?.role !== 'user')
        return 'the prompt is not one user message (use dpoStyle "conversational")';
      if (p.chosen.length !== 1 || p.rejected.length !== 1)
        return 'a response has several messages (use dpoStyle "conversational")';
      return { prompt: p.prompt[0].content, chosen: p.chosen[0]?.content, rejected: p.rejected[0]?.content };
    }
    case 'distilabel-dpo': {
      const p = preferenceOf(v, m);
      if (typeof p === 'string') return p;
      const user = p.prompt[0];
      if (p.prompt.length !== 1 || user?.role !== 'user') return 'the prompt is not one user message';
      if (p.chosen.length !== 1 || p.rejected.length !== 1) return 'a response has several messages';
      return {
        prompt: user.content,
        prompt_id: sha256(user.content),
        chosen: [user, ...p.chosen],
        chosen_model: p.chosenModel,
        chosen_rating: p.chosenRating,
        rejected: [user, ...p.rejected],
        rejected_model: p.rejectedModel,
        rejected_rating: p.rejectedRating,
      };
    }
    case 'alpaca': {
      const instruction = str(getPath(v, m.instruction));
      const output = str(getPath(v, m.output));
      const system = str(getPath(v, m.system));
      if (instruction !== undefined && output !== undefined) {
        const h = getPath(v, m.history);
        if (h !== undefined && h !== null && typeof historyOf(h) === 'string') return historyOf(h) as string;
        const history = Array.isArray(h) && h.length ? { history: h as [string, string][] } : {};
        return {
          instruction,
          input: str(getPath(v, m.input)) ?? '',
          output,
          ...(system !== undefined ? { system } : {}),
          ...history,
        };
      }
      const msgs = conversationOf(v, m);
      if (typeof msgs === 'string') return msgs;
      const sys = msgs.filter((x) => x.role === 'system' || x.role === 'developer');
      const rest = msgs.filter((x) => x.role !== 'system' && x.role !== 'developer');
      if (sys.length > 1 || (sys.length === 1 && msgs[0] !== sys[0])) return 'Alpaca holds one system prompt, first';
      if (
        rest.length < 2 ||
        rest.length % 2 !== 0 ||
        rest.some((x, i) => x.role !== (i % 2 === 0 ? 'user' : 'assistant'))
      ) {
        return 'Alpaca holds alternating user and assistant turns (the earlier ones as history)';
      }
      const pairs: [string, string][] = [];
      for (let i = 0; i + 2 < rest.length; i += 2) pairs.push([rest[i]!.content, rest[i + 1]!.content]);
      const last = rest.slice(-2);
      return {
        instruction: last[0]!.content,
        input: '',
        output: last[1]!.content,
        ...(sys[0] ? { system: sys[0].content } : {}),
        ...(pairs.length ? { history: pairs } : {}),
      };
    }
    case 'alpaca-ranking': {
      const p = preferenceOf(v, m);
      if (typeof p === 'string') return p;
      const sys = p.prompt.filter((x) => x.role === 'system' || x.role === 'developer');
      const rest = p.prompt.filter((x) => x.role !== 'system' && x.role !== 'developer');
      if (rest.length !== 1 || rest[0]?.role !== 'user' || sys.length > 1)
        return 'the prompt is not one user message (use sharegpt-ranking)';
      if (p.chosen.length !== 1 || p.rejected.length !== 1)
        return 'a response has several messages (use sharegpt-ranking)';
      const instruction = str(getPath(v, m.instruction));
      const input = str(getPath(v, m.input));
      // keep instruction and input apart when the record has them
      const split =
        instruction !== undefined && input ? { instruction, input } : { instruction: rest[0].content, input: '' };
      return {
        ...split,
        chosen: p.chosen[0]!.content,
        rejected: p.rejected[0]!.content,
        ...(sys[0] ? { system: sys[0].content } : {}),
      };
    }
    case 'sharegpt': {
      const raw = getPath(v, m.messages) ?? v.conversations;
      const msgs: SftMessage[] | string = raw !== undefined ? toSftMessages(raw) : conversationOf(v, m);
      if (typeof msgs === 'string') return msgs;
      const turns: { from: string; value: string }[] = [];
      for (const x of msgs) {
        if (x.tool_calls)
          turns.push({
            from: 'function_call',
            value: JSON.stringify(x.tool_calls.length === 1 ? callOf(x.tool_calls[0]!) : x.tool_calls.map(callOf)),
          });
        else if (x.role === 'tool') turns.push({ from: 'observation', value: x.content ?? '' });
        else turns.push({ from: SHAREGPT_TO[x.role] as string, value: x.content ?? '' });
      }
      const system = str(getPath(v, m.system));
      if (system !== undefined && !turns.some((t) => t.from === 'system'))
        turns.unshift({ from: 'system', value: system });
      const tools = toolsOf(getPath(v, m.tools));
      if (typeof tools === 'string') return tools;
      const rawTools = getPath(v, m.tools);
      return {
        conversations: turns,
        ...(tools
          ? { tools: JSON.stringify(tools.map((t) => t.function)) }
          : typeof rawTools === 'string'
            ? { tools: rawTools }
            : {}),
      };
    }
    case 'sharegpt-ranking': {
      const p = preferenceOf(v, m);
      if (typeof p === 'string') return p;
      if (p.prompt[p.prompt.length - 1]?.role !== 'user') return 'the prompt does not end with a user turn';
      if (p.chosen.length !== 1 || p.rejected.length !== 1) return 'a response has several messages';
      return {
        conversations: p.prompt.map((x) => ({ from: SHAREGPT_TO[x.role] as string, value: x.content })),
        chosen: { from: 'gpt', value: p.chosen[0]!.content },
        rejected: { from: 'gpt', value: p.rejected[0]!.content },
      };
    }
    case 'argilla':
      return toArgilla(v, index, {
        idPath: m.id,
        users: o.argillaUsers,
        includeAnnotations: o.includeAnnotations,
        ...(o.argillaFields ? { fields: o.argillaFields } : {}),
      });
    case 'argilla-hub':
      return toArgillaHub(v, index, {
        idPath: m.id,
        users: o.argillaUsers,
        includeAnnotations: o.includeAnnotations,
        ...(o.argillaFields ? { fields: o.argillaFields } : {}),
      });
    case 'argilla-v1':
      return toArgillaV1(v, index, o);
    case 'records':
      return v;
    case 'distilabel':
      return toDistilabel(v, o);
  }
}

/** LLaMA-Factory's function_call value: {name, arguments} (arguments as an object when they parse). */
function callOf(c: z.infer<typeof ToolCall>): { name: string; arguments: unknown } {
  let args: unknown = c.function.arguments;
  try {
    args = JSON.parse(c.function.arguments);
  } catch {
    // kept as the string it is
  }
  return { name: c.function.name, arguments: args };
}

/** A record's tools (OpenAI `tools`: a list, or a JSON string of one as LLaMA-Factory keeps them). */
function toolsOf(raw: unknown): z.infer<typeof Tool>[] | undefined | string {
  if (raw === undefined || raw === null) return undefined;
  let list: unknown = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      return 'tools is not JSON';
    }
  }
  if (!Array.isArray(list)) return 'tools is not a list';
  // LLaMA-Factory lists the functions themselves; OpenAI wraps each in {type: "function", function}
  const wrapped = list.map((t: unknown) =>
    isObject(t) && t.type === 'function' && isObject(t.function) ? t : { type: 'function', function: t },
  );
  const parsed = z.array(Tool).safeParse(wrapped);
  return parsed.success ? parsed.data : `tools: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
}

function toArgillaV1(v: Record<string, unknown>, index: number, o: Opts): Record<string, unknown> {
  const idValue = getPath(v, o.mapping.id);
  const id = typeof idValue === 'string' || typeof idValue === 'number' ? String(idValue) : String(index);
  const fields: Record<string, unknown> = {};
  const metadata: Record<string, string | number | boolean | null> = {};
  const names =
    o.argillaFields ??
    Object.keys(v).filter(
      (k) =>
        !ANNOTATION_KEYS.has(k) && k !== o.mapping.id && k !== 'metadata' && (typeof v[k] === 'string' || isChat(v[k])),
    );
  for (const k of names) {
    const val = getPath(v, k);
    if (val !== undefined) fields[k] = val;
  }
  const scalar = (x: unknown): x is string | number | boolean | null =>
    x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  // A `metadata` object (what an Argilla import gives) first, then the other top-level scalars.
  if (isObject(v.metadata)) for (const [k, val] of Object.entries(v.metadata)) if (scalar(val)) metadata[k] = val;
  for (const [k, val] of Object.entries(v)) {
    if (ANNOTATION_KEYS.has(k) || k === o.mapping.id || k === 'metadata' || k in fields) continue;
    if (scalar(val)) metadata[k] = val;
  }
  const suggestions: Record<string, unknown>[] = [];
  const responses: Record<string, unknown>[] = [];
  const sugg = getPath(v, ['annotations', 'suggestions']);
  const questions = new Set<string>(isObject(sugg) ? Object.keys(sugg) : []);
  const human = getPath(v, ['annotations', 'human']);
  if (isObject(human)) for (const q of Object.keys(human)) questions.add(q);
  for (const q of [...questions].sort()) {
    // Argilla keeps one suggestion per question: the highest score.
    let best: ReturnType<typeof suggestionsOf>[number] | undefined;
    for (const s of suggestionsOf(v, q)) if (!best || (s.score ?? -1) > (best.score ?? -1)) best = s;
    if (best) {
      suggestions.push({
        question_name: q,
        value: best.value,
        score: best.score ?? null,
        agent: best.agent ?? null,
        type: best.type === 'human' ? 'human' : best.type === 'model' ? 'model' : null,
      });
    }
    const h = getPath(v, ['annotations', 'human', q]);
    if (isObject(h) && 'value' in h) {
      const status = h.status === 'draft' || h.status === 'discarded' ? h.status : 'submitted';
      responses.push({ question_name: q, value: h.value, user_id: str(h.user) ?? null, status });
    }
  }
  const review = reviewStatusOf(v);
  const status = review === 'reviewed' || responses.some((r) => r.status === 'submitted') ? 'completed' : 'pending';
  const row: Record<string, unknown> = { id, status, fields, metadata, suggestions, responses };
  if (o.includeAnnotations) {
    // what Argilla has no slot for: the label when no person decided, the rationale, the judges
    const extra = annotationsOf(v);
    delete extra.annotations;
    if (Object.keys(extra).length) row.annotations = extra;
  }
  return row;
}

function toDistilabel(v: Record<string, unknown>, o: Opts): Record<string, unknown> | string {
  const m = o.mapping;
  let instruction = str(getPath(v, m.instruction)) ?? str(getPath(v, m.prompt));
  let generation = str(getPath(v, m.output)) ?? str(getPath(v, m.response)) ?? str(v.generation) ?? null;
  if (instruction === undefined) {
    const raw = getPath(v, m.messages);
    if (raw !== undefined) {
      const msgs = toMessages(raw);
      if (typeof msgs === 'string') return msgs;
      instruction = msgs.find((x) => x.role === 'user')?.content;
      generation ??= [...msgs].reverse().find((x) => x.role === 'assistant')?.content ?? null;
    }
  }
  instruction ??= str(v.text);
  if (instruction === undefined) return `no ${m.instruction}, ${m.prompt}, ${m.messages} or text field`;
  const judges = judgesOf(v);
  const label = getPath(v, m.label);
  const labels =
    typeof label === 'string'
      ? label
      : Array.isArray(label) && label.every((x) => typeof x === 'string')
        ? label
        : null;
  const metadata: Record<string, unknown> = isObject(v.distilabel_metadata) ? { ...v.distilabel_metadata } : {};
  if (o.includeAnnotations) {
    const extra = annotationsOf(v);
    delete extra.label;
    if (Object.keys(extra).length) metadata.annotations = extra;
  }
  return {
    instruction,
    generation,
    model_name: str(v.model_name) ?? null,
    ratings: judges.length ? judges.map((j) => j.score) : null,
    rationales: judges.length ? judges.map((j) => j.reasons ?? null) : null,
    labels,
    distilabel_metadata: metadata,
  };
}

/** The formats that keep annotations in a place of their own (or are the records themselves). */
const ANNOTATIONS_INSIDE: ReadonlySet<ExportFormat> = new Set([
  'argilla',
  'argilla-hub',
  'argilla-v1',
  'distilabel',
  'records',
]);

/** Exports one record (validated against the format's schema), or says why it cannot. */
export function exportRecord(
  value: Record<string, unknown>,
  index: number,
  options: ExportOptions | Opts,
): ExportResult {
  const o = ExportOptions.parse(options);
  const built = build(value, index, o);
  if (typeof built === 'string') return { ok: false, reason: built };
  let row = built;
  if (o.includeAnnotations && !ANNOTATIONS_INSIDE.has(o.format)) row = { ...row, ...annotationsOf(value) };
  const check = SCHEMAS[o.format].safeParse(row);
  if (!check.success) return { ok: false, reason: `invalid ${o.format} row: ${describeZodError(check.error)}` };
  return { ok: true, row };
}

// ---------------------------------------------------------------------------------------------
// Import

/** A zod error for people: each issue's path and message; of a union, the branch that came closest. */
export function describeZodError(e: z.ZodError): string {
  const flat = (issues: readonly z.core.$ZodIssue[], prefix: (string | number)[] = []): string[] =>
    issues.flatMap((i) => {
      const path = [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      if (i.code === 'invalid_union' && i.errors.length) {
        const best = [...i.errors].sort((a, b) => a.length - b.length)[0] ?? [];
        return flat(best, path);
      }
      return [`${path.join('.') || 'row'}: ${i.message}`];
    });
  return flat(e.issues).join('; ');
}

/** Imports one row of a format into the annotation layout; throws a zod error for a row that is not of the format. */
export function importRecord(
  format: ExportFormat,
  row: unknown,
  users: Record<string, string> = {},
): Record<string, unknown> {
  const extra = isObject(row) ? annotationsOf(row) : {};
  switch (format) {
    case 'sft': {
      const r = SftRow.parse(row);
      return {
        messages: r.messages,
        ...(r.tools ? { tools: r.tools } : {}),
        ...(r.parallel_tool_calls !== undefined ? { parallel_tool_calls: r.parallel_tool_calls } : {}),
        ...extra,
      };
    }
    case 'prompt-completion': {
      const r = PromptCompletionRow.parse(row);
      return { prompt: r.prompt, completion: r.completion, ...extra };
    }
    case 'kto': {
      const r = KtoRow.parse(row);
      const ann = isObject(extra.annotations) ? extra.annotations : {};
      return {
        prompt: r.prompt,
        completion: r.completion,
        ...extra,
        annotations: { ...ann, review: { status: r.label ? 'reviewed' : 'rejected' } },
      };
    }
    case 'openai-preference': {
      const r = OpenAIPreferenceRow.parse(row);
      const one = (x: Message[]) => (x.length === 1 ? (x[0] as Message).content : x);
      const prompt =
        r.input.messages.length === 1 && r.input.messages[0]?.role === 'user'
          ? r.input.messages[0].content
          : r.input.messages;
      return { prompt, chosen: one(r.preferred_output), rejected: one(r.non_preferred_output), ...extra };
    }
    case 'dpo': {
      const r = DpoRow.parse(row);
      return { prompt: r.prompt, chosen: r.chosen, rejected: r.rejected, ...extra };
    }
    case 'distilabel-dpo': {
      const r = DistilabelDpoRow.parse(row);
      const last = (x: Message[]) => (x[x.length - 1] as Message).content;
      const out: Record<string, unknown> = { prompt: r.prompt, chosen: last(r.chosen), rejected: last(r.rejected) };
      if (r.chosen_model !== null) out.chosen_model = r.chosen_model;
      if (r.chosen_rating !== null) out.chosen_rating = r.chosen_rating;
      if (r.rejected_model !== null) out.rejected_model = r.rejected_model;
      if (r.rejected_rating !== null) out.rejected_rating = r.rejected_rating;
      return { ...out, ...extra };
    }
    case 'alpaca': {
      const r = AlpacaRow.parse(row);
      return {
        ...(r.system !== undefined ? { system: r.system } : {}),
        instruction: r.instruction,
        input: r.input,
        output: r.output,
        ...(r.history?.length ? { history: r.history } : {}),
        ...extra,
      };
    }
    case 'alpaca-ranking': {
      const r = AlpacaRankingRow.parse(row);
      return {
        ...(r.system !== undefined ? { system: r.system } : {}),
        instruction: r.instruction,
        input: r.input,
        chosen: r.chosen,
        rejected: r.rejected,
        ...extra,
      };
    }
    case 'sharegpt': {
      const r = ShareGptRow.parse(row);
      const tools = r.tools !== undefined ? { tools: r.tools } : {};
      if (r.conversations.some((t) => t.from === 'function_call' || t.from === 'observation')) {
        const msgs = toSftMessages(r.conversations);
        if (typeof msgs === 'string') throw new Error(msgs);
        return { messages: msgs, ...tools, ...extra };
      }
      return {
        messages: r.conversations.map((t) => ({ role: SHAREGPT_FROM[t.from] as Role, content: t.value })),
        ...tools,
        ...extra,
      };
    }
    case 'sharegpt-ranking': {
      const r = ShareGptRankingRow.parse(row);
      const prompt = r.conversations.map((t) => {
        const role = SHAREGPT_FROM[t.from];
        if (!role) throw new Error(`conversations: unsupported role ${JSON.stringify(t.from)} in a ranking row`);
        return { role, content: t.value };
      });
      return {
        prompt: prompt.length === 1 && prompt[0]?.role === 'user' ? prompt[0].content : prompt,
        chosen: r.chosen.value,
        rejected: r.rejected.value,
        ...extra,
      };
    }
    case 'argilla':
      return fromArgilla(
        ArgillaRow.parse(row),
        isObject(row) && isObject(row.annotations) ? row.annotations : {},
        users,
      );
    case 'argilla-hub':
      return fromArgillaHub(ArgillaHubRow.parse(row), users);
    case 'argilla-v1':
      return fromArgillaV1(ArgillaV1Row.parse(row), isObject(row) && isObject(row.annotations) ? row.annotations : {});
    case 'records':
      return RecordsRow.parse(row);
    case 'distilabel':
      return fromDistilabel(DistilabelRow.parse(row));
  }
}

function fromArgillaV1(r: z.output<typeof ArgillaV1Row>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, ...r.fields };
  if (Object.keys(r.metadata).length) out.metadata = r.metadata;
  const suggestions: Record<string, unknown[]> = {};
  const human: Record<string, unknown> = {};
  for (const s of r.suggestions) {
    const sug: Record<string, unknown> = { value: s.value };
    if (s.score !== null) sug.score = s.score;
    if (s.agent !== null) sug.agent = s.agent;
    if (s.type !== null) sug.type = s.type;
    suggestions[s.question_name] = [sug];
  }
  for (const h of r.responses) {
    human[h.question_name] = { value: h.value, ...(h.user_id !== null ? { user: h.user_id } : {}), status: h.status };
  }
  const annotations: Record<string, unknown> = {};
  if (Object.keys(suggestions).length) annotations.suggestions = suggestions;
  if (Object.keys(human).length) annotations.human = human;
  annotations.review = { status: r.status === 'completed' ? 'reviewed' : 'pending' };
  const h = human.label;
  if (isObject(h) && h.status === 'submitted') out.label = h.value;
  for (const [k, v] of Object.entries(extra)) if (k !== 'annotations') out[k] = v;
  out.annotations = annotations;
  return out;
}

function fromDistilabel(r: z.output<typeof DistilabelRow>): Record<string, unknown> {
  const out: Record<string, unknown> = { instruction: r.instruction };
  if (r.generation !== null) out.output = r.generation;
  if (r.model_name !== null) out.model_name = r.model_name;
  if (r.labels !== null) out.label = r.labels;
  const meta = { ...r.distilabel_metadata };
  const extra = isObject(meta.annotations) ? meta.annotations : {};
  delete meta.annotations;
  if (r.ratings) {
    const judges = r.ratings.map((score, i) => {
      const reasons = r.rationales?.[i];
      return { score, ...(typeof reasons === 'string' ? { reasons } : {}) };
    });
    // keep the judges' other fields (model, scale) when the export carried them
    const src = Array.isArray(extra.judges) ? extra.judges : isObject(extra.judge) ? [extra.judge] : [];
    const merged = judges.map((j, i) => (isObject(src[i]) ? { ...src[i], ...j } : j));
    if (merged.length === 1) out.judge = merged[0];
    else out.judges = merged;
  }
  for (const [k, v] of Object.entries(extra)) if (!(k in out) && k !== 'judge' && k !== 'judges') out[k] = v;
  if (Object.keys(meta).length) out.distilabel_metadata = meta;
  return out;
}

/** The human label of a record (for splits and reports). */
export function decidedLabel(v: Record<string, unknown>, question = 'label'): unknown {
  return humanOf(v, question)?.value ?? getPath(v, question);
}
