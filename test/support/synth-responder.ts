// A deterministic stand-in for a model answering the generation prompts (src/core/synth), plugged
// into the loopback server (`server.respond = synthResponder(...)`, or `--synth` standalone). It
// recognizes the structured requests by their schema's name:
//   instructions_answer   the asked number of instructions: novel ones (pseudo-words, so their
//                         ROUGE-L to anything else is low) or, for a `copyShare` of them, a
//                         near-copy of one of the examples in the prompt (one word added)
//   evolved_instruction   the instruction of the prompt with a novel clause appended
//   preference_ratings_*  a rating per response: `rating=N` when the response says so, else from a
//                         hash of the response text (so ties happen, deterministically)
//   dialogue_*            a conversation of the asked length, roles alternating
// Anything else gets the server's default answer. Every choice is seeded by the request (its last
// user message, seed and candidate index), so the same request gets the same answer.
import type { ChatBody, RecordedRequest, Reply } from './openai-server';
import { lastUserText } from './openai-server';
import { seededRandom, type JsonSchema } from './json-schema-sample';

export interface SynthResponderOptions {
  /** Share of generated instructions that are near-copies of an example (0..1). Default 0. */
  copyShare?: number;
}

export interface SynthResponderStats {
  /** Instructions answered, and how many of them were made near-copies on purpose. */
  instructions: number;
  copies: number;
  evolved: number;
  judged: number;
  dialogues: number;
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ver',
  'sa',
  'tu',
  'ren',
  'do',
  'pi',
  'zan',
  'qua',
  'el',
  'or',
  'mab',
  'fi',
  'neth',
  'gor',
  'lis',
  'tam',
  'bex',
  'cru',
  'yol',
  'hep',
  'wix',
];
const VERBS = [
  'Explain',
  'Describe',
  'Summarize',
  'List',
  'Compare',
  'Write',
  'Classify',
  'Plan',
  'Translate',
  'Rewrite',
  'Outline',
  'Evaluate',
];

function word(r: () => number): string {
  const n = 2 + Math.floor(r() * 2);
  let w = '';
  for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)]!;
  return w;
}

function novel(r: () => number, words: number): string {
  const out = [VERBS[Math.floor(r() * VERBS.length)] as string];
  for (let i = 0; i < words; i++) out.push(word(r));
  return out.join(' ');
}

function examples(text: string): string[] {
  return [...text.matchAll(/^\d+\. (.+)$/gm)].map((m) => (m[1] as string).trim());
}

function schemaOf(chat: ChatBody): { name: string; schema: JsonSchema } | undefined {
  const rf = chat.response_format;
  if (rf?.type !== 'json_schema' || !rf.json_schema?.name) return undefined;
  return { name: rf.json_schema.name, schema: rf.json_schema.schema ?? {} };
}

function prop(schema: JsonSchema, ...path: string[]): JsonSchema {
  let cur: unknown = schema;
  for (const p of path) cur = cur && typeof cur === 'object' ? (cur as JsonSchema)[p] : undefined;
  return (cur ?? {}) as JsonSchema;
}

export function synthResponder(
  opts: SynthResponderOptions = {},
  stats?: SynthResponderStats,
): (req: RecordedRequest) => Reply | undefined {
  const copyShare = opts.copyShare ?? 0;
  return (req) => {
    const chat = (req.body ?? {}) as ChatBody;
    const s = schemaOf(chat);
    if (!s) return undefined;
    const user = lastUserText(chat);
    const seed = `${user}#${chat.seed ?? ''}#${chat.model ?? ''}`;
    if (s.name === 'instructions_answer') {
      const n = Number(/Write (\d+) new instructions\./.exec(user)?.[1] ?? 5);
      const ex = examples(user);
      const items = Array.from({ length: n }, (_, k) => {
        const r = seededRandom(`${seed}#${k}`);
        if (stats) stats.instructions++;
        if (ex.length && r() < copyShare) {
          if (stats) stats.copies++;
          return { instruction: `${ex[Math.floor(r() * ex.length)]} please`, input: '' };
        }
        return { instruction: novel(r, 6 + Math.floor(r() * 4)), input: r() < 0.3 ? novel(r, 5) : '' };
      });
      return { content: JSON.stringify({ instructions: items }) };
    }
    if (s.name === 'evolved_instruction') {
      if (stats) stats.evolved++;
      const parent = /Instruction:\n([\s\S]*)$/.exec(user)?.[1]?.trim() ?? 'Explain something';
      const r = seededRandom(seed);
      return { content: JSON.stringify({ instruction: `${parent}, and ${novel(r, 10).toLowerCase()}`, input: '' }) };
    }
    if (s.name.startsWith('preference_ratings_')) {
      if (stats) stats.judged++;
      const props = prop(s.schema, 'properties');
      const rating = prop(props, 'response_1', 'properties', 'rating');
      const min = typeof rating.minimum === 'number' ? rating.minimum : 1;
      const max = typeof rating.maximum === 'number' ? rating.maximum : 10;
      const parts = user.split(/^Response \d+:\n/m).slice(1);
      const out: Record<string, { rating: number; rationale: string }> = {};
      Object.keys(props).forEach((key, i) => {
        const text = (parts[i] ?? '').trim();
        const marked = /rating=(\d+)/.exec(text);
        const v = marked ? Number(marked[1]) : min + Math.floor(seededRandom(text)() * (max - min + 1));
        out[key] = { rating: Math.max(min, Math.min(max, v)), rationale: `rated ${v} for its content` };
      });
      return { content: JSON.stringify(out) };
    }
    if (s.name.startsWith('dialogue_')) {
      if (stats) stats.dialogues++;
      const count = Number(prop(s.schema, 'properties', 'messages').minItems ?? 2);
      const r = seededRandom(seed);
      const messages = Array.from({ length: count }, (_, i) => ({
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: novel(r, 8),
      }));
      return { content: JSON.stringify({ messages }) };
    }
    return undefined;
  };
}
