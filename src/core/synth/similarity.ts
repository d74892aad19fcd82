// ROUGE-L between instructions, and a pool that answers "is this new instruction too close to any
// instruction already kept?" quickly for many thousands of instructions.
//
// ROUGE-L (Lin 2004) as self-instruct uses it (rouge_score's `rougeL` F-measure, beta = 1): with
// a, b token sequences and L their longest common subsequence, P = L/|a|, R = L/|b|,
// F = 2PR/(P+R) = 2L/(|a|+|b|). Tokens: the text lower-cased (NFKC), split into runs of letters,
// marks and digits; in scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer,
// Myanmar) each character is a token, so Chinese or Japanese instructions are compared too (the
// reference tokenizer drops every non-ASCII character).
//
// The pool check: L <= sum over tokens t of min(count_a(t), count_b(t)) (a common subsequence uses
// each token at most as often as both sides have it), so F <= 2 * overlap / (|a|+|b|). An inverted
// index (token -> instructions holding it, with counts) gives every instruction's overlap with the
// candidate in one pass over the candidate's tokens' postings; only instructions whose bound reaches
// the threshold get the O(|a||b|) LCS. Instructions sharing no token are never looked at.

const UNSPACED =
  '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}';
// (constructed at run time: the `v` flag's set difference is newer than the type-checker's target)
const TOKEN = new RegExp(`[${UNSPACED}]|[[\\p{L}\\p{M}\\p{N}]--[${UNSPACED}]]+`, 'gv');

export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
}

/** Length of the longest common subsequence of two token-id sequences (two rows, O(min) memory). */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length < b.length) [a, b] = [b, a];
  const n = b.length;
  if (n === 0) return 0;
  let prev = new Uint16Array(n + 1);
  let cur = new Uint16Array(n + 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let j = 0; j < n; j++) {
      cur[j + 1] = ai === b[j] ? (prev[j] as number) + 1 : Math.max(prev[j + 1] as number, cur[j] as number);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n] as number;
}

/** ROUGE-L F-measure of two texts (0 when either has no tokens). */
export function rougeL(a: string, b: string): number {
  const ids = new Map<string, number>();
  const id = (t: string): number => {
    let v = ids.get(t);
    if (v === undefined) ids.set(t, (v = ids.size));
    return v;
  };
  const ta = tokenize(a).map(id);
  const tb = tokenize(b).map(id);
  if (ta.length === 0 || tb.length === 0) return 0;
  return (2 * lcsLength(ta, tb)) / (ta.length + tb.length);
}

export interface Nearest {
  /** ROUGE-L F-measure, 0..1. */
  similarity: number;
  /** Index in the pool (the order of `add`). */
  index: number;
  text: string;
}

interface Posting {
  data: Int32Array;
  length: number;
}

/** Longest sequence the LCS table is built for (Uint16 cells); longer texts are cut for the comparison. */
const MAX_TOKENS = 4096;

export class SimilarityPool {
  private readonly ids = new Map<string, number>();
  private readonly items: Int32Array[] = [];
  private readonly texts: string[] = [];
  /** token id -> flat [item, count, item, count, ...] (typed, grown by doubling) */
  private readonly postings: Posting[] = [];
  private overlap = new Int32Array(64);
  /** LCS computations done / instructions passed over by the bound (for benchmarks and tests). */
  readonly counters = { checks: 0, lcs: 0, pruned: 0 };

  constructor(readonly threshold: number) {
    if (!(threshold > 0 && threshold <= 1)) throw new RangeError('the similarity threshold must be in (0, 1]');
  }

  get size(): number {
    return this.items.length;
  }

  text(index: number): string {
    return this.texts[index] ?? '';
  }

  private encode(text: string, grow: boolean): Int32Array {
    const toks = tokenize(text);
    const n = Math.min(toks.length, MAX_TOKENS);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = toks[i] as string;
      let v = this.ids.get(t);
      if (v === undefined) {
        // A token the pool has never seen matches nothing in it: -1 unless it is being added.
        if (!grow) {
          out[i] = -1;
          continue;
        }
        this.ids.set(t, (v = this.ids.size));
        this.postings.push({ data: new Int32Array(4), length: 0 });
      }
      out[i] = v;
    }
    return out;
  }

  /** Adds an instruction; returns its index. */
  add(text: string): number {
    const seq = this.encode(text, true);
    const index = this.items.length;
    this.items.push(seq);
    this.texts.push(text);
    const counts = new Map<number, number>();
    for (const t of seq) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, c] of counts) {
      const p = this.postings[t] as Posting;
      if (p.length + 2 > p.data.length) {
        const bigger = new Int32Array(p.data.length * 2);
        bigger.set(p.data);
        p.data = bigger;
      }
      p.data[p.length++] = index;
      p.data[p.length++] = c;
    }
    if (this.overlap.length < this.items.length) this.overlap = new Int32Array(this.overlap.length * 2); // all zero between checks
    return index;
  }

  /**
   * Whether some instruction of the pool has a ROUGE-L with `text` at or above the threshold, and
   * that instruction (`nearest`). When none does, `nearest` is the closest one whose bound made it
   * worth computing, if any (it is below the threshold).
   */
  check(text: string): { tooSimilar: boolean; nearest?: Nearest } {
    this.counters.checks++;
    const seq = this.encode(text, false);
    const m = seq.length;
    if (m === 0 || this.items.length === 0) return { tooSimilar: false };
    const counts = new Map<number, number>();
    for (const t of seq) if (t >= 0) counts.set(t, (counts.get(t) ?? 0) + 1);
    // The most common tokens ("the", "a", "write"...) have postings as long as the pool. An
    // instruction sharing none of the other tokens overlaps by at most C (the candidate's count of
    // the common ones), so its bound is at most 2C/(m+1): while that stays below the threshold, the
    // common tokens' postings need not be read at all. (Prefix filtering, with the real document
    // frequencies.) For instructions reached through the rarer tokens, the common overlap is counted
    // from their own tokens.
    const byLength = [...counts.entries()].sort(
      (x, y) => (this.postings[y[0]] as Posting).length - (this.postings[x[0]] as Posting).length,
    );
    const budget = (this.threshold * (m + 1)) / 2;
    const common = new Map<number, number>();
    let skipped = 0;
    for (const [t, c] of byLength) {
      if (skipped + c < budget - 1e-9) {
        common.set(t, c);
        skipped += c;
      }
    }
    const overlap = this.overlap;
    const touched: number[] = [];
    for (const [t, c] of counts) {
      if (common.has(t)) continue;
      const { data, length } = this.postings[t] as Posting;
      for (let k = 0; k < length; k += 2) {
        const item = data[k] as number;
        if (overlap[item] === 0) touched.push(item);
        overlap[item] = (overlap[item] as number) + Math.min(c, data[k + 1] as number);
      }
    }
    // Only instructions whose bound reaches the threshold can be too similar.
    const candidates: number[] = [];
    const lengthOf = (item: number): number => (this.items[item] as Int32Array).length;
    for (const item of touched) {
      const n = lengthOf(item);
      if ((2 * ((overlap[item] as number) + skipped)) / (m + n) < this.threshold) continue; // even if every common token matched
      if (common.size) {
        for (const [t, c] of common) {
          let k = 0;
          for (const x of this.items[item] as Int32Array) if (x === t) k++;
          overlap[item] = (overlap[item] as number) + Math.min(c, k);
        }
      }
      if ((2 * (overlap[item] as number)) / (m + n) >= this.threshold) candidates.push(item);
    }
    this.counters.pruned += touched.length - candidates.length;
    // Highest bound first: a near-copy is usually found by the first LCS.
    const bound = (item: number): number => (2 * (overlap[item] as number)) / (m + lengthOf(item));
    candidates.sort((x, y) => bound(y) - bound(x) || x - y);
    let best: Nearest | undefined;
    let hit = false;
    for (const item of candidates) {
      if (hit) {
        this.counters.pruned++;
        continue;
      }
      this.counters.lcs++;
      const other = this.items[item] as Int32Array;
      const sim = (2 * lcsLength(seq, other)) / (m + other.length);
      if (!best || sim > best.similarity) best = { similarity: sim, index: item, text: this.texts[item] as string };
      if (sim >= this.threshold) hit = true;
    }
    for (const item of touched) overlap[item] = 0;
    return { tooSimilar: hit, nearest: best };
  }
}
