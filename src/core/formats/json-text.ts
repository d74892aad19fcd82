// JSON text of values read from Parquet: 64-bit integers (BigInt) are written with all their digits
// (JSON.stringify throws on a BigInt, and Number() would round past 2^53), bytes as base64.
import { randomBytes } from 'node:crypto';

const NONCE = randomBytes(6).toString('hex');
const MARK = `\u0000bigint:${NONCE}:`;
/** The marker as JSON.stringify writes it (the NUL escaped). */
const MARKED = new RegExp(`"\\\\u0000bigint:${NONCE}:(-?\\d+)"`, 'g');

/** Values JSON has no text for, made plain: a safe BigInt a number, a larger one a marker; bytes base64. */
function replacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `${MARK}${v.toString()}`;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return v;
}

/** JSON text of a value that may hold BigInts (written exact) and byte arrays (base64). */
export function toJsonText(v: unknown): string {
  const text = JSON.stringify(v, replacer);
  return text.includes('bigint:') ? text.replace(MARKED, '$1') : text;
}
