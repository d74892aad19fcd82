// Token counts with OpenAI's own encodings (gpt-tokenizer, a pure-JS port of tiktoken), for the
// `tokens()` filter rule, cost estimates and the fine-tune readiness check at export. The encoding
// tables are loaded lazily, on the first count: bundled they are dist/tokenizer.js beside the
// bundle that asks (built from tokenizer-impl.ts); from TypeScript (tests, tsx) the source file.
// Models of other families (Llama, Qwen, Mistral) tokenize differently: for them the count is an
// estimate within about 10-20% on English text, far closer than bytes / 4 on code or CJK.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Encoding = 'o200k_base' | 'cl100k_base';

interface Impl {
  encodings: Record<Encoding, (text: string) => number>;
}

let impl: Impl | undefined;

function load(): Impl {
  if (impl) return impl;
  const bundled = join(__dirname, 'tokenizer.js');
  const target = existsSync(bundled) ? bundled : join(__dirname, 'tokenizer-impl');
  // a computed path: the bundler leaves it to run time (the tables stay out of the main bundle)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- countTokens is synchronous: a lazy load of a run-time path needs require (import() is async)
  impl = require(target) as Impl;
  return impl;
}

/** The encoding of an OpenAI model: cl100k_base for GPT-3.5 and GPT-4 (not 4o / 4.1), o200k_base otherwise. */
export function encodingFor(model?: string): Encoding {
  if (
    model &&
    /^(ft:)?(gpt-3\.5|gpt-4(-\d|-turbo|-32k|$|-0))|text-embedding-(ada|3)/i.test(model) &&
    !/^(ft:)?gpt-4(o|\.)/i.test(model)
  )
    return 'cl100k_base';
  return 'o200k_base';
}

/** The number of tokens of a text. */
export function countTokens(text: string, encoding: Encoding = 'o200k_base'): number {
  if (text.length === 0) return 0;
  return load().encodings[encoding](text);
}

export interface CountableMessage {
  role: string;
  content?: string | null;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

/**
 * Tokens of a chat as the model sees it: each message's role and content plus 3 tokens of framing
 * (and 1 for a name), 3 more priming the reply, as OpenAI's cookbook counts them
 * ("How to count tokens with tiktoken"); tool calls and tool definitions as their JSON text.
 */
export function countChatTokens(
  messages: readonly CountableMessage[],
  encoding: Encoding = 'o200k_base',
  tools?: unknown,
): number {
  let n = 3;
  for (const m of messages) {
    n += 3 + countTokens(m.role, encoding);
    if (typeof m.content === 'string') n += countTokens(m.content, encoding);
    if (m.name) n += 1 + countTokens(m.name, encoding);
    if (m.tool_calls) n += countTokens(JSON.stringify(m.tool_calls), encoding);
    if (m.tool_call_id) n += countTokens(m.tool_call_id, encoding);
  }
  if (tools !== undefined) n += countTokens(JSON.stringify(tools), encoding);
  return n;
}
