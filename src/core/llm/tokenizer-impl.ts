// The tokenizer itself: gpt-tokenizer's o200k_base (GPT-4o, GPT-4.1, GPT-5, o-series) and
// cl100k_base (GPT-4, GPT-3.5) encodings. Bundled on its own (dist/tokenizer.js, about 4 MB of
// merge ranks) and loaded by tokenizer.ts on first use, so the extension's start-up never pays for it.
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/** Special-token text (e.g. "<|endoftext|>") in a dataset is counted as the plain text it is, as the API does. */
const plain = { disallowedSpecial: new Set<string>() };

export const encodings = {
  o200k_base: (text: string): number => o200k(text, plain),
  cl100k_base: (text: string): number => cl100k(text, plain),
};
