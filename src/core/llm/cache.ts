// A response cache on disk: 16 append-only JSONL shards (by the first hex digit of the key) with an
// in-memory index per shard, loaded lazily on first use.
//
//   <dir>/shard-<h>.jsonl   one line per entry: {"k":"<64 hex sha256>","t":"<iso time>","v":{...},"m":"<64 hex>"}
//   <dir>/.gitignore        "*": a cache never shows in `git status`, wherever it lives
//
// Where: a per-user folder outside any workspace by default (defaultCacheDir(): $XDG_CACHE_HOME/
// dataset-curator/llm, ~/Library/Caches/dataset-curator/llm, %LOCALAPPDATA%\dataset-curator\Cache\llm);
// a workspace folder only when asked for (the CLI's --cache-dir, the extension's llm.cacheDir).
//
// Authenticated: `m` is an HMAC-SHA256, under a per-user secret, of the entry's bytes before it.
// The secret is 32 random bytes in a 0600 file of the user's config folder (cacheSecretPath()),
// made on first use. An entry whose MAC does not verify is a miss: a cloned repository, or anyone
// who can write the cache folder but not read the secret, cannot plant answers (cache keys are a
// plain hash of the request that anyone can compute; the MAC is what they cannot).
//
// Robust to kill -9: every entry is one write() of one whole line on an O_APPEND descriptor; a torn
// last line (power loss, full disk) has no trailing newline and is cut off when the shard is next
// opened; a corrupt line is a miss on read. The index maps the first 16 hex digits of the key to
// (offset, length) packed in one number, so 1M entries cost ~70 MB and a hit is one pread, one
// HMAC and one JSON.parse (the full key is checked on read). No native dependencies. Nothing secret
// is stored: the key is a hash of the request (never the API key) and values are the model's
// answer (the API key redacted from it: see redactSecret) and usage.
import type { TokenLogprob } from './batch/format';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { jsonText } from '../json-text';
import { scanLines } from '../scan-lines';
import { ensureGitIgnored } from '../store/files';

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
  if (value === null || typeof value !== 'object') return jsonText(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
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
  /** The answer's token log probabilities, when the request asked for them. */
  logprobs?: TokenLogprob[];
}

const MAX_ENTRY = (1 << 20) - 1; // entries larger than 1 MB are not cached
const LEN_MULT = 1 << 20;
/** `,"m":"<64 hex>"}` closes every entry. */
const MAC_SUFFIX = 72;

// --- where: per-user folders ---------------------------------------------------------------------

type Env = Record<string, string | undefined>;

/** The user's cache folder for this tool (not in any workspace). */
export function userCacheRoot(
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
  home = homedir(),
): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'dataset-curator', 'Cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'dataset-curator');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'dataset-curator');
}

/** The user's config folder for this tool (where the cache's secret lives). */
export function userConfigRoot(
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
  home = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'dataset-curator');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'dataset-curator');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'dataset-curator');
}

/** The default response cache: per user, outside every workspace. */
export function defaultCacheDir(): string {
  return join(userCacheRoot(), 'llm');
}

export function cacheSecretPath(): string {
  return join(userConfigRoot(), 'cache-secret');
}

const secrets = new Map<string, Buffer>();

/**
 * The per-user secret that authenticates cache entries: read from `path`, or made on first use
 * (32 random bytes, hex, in a 0600 file; put in place with link(), which never replaces, so two
 * processes starting at once agree on one secret).
 */
export function cacheSecret(path = cacheSecretPath()): Buffer {
  const known = secrets.get(path);
  if (known) return known;
  const read = (): Buffer | undefined => {
    try {
      const hex = readFileSync(path, 'utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
      if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return Buffer.from(hex, 'hex');
    } catch {
      return undefined;
    }
  };
  let secret = read();
  if (!secret) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, path);
    } catch (err) {
      // EEXIST: another process made it first (use theirs). A corrupt one is replaced.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || read() === undefined) renameSync(tmp, path);
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // renamed
      }
    }
    secret = read();
    if (!secret) throw new Error(`cannot read or create the response cache's secret at ${path}`);
  }
  secrets.set(path, secret);
  return secret;
}

// --- the cache ------------------------------------------------------------------------------------

interface Shard {
  fd: number;
  size: number;
  index: Map<string, number>;
}

export interface ResponseCacheOptions {
  /** The HMAC secret; default the user's (cacheSecret()). */
  secret?: Buffer;
}

export class ResponseCache {
  private shards = new Map<number, Shard>();
  private readonly secret: Buffer;
  hits = 0;
  misses = 0;
  /** Entries found but not authenticated (planted, or written under another user's secret). */
  rejected = 0;

  constructor(
    readonly dir: string,
    opts: ResponseCacheOptions = {},
  ) {
    this.secret = opts.secret ?? cacheSecret();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ensureGitIgnored(dir);
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body, 'utf8').digest();
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
    const fd = openSync(path, 'a+', 0o600); // O_APPEND: concurrent writers never overwrite each other's lines
    let size = fstatSync(fd).size;
    const index = new Map<string, number>();
    const lastGoodEnd = scanLines(
      fd,
      (buf, start, end, offset) => {
        const len = end - start + 1;
        // Lines start with {"k":"<64 hex>"; take the key without parsing the JSON.
        if (len > 8 + 64 && len <= MAX_ENTRY && buf[start + 6 + 64] === 34)
          index.set(buf.toString('latin1', start + 6, start + 6 + 16), offset * LEN_MULT + len);
      },
      size,
    );
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
    const line = buf.toString('utf8').replace(/\n$/, '');
    const m = /,"m":"([0-9a-f]{64})"\}$/.exec(line.slice(-MAC_SUFFIX));
    const body = line.slice(0, -MAC_SUFFIX);
    if (!m || !timingSafeEqual(this.mac(body), Buffer.from(m[1]!, 'hex'))) {
      this.rejected++;
      this.misses++;
      return undefined;
    }
    try {
      const entry = JSON.parse(`${body}}`) as { k?: string; t?: string; v?: CachedResponse };
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
    const json = JSON.stringify({ k: key, t: time ?? new Date().toISOString(), v });
    const body = json.slice(0, -1);
    const line = Buffer.from(`${body},"m":"${this.mac(body).toString('hex')}"}\n`, 'utf8');
    if (line.length > MAX_ENTRY) return;
    writeSync(s.fd, line, 0, line.length);
    // (With another process appending to the same shard our offsets go stale; a stale offset fails the
    // MAC or the full-key check on read and is a miss, never a wrong answer.)
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
