// The WebAssembly scanner of dataset statistics (AssemblyScript; compiled by scripts/build-wasm.ts
// into src/core/store/stats-wasm.generated.ts, driven by src/core/store/stats-wasm.ts).
//
// Per chunk that JS has read straight into this module's memory, two calls. prepare() writes the
// sentinel (a newline after the chunk) and a bitmap of the bytes a string stops at (quote,
// backslash, below 0x20): per 16 bytes an xor and a compare (quote, control bytes), a compare
// (backslash) and i8x16.bitmask; one 64-bit word per 64 bytes. scan() then counts the lines: it splits them itself, checks each line's JSON syntax
// all the way (so it accepts exactly the lines JSON.parse accepts, or gives up), picks out the
// members stats reads and adds them to the aggregates kept here (counts, score sum, histogram
// buckets, a table of label bytes). A string is skipped with a shift and ctz on the bitmap. A line
// it gives up on (anything it is unsure of: see line() below) stops the call, and JS counts that
// line with the JS scanner or the full parse, then calls again after it: the figures are the same
// either way, in the same order (the score sum is one running sum, handed back and forth).
//
// The same state machine as the JS scanner (src/core/store/stats-scan.ts): the comments there
// explain the contexts and the duplicate-key rule (the last one wins); here the member loop has
// no state variable (a key, its value, then commas and closing brackets, each in its own place).
// No token scan needs a bounds check: every one stops at a newline (the sentinel at the latest),
// which is also the line's end, and JS leaves 128 bytes of slack after the chunk for the loads.
//
// Memory: static areas below (names, stacks, aggregates, the label table), then the input chunk
// from inputPtr() and the bitmap after it; JS grows the memory when a chunk needs more.

// Byte values.
const QUOTE: u8 = 0x22;
const BSLASH: u8 = 0x5c;
const NL: u8 = 0x0a;
const CR: u8 = 0x0d;

// Nesting the scanner follows before it gives up (the full parse then checks the 512 limit).
const MAX_DEPTH: i32 = 64;

// What a value is, for the members stats reads.
const T_NONE: i32 = 0;
const T_STRING: i32 = 1;
const T_NUMBER: i32 = 2;
const T_TRUE: i32 = 3;
const T_FALSE: i32 = 4;
const T_OTHER: i32 = 5;

// The containers whose members are read.
const C_NONE: u8 = 0;
const C_TOP: u8 = 1;
const C_JUDGE: u8 = 2;
const C_ANN: u8 = 3;
const C_REVIEW: u8 = 4;
const C_HUMAN: u8 = 5;
const C_SUGG: u8 = 6;
const C_ORIGIN: u8 = 7;
const C_SCALE: u8 = 8;

// What a member's value is to stats.
const M_NONE: i32 = 0;
const M_LABEL: i32 = 1;
const M_JUDGE: i32 = 2;
const M_ANN: i32 = 3;
const M_SCORE: i32 = 4;
const M_SCALE: i32 = 5;
const M_SCALE_HI: i32 = 6;
const M_REVIEW: i32 = 7;
const M_STATUS: i32 = 8;
const M_HUMAN: i32 = 9;
const M_HUMAN_Q: i32 = 10;
const M_SUGG: i32 = 11;
const M_SUGG_Q: i32 = 12;
const M_ORIGIN: i32 = 13;
const M_TYPE: i32 = 14;

const ST_KEY: i32 = 0;
const ST_VALUE: i32 = 1;
const ST_AFTER: i32 = 2;

// --- static memory ------------------------------------------------------------------------------

/** The four field names (label, judge, annotations, question), NAME_MAX bytes each, written by JS. */
const NAME_MAX: i32 = 256;
const NAMES = memory.data(4 * NAME_MAX);
let labelLen: i32 = 0;
let judgeLen: i32 = 0;
let annLen: i32 = 0;
let questionLen: i32 = 0;

const W_SCORE = memory.data<u8>([0x73, 0x63, 0x6f, 0x72, 0x65]);
const W_SCALE = memory.data<u8>([0x73, 0x63, 0x61, 0x6c, 0x65]);
const W_REVIEW = memory.data<u8>([0x72, 0x65, 0x76, 0x69, 0x65, 0x77]);
const W_STATUS = memory.data<u8>([0x73, 0x74, 0x61, 0x74, 0x75, 0x73]);
const W_HUMAN = memory.data<u8>([0x68, 0x75, 0x6d, 0x61, 0x6e]);
const W_SUGGESTIONS = memory.data<u8>([0x73, 0x75, 0x67, 0x67, 0x65, 0x73, 0x74, 0x69, 0x6f, 0x6e, 0x73]);
const W_ORIGIN = memory.data<u8>([0x6f, 0x72, 0x69, 0x67, 0x69, 0x6e]);
const W_TYPE = memory.data<u8>([0x74, 0x79, 0x70, 0x65]);
const W_PENDING = memory.data<u8>([0x70, 0x65, 0x6e, 0x64, 0x69, 0x6e, 0x67]);
const W_MODEL = memory.data<u8>([0x6d, 0x6f, 0x64, 0x65, 0x6c]);
const W_TRUE = memory.data<u8>([0x74, 0x72, 0x75, 0x65]);
const W_FALSE = memory.data<u8>([0x66, 0x61, 0x6c, 0x73, 0x65]);

const POW10 = memory.data<f64>([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
]);

/**
 * Per nesting level, the context of the containers around the innermost one (u8; the innermost
 * one's context and the kinds of all are locals of line()).
 */
const CTX = memory.data(MAX_DEPTH + 2);

// Aggregates of the lines counted here since reset().
let records: i32 = 0;
let annotated: i32 = 0;
let scored: i32 = 0;
let reviewed: i32 = 0;
let humanLabeled: i32 = 0;
let suggested: i32 = 0;
let generated: i32 = 0;
/** The running score sum: JS sets it before a call and reads it after (one sum, in line order). */
let scoreSum: f64 = 0;

/** Histogram buckets: integers (Math.round) and tenths (0..1 scales), -HIST_MIN..HIST_MAX, as i32 counts. */
const HIST_MIN: i32 = 1024;
const HIST_MAX: i32 = 1024;
const HIST_N: i32 = HIST_MIN + HIST_MAX + 1;
const HIST_INT = memory.data(4 * HIST_N);
const HIST_TENTH = memory.data(4 * HIST_N);

/**
 * Label text bytes -> count: open addressing, LT_CAP slots of 16 bytes (hash, arena offset, length,
 * count), filled to half at most; the bytes in an arena. A label that does not fit (too long, the
 * table or arena full) makes the line go to JS.
 */
const LT_CAP: i32 = 4096;
const LT_MAX_USED: i32 = LT_CAP / 2;
const LT_LABEL_MAX: i32 = 256;
const LT = memory.data(16 * LT_CAP);
const LT_USED = memory.data(4 * LT_CAP);
const ARENA_SIZE: i32 = 128 * 1024;
const ARENA = memory.data(ARENA_SIZE);
let ltUsed: i32 = 0;
let arenaUsed: i32 = 0;

// Set by a call to scan(): lines counted, and the line it stopped at (gave up on).
let gLines: i32 = 0;
let gStart: usize = 0;
let gNl: usize = 0;
// What one line yields (globals, not locals: the scan loop keeps its few hot values in registers).
let labelType = T_NONE;
let labelStart: usize = 0;
let labelEnd: usize = 0;
let judgeObj = false;
let scoreType = T_NONE;
let scoreStart: usize = 0;
let scoreEnd: usize = 0;
let scaleArray = false;
let scaleHiType = T_NONE;
let scaleHiStart: usize = 0;
let scaleHiEnd: usize = 0;
let annObj = false;
let reviewObj = false;
let reviewSet = false;
let humanQObj = false;
let suggQNonEmpty = false;
let originModel = false;

/** The chunk prepare() was given: its start, and its bitmap of string stops. */
let chunkBase: usize = 0;
let masks: usize = 0;
/** Set by str(): the string just scanned had an escape. */
let escaped: bool = false;

// --- the interface ------------------------------------------------------------------------------

/** Where the input chunk starts (JS reads into memory from here on; it grows the memory as needed). */
export function inputPtr(): usize {
  return (__heap_base + 63) & ~(63 as usize);
}

export function namesPtr(): usize {
  return NAMES;
}

export function nameMax(): i32 {
  return NAME_MAX;
}

/** The byte lengths of the four names JS wrote at namesPtr() (label, judge, annotations, question). */
export function setNames(label: i32, judge: i32, ann: i32, question: i32): void {
  labelLen = label;
  judgeLen = judge;
  annLen = ann;
  questionLen = question;
}

/** Clears the aggregates (a new range). */
export function reset(): void {
  records = 0;
  annotated = 0;
  scored = 0;
  reviewed = 0;
  humanLabeled = 0;
  suggested = 0;
  generated = 0;
  scoreSum = 0;
  memory.fill(HIST_INT, 0, 4 * HIST_N);
  memory.fill(HIST_TENTH, 0, 4 * HIST_N);
  for (let k = 0; k < ltUsed; k++) memory.fill(LT + 16 * (load<u32>(LT_USED + 4 * k) as usize), 0, 16);
  ltUsed = 0;
  arenaUsed = 0;
}

export function setScoreSum(x: f64): void {
  scoreSum = x;
}
export function getScoreSum(): f64 {
  return scoreSum;
}

/** The counts, in this order: records, annotated, scored, reviewed, humanLabeled, suggested, generated. */
export function count(k: i32): i32 {
  switch (k) {
    case 0:
      return records;
    case 1:
      return annotated;
    case 2:
      return scored;
    case 3:
      return reviewed;
    case 4:
      return humanLabeled;
    case 5:
      return suggested;
    case 6:
      return generated;
  }
  return 0;
}

export function histIntPtr(): usize {
  return HIST_INT;
}
export function histTenthPtr(): usize {
  return HIST_TENTH;
}
export function histMin(): i32 {
  return HIST_MIN;
}
export function histN(): i32 {
  return HIST_N;
}
export function labelTablePtr(): usize {
  return LT;
}
export function labelUsedPtr(): usize {
  return LT_USED;
}
export function labelsUsed(): i32 {
  return ltUsed;
}
export function arenaPtr(): usize {
  return ARENA;
}
export function linesCounted(): i32 {
  return gLines;
}
export function stopStart(): usize {
  return gStart;
}
export function stopNewline(): usize {
  return gNl;
}

/**
 * Prepares the chunk of bytes [start, end) (start 64-aligned) for scan(): writes the sentinel after
 * it and, at `bitmap` (end - start + 1) / 8 bytes and more, one bit per byte for the bytes a string
 * stops at (quote, backslash, below 0x20), 64 bytes a word: the strings are then skipped with word
 * shifts and ctz, with no 16-byte compare chain per string.
 */
export function prepare(start: usize, end: usize, bitmap: usize): void {
  store<u8>(end, NL);
  chunkBase = start;
  masks = bitmap;
  // A quote or a byte below 0x20 is below 0x21 once bit 1 is flipped (0x22 -> 0x20; 0x00-0x1f stay
  // below 0x20; nothing else lands below 0x21): one xor and one compare for both.
  const two = i8x16.splat(0x02);
  const qc = i8x16.splat(0x21);
  const bs = i8x16.splat(BSLASH);
  let o = bitmap;
  for (let i = start; i <= end; i += 64) {
    const a = v128.load(i);
    const b = v128.load(i, 16);
    const c = v128.load(i, 32);
    const d = v128.load(i, 48);
    const ma = i8x16.bitmask(v128.or(i8x16.lt_u(v128.xor(a, two), qc), i8x16.eq(a, bs))) as u64;
    const mb = i8x16.bitmask(v128.or(i8x16.lt_u(v128.xor(b, two), qc), i8x16.eq(b, bs))) as u64;
    const mc = i8x16.bitmask(v128.or(i8x16.lt_u(v128.xor(c, two), qc), i8x16.eq(c, bs))) as u64;
    const md = i8x16.bitmask(v128.or(i8x16.lt_u(v128.xor(d, two), qc), i8x16.eq(d, bs))) as u64;
    store<u64>(o, ma | (mb << 16) | (mc << 32) | (md << 48));
    o += 8;
  }
}

/**
 * Scans the lines of bytes [start, end) (whole lines; the last one may end at `end` without a
 * terminator; valid UTF-8 with CRs only in CRLF terminators, as JS checked). Returns 0 when every
 * line was counted here, 1 when it stopped at a line JS must count: stopStart() .. stopNewline()
 * (the newline's position, or `end`); linesCounted() says how many lines came before it.
 */
export function scan(start: usize, end: usize, maxLine: i32): i32 {
  let p = start;
  let lines: i32 = 0;
  while (p < end) {
    const nl = line(p, end, maxLine);
    if (nl < 0) {
      gLines = lines;
      gStart = p;
      gNl = newline(p);
      return 1;
    }
    lines++;
    p = (nl as usize) + 1;
  }
  gLines = lines;
  return 0;
}

// --- the scanner --------------------------------------------------------------------------------

/** The first newline at or after i (the sentinel stops it). */
function newline(i: usize): usize {
  const nl = i8x16.splat(NL);
  while (true) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(i), nl));
    if (m != 0) return i + (ctz(m) as usize);
    i += 16;
  }
}

@inline function ws(i: usize): usize {
  let c = load<u8>(i);
  if (c <= 0x20) while (c == 0x20 || c == 0x09) c = load<u8>(++i);
  return i;
}

/** i is just after the opening quote; returns the index after the closing quote, or -1. */
@inline function str(i: usize, k: usize): isize {
  escaped = false;
  while (true) {
    // The next stop byte at or after i, from the chunk's bitmap (prepare()): k + (i >> 3) is the
    // byte of i's bit (the chunk starts 64-aligned). One unaligned load holds the bits of the 57
    // to 64 bytes from i on: a short string ends in it whatever its place in a 64-byte word, so
    // the loop below is taken by long strings only (a branch that follows the field, not where
    // a string falls across a word's end).
    let w = load<u64>(k + (i >> 3)) >> ((i & 7) as u64);
    if (w == 0) {
      i = (i & ~(7 as usize)) + 64;
      w = load<u64>(k + (i >> 3));
      while (w == 0) {
        i += 64;
        w = load<u64>(k + (i >> 3));
      }
    }
    i += ctz(w) as usize;
    const c = load<u8>(i);
    if (c == QUOTE) return (i + 1) as isize;
    if (c < 0x20) return -1;
    // A backslash: one of \" \\ \/ \b \f \n \r \t, or \u and four hex digits.
    escaped = true;
    const e = load<u8>(i + 1);
    if (e == 0x75) {
      if (!isHex(load<u8>(i + 2)) || !isHex(load<u8>(i + 3)) || !isHex(load<u8>(i + 4)) || !isHex(load<u8>(i + 5)))
        return -1;
      i += 6;
    } else if (
      e == 0x22 ||
      e == 0x5c ||
      e == 0x2f ||
      e == 0x62 ||
      e == 0x66 ||
      e == 0x6e ||
      e == 0x72 ||
      e == 0x74
    )
      i += 2;
    else return -1;
  }
}

@inline function isHex(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

@inline function isDigit(c: u8): bool {
  return c >= 0x30 && c <= 0x39;
}

/** A JSON number at i; returns its end, or -1. */
@inline function num(i: usize): isize {
  if (load<u8>(i) == 0x2d) i++;
  let c = load<u8>(i);
  if (c == 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) i = digits(i + 1);
  else return -1;
  if (load<u8>(i) == 0x2e) {
    const d = i + 1;
    i = digits(d);
    if (i == d) return -1;
  }
  c = load<u8>(i);
  if (c == 0x65 || c == 0x45) {
    i++;
    c = load<u8>(i);
    if (c == 0x2b || c == 0x2d) i++;
    const d = i;
    i = digits(d);
    if (i == d) return -1;
  }
  return i as isize;
}

/**
 * The end of the run of digits at i, eight bytes a step (no branch per digit): a byte's high
 * bit is set in m when it is not a digit (x = byte ^ 0x30 above 9: x + 0x76 or x itself has bit
 * 7; a carry out of a byte only reaches bytes after the first non-digit).
 */
@inline function digits(i: usize): usize {
  while (true) {
    const x = load<u64>(i) ^ 0x3030303030303030;
    const m = ((x + 0x7676767676767676) | x) & 0x8080808080808080;
    if (m != 0) return i + ((ctz(m) >> 3) as usize);
    i += 8;
  }
}

/** True when bytes [s, e) equal the n bytes at w. */
@inline function is(s: usize, e: usize, w: usize, n: i32): bool {
  if (((e - s) as i32) != n) return false;
  // Eight bytes a compare, no byte loop: up to 8 bytes, one load each side, the bytes past n
  // shifted out (the loads may read past both: the chunk's slack, the static data after w).
  if (n <= 8) return n == 0 || ((load<u64>(s) ^ load<u64>(w)) << ((64 - 8 * n) as u64)) == 0;
  return sameLong(s, w, n);
}

/** True when the n (more than 8) bytes at s and w are equal: 8-byte words, the last one overlapping. */
function sameLong(s: usize, w: usize, n: i32): bool {
  const last = (n - 8) as usize;
  for (let k: usize = 0; k < last; k += 8) if (load<u64>(s + k) != load<u64>(w + k)) return false;
  return load<u64>(s + last) == load<u64>(w + last);
}

/** The meaning of key bytes [ks, ke) in an object read in context cx. */
@inline function keyOf(cx: u8, ks: usize, ke: usize): i32 {
  switch (cx) {
    case C_TOP:
      if (is(ks, ke, NAMES, labelLen)) return M_LABEL;
      if (is(ks, ke, NAMES + NAME_MAX, judgeLen)) return M_JUDGE;
      if (is(ks, ke, NAMES + 2 * NAME_MAX, annLen)) return M_ANN;
      return M_NONE;
    case C_JUDGE:
      if (is(ks, ke, W_SCORE, 5)) return M_SCORE;
      if (is(ks, ke, W_SCALE, 5)) return M_SCALE;
      return M_NONE;
    case C_ANN:
      if (is(ks, ke, W_REVIEW, 6)) return M_REVIEW;
      if (is(ks, ke, W_HUMAN, 5)) return M_HUMAN;
      if (is(ks, ke, W_SUGGESTIONS, 11)) return M_SUGG;
      if (is(ks, ke, W_ORIGIN, 6)) return M_ORIGIN;
      return M_NONE;
    case C_REVIEW:
      return is(ks, ke, W_STATUS, 6) ? M_STATUS : M_NONE;
    case C_HUMAN:
      return is(ks, ke, NAMES + 3 * NAME_MAX, questionLen) ? M_HUMAN_Q : M_NONE;
    case C_SUGG:
      return is(ks, ke, NAMES + 3 * NAME_MAX, questionLen) ? M_SUGG_Q : M_NONE;
    case C_ORIGIN:
      return is(ks, ke, W_TYPE, 4) ? M_TYPE : M_NONE;
  }
  return M_NONE;
}

/**
 * The value of the JSON number in bytes [s, e) when it is exact by the fast path (at most 15
 * significant digits, a power of ten up to 22: one correctly rounded multiply or divide, the value
 * JSON.parse gives); NaN otherwise (JS counts the line).
 */
function numberAt(s: usize, e: usize): f64 {
  let i = s;
  let neg = false;
  if (load<u8>(i) == 0x2d) {
    neg = true;
    i++;
  }
  let m: u64 = 0;
  let digits: i32 = 0;
  let exp: i32 = 0;
  let c = load<u8>(i);
  while (isDigit(c)) {
    if (m != 0 || c != 0x30) {
      m = m * 10 + ((c - 0x30) as u64);
      digits++;
    }
    c = load<u8>(++i);
  }
  if (c == 0x2e) {
    c = load<u8>(++i);
    while (isDigit(c)) {
      if (m != 0 || c != 0x30) {
        m = m * 10 + ((c - 0x30) as u64);
        digits++;
      }
      exp--;
      c = load<u8>(++i);
    }
  }
  if (digits > 15) return NaN;
  if (c == 0x65 || c == 0x45) {
    c = load<u8>(++i);
    let eneg = false;
    if (c == 0x2b) c = load<u8>(++i);
    else if (c == 0x2d) {
      eneg = true;
      c = load<u8>(++i);
    }
    let x: i32 = 0;
    while (isDigit(c)) {
      if (x < 10000) x = x * 10 + ((c - 0x30) as i32);
      c = load<u8>(++i);
    }
    exp += eneg ? -x : x;
  }
  if (i != e) return NaN;
  let v: f64;
  if (m == 0) v = 0;
  else if (exp == 0) v = m as f64;
  else if (exp > 0 && exp <= 22) v = (m as f64) * load<f64>(POW10 + 8 * (exp as usize));
  else if (exp < 0 && exp >= -22) v = (m as f64) / load<f64>(POW10 + 8 * (-exp as usize));
  else return NaN;
  return neg ? -v : v;
}

/**
 * A number label whose text (String(value)) is its own bytes: an integer without leading zeros,
 * up to 15 digits, not -0.
 */
function canonicalInt(s: usize, e: usize): bool {
  let i = s;
  if (load<u8>(i) == 0x2d) i++;
  const n = (e - i) as i32;
  if (n < 1 || n > 15) return false;
  if (load<u8>(i) == 0x30) return n == 1 && i == s;
  for (; i < e; i++) if (!isDigit(load<u8>(i))) return false;
  return true;
}

/** The label table's slot of bytes [s, s + n), added when new (count 0); 0 when it does not fit. */
function labelSlot(s: usize, n: i32): usize {
  if (n > LT_LABEL_MAX) return 0;
  // The hash of the length and the first and last eight bytes (labels are short: no byte loop).
  let x: u64 = load<u64>(s);
  if (n < 8) x &= (<u64>1 << ((n as u64) << 3)) - 1;
  else x ^= rotl<u64>(load<u64>(s + (n as usize) - 8), 29);
  const h = ((((x ^ (n as u64)) * 0x9e3779b97f4a7c15) >> 32) as u32) | 1;
  let idx = h & (LT_CAP - 1);
  while (true) {
    const slot = LT + 16 * (idx as usize);
    const len = load<u32>(slot, 8) as i32;
    if (len == 0) {
      if (ltUsed >= LT_MAX_USED || arenaUsed + n > ARENA_SIZE) return 0;
      memory.copy(ARENA + (arenaUsed as usize), s, n);
      store<u32>(slot, h);
      store<u32>(slot, arenaUsed, 4);
      store<u32>(slot, n, 8);
      store<u32>(slot, 0, 12);
      store<u32>(LT_USED + 4 * (ltUsed as usize), idx);
      ltUsed++;
      arenaUsed += n;
      return slot;
    }
    if (load<u32>(slot) == h && len == n && memory.compare(ARENA + (load<u32>(slot, 4) as usize), s, n) == 0)
      return slot;
    idx = (idx + 1) & (LT_CAP - 1);
  }
}

/**
 * Scans the line at b and counts it. Returns the position of its terminator (the newline), or -1:
 * JS counts the line. Gives up on: a line that is not an object, invalid JSON, nesting deeper than
 * MAX_DEPTH, a line longer than maxLine, an escape in a key it must match or in a value it reads,
 * a CR that is not part of the CRLF terminator, and values it cannot count exactly (a number
 * outside the fast path, a label that does not fit the table).
 */
function line(b: usize, end: usize, maxLine: i32): isize {
  labelType = T_NONE;
  judgeObj = false;
  scoreType = T_NONE;
  scaleArray = false;
  scaleHiType = T_NONE;
  annObj = false;
  reviewObj = false;
  reviewSet = false;
  humanQObj = false;
  suggQNonEmpty = false;
  originModel = false;

  // The bitmap's base, less the chunk's start (in bits): see str().
  const k = masks - (chunkBase >> 3);
  let i = ws(b);
  if (load<u8>(i) != 0x7b) return -1;
  i = ws(i + 1);
  let depth: i32 = 1;
  // The open containers' kinds, one bit a level (1: an array), the innermost in bit 0; the
  // innermost one's context (CTX holds the outer ones'); the element the scale array is at.
  let kinds: u64 = 0;
  let cx = C_TOP;
  let scaleElem: i32 = 0;
  if (load<u8>(i) == 0x7d) i++;
  else
    while (true) {
      // A member of the object (or an element of the array) at `depth` starts at i.
      let c = load<u8>(i);
      if (c <= 0x20) while (c == 0x20 || c == 0x09) c = load<u8>(++i);
      let key = M_NONE;
      if ((kinds & 1) == 0) {
        if (c != QUOTE) return -1;
        const ks = i + 1;
        const e = str(ks, k);
        if (e < 0) return -1;
        i = e as usize;
        if (cx != C_NONE) {
          // A key with an escape could decode to a name stats reads: JS decides.
          if (escaped) return -1;
          key = keyOf(cx, ks, i - 1);
        }
        c = load<u8>(i);
        if (c <= 0x20) while (c == 0x20 || c == 0x09) c = load<u8>(++i);
        if (c != 0x3a) return -1;
        c = load<u8>(++i);
        if (c <= 0x20) while (c == 0x20 || c == 0x09) c = load<u8>(++i);
      } else if (cx == C_SCALE && scaleElem == 1) key = M_SCALE_HI;
      // The value at i; `key` says what it is to stats.
      if (key != M_NONE) {
        // The slots this member replaces (the last duplicate key wins).
        switch (key) {
          case M_LABEL:
            labelType = T_OTHER;
            break;
          case M_JUDGE:
            judgeObj = false;
            scoreType = T_NONE;
            scaleArray = false;
            scaleHiType = T_NONE;
            break;
          case M_ANN:
            annObj = false;
            reviewObj = false;
            reviewSet = false;
            humanQObj = false;
            suggQNonEmpty = false;
            originModel = false;
            break;
          case M_SCORE:
            scoreType = T_OTHER;
            break;
          case M_SCALE:
            scaleArray = false;
            scaleHiType = T_NONE;
            break;
          case M_SCALE_HI:
            scaleHiType = T_NONE;
            break;
          case M_REVIEW:
            reviewObj = false;
            reviewSet = false;
            break;
          case M_STATUS:
            reviewSet = false;
            break;
          case M_HUMAN:
            humanQObj = false;
            break;
          case M_HUMAN_Q:
            humanQObj = c == 0x7b;
            break;
          case M_SUGG:
          case M_SUGG_Q:
            suggQNonEmpty = false;
            break;
          case M_ORIGIN:
          case M_TYPE:
            originModel = false;
            break;
        }
      }
      if (c == QUOTE) {
        const e = str(i + 1, k);
        if (e < 0) return -1;
        const ve = e as usize;
        if (key == M_LABEL) {
          if (escaped) return -1;
          labelType = T_STRING;
          labelStart = i + 1;
          labelEnd = ve - 1;
        } else if (key == M_STATUS) {
          if (escaped) return -1;
          reviewSet = !is(i + 1, ve - 1, W_PENDING, 7);
        } else if (key == M_TYPE) {
          if (escaped) return -1;
          originModel = is(i + 1, ve - 1, W_MODEL, 5);
        }
        i = ve;
      } else if (c == 0x7b || c == 0x5b) {
        if (depth >= MAX_DEPTH) return -1;
        let child = C_NONE;
        if (c == 0x7b) {
          switch (key) {
            case M_JUDGE:
              judgeObj = true;
              child = C_JUDGE;
              break;
            case M_ANN:
              annObj = true;
              child = C_ANN;
              break;
            case M_REVIEW:
              reviewObj = true;
              child = C_REVIEW;
              break;
            case M_HUMAN:
              child = C_HUMAN;
              break;
            case M_SUGG:
              child = C_SUGG;
              break;
            case M_ORIGIN:
              child = C_ORIGIN;
              break;
          }
        } else {
          if (key == M_SCALE) {
            scaleArray = true;
            child = C_SCALE;
          }
        }
        i = ws(i + 1);
        const close: u8 = c == 0x7b ? 0x7d : 0x5d;
        if (load<u8>(i) == close) i++;
        else {
          // A non-empty container: its first member next.
          if (key == M_SUGG_Q && c == 0x5b) suggQNonEmpty = true;
          store<u8>(CTX + (depth as usize), cx);
          kinds = (kinds << 1) | (c == 0x5b ? 1 : 0);
          if (child == C_SCALE) scaleElem = 0;
          cx = child;
          depth++;
          continue;
        }
      } else if (c == 0x2d || isDigit(c)) {
        const e = num(i);
        if (e < 0) return -1;
        const ve = e as usize;
        if (key == M_LABEL) {
          labelType = T_NUMBER;
          labelStart = i;
          labelEnd = ve;
        } else if (key == M_SCORE) {
          scoreType = T_NUMBER;
          scoreStart = i;
          scoreEnd = ve;
        } else if (key == M_SCALE_HI) {
          scaleHiType = T_NUMBER;
          scaleHiStart = i;
          scaleHiEnd = ve;
        }
        i = ve;
      } else if (c == 0x74) {
        if (load<u32>(i) != 0x65757274) return -1; // "true"
        i += 4;
        if (key == M_LABEL) labelType = T_TRUE;
      } else if (c == 0x66) {
        if (load<u32>(i + 1) != 0x65736c61) return -1; // "alse"
        i += 5;
        if (key == M_LABEL) labelType = T_FALSE;
      } else if (c == 0x6e) {
        if (load<u32>(i) != 0x6c6c756e) return -1; // "null"
        i += 4;
      } else return -1;
      // After a value: a comma (the next member), or the ends of containers.
      let closed = false;
      while (true) {
        c = load<u8>(i);
        if (c <= 0x20) while (c == 0x20 || c == 0x09) c = load<u8>(++i);
        if (c == 0x2c) {
          i++;
          if (cx == C_SCALE) scaleElem++;
          break;
        }
        if (c == (0x7d as u8) - (((kinds & 1) as u8) << 5)) {
          // 0x7d (}) closes an object, 0x5d (]) an array.
          i++;
          if (--depth == 0) {
            closed = true;
            break;
          }
          kinds >>= 1;
          cx = load<u8>(CTX + (depth as usize));
          continue;
        }
        return -1;
      }
      if (closed) break;
    }

  // The line's end: spaces, then the newline (or CRLF; a CR before the sentinel is not one).
  i = ws(i);
  let nl: usize;
  let contentEnd: usize;
  const t = load<u8>(i);
  if (t == NL) {
    nl = i;
    contentEnd = i;
  } else if (t == CR && load<u8>(i + 1) == NL && i + 1 < end) {
    nl = i + 1;
    contentEnd = i;
  } else return -1;
  if (((contentEnd - b) as i32) > maxLine) return -1;

  // What the line adds, checked first (anything not exact here goes to JS), then counted.
  let score: f64 = 0;
  let bucket: i32 = 0;
  let tenths = false;
  const hasScore = judgeObj && scoreType == T_NUMBER;
  if (hasScore) {
    score = numberAt(scoreStart, scoreEnd);
    if (isNaN(score)) return -1;
    let unit = false;
    if (scaleArray && scaleHiType == T_NUMBER) {
      const hi = numberAt(scaleHiStart, scaleHiEnd);
      if (isNaN(hi)) return -1;
      unit = hi <= 1;
    }
    let r: f64;
    if (unit) {
      r = Math.floor(score * 10);
      if (r > 10) r = 10;
      tenths = true;
    } else {
      // Math.round: the nearest integer, halves toward +Infinity.
      r = Math.floor(score);
      if (score - r >= 0.5) r += 1;
    }
    if (r < -(HIST_MIN as f64) || r > (HIST_MAX as f64)) return -1;
    bucket = (r as i32) + HIST_MIN;
  }
  let slot: usize = 0;
  if (labelType == T_STRING) {
    if (labelEnd > labelStart) {
      slot = labelSlot(labelStart, (labelEnd - labelStart) as i32);
      if (slot == 0) return -1;
    }
  } else if (labelType == T_NUMBER) {
    if (!canonicalInt(labelStart, labelEnd)) return -1;
    slot = labelSlot(labelStart, (labelEnd - labelStart) as i32);
    if (slot == 0) return -1;
  } else if (labelType == T_TRUE) {
    slot = labelSlot(W_TRUE, 4);
    if (slot == 0) return -1;
  } else if (labelType == T_FALSE) {
    slot = labelSlot(W_FALSE, 5);
    if (slot == 0) return -1;
  }

  records++;
  if (slot != 0) {
    store<u32>(slot, load<u32>(slot, 12) + 1, 12);
    annotated++;
  }
  if (hasScore) {
    scored++;
    scoreSum += score;
    const h = (tenths ? HIST_TENTH : HIST_INT) + 4 * (bucket as usize);
    store<i32>(h, load<i32>(h) + 1);
  }
  if (annObj) {
    if (reviewObj && reviewSet) reviewed++;
    if (humanQObj) humanLabeled++;
    if (suggQNonEmpty) suggested++;
    if (originModel) generated++;
  }
  return nl as isize;
}

