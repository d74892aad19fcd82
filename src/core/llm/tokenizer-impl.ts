// The tokenizer itself: gpt-tokenizer's o200k_base (GPT-4o, GPT-4.1, GPT-5, o-series) and
// cl100k_base (GPT-4, GPT-3.5) encodings. Bundled on its own (dist/tokenizer.js, about 4 MB of
// merge ranks) and loaded by tokenizer.ts on first use, so the extension's start-up never pays for
// it; each encoding's tables are built on its own first use (most counts need o200k_base only).
type Count = (text: string, options: { disallowedSpecial: Set<string> }) => number;

/** Special-token text (e.g. "<|endoftext|>") in a dataset is counted as the plain text it is, as the API does. */
const plain = { disallowedSpecial: new Set<string>() };

let o200k: Count | undefined;
let cl100k: Count | undefined;

export const encodings = {
  o200k_base: (text: string): number => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (a static import would build every encoding's tables at load)
    o200k ??= (require('gpt-tokenizer/encoding/o200k_base') as { countTokens: Count }).countTokens;
    return o200k(text, plain);
  },
  cl100k_base: (text: string): number => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (a static import would build every encoding's tables at load)
    cl100k ??= (require('gpt-tokenizer/encoding/cl100k_base') as { countTokens: Count }).countTokens;
    return cl100k(text, plain);
  },
};
