// The MinHash signature kernel, kept as JavaScript source so the very same code runs in the main
// thread (through `new Function`) and in worker_threads started with `eval: true` (which also works
// from the esbuild bundle: no separate worker file to ship or locate).
//
// Input: a chunk of UTF-8 texts (`bytes`, with `offsets[d]..offsets[d+1]` the d-th text).
// Shingles:
//   words (mode 0): a word is a run of ASCII letters/digits or non-ASCII bytes (so any non-ASCII
//     character is a word character; ASCII punctuation and spaces separate words); ASCII letters are
//     lowercased; a shingle is k consecutive words; a text of fewer than k words is one shingle.
//   chars (mode 1): the text with ASCII lowercased and runs of ASCII whitespace collapsed to one
//     space (trimmed); a shingle is k consecutive bytes; a shorter text is one shingle.
// Hashing: FNV-1a (32-bit) over the bytes of a word, words combined with a murmur2-style mix and
// the murmur3 finalizer; chars shingles FNV-1a + finalizer. Each of the numPerm permutations is
// h_p(x) = imul(x ^ c_p, a_p) with a_p odd: a bijection of 32-bit integers, drawn from the seed (x
// is already well mixed, and the minimum is decided by the high bits, which a multiplication
// mixes well). The signature is the minimum of h_p over the shingles, as signed int32 (any total
// order of a permutation's outputs is as good as another). counts[d] is the number of shingles (0
// for an empty text, whose signature stays all 0x7fffffff).
// No allocation per shingle: word hashes go to one reused Int32Array.
export const KERNEL_SOURCE = String.raw`
function minhashChunk(bytes, offsets, n, mode, k, numPerm, perm, out, counts) {
  var WORD = new Uint8Array(256);
  for (var b0 = 0; b0 < 256; b0++) {
    WORD[b0] = (b0 >= 48 && b0 <= 57) || (b0 >= 65 && b0 <= 90) || (b0 >= 97 && b0 <= 122) || b0 >= 128 ? 1 : 0;
  }
  var A = new Int32Array(numPerm), C = new Int32Array(numPerm);
  for (var q = 0; q < numPerm; q++) { A[q] = perm[2 * q] | 1; C[q] = perm[2 * q + 1]; }
  var wh = new Int32Array(1024);
  var nb = new Uint8Array(4096);
  for (var d = 0; d < n; d++) {
    var s = offsets[d], e = offsets[d + 1], base = d * numPerm;
    var sig = out.subarray(base, base + numPerm);
    sig.fill(2147483647);
    var cnt = 0, x = 0, i = 0, j = 0, p = 0, h = 0;
    if (mode === 0) {
      var w = 0, hw = -2128831035, inWord = false;
      for (i = s; i < e; i++) {
        var c = bytes[i];
        if (WORD[c] === 1) {
          if (c >= 65 && c <= 90) c |= 32;
          hw = Math.imul(hw ^ c, 16777619);
          inWord = true;
        } else if (inWord) {
          if (w === wh.length) { var g = new Int32Array(w * 2); g.set(wh); wh = g; }
          wh[w++] = hw; hw = -2128831035; inWord = false;
        }
      }
      if (inWord) {
        if (w === wh.length) { var g2 = new Int32Array(w * 2); g2.set(wh); wh = g2; }
        wh[w++] = hw;
      }
      if (w > 0) {
        var kk = w >= k ? k : w;
        var m = w - kk + 1;
        for (i = 0; i < m; i++) {
          x = -1756908916;
          for (j = 0; j < kk; j++) { x = Math.imul(x ^ wh[i + j], 1540483477); x ^= x >>> 13; }
          x ^= x >>> 16; x = Math.imul(x, -2048144789); x ^= x >>> 13; x = Math.imul(x, -1028477387); x ^= x >>> 16;
          for (p = 0; p < numPerm; p++) {
            h = Math.imul(x ^ C[p], A[p]);
            if (h < sig[p]) sig[p] = h;
          }
        }
        cnt = m;
      }
    } else {
      if (nb.length < e - s) nb = new Uint8Array((e - s) * 2);
      var L = 0, space = false;
      for (i = s; i < e; i++) {
        var cc = bytes[i];
        if (cc === 32 || cc === 9 || cc === 10 || cc === 13 || cc === 12 || cc === 11) { space = L > 0; continue; }
        if (space) { nb[L++] = 32; space = false; }
        nb[L++] = cc >= 65 && cc <= 90 ? cc | 32 : cc;
      }
      if (L > 0) {
        var kc = L >= k ? k : L;
        var mc = L - kc + 1;
        for (i = 0; i < mc; i++) {
          x = -2128831035;
          for (j = 0; j < kc; j++) x = Math.imul(x ^ nb[i + j], 16777619);
          x ^= x >>> 16; x = Math.imul(x, -2048144789); x ^= x >>> 13; x = Math.imul(x, -1028477387); x ^= x >>> 16;
          for (p = 0; p < numPerm; p++) {
            h = Math.imul(x ^ C[p], A[p]);
            if (h < sig[p]) sig[p] = h;
          }
        }
        cnt = mc;
      }
    }
    counts[d] = cnt;
  }
}
`;

export type MinhashChunkFn = (
  bytes: Uint8Array,
  offsets: Uint32Array,
  n: number,
  mode: 0 | 1,
  k: number,
  numPerm: number,
  perm: Int32Array,
  out: Int32Array,
  counts: Uint32Array,
) => void;

let local: MinhashChunkFn | undefined;

/** The kernel, compiled once in this thread. */
export function minhashChunk(): MinhashChunkFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  local ??= new Function(`${KERNEL_SOURCE}\nreturn minhashChunk;`)() as MinhashChunkFn;
  return local;
}

/** The source of a worker that answers {id, bytes, offsets, n, mode, k, numPerm, perm} with {id, out, counts}. */
export const WORKER_SOURCE = `${KERNEL_SOURCE}
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  const bytes = new Uint8Array(m.bytes);
  const offsets = new Uint32Array(m.offsets);
  const out = new Int32Array(m.n * m.numPerm);
  const counts = new Uint32Array(m.n);
  minhashChunk(bytes, offsets, m.n, m.mode, m.k, m.numPerm, new Int32Array(m.perm), out, counts);
  parentPort.postMessage({ id: m.id, out: out.buffer, counts: counts.buffer }, [out.buffer, counts.buffer]);
});
`;
