// What a line is: a valid record, or an invalid line with a reason, and (lazily, per record)
// whether re-serializing it would lose information. Pure functions over one line's bytes.
import { isUtf8 } from 'node:buffer';

/** Lines longer than this are shown as text but not parsed (a record that big is a mistake). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Records nested deeper than this are invalid lines, kept and shown as text. JSON.parse copes
 * with any depth, but JSON.stringify, structuredClone, postMessage and every recursive walk of a
 * value overflow the stack a few thousand levels down; Python's json stops at about 1,000.
 */
export const MAX_RECORD_DEPTH = 512;

export interface LineCheck {
  /** The parsed record when the line is a valid JSON object. */
  value?: Record<string, unknown>;
  /** Why the line is not a record (it is kept and shown as it is). */
  invalid?: { reason: string };
}

const BOM0 = 0xef;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return typeof v;
  }
}

/** The byte offset (0-based) of the first invalid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    if (i + need >= n) return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function isBlank(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/**
 * Classifies one line's content (without its terminator; a CR before the LF is part of the
 * terminator). Never throws.
 */
export function checkLineBytes(content: Buffer, maxLineBytes = DEFAULT_MAX_LINE_BYTES): LineCheck {
  if (content.length === 0) return { invalid: { reason: 'blank line' } };
  if (content[0] === BOM0 && content[1] === 0xbb && content[2] === 0xbf) {
    return { invalid: { reason: 'starts with a UTF-8 byte order mark (BOM); JSONL lines must not' } };
  }
  const cr = content.indexOf(13);
  if (cr !== -1)
    return {
      invalid: { reason: `lone carriage return (CR) at byte ${cr + 1} of the line; lines end with LF or CRLF` },
    };
  if (!isUtf8(content)) {
    const at = firstInvalidUtf8(content);
    return { invalid: { reason: `invalid UTF-8 at byte ${at + 1} of the line` } };
  }
  if (isBlank(content)) return { invalid: { reason: 'blank line' } };
  if (content.length > maxLineBytes) {
    return {
      invalid: {
        reason: `line is ${content.length} bytes, over the ${maxLineBytes}-byte limit for one record; shown as text, not parsed`,
      },
    };
  }
  return checkLineText(content.toString('utf8'));
}

/** Classifies a line's text (already known to be valid UTF-8, no CR, not blank). */
export function checkLineText(text: string): LineCheck {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { invalid: { reason: `invalid JSON: ${printable(msg)}` } };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { invalid: { reason: `top-level value is ${typeName(v)}, not an object` } };
  }
  if (tooDeep(text)) {
    return {
      invalid: {
        reason: `nested more than ${MAX_RECORD_DEPTH} levels deep (the limit for a record); shown as text, not parsed`,
      },
    };
  }
  return { value: v as Record<string, unknown> };
}

/** True when the JSON text of a record nests deeper than MAX_RECORD_DEPTH (an invalid line). */
export function tooDeep(text: string): boolean {
  // A value n levels deep needs 2n characters: short lines need no scan.
  return text.length > 2 * MAX_RECORD_DEPTH && nestedDeeperThan(text, MAX_RECORD_DEPTH);
}

/**
 * True when valid JSON `text` nests arrays and objects more than `limit` levels deep. Linear and
 * without recursion; strings are skipped with indexOf (about a tenth of JSON.parse's time).
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j === -1) return false;
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break; // an even run of backslashes: the quote ends the string
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
    i++;
  }
  return false;
}

/**
 * Text from a file made safe to print in a message: control characters (C0, DEL, C1) and the
 * bidirectional overrides are written as \u escapes, so an invalid line's text quoted in a reason
 * cannot drive a terminal (ANSI escapes) or reorder what is shown.
 */
export function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, // \p{Cc}: C0, DEL and C1
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Lossiness: would JSON.parse -> modify -> JSON.stringify of this line lose information?
// Whitespace, key order of non-integer keys and string escapes (\u00e9 vs é, \/ vs /) are not
// information; these are:
//   - duplicate keys (JSON.parse keeps the last value, the others vanish);
//   - numbers that would be written differently in value or kind: integers beyond 2^53, more
//     digits than a double holds, 1.0 -> 1 and 1e2 -> 100 (a float would become an integer for
//     Python readers), -0 -> 0, 1e400 -> null;
//   - integer-like keys out of ascending order or after other keys (JS objects reorder them).

function normDecimal(t: string): string {
  let s = t;
  let sign = '';
  if (s[0] === '-') {
    sign = '-';
    s = s.slice(1);
  }
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e !== -1) {
    exp = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  let digits = s;
  if (dot !== -1) {
    digits = s.slice(0, dot) + s.slice(dot + 1);
    exp -= s.length - dot - 1;
  }
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  return `${sign}${trimmed}e${exp}`;
}

/** Why a JSON number literal would not survive JSON.parse + JSON.stringify, or undefined. */
export function lossyNumber(text: string): string | undefined {
  const n = Number(text);
  if (!Number.isFinite(n)) return `number ${text} is too large for a double and would be written as null`;
  const s = String(n);
  if (s === text) return undefined;
  if (Object.is(n, -0)) return `number ${text} would be written as 0`;
  const textIsInt = !/[.eE]/.test(text);
  const sIsInt = !/[.eE]/.test(s);
  if (textIsInt && !Number.isSafeInteger(n)) return `integer ${text} is beyond 2^53 and would be written as ${s}`;
  if (!textIsInt && sIsInt) return `number ${text} would be written as ${s} (a float would become an integer)`;
  if (normDecimal(text) !== normDecimal(s)) return `number ${text} would be written as ${s}`;
  return undefined;
}

const INT_KEY = /^(0|[1-9]\d{0,9})$/;

/**
 * Scans a valid JSON text for what re-serialization would lose. Returns the first reason, or
 * undefined when JSON.stringify(JSON.parse(text)) keeps all the information.
 */
export function lossyReason(text: string): string | undefined {
  // Fast path: no number with a '.', 'e', leading '-0', or 16+ digits, and no repeated key
  // candidates is still checked below; the scan is linear and allocation-light.
  const n = text.length;
  // Per open container: for objects, the keys seen and whether a non-integer key came first.
  type Frame = { obj: true; keys: Set<string>; lastInt: number; sawNonInt: boolean } | { obj: false };
  const stack: Frame[] = [];
  let i = 0;
  let expectKey = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // string: its closing quote found with indexOf (a quote after an odd run of backslashes is
      // escaped), not character by character (most of a record's text is in its strings)
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j === -1) {
          j = n;
          break;
        }
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top && top.obj) {
        let esc = false;
        for (let t = i + 1; t < j && !esc; t++) esc = text.charCodeAt(t) === 0x5c;
        const key = esc ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.keys.has(key)) return `duplicate key ${printable(JSON.stringify(key))}`;
        top.keys.add(key);
        if (INT_KEY.test(key) && Number(key) < 4294967295) {
          const k = Number(key);
          if (top.sawNonInt || k < top.lastInt)
            return `key ${printable(JSON.stringify(key))} would be moved (JavaScript puts integer-like keys first, ascending)`;
          top.lastInt = k;
        } else top.sawNonInt = true;
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push({ obj: true, keys: new Set(), lastInt: -1, sawNonInt: false });
      expectKey = true;
      i++;
      continue;
    }
    if (c === 0x5b /* [ */) {
      stack.push({ obj: false });
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
      continue;
    }
    if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      expectKey = !!top && top.obj;
      i++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) j++;
        else break;
      }
      const lit = text.slice(i, j);
      // Cheap: short plain integers always round-trip.
      if (j - i > 15 || /[.eE]/.test(lit) || (lit.length > 1 && lit[0] === '-' && lit[1] === '0')) {
        const r = lossyNumber(lit);
        if (r) return r;
      }
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}
