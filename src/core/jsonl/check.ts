import { isUtf8 } from 'node:buffer';
// Classifies one line's bytes: a valid record, an invalid line (with the reason a user reads), or a
// valid record whose structured edit would lose information (lossy). Never throws.

export interface LineCheck {
  /** The parsed record, when the line is a valid JSON object. */
  value?: Record<string, unknown>;
  invalid?: { reason: string };
  lossy?: { reason: string };
}


/** Byte offset of the first invalid UTF-8 sequence, or -1. */
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
    if (c >= 0xc2 && c <= 0xdf) (need = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (need = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (need = 3), (min = 0x10000);
    else return i;
    if (i + need >= n) return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
}

/**
 * Scans JSON text (already known to parse) for what JSON.parse silently loses: duplicate keys and
 * numbers that do not survive a round trip through a double (integers beyond 2^53, long decimals).
 */
export function losses(text: string): { duplicateKey?: string; number?: string } {
  const keys: (Set<string> | null)[] = [];
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 34 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 92) {
          escaped = true;
          j += 2;
          continue;
        }
        if (c === 34) break;
        j++;
      }
      const top = keys[keys.length - 1];
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.has(key)) return { duplicateKey: key };
        top.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (ch === 123 /* { */) {
      keys.push(new Set());
      expectKey = true;
    } else if (ch === 91 /* [ */) {
      keys.push(null);
    } else if (ch === 125 || ch === 93) {
      keys.pop();
    } else if (ch === 44 /* , */) {
      expectKey = keys[keys.length - 1] instanceof Set;
    } else if (ch === 45 || (ch >= 48 && ch <= 57)) {
      let j = i + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45) j++;
        else break;
      }
      const tok = text.slice(i, j);
      if (!numberSurvives(tok)) return { number: tok };
      i = j;
      continue;
    }
    i++;
  }
  return {};
}

function numberSurvives(tok: string): boolean {
  const v = Number(tok);
  if (!Number.isFinite(v)) return false;
  if (/^-?\d+$/.test(tok)) return Number.isSafeInteger(v) || tok.replace(/^-?0*/, '').length <= 15;
  // A decimal survives when its significant digits fit a double (15 always do).
  const digits = tok.replace(/[eE].*$/, '').replace(/[-.]/g, '').replace(/^0+/, '');
  if (digits.length <= 15) return true;
  return Number(String(v)) === v && String(v).replace(/[-.]|e.*$/gi, '').replace(/^0+/, '') === digits.replace(/0+$/, '');
}

/** Counts the keys of a parsed value and whether it holds an integer beyond 2^53. */
function walk(v: unknown, acc: { keys: number; unsafe: boolean }): void {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) acc.unsafe = true;
  } else if (Array.isArray(v)) {
    for (const x of v) walk(x, acc);
  } else if (v !== null && typeof v === 'object') {
    for (const k in v) {
      acc.keys++;
      walk((v as Record<string, unknown>)[k], acc);
    }
  }
}

const LONG_DIGITS = /\d{16}/;

/**
 * A cheap test that proves most lines lossless, so that only the rest pay for the full scan.
 * Every key in the text has a ':' after it; if the text has exactly as many ':' bytes as the
 * parsed value has keys, no ':' is in a string and no key was a duplicate (a duplicate leaves
 * one more ':' than keys). Numbers lose precision only with 16 or more digits in a row.
 */
function mayLose(bytes: Uint8Array, value: unknown): boolean {
  const acc = { keys: 0, unsafe: false };
  walk(value, acc);
  if (acc.unsafe) return true;
  let colons = 0;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = b.indexOf(58); i !== -1; i = b.indexOf(58, i + 1)) colons++;
  if (colons !== acc.keys) return true;
  return LONG_DIGITS.test(b.toString('latin1'));
}

/** Classifies a line's content bytes (without its terminator). */
export function checkLine(bytes: Uint8Array): LineCheck {
  if (bytes.length === 0) return { invalid: { reason: 'blank line' } };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { invalid: { reason: 'starts with a UTF-8 byte order mark (BOM)' } };
  }
  const cr = bytes.indexOf(13);
  if (cr >= 0) return { invalid: { reason: `carriage return (CR) inside the line at byte ${cr + 1}` } };
  if (!isUtf8(bytes)) return { invalid: { reason: `invalid UTF-8 at byte ${firstInvalidUtf8(bytes) + 1}` } };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.trim() === '') return { invalid: { reason: 'blank line' } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { invalid: { reason: `invalid JSON: ${msg.replace(/^JSON\.parse: /, '')}` } };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { invalid: { reason: `not a JSON object (${kindOf(value)})` } };
  }
  const lost = mayLose(bytes, value) ? losses(text) : {};
  if (lost.duplicateKey !== undefined) {
    return { invalid: { reason: `duplicate key "${lost.duplicateKey}" (readers disagree on which value wins)` } };
  }
  if (lost.number !== undefined) {
    return { value: value as Record<string, unknown>, lossy: { reason: `the number ${lost.number.length > 40 ? `${lost.number.slice(0, 40)}…` : lost.number} cannot be represented exactly (beyond 2^53 or too many digits)` } };
  }
  return { value: value as Record<string, unknown> };
}
