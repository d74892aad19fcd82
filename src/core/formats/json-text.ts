// JSON text of values read from Parquet: 64-bit integers (BigInt) are written with all their digits
// (JSON.stringify throws on a BigInt, and Number() would round past 2^53), bytes as base64.
import { randomBytes } from 'node:crypto';

const NONCE = randomBytes(6).toString('hex');
const MARK = `\u0000bigint:${NONCE}:`;
/** The marker as JSON.stringify writes it (the NUL escaped). */
const MARKED = new RegExp(`"\\\\u0000bigint:${NONCE}:(-?\\d+)"`, 'g');

/** Values JSON has no text for, made plain: a safe BigInt a number, a larger one a marker; bytes base64. */
function replacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : `${MARK}${v.toString()}`;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return v;
}

/**
 * Makes a value plain JSON where it can, in place: a BigInt within 2^53 becomes a number. Returns
 * whether something still needs the replacer (a larger BigInt, bytes).
 */
function plain(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint';
  if (v instanceof Uint8Array) return true;
  let rest = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'bigint' && x >= MIN && x <= MAX) v[i] = Number(x);
      else if (x !== null && (typeof x === 'object' || typeof x === 'bigint')) rest = plain(x) || rest;
    }
    return rest;
  }
  if (v instanceof Date) return false;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'bigint' && x >= MIN && x <= MAX) o[k] = Number(x);
    else if (x !== null && (typeof x === 'object' || typeof x === 'bigint')) rest = plain(x) || rest;
  }
  return rest;
}
const MIN = BigInt(Number.MIN_SAFE_INTEGER);
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * JSON text of a value that may hold BigInts (written exact) and byte arrays (base64). The value's
 * BigInts within 2^53 are made numbers in place (values read from Parquet are ours to change).
 */
export function toJsonText(v: unknown, space?: number): string {
  if (!plain(v)) return JSON.stringify(v, undefined, space);
  const text = JSON.stringify(v, replacer, space);
  return text.includes('bigint:') ? text.replace(MARKED, '$1') : text;
}

/** Whether a parsed value holds an integer JSON.parse could not keep exact (past 2^53). */
export function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafeInteger);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasUnsafeInteger);
  return false;
}

/**
 * JSON.parse, but integers past 2^53 become BigInt with every digit (JSON.parse rounds them to the
 * nearest double). For the few lines that need it (see hasUnsafeInteger): a small recursive parser,
 * strings and other numbers still go through JSON.parse.
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i++] !== ':') throw new SyntaxError(`expected ":" at ${i - 1}`);
        out[k] = value();
        ws();
        const d = text[i++];
        if (d === '}') return out;
        if (d !== ',') throw new SyntaxError(`expected "," or "}" at ${i - 1}`);
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return out;
        if (d !== ',') throw new SyntaxError(`expected "," or "]" at ${i - 1}`);
      }
    }
    if (c === '"') return str();
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|^true|^false|^null/.exec(text.slice(i, i + 400));
    if (!m) throw new SyntaxError(`unexpected ${JSON.stringify(c)} at ${i}`);
    i += m[0].length;
    if (!m[2] && !m[3] && m[1] !== undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return JSON.parse(m[0]);
  };
  const str = (): string => {
    if (text[i] !== '"') throw new SyntaxError(`expected a string at ${i}`);
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  const v = value();
  ws();
  if (i !== text.length) throw new SyntaxError(`unexpected data at ${i}`);
  return v;
}
