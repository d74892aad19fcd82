// The MinHash signature kernel, kept as JavaScript source so the very same code runs in the main
// thread (through `new Function`) and in worker_threads started with `eval: true` (which also works
// from the esbuild bundle: no separate worker file to ship or locate).
//
// Input: a chunk of UTF-8 texts (`bytes`, with `offsets[d]..offsets[d+1]` the d-th text), as the
// main thread wrote them (one encode a text, nothing else there). A text with a non-ASCII byte goes
// through `slow` first (its bytes in, the normalized text's bytes out: NFKC and lowercase for
// MinHash, normalizeText for the exact keys), so the string work is done in the workers too;
// ASCII texts need none of it (NFKC leaves ASCII alone; the kernel lowercases ASCII itself), nor
// do texts whose other characters are Latin-1 letters (latin1() below).
// Shingles:
//   words (mode 0): a word is a run of ASCII letters/digits or non-ASCII bytes (so any non-ASCII
//     character is a word character; ASCII punctuation and spaces separate words); ASCII letters are
//     lowercased; a shingle is k consecutive words; a text of fewer than k words is one shingle.
//   chars (mode 1): the text with ASCII lowercased and runs of ASCII whitespace collapsed to one
//     space (trimmed); a shingle is k consecutive bytes; a shorter text is one shingle.
// Hashing: FNV-1a (32-bit) over the bytes of a word, words combined with a murmur2-style mix and
// the murmur3 finalizer; chars shingles FNV-1a + finalizer.
// Signature: one permutation hashing with optimal densification (Shrivastava & Li 2014;
// Shrivastava 2017), a MinHash of numPerm components in O(shingles + numPerm) per text instead of
// O(shingles * numPerm): a shingle's hash picks a bin (its top bits) and a value (a second mix
// seeded from the permutation parameters); each bin keeps its smallest value; an empty bin takes
// the value of the first non-empty bin that a seeded probe sequence of its own reaches (the same
// sequence for every text, so two texts agree on a bin with probability equal to their Jaccard
// similarity, as with numPerm permutations). The signature keeps the low 16 bits of each
// component (b-bit MinHash, b = 16: two different components are equal by chance with
// probability 2^-16, a bias far below the estimate's standard error) to halve its memory.
// counts[d] is the number of shingles (0 for an empty text, whose signature is left as zeros).
// No allocation per shingle: word hashes go to one reused Int32Array.
//
// exactChunk: the exact pass's key of each text, the md5 of its normalized UTF-8 (the same bytes
// and digest as dedup.ts exactKey): a non-ASCII text through `slow` (normalizeText); then ASCII
// letters are lowercased, ASCII whitespace (JS \s in ASCII: 9-13, 32) runs become one space,
// trimmed, and with `strip`, ASCII punctuation and symbols (every printable non-alphanumeric
// ASCII character is Unicode P or S) count as whitespace: normalizeText for an ASCII text, and
// no change to normalizeText's output. out: 16 bytes a text.
export const KERNEL_SOURCE = String.raw`
function nonAscii(bytes, s, e) {
  for (var i = s; i < e; i++) if (bytes[i] >= 128) return true;
  return false;
}
var latinOut = new Uint8Array(4096);
// A text whose only non-ASCII characters are the Latin-1 letters U+00C0-U+00FF (UTF-8 C3 80-BF)
// but × and ÷ (C3 97, C3 B7): those are left alone by NFKC (alone and next to any ASCII or other
// such letter), are no punctuation, symbol or space, and lowercase to the letter 0x20 above
// (C3 80-9E but 97 to C3 A0-BE). Such a text (é, ü, ñ in European languages) is lowercased here,
// into latinOut, instead of through the slow path; its length, or -1 for any other text.
function latin1(bytes, s, e) {
  if (latinOut.length < e - s) latinOut = new Uint8Array((e - s) * 2);
  var o = latinOut, L = 0;
  for (var i = s; i < e; i++) {
    var c = bytes[i];
    if (c < 128) { o[L++] = c; continue; }
    if (c !== 195 || i + 1 >= e) return -1;
    var c2 = bytes[++i];
    if (c2 === 151 || c2 === 183 || c2 < 128 || c2 > 191) return -1;
    o[L++] = 195;
    o[L++] = c2 <= 158 ? c2 + 32 : c2;
  }
  return L;
}
function exactChunk(bytes, offsets, n, strip, out, md5, slow) {
  var SP = new Uint8Array(256);
  for (var b0 = 0; b0 < 128; b0++) {
    var alnum = (b0 >= 48 && b0 <= 57) || (b0 >= 65 && b0 <= 90) || (b0 >= 97 && b0 <= 122);
    SP[b0] = b0 === 32 || (b0 >= 9 && b0 <= 13) || (strip && b0 > 32 && b0 < 127 && !alnum) ? 1 : 0;
  }
  var nb = new Uint8Array(4096);
  for (var d = 0; d < n; d++) {
    var src = bytes, s = offsets[d], e = offsets[d + 1];
    if (nonAscii(bytes, s, e)) {
      var L1 = latin1(bytes, s, e);
      if (L1 >= 0) { src = latinOut; e = L1; } else { src = slow(bytes.subarray(s, e)); e = src.length; }
      s = 0;
    }
    if (nb.length < e - s) nb = new Uint8Array((e - s) * 2);
    var L = 0, space = false;
    for (var i = s; i < e; i++) {
      var c = src[i];
      if (SP[c] === 1) { space = L > 0; continue; }
      if (space) { nb[L++] = 32; space = false; }
      nb[L++] = c >= 65 && c <= 90 ? c | 32 : c;
    }
    out.set(md5(nb.subarray(0, L)), d * 16);
  }
}
function minhashChunk(bytes, offsets, n, mode, k, numPerm, perm, out, counts, slow) {
  var WORD = new Uint8Array(256);
  for (var b0 = 0; b0 < 256; b0++) {
    WORD[b0] = (b0 >= 48 && b0 <= 57) || (b0 >= 65 && b0 <= 90) || (b0 >= 97 && b0 <= 122) || b0 >= 128 ? 1 : 0;
  }
  var VA = perm[0] | 1, VC = perm[1], DS = perm[2];
  var sig = new Int32Array(numPerm);
  var filled = new Uint8Array(numPerm);
  var wh = new Int32Array(1024);
  var nb = new Uint8Array(4096);
  // One shingle hash x into the bins.
  function add(x) {
    var bin = ((x >>> 16) * numPerm) >>> 16;
    var v = Math.imul(x ^ VC, VA);
    v ^= v >>> 15; v = Math.imul(v, -2048144789); v ^= v >>> 13;
    if (filled[bin] === 0) { filled[bin] = 1; sig[bin] = v; }
    else if (v < sig[bin]) sig[bin] = v;
  }
  for (var d = 0; d < n; d++) {
    var src = bytes, s = offsets[d], e = offsets[d + 1], base = d * numPerm;
    if (slow !== null && nonAscii(bytes, s, e)) {
      var L1 = latin1(bytes, s, e);
      if (L1 >= 0) { src = latinOut; e = L1; } else { src = slow(bytes.subarray(s, e)); e = src.length; }
      s = 0;
    }
    filled.fill(0);
    var cnt = 0, x = 0, i = 0, j = 0;
    if (mode === 0) {
      var w = 0, hw = -2128831035, inWord = false;
      for (i = s; i < e; i++) {
        var c = src[i];
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
          add(x);
        }
        cnt = m;
      }
    } else {
      if (nb.length < e - s) nb = new Uint8Array((e - s) * 2);
      var L = 0, space = false;
      for (i = s; i < e; i++) {
        var cc = src[i];
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
          add(x);
        }
        cnt = mc;
      }
    }
    counts[d] = cnt;
    if (cnt === 0) continue;
    for (var p = 0; p < numPerm; p++) {
      var val = sig[p];
      if (filled[p] === 0) {
        // Optimal densification: probe bins in a seeded order of this bin's own until a filled one.
        var q = -1;
        for (var t = 1; t <= 64 * numPerm; t++) {
          var y = Math.imul(p + 1, -1640531535) ^ Math.imul(t, -2048144789) ^ DS;
          y ^= y >>> 16; y = Math.imul(y, -2048144789); y ^= y >>> 13; y = Math.imul(y, -1028477387); y ^= y >>> 16;
          var r = ((y >>> 16) * numPerm) >>> 16;
          if (filled[r] === 1) { q = r; break; }
        }
        if (q === -1) { q = p; while (filled[q] === 0) q = (q + 1) % numPerm; }
        val = sig[q];
      }
      out[base + p] = val & 65535;
    }
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
  out: Uint16Array,
  counts: Uint32Array,
  slow: ((bytes: Uint8Array) => Uint8Array) | null,
) => void;

let local: MinhashChunkFn | undefined;

/** The kernel, compiled once in this thread. */
export function minhashChunk(): MinhashChunkFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  local ??= (new Function(`${KERNEL_SOURCE}\nreturn minhashChunk;`) as () => MinhashChunkFn)();
  return local;
}

export type ExactChunkFn = (
  bytes: Uint8Array,
  offsets: Uint32Array,
  n: number,
  strip: boolean,
  out: Uint8Array,
  md5: (bytes: Uint8Array) => Uint8Array,
  slow: (bytes: Uint8Array) => Uint8Array,
) => void;

let localExact: ExactChunkFn | undefined;

/** The exact pass's kernel, compiled once in this thread. */
export function exactChunk(): ExactChunkFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  localExact ??= (new Function(`${KERNEL_SOURCE}\nreturn exactChunk;`) as () => ExactChunkFn)();
  return localExact;
}

/**
 * The normalizations of a non-ASCII text, from its UTF-8 to the normalized text's UTF-8, as
 * JavaScript source (the workers') and as functions here (the same source): `nearSlow` is NFKC +
 * lowercase (MinHash), `exactSlow(strip)` is dedup.ts normalizeText (exact keys).
 */
export const NORMALIZE_SOURCE = String.raw`
function normalizeText(text, strip) {
  var t = text.normalize('NFKC').toLowerCase();
  if (strip) t = t.replace(/[\p{P}\p{S}]+/gu, ' ');
  return t.replace(/\s+/g, ' ').trim();
}
function utf8Of(t) {
  var b = Buffer.from(t, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
function textOf(b) {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
}
function nearSlow(b) {
  return utf8Of(textOf(b).normalize('NFKC').toLowerCase());
}
function exactSlow(strip) {
  return function (b) { return utf8Of(normalizeText(textOf(b), strip)); };
}
`;

export type SlowFn = (bytes: Uint8Array) => Uint8Array;

let localNormalize:
  | { normalizeText: (text: string, strip: boolean) => string; nearSlow: SlowFn; exactSlow: (strip: boolean) => SlowFn }
  | undefined;

/** The normalizations compiled in this thread (normalizeText is dedup.ts's, exported from there). */
export function normalizers(): NonNullable<typeof localNormalize> {
  if (!localNormalize) {
    const body = `${NORMALIZE_SOURCE}\nreturn { normalizeText, nearSlow, exactSlow };`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function('Buffer', body) as (b: typeof Buffer) => NonNullable<typeof localNormalize>;
    localNormalize = make(Buffer);
  }
  return localNormalize;
}

/**
 * The source of a worker that answers {id, bytes, offsets, n, mode, k, numPerm, perm, normalize}
 * with {id, out, counts} (MinHash signatures), and {id, exact: true, bytes, offsets, n, strip}
 * with {id, out} (16-byte keys).
 */
export const WORKER_SOURCE = `${KERNEL_SOURCE}
${NORMALIZE_SOURCE}
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const md5 = (v) => createHash('md5').update(v).digest();
parentPort.on('message', (m) => {
  const bytes = new Uint8Array(m.bytes);
  const offsets = new Uint32Array(m.offsets);
  if (m.exact) {
    const keys = new Uint8Array(m.n * 16);
    exactChunk(bytes, offsets, m.n, m.strip, keys, md5, exactSlow(m.strip));
    const none = new ArrayBuffer(0);
    parentPort.postMessage({ id: m.id, out: keys.buffer, counts: none }, [keys.buffer]);
    return;
  }
  const out = new Uint16Array(m.n * m.numPerm);
  const counts = new Uint32Array(m.n);
  minhashChunk(bytes, offsets, m.n, m.mode, m.k, m.numPerm, new Int32Array(m.perm), out, counts, m.normalize ? nearSlow : null);
  parentPort.postMessage({ id: m.id, out: out.buffer, counts: counts.buffer }, [out.buffer, counts.buffer]);
});
`;
