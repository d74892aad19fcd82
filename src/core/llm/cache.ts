// A response cache on disk: 16 append-only JSONL shards (by the first hex digit of the key) with an
// in-memory index per shard, loaded lazily on first use.
//
//   <dir>/shard-<h>.jsonl   one line per entry: {"k":"<64 hex sha256>","t":"<iso time>","v":{...}}
//
// Robust to kill -9: every entry is one write() of one whole line on an O_APPEND descriptor; a torn
// last line (power loss, full disk) has no trailing newline and is cut off when the shard is next
// opened; a corrupt line is a miss on read. The index maps the first 16 hex digits of the key to
// (offset, length) packed in one number, so 1M entries cost ~70 MB and a hit is one pread and one
// JSON.parse (the full key is checked on read). No native dependencies. Nothing secret is stored:
// the key is a hash of the request (never the API key) and values are the model's answer and usage.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface CacheKeyParts {
  baseURL: string;
  model: string;
  messages: unknown;
  params: Record<string, unknown>;
  schema?: unknown;
  template?: { id: string; version: string | number };
  sample?: number;
}

/** JSON with object keys sorted recursively and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function cacheKey(parts: CacheKeyParts): string {
  const canon = canonicalJson({
    v: 1,
    baseURL: parts.baseURL.replace(/\/+$/, ''),
    model: parts.model,
    messages: parts.messages,
    params: parts.params,
    schema: parts.schema ?? null,
    template: parts.template ?? null,
    sample: parts.sample ?? 0,
  });
  return createHash('sha256').update(canon).digest('hex');
}

export interface CachedResponse {
  content: string;
  usage: { input_tokens: number; output_tokens: number };
  model?: string;
  /** When the answer was stored (read back from the entry; not written inside it). */
  time?: string;
}

const MAX_ENTRY = (1 << 20) - 1; // entries larger than 1 MB are not cached
const LEN_MULT = 1 << 20;

interface Shard {
  fd: number;
  size: number;
  index: Map<string, number>;
}

export class ResponseCache {
  private shards = new Map<number, Shard>();
  hits = 0;
  misses = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private shard(key: string): Shard {
    const n = parseInt(key[0] ?? '0', 16) || 0;
    let s = this.shards.get(n);
    if (!s) {
      s = this.load(join(this.dir, `shard-${n.toString(16)}.jsonl`));
      this.shards.set(n, s);
    }
    return s;
  }

  private load(path: string): Shard {
    const fd = openSync(path, 'a+'); // O_APPEND: concurrent writers never overwrite each other's lines
    let size = fstatSync(fd).size;
    const index = new Map<string, number>();
    const chunk = Buffer.allocUnsafe(1 << 20);
    let carry: Buffer = Buffer.alloc(0);
    let pos = 0; // file offset of carry[0]
    let lastGoodEnd = 0;
    while (pos + carry.length < size) {
      const n = readSync(fd, chunk, 0, chunk.length, pos + carry.length);
      if (n <= 0) break;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        const len = nl - start + 1;
        // Lines start with {"k":"<64 hex>"; take the key without parsing the JSON.
        if (len > 8 + 64 && len <= MAX_ENTRY && buf[start + 6 + 64] === 34) {
          const k = buf.toString('latin1', start + 6, start + 6 + 16);
          index.set(k, (pos + start) * LEN_MULT + len);
        }
        start = nl + 1;
        lastGoodEnd = pos + start;
      }
      carry = Buffer.from(buf.subarray(start));
      pos += start;
    }
    if (lastGoodEnd < size) {
      ftruncateSync(fd, lastGoodEnd); // a torn last line
      size = lastGoodEnd;
    }
    return { fd, size, index };
  }

  get(key: string): CachedResponse | undefined {
    const s = this.shard(key);
    const packed = s.index.get(key.slice(0, 16));
    if (packed === undefined) {
      this.misses++;
      return undefined;
    }
    const offset = Math.floor(packed / LEN_MULT);
    const len = packed % LEN_MULT;
    const buf = Buffer.allocUnsafe(len);
    readSync(s.fd, buf, 0, len, offset);
    try {
      const entry = JSON.parse(buf.toString('utf8')) as { k?: string; t?: string; v?: CachedResponse };
      if (entry.k === key && entry.v && typeof entry.v.content === 'string') {
        this.hits++;
        return typeof entry.t === 'string' ? { ...entry.v, time: entry.t } : entry.v;
      }
    } catch {
      /* corrupt line: a miss */
    }
    this.misses++;
    return undefined;
  }

  put(key: string, value: CachedResponse): void {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('cache key must be 64 hex digits');
    const s = this.shard(key);
    const { time, ...v } = value;
    const line = Buffer.from(`${JSON.stringify({ k: key, t: time ?? new Date().toISOString(), v })}\n`, 'utf8');
    if (line.length > MAX_ENTRY) return;
    writeSync(s.fd, line, 0, line.length);
    // (With another process appending to the same shard our offsets go stale; a stale offset fails the
    // full-key check on read and is a miss, never a wrong answer.)
    s.index.set(key.slice(0, 16), s.size * LEN_MULT + line.length);
    s.size += line.length;
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards.values()) n += s.index.size;
    return n;
  }

  close(): void {
    for (const s of this.shards.values()) closeSync(s.fd);
    this.shards.clear();
  }
}
