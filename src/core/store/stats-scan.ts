// The fast path of dataset statistics: a byte-level scanner that reads one line of JSON, checks
// its syntax all the way (so it accepts exactly the lines JSON.parse accepts, or gives up), and
// picks out only the few members stats needs (the label; the judge's score and scale; the
// annotations' review status, human decision, suggestions and origin) without building the record
// or decoding its strings. Anything it is unsure of (an escape in a key it must match, a raw
// control character, nesting deeper than it follows, a field name that objects inherit) makes it
// give up on that line, and the caller counts the line with the full parse: the figures are the
// same either way (test/unit/stats-scan.test.ts checks it against the full parse on random and
// hostile records). Duplicate keys: the last one wins, as in JSON.parse.
//
// One flat loop (a state machine with a small stack of containers), strings skipped four bytes at
// a time. On the sample's layout it takes about 2.6x less CPU per line than UTF-8 decoding plus
// JSON.parse (docs/performance.md).
import type { PartialStats, StatsFields } from './stats-core';

/** Nesting the scanner follows before it gives up (the full parse then checks the 512 limit). */
const MAX_SCAN_DEPTH = 64;

// Byte classes inside a string: 0 ordinary, 1 quote, 2 backslash, 3 control character (invalid raw).
const STR = new Uint8Array(256);
for (let c = 0; c < 32; c++) STR[c] = 3;
STR[0x22] = 1;
STR[0x5c] = 2;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const PENDING = Buffer.from('pending');
const MODEL = Buffer.from('model');

/** Where a value starts and ends, and what it is, for the members stats reads. */
const T_NONE = 0;
const T_STRING = 1;
const T_NUMBER = 2;
const T_TRUE = 3;
const T_FALSE = 4;
const T_OTHER = 5;

// The containers whose members the scanner reads (C_NONE: one it only checks), in `ctx`.
const C_NONE = 0;
const C_TOP = 1;
const C_JUDGE = 2;
const C_ANN = 3;
const C_REVIEW = 4;
const C_HUMAN = 5;
const C_SUGG = 6;
const C_ORIGIN = 7;
/** judge.scale, an array: its element 1 is read. */
const C_SCALE = 8;

// What a member's value is to stats.
const M_NONE = 0;
const M_LABEL = 1;
const M_JUDGE = 2;
const M_ANN = 3;
const M_SCORE = 4;
const M_SCALE = 5;
const M_SCALE_HI = 6;
const M_REVIEW = 7;
const M_STATUS = 8;
const M_HUMAN = 9;
const M_HUMAN_Q = 10;
const M_SUGG = 11;
const M_SUGG_Q = 12;
const M_ORIGIN = 13;
const M_TYPE = 14;

// Container kinds and the states of the scan.
const K_OBJ = 0;
const K_ARR = 1;
const ST_KEY = 0;
const ST_VALUE = 1;
const ST_AFTER = 2;

const SCORE = Buffer.from('score');
const SCALE = Buffer.from('scale');
const REVIEW = Buffer.from('review');
const STATUS = Buffer.from('status');
const HUMAN = Buffer.from('human');
const SUGGESTIONS = Buffer.from('suggestions');
const ORIGIN = Buffer.from('origin');
const TYPE = Buffer.from('type');

/** What one line yields: set by scanStatsLine, read by addScanned. */
export interface ScanSlots {
  labelType: number;
  labelStart: number;
  labelEnd: number;
  labelEscaped: boolean;
  judgeObj: boolean;
  scoreType: number;
  scoreStart: number;
  scoreEnd: number;
  /** judge.scale is an array (its element 1 is then in scaleHi*). */
  scaleArray: boolean;
  scaleHiType: number;
  scaleHiStart: number;
  scaleHiEnd: number;
  annObj: boolean;
  reviewObj: boolean;
  /** review.status is a string other than "pending". */
  reviewSet: boolean;
  humanQObj: boolean;
  suggQNonEmpty: boolean;
  originModel: boolean;
}

function emptySlots(): ScanSlots {
  return {
    labelType: T_NONE,
    labelStart: 0,
    labelEnd: 0,
    labelEscaped: false,
    judgeObj: false,
    scoreType: T_NONE,
    scoreStart: 0,
    scoreEnd: 0,
    scaleArray: false,
    scaleHiType: T_NONE,
    scaleHiStart: 0,
    scaleHiEnd: 0,
    annObj: false,
    reviewObj: false,
    reviewSet: false,
    humanQObj: false,
    suggQNonEmpty: false,
    originModel: false,
  };
}

/** The scanner for one field map; reusable across lines (not across threads). */
export class StatsScanner {
  private readonly label: Buffer;
  private readonly judge: Buffer;
  private readonly annotations: Buffer;
  private readonly question: Buffer;
  /**
   * False when a field name is something objects inherit ("__proto__", "constructor", ...) or two
   * fields share a name: always the full parse then.
   */
  readonly usable: boolean;
  readonly slots: ScanSlots = emptySlots();
  private b: Uint8Array = new Uint8Array(0);
  private end = 0;
  /** Per nesting level: container kind, context, index of the current element (arrays). */
  private readonly kind = new Uint8Array(MAX_SCAN_DEPTH + 2);
  private readonly ctx = new Uint8Array(MAX_SCAN_DEPTH + 2);
  private readonly elem = new Int32Array(MAX_SCAN_DEPTH + 2);
  /** The same bytes, for reading them four at a time. */
  private dv: DataView = new DataView(new ArrayBuffer(0));
  /** Set by str(): the string just scanned had an escape. */
  private escaped = false;

  constructor(f: StatsFields) {
    this.label = Buffer.from(f.label);
    this.judge = Buffer.from(f.judge);
    this.annotations = Buffer.from(f.annotations);
    this.question = Buffer.from(f.question);
    // One top-level member is read for one purpose: field maps that give two purposes the same
    // name are counted by the full parse.
    const distinct = new Set([f.label, f.judge, f.annotations]).size === 3;
    this.usable =
      distinct &&
      [
        f.label,
        f.judge,
        f.annotations,
        f.question,
        'score',
        'scale',
        'review',
        'status',
        'human',
        'suggestions',
        'origin',
        'type',
      ].every((k) => !(k in Object.prototype));
  }

  /**
   * Scans bytes [start, end) of `b` (one line, no terminator, valid UTF-8, no CR) into `slots`.
   * True when the line is a JSON object the scanner read completely; false: use the full parse.
   */
  scan(b: Uint8Array, start: number, end: number): boolean {
    if (!this.usable) return false;
    if (this.b !== b) {
      this.b = b;
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    this.end = end;
    const s = this.slots;
    s.labelType = T_NONE;
    s.judgeObj = false;
    s.scoreType = T_NONE;
    s.scaleArray = false;
    s.scaleHiType = T_NONE;
    s.annObj = false;
    s.reviewObj = false;
    s.reviewSet = false;
    s.humanQObj = false;
    s.suggQNonEmpty = false;
    s.originModel = false;
    const kind = this.kind;
    const ctx = this.ctx;
    const elem = this.elem;
    let i = this.ws(start);
    if (i >= end || b[i] !== 0x7b) return false;
    i++;
    let depth = 1;
    kind[1] = K_OBJ;
    ctx[1] = C_TOP;
    let state = ST_KEY;
    let key = M_NONE;
    // An empty top-level object.
    i = this.ws(i);
    if (b[i] === 0x7d) return this.ws(i + 1) === end;
    for (;;) {
      let c = 0;
      while (i < end && ((c = b[i]!) === 0x20 || c === 0x09)) i++;
      if (i >= end) return false;
      if (state === ST_AFTER) {
        if (c === 0x2c) {
          i++;
          if (kind[depth] === K_OBJ) state = ST_KEY;
          else {
            elem[depth]!++;
            state = ST_VALUE;
          }
          continue;
        }
        if ((c === 0x7d && kind[depth] === K_OBJ) || (c === 0x5d && kind[depth] === K_ARR)) {
          i++;
          if (--depth === 0) return this.ws(i) === end;
          continue;
        }
        return false;
      }
      if (state === ST_KEY) {
        if (c !== 0x22) return false;
        const ks = i + 1;
        i = this.str(ks);
        if (i < 0) return false;
        const cx = ctx[depth]!;
        if (cx === C_NONE) key = M_NONE;
        else {
          // A key with an escape could decode to a name stats reads: the full parse decides.
          if (this.escaped) return false;
          key = this.keyOf(cx, ks, i - 1);
        }
        i = this.ws(i);
        if (b[i] !== 0x3a) return false;
        i++;
        state = ST_VALUE;
        continue;
      }
      // ST_VALUE: a value starts at i; `key` says what it is to stats.
      if (kind[depth] === K_ARR) key = ctx[depth] === C_SCALE && elem[depth] === 1 ? M_SCALE_HI : M_NONE;
      if (key !== M_NONE) this.reset(key, c);
      if (c === 0x22) {
        const e = this.str(i + 1);
        if (e < 0) return false;
        if (key === M_LABEL) {
          s.labelType = T_STRING;
          s.labelStart = i + 1;
          s.labelEnd = e - 1;
          s.labelEscaped = this.escaped;
        } else if (key === M_STATUS) s.reviewSet = !this.strIs(i + 1, e - 1, PENDING);
        else if (key === M_TYPE) s.originModel = this.strIs(i + 1, e - 1, MODEL);
        i = e;
        state = ST_AFTER;
      } else if (c === 0x7b || c === 0x5b) {
        if (depth >= MAX_SCAN_DEPTH) return false;
        depth++;
        elem[depth] = 0;
        let child = C_NONE;
        if (c === 0x7b) {
          kind[depth] = K_OBJ;
          switch (key) {
            case M_JUDGE:
              s.judgeObj = true;
              child = C_JUDGE;
              break;
            case M_ANN:
              s.annObj = true;
              child = C_ANN;
              break;
            case M_REVIEW:
              s.reviewObj = true;
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
          kind[depth] = K_ARR;
          if (key === M_SCALE) {
            s.scaleArray = true;
            child = C_SCALE;
          }
        }
        ctx[depth] = child;
        i = this.ws(i + 1);
        const close = c === 0x7b ? 0x7d : 0x5d;
        if (b[i] === close) {
          i++;
          depth--;
          state = ST_AFTER;
        } else {
          if (key === M_SUGG_Q && c === 0x5b) s.suggQNonEmpty = true;
          state = c === 0x7b ? ST_KEY : ST_VALUE;
        }
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        const e = this.num(i);
        if (e < 0) return false;
        if (key === M_LABEL) {
          s.labelType = T_NUMBER;
          s.labelStart = i;
          s.labelEnd = e;
        } else if (key === M_SCORE) {
          s.scoreType = T_NUMBER;
          s.scoreStart = i;
          s.scoreEnd = e;
        } else if (key === M_SCALE_HI) {
          s.scaleHiType = T_NUMBER;
          s.scaleHiStart = i;
          s.scaleHiEnd = e;
        }
        i = e;
        state = ST_AFTER;
      } else if (c === 0x74) {
        i = this.lit(i, 'true');
        if (i < 0) return false;
        if (key === M_LABEL) s.labelType = T_TRUE;
        state = ST_AFTER;
      } else if (c === 0x66) {
        i = this.lit(i, 'false');
        if (i < 0) return false;
        if (key === M_LABEL) s.labelType = T_FALSE;
        state = ST_AFTER;
      } else if (c === 0x6e) {
        i = this.lit(i, 'null');
        if (i < 0) return false;
        state = ST_AFTER;
      } else return false;
    }
  }

  /** What a member's value means to stats, before it is read: the slots it replaces (the last duplicate key wins). */
  private reset(key: number, c: number): void {
    const s = this.slots;
    switch (key) {
      case M_LABEL:
        s.labelType = T_OTHER;
        return;
      case M_JUDGE:
        s.judgeObj = false;
        s.scoreType = T_NONE;
        s.scaleArray = false;
        s.scaleHiType = T_NONE;
        return;
      case M_ANN:
        s.annObj = false;
        s.reviewObj = false;
        s.reviewSet = false;
        s.humanQObj = false;
        s.suggQNonEmpty = false;
        s.originModel = false;
        return;
      case M_SCORE:
        s.scoreType = T_OTHER;
        return;
      case M_SCALE:
        s.scaleArray = false;
        s.scaleHiType = T_NONE;
        return;
      case M_SCALE_HI:
        s.scaleHiType = T_NONE;
        return;
      case M_REVIEW:
        s.reviewObj = false;
        s.reviewSet = false;
        return;
      case M_STATUS:
        s.reviewSet = false;
        return;
      case M_HUMAN:
        s.humanQObj = false;
        return;
      case M_HUMAN_Q:
        s.humanQObj = c === 0x7b;
        return;
      case M_SUGG:
      case M_SUGG_Q:
        s.suggQNonEmpty = false;
        return;
      case M_ORIGIN:
      case M_TYPE:
        s.originModel = false;
        return;
    }
  }

  /** The meaning of key bytes [ks, ke) in an object read in context `cx`. */
  private keyOf(cx: number, ks: number, ke: number): number {
    switch (cx) {
      case C_TOP:
        if (this.is(ks, ke, this.label)) return M_LABEL;
        if (this.is(ks, ke, this.judge)) return M_JUDGE;
        if (this.is(ks, ke, this.annotations)) return M_ANN;
        return M_NONE;
      case C_JUDGE:
        if (this.is(ks, ke, SCORE)) return M_SCORE;
        if (this.is(ks, ke, SCALE)) return M_SCALE;
        return M_NONE;
      case C_ANN:
        if (this.is(ks, ke, REVIEW)) return M_REVIEW;
        if (this.is(ks, ke, HUMAN)) return M_HUMAN;
        if (this.is(ks, ke, SUGGESTIONS)) return M_SUGG;
        if (this.is(ks, ke, ORIGIN)) return M_ORIGIN;
        return M_NONE;
      case C_REVIEW:
        return this.is(ks, ke, STATUS) ? M_STATUS : M_NONE;
      case C_HUMAN:
        return this.is(ks, ke, this.question) ? M_HUMAN_Q : M_NONE;
      case C_SUGG:
        return this.is(ks, ke, this.question) ? M_SUGG_Q : M_NONE;
      case C_ORIGIN:
        return this.is(ks, ke, TYPE) ? M_TYPE : M_NONE;
      default:
        return M_NONE;
    }
  }

  /** The string whose content is bytes [s, e) (escapes decoded when it has any) equals `want`. */
  private strIs(s: number, e: number, want: Buffer): boolean {
    if (!this.escaped) return this.is(s, e, want);
    const b = this.b;
    return (
      (JSON.parse(Buffer.from(b.buffer, b.byteOffset + s - 1, e - s + 2).toString('utf8')) as string) ===
      want.toString('utf8')
    );
  }

  private ws(i: number): number {
    const b = this.b;
    const end = this.end;
    while (i < end) {
      const c = b[i]!;
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
    return i;
  }

  /**
   * i is just after the opening quote; returns the index after the closing quote, or -1. Runs
   * of ordinary bytes go eight at a time (32-bit words with no byte below 0x20, no quote and no
   * backslash, tested with the usual SWAR bit tricks, read unaligned through a DataView).
   */
  private str(i: number): number {
    const b = this.b;
    const end = this.end;
    const dv = this.dv;
    const last = end - 8;
    this.escaped = false;
    for (;;) {
      // Eight bytes a step (two words: fewer loop turns). A word with a stop byte says where it
      // is: its lowest flagged byte is the first stop (a false flag can only come from a borrow,
      // above a true one), so no byte loop is needed to find it.
      while (i <= last) {
        const x = dv.getInt32(i, true);
        const q = x ^ 0x22222222;
        const s = x ^ 0x5c5c5c5c;
        const m = (((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080;
        if (m !== 0) {
          i += (31 - Math.clz32(m & -m)) >> 3;
          break;
        }
        const y = dv.getInt32(i + 4, true);
        const q2 = y ^ 0x22222222;
        const s2 = y ^ 0x5c5c5c5c;
        const m2 = (((y - 0x20202020) & ~y) | ((q2 - 0x01010101) & ~q2) | ((s2 - 0x01010101) & ~s2)) & 0x80808080;
        if (m2 !== 0) {
          i += 4 + ((31 - Math.clz32(m2 & -m2)) >> 3);
          break;
        }
        i += 8;
      }
      // The last bytes of the line (or the stop just found).
      while (i < end && STR[b[i]!] === 0) i++;
      if (i >= end) return -1;
      const k = STR[b[i]!];
      if (k === 1) return i + 1;
      if (k === 3) return -1;
      // A backslash: one of \" \\ \/ \b \f \n \r \t, or \u and four hex digits.
      this.escaped = true;
      const e = b[i + 1];
      if (i + 1 >= end) return -1;
      if (e === 0x75) {
        if (i + 5 >= end || !HEX[b[i + 2]!] || !HEX[b[i + 3]!] || !HEX[b[i + 4]!] || !HEX[b[i + 5]!]) return -1;
        i += 6;
      } else if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      )
        i += 2;
      else return -1;
    }
  }

  /** A JSON number at i; returns its end, or -1. */
  private num(i: number): number {
    const b = this.b;
    const end = this.end;
    if (b[i] === 0x2d) i++;
    if (i >= end) return -1;
    let c = b[i]!;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
    } else return -1;
    if (i < end && b[i] === 0x2e) {
      i++;
      const d = i;
      while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
      if (i === d) return -1;
    }
    if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
      const d = i;
      while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
      if (i === d) return -1;
    }
    return i;
  }

  private lit(i: number, word: string): number {
    const b = this.b;
    if (i + word.length > this.end) return -1;
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
    return i + word.length;
  }

  /** True when bytes [s, e) of the line equal `name`. */
  private is(s: number, e: number, name: Buffer): boolean {
    const n = name.length;
    if (e - s !== n) return false;
    const b = this.b;
    for (let k = 0; k < n; k++) if (b[s + k] !== name[k]) return false;
    return true;
  }

  /** Labels seen lately, as bytes and text: a dataset has a handful, so most lines decode none. */
  private readonly recent: { bytes: Buffer; text: string }[] = [];

  /** The text of the unescaped label in bytes [s, e). */
  private labelText(s: number, e: number): string {
    const b = this.b;
    const n = e - s;
    for (let k = 0; k < this.recent.length; k++) {
      const r = this.recent[k]!;
      const rb = r.bytes;
      if (rb.length !== n) continue;
      let j = 0;
      while (j < n && rb[j] === b[s + j]) j++;
      if (j === n) return r.text;
    }
    const bytes = Buffer.from(b.subarray(s, e));
    const text = bytes.toString('utf8');
    if (n <= 64) {
      if (this.recent.length >= 16) this.recent.pop();
      this.recent.unshift({ bytes, text });
    }
    return text;
  }

  /** Counts the record the last successful scan() read (same rules as stats-core's addRecord). */
  addTo(st: PartialStats): void {
    const s = this.slots;
    const b = this.b;
    st.records++;
    let text: string | undefined;
    switch (s.labelType) {
      case T_STRING:
        text = s.labelEscaped
          ? (JSON.parse(
              Buffer.from(b.buffer, b.byteOffset + s.labelStart - 1, s.labelEnd - s.labelStart + 2).toString('utf8'),
            ) as string)
          : this.labelText(s.labelStart, s.labelEnd);
        break;
      case T_NUMBER:
        text = String(numberAt(b, s.labelStart, s.labelEnd));
        break;
      case T_TRUE:
        text = 'true';
        break;
      case T_FALSE:
        text = 'false';
        break;
    }
    if (text !== undefined && text !== '') {
      st.labels[text] = (st.labels[text] ?? 0) + 1;
      st.annotated++;
    }
    if (s.judgeObj && s.scoreType === T_NUMBER) {
      const score = numberAt(b, s.scoreStart, s.scoreEnd);
      if (Number.isFinite(score)) {
        st.scored++;
        st.scoreSum += score;
        const hi = s.scaleArray && s.scaleHiType === T_NUMBER ? numberAt(b, s.scaleHiStart, s.scaleHiEnd) : undefined;
        const k = bucketOf(score, hi);
        st.histogram[k] = (st.histogram[k] ?? 0) + 1;
      }
    }
    if (s.annObj) {
      if (s.reviewObj && s.reviewSet) st.reviewed++;
      if (s.humanQObj) st.humanLabeled++;
      if (s.suggQNonEmpty) st.suggested++;
      if (s.originModel) st.generated++;
    }
  }
}

/** The histogram bucket of a judge score given the scale's upper end (when it is a number). */
export function bucketOf(score: number, hi: number | undefined): string {
  if (hi !== undefined && hi <= 1) return (Math.min(Math.floor(score * 10), 10) / 10).toFixed(1);
  return String(Math.round(score));
}

/** The value of the JSON number in bytes [s, e): small integers directly, others as JSON.parse reads them. */
function numberAt(b: Uint8Array, s: number, e: number): number {
  if (e - s <= 9) {
    let v = 0;
    let k = s;
    for (; k < e; k++) {
      const c = b[k]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    if (k === e) return v;
  }
  return Number(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'));
}
