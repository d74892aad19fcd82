// Duplicate detection: exact (normalized text hash), near (MinHash + LSH banding, verified by the
// estimated Jaccard similarity, clustered with union-find) and semantic (embeddings, cosine,
// random-hyperplane LSH blocking). Pure Node; signatures are computed by a worker_threads pool.
// Parameters and trade-offs: docs/filters.md.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { exactChunk, minhashChunk, normalizers, WORKER_SOURCE } from './minhash-kernel';
import { throwIfAborted } from './fields';

/** One text to deduplicate; `score` (e.g. the judge's) is used by keep: 'highest-score'. */
export interface DedupItem {
  index: number;
  text: string;
  score?: number | undefined;
}

export type DupKind = 'exact' | 'near' | 'semantic';

export interface DupCluster {
  /** 0-based, in order of the clusters' first members. */
  id: number;
  /** Record indices, ascending. */
  members: number[];
  /** The member kept. */
  representative: number;
  kind: DupKind;
  /** exact: 1; near: the smallest estimated Jaccard of a member with the representative; semantic: the smallest cosine. */
  similarity: number;
}

export interface DedupResult {
  clusters: DupCluster[];
  /** Indices to drop (every member but the representative), ascending. */
  drop: number[];
  /** Texts seen. */
  records: number;
  /** Candidate pairs checked (near/semantic). */
  candidates?: number;
}

export const KeepPolicy = z.enum(['first', 'highest-score']);
export type KeepPolicy = z.infer<typeof KeepPolicy>;

export interface DedupProgress {
  (done: number, phase: string): void;
}

type Items = Iterable<DedupItem> | AsyncIterable<DedupItem>;

async function* iterate(items: Items): AsyncGenerator<DedupItem> {
  if (Symbol.asyncIterator in items) for await (const x of items as AsyncIterable<DedupItem>) yield x;
  else for (const x of items as Iterable<DedupItem>) yield x;
}

/**
 * The items in batches (arrays read synchronously): a Channel hands over what it has queued, an
 * array is one batch, other iterables go one by one. Fewer promises per item than iterate().
 */
async function* batches(items: Items): AsyncGenerator<readonly DedupItem[]> {
  if (items instanceof Channel) yield* items.batches();
  else if (Array.isArray(items)) yield items as readonly DedupItem[];
  else for await (const x of iterate(items)) yield [x];
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** mulberry32: a small, fast, seeded 32-bit PRNG (returns floats in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Union-find over 0..n-1 with path halving and union by size. */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      const gp = p[p[x] as number] as number;
      p[x] = gp;
      x = gp;
    }
    return x;
  }
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if ((this.size[ra] as number) < (this.size[rb] as number)) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] = (this.size[ra] as number) + (this.size[rb] as number);
    return true;
  }
}

/** Picks each cluster's representative and the drop list. `groups` hold positions into `items`. */
function finish(
  groups: number[][],
  indexOf: (pos: number) => number,
  scoreOf: (pos: number) => number | undefined,
  keep: KeepPolicy,
  kind: DupKind,
  similarity: (a: number, b: number) => number,
): { clusters: DupCluster[]; drop: number[] } {
  const built = groups
    .filter((g) => g.length > 1)
    .map((g) => {
      const sorted = [...g].sort((a, b) => indexOf(a) - indexOf(b));
      let rep = sorted[0] as number;
      if (keep === 'highest-score') {
        for (const p of sorted) {
          const s = scoreOf(p);
          const r = scoreOf(rep);
          if (s !== undefined && (r === undefined || s > r)) rep = p;
        }
      }
      let sim = 1;
      for (const p of sorted) if (p !== rep) sim = Math.min(sim, similarity(p, rep));
      return { positions: sorted, rep, sim };
    })
    .sort((a, b) => indexOf(a.positions[0] as number) - indexOf(b.positions[0] as number));
  const drop: number[] = [];
  const clusters = built.map((c, id) => {
    const members = c.positions.map(indexOf);
    const representative = indexOf(c.rep);
    for (const m of members) if (m !== representative) drop.push(m);
    return { id, members, representative, kind, similarity: Math.round(c.sim * 1e6) / 1e6 };
  });
  drop.sort((a, b) => a - b);
  return { clusters, drop };
}

/**
 * The records to drop from clusters: every member but the one kept, which is the cluster's
 * representative unless `keep` names another member (cluster id -> record index). Ascending.
 */
export function duplicatesToDrop(
  clusters: readonly DupCluster[],
  keep: ReadonlyMap<number, number> = new Map(),
): number[] {
  const drop: number[] = [];
  for (const c of clusters) {
    const k = keep.get(c.id);
    const kept = k !== undefined && c.members.includes(k) ? k : c.representative;
    for (const m of c.members) if (m !== kept) drop.push(m);
  }
  return drop.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Exact

export const ExactOptions = z.object({
  /** Also remove punctuation and symbols (Unicode P and S) before hashing. */
  stripPunctuation: z.boolean().default(false),
  /** Worker threads for the keys; 0 computes them in this thread. Default: min(2, CPUs). */
  workers: z.number().int().min(0).max(64).optional(),
  /** Texts per message to a worker. */
  chunkSize: z.number().int().min(1).default(4096),
  keep: KeepPolicy.default('first'),
});
export type ExactOptions = z.input<typeof ExactOptions>;

/** NFKC, lowercase (JS toLowerCase as the case fold), whitespace runs to one space, trimmed; optionally no punctuation/symbols. */
export function normalizeText(text: string, stripPunctuation = false): string {
  // The same source as the workers' (minhash-kernel.ts NORMALIZE_SOURCE).
  return normalizers().normalizeText(text, stripPunctuation);
}

/** A 128-bit hex digest of the normalized text (md5 here is a fingerprint, not security). */
export function exactKey(text: string, stripPunctuation = false): string {
  return createHash('md5').update(normalizeText(text, stripPunctuation)).digest('base64');
}

/**
 * Texts packed into one UTF-8 buffer with offsets, a chunk for the kernel (transferred to a worker,
 * not copied). The only work a text costs this thread (which reads the records meanwhile) is one
 * encode: normalization is the kernel's (minhash-kernel.ts), in the workers.
 */
class Packer {
  private buf: Buffer;
  private offsets: Uint32Array;
  private off = 0;
  count = 0;
  constructor(private readonly chunkSize: number) {
    this.buf = Buffer.from(new ArrayBuffer(1 << 16));
    this.offsets = new Uint32Array(Math.min(chunkSize, 1 << 16) + 1);
  }

  private room(bytes: number): void {
    if (this.off + bytes <= this.buf.length) return;
    const b = Buffer.from(new ArrayBuffer(Math.max(this.buf.length * 2, this.off + bytes)));
    this.buf.copy(b, 0, 0, this.off);
    this.buf = b;
  }

  /** Adds a text; true when the chunk is full (texts or bytes). */
  add(text: string): boolean {
    this.room(text.length * 3);
    this.off += this.buf.write(text, this.off, 'utf8');
    if (this.count + 2 > this.offsets.length) {
      const g = new Uint32Array(this.offsets.length * 2);
      g.set(this.offsets);
      this.offsets = g;
    }
    this.offsets[++this.count] = this.off;
    return this.count >= this.chunkSize || this.off >= 32 * 1024 * 1024;
  }

  /** The chunk so far (its buffers belong to the caller), and a fresh one begun. */
  take(): { bytes: Uint8Array; offsets: Uint32Array; count: number } {
    const r = { bytes: new Uint8Array(this.buf.buffer, 0, this.off), offsets: this.offsets, count: this.count };
    this.buf = Buffer.from(new ArrayBuffer(Math.max(1 << 16, this.off + (this.off >>> 3))));
    this.offsets = new Uint32Array(this.offsets.length);
    this.off = 0;
    this.count = 0;
    return r;
  }
}

/**
 * The exact pass's keys (16-byte digests), one per text in order, in an open-addressing table:
 * `first(p)` is the first text with text p's key (p itself for the first). 16 bytes + 4 a text
 * and a table of 2-4 slots a text: no string and no array per text.
 */
class DigestTable {
  private digests = new Uint8Array(16 * 1024);
  private firstOf = new Int32Array(1024);
  private slots = new Int32Array(4096); // position + 1; 0 is empty
  n = 0;

  private hashAt(d: Uint8Array, at: number): number {
    return (
      ((d[at] as number) |
        ((d[at + 1] as number) << 8) |
        ((d[at + 2] as number) << 16) |
        ((d[at + 3] as number) << 24)) >>>
      0
    );
  }

  private sameAt(p: number, key: Uint8Array, at: number): boolean {
    const d = this.digests;
    for (let i = 0, x = p * 16; i < 16; i++) if (d[x + i] !== key[at + i]) return false;
    return true;
  }

  private place(p: number): void {
    const mask = this.slots.length - 1;
    for (let h = this.hashAt(this.digests, p * 16) & mask; ; h = (h + 1) & mask)
      if (this.slots[h] === 0) {
        this.slots[h] = p + 1;
        return;
      }
  }

  /** Adds the next text's key (bytes at..at+16 of `keys`). */
  add(keys: Uint8Array, at: number): void {
    const p = this.n;
    if (p === this.firstOf.length) {
      const d = new Uint8Array(this.digests.length * 2);
      d.set(this.digests);
      this.digests = d;
      const f = new Int32Array(this.firstOf.length * 2);
      f.set(this.firstOf);
      this.firstOf = f;
    }
    if (2 * (p + 1) > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let q = 0; q < p; q++) if (this.firstOf[q] === q) this.place(q);
    }
    const mask = this.slots.length - 1;
    let h = this.hashAt(keys, at) & mask;
    for (;;) {
      const s = this.slots[h] as number;
      if (s === 0) break;
      if (this.sameAt(s - 1, keys, at)) {
        this.firstOf[p] = s - 1;
        this.n++;
        return;
      }
      h = (h + 1) & mask;
    }
    this.digests.set(keys.subarray(at, at + 16), p * 16);
    this.firstOf[p] = p;
    this.slots[h] = p + 1;
    this.n++;
  }

  first(p: number): number {
    return this.firstOf[p] as number;
  }
}

/** The md5 of bytes (the exact pass's fingerprint, not security). */
const md5 = (b: Uint8Array): Uint8Array => createHash('md5').update(b).digest();

/**
 * Exact duplicates: texts with the same exactKey. The keys are computed by the kernel in worker
 * threads (normalization included: minhash-kernel.ts exactChunk); the main thread only packs the
 * texts and looks the keys up: it reads the records meanwhile (filter.ts).
 */
export async function exactDuplicates(
  items: Items,
  options: ExactOptions = {},
  signal?: AbortSignal,
  progress?: DedupProgress,
): Promise<DedupResult> {
  const o = ExactOptions.parse(options);
  const strip = o.stripPunctuation;
  const workers = o.workers ?? Math.min(2, availableParallelism());
  // Workers are started with the first full chunk: an input of one chunk is done in this thread.
  let pool: Pool | undefined;
  const table = new DigestTable();
  const idx: number[] = [];
  const scores: (number | undefined)[] = [];
  const packer = new Packer(o.chunkSize);
  const results: Promise<ChunkResult>[] = [];
  const take = (r: ChunkResult) => {
    const keys = new Uint8Array(r.out);
    for (let at = 0; at < keys.length; at += 16) table.add(keys, at);
  };
  const flush = async (last = false) => {
    if (packer.count === 0) return;
    const { bytes, offsets, count } = packer.take();
    if (workers > 0 && (pool || !last)) {
      pool ??= new Pool(workers);
      const done = pool.submit({ exact: true, bytes: bytes.buffer, offsets: offsets.buffer, n: count, strip }, [
        bytes.buffer as ArrayBuffer,
        offsets.buffer as ArrayBuffer,
      ]);
      done.catch(() => {});
      results.push(done);
      while (results.length > 2 * workers) take(await (results.shift() as Promise<ChunkResult>));
      await pool.room();
    } else {
      const keys = new Uint8Array(count * 16);
      exactChunk()(bytes, offsets, count, strip, keys, md5, normalizers().exactSlow(strip));
      take({ out: keys.buffer, counts: new ArrayBuffer(0) });
    }
  };
  let n = 0;
  try {
    for await (const batch of batches(items))
      for (const it of batch) {
        if ((n & 4095) === 0) {
          throwIfAborted(signal);
          progress?.(n, 'hashing');
        }
        idx.push(it.index);
        scores.push(it.score);
        n++;
        if (packer.add(it.text)) await flush();
      }
    await flush(true);
    while (results.length) take(await (results.shift() as Promise<ChunkResult>));
    throwIfAborted(signal);
  } finally {
    await pool?.close();
  }
  const byFirst = new Map<number, number[]>();
  for (let p = 0; p < n; p++) {
    const f = table.first(p);
    if (f === p) continue;
    const g = byFirst.get(f);
    if (g) g.push(p);
    else byFirst.set(f, [f, p]);
  }
  const r = finish(
    [...byFirst.values()],
    (p) => idx[p] as number,
    (p) => scores[p],
    o.keep,
    'exact',
    () => 1,
  );
  return { ...r, records: n };
}

// ---------------------------------------------------------------------------------------------
// Near: MinHash + LSH

export const NearOptions = z.object({
  /** Shingles of words (default) or characters (better for CJK and very short texts). */
  shingle: z.enum(['words', 'chars']).default('words'),
  /** Words or bytes per shingle; default 5 words / 7 chars. */
  shingleSize: z.number().int().min(1).max(64).optional(),
  numPerm: z.number().int().min(8).max(1024).default(128),
  /** LSH bands and rows (bands * rows <= numPerm); default: chosen for the threshold (see optimalBands). */
  bands: z.number().int().min(1).optional(),
  rows: z.number().int().min(1).optional(),
  /** Pairs whose estimated Jaccard is at least this are duplicates. */
  threshold: z.number().gt(0).max(1).default(0.8),
  seed: z.number().int().default(1),
  /** NFKC + lowercase a non-ASCII text before shingling (in the workers: minhash-kernel.ts). */
  normalize: z.boolean().default(true),
  /** Worker threads for the signatures; 0 computes them in this thread. Default: min(2, CPUs). */
  workers: z.number().int().min(0).max(64).optional(),
  /** Texts per message to a worker. */
  chunkSize: z.number().int().min(1).default(4096),
  keep: KeepPolicy.default('first'),
});
export type NearOptions = z.input<typeof NearOptions>;

/**
 * The (bands, rows) that minimise the weighted sum of the false-positive and false-negative areas
 * of the LSH S-curve 1 - (1 - s^r)^b around the threshold (as datasketch does), with b*r <= numPerm.
 * The default weights favour recall (0.1 / 0.9): a false-positive candidate only costs one
 * signature comparison, since every candidate pair is verified; a false negative is a missed
 * duplicate. For 0.8 and 128 permutations: 14 bands of 9 rows (datasketch's 0.5/0.5 gives 9 x 13).
 */
export function optimalBands(
  threshold: number,
  numPerm: number,
  fpWeight = 0.1,
  fnWeight = 0.9,
): { bands: number; rows: number } {
  // Some 280,000 evaluations of the S-curve (40-100 ms): computed once per parameters.
  const key = `${threshold} ${numPerm} ${fpWeight} ${fnWeight}`;
  const known = bandsFor.get(key);
  if (known) return { ...known };
  const best = searchBands(threshold, numPerm, fpWeight, fnWeight);
  bandsFor.set(key, best);
  return { ...best };
}

const bandsFor = new Map<string, { bands: number; rows: number }>();

function searchBands(
  threshold: number,
  numPerm: number,
  fpWeight: number,
  fnWeight: number,
): { bands: number; rows: number } {
  const integrate = (f: (s: number) => number, a: number, b: number) => {
    const steps = 200;
    const h = (b - a) / steps;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += f(a + (i + 0.5) * h) * h;
    return sum;
  };
  let best = { bands: 1, rows: numPerm };
  let bestErr = Infinity;
  for (let b = 1; b <= numPerm; b++) {
    const maxR = Math.floor(numPerm / b);
    for (let r = 1; r <= maxR; r++) {
      const fp = integrate((s) => 1 - (1 - s ** r) ** b, 0, threshold);
      const fn = integrate((s) => 1 - (1 - (1 - s ** r) ** b), threshold, 1);
      const err = fpWeight * fp + fnWeight * fn;
      if (err < bestErr) {
        bestErr = err;
        best = { bands: b, rows: r };
      }
    }
  }
  return best;
}

/** The permutation parameters (a_p, c_p) for a seed: 2*numPerm int32s. */
export function permutations(numPerm: number, seed: number): Int32Array {
  const rnd = mulberry32(seed ^ 0x5eed1234);
  const out = new Int32Array(2 * numPerm);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rnd() * 4294967296) | 0;
  return out;
}

/** Texts per block of signature components (2^16: a text's block is its position >>> 16). */
const SIG_BLOCK = 65536;

export interface Signatures {
  /**
   * The components (the low 16 bits of each minimum: minhash-kernel.ts; only equality matters),
   * SIG_BLOCK texts per block: text d's are blocks[d >>> 16] from (d & 0xffff) * numPerm.
   */
  blocks: Uint16Array[];
  /** All n * numPerm components as one array (put together on first use: tests, small inputs). */
  readonly sig: Uint16Array;
  /** Shingles per text (0: empty text, left out of near-duplicate search). */
  counts: Uint32Array;
  index: Int32Array;
  scores: Float64Array;
  n: number;
  numPerm: number;
}

/** A worker's answer: the signatures (Uint16) and shingle counts (Uint32), or the exact keys (16 bytes a text). */
type ChunkResult = { out: ArrayBufferLike; counts: ArrayBufferLike };
interface Job {
  msg: Record<string, unknown>;
  transfer: ArrayBuffer[];
  resolve: (r: ChunkResult) => void;
  reject: (e: unknown) => void;
}

/** A small pool of kernel workers (worker_threads, `eval: true`) with a job queue. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly roomWaiters: (() => void)[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { out: ArrayBuffer; counts: ArrayBuffer }) => {
        const job = this.running.get(w);
        this.running.delete(w);
        this.idle.push(w);
        job?.resolve(m);
        this.pump();
      });
      w.on('error', (e) => {
        this.failure = e;
        for (const j of [...this.running.values(), ...this.queue.splice(0)]) j.reject(e);
        this.running.clear();
        for (const r of this.roomWaiters.splice(0)) r();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private pump() {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.running.set(w, job);
      w.postMessage({ ...job.msg, id: this.nextId++ }, job.transfer);
    }
    if (this.queue.length < this.workers.length) for (const r of this.roomWaiters.splice(0)) r();
  }

  /** Resolves when fewer jobs than workers are waiting (so the caller can prepare the next one meanwhile). */
  async room(): Promise<void> {
    this.throwIfFailed();
    if (this.queue.length < this.workers.length) return;
    await new Promise<void>((r) => this.roomWaiters.push(r));
    this.throwIfFailed(); // a worker may have failed meanwhile
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  submit(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<ChunkResult>((resolve, reject) => this.queue.push({ msg, transfer, resolve, reject }));
    this.pump();
    return done;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** MinHash signatures of the texts, streaming them to a worker pool in chunks. */
export async function computeSignatures(
  items: Items,
  options: NearOptions = {},
  signal?: AbortSignal,
  progress?: DedupProgress,
): Promise<Signatures> {
  const o = NearOptions.parse(options);
  const mode: 0 | 1 = o.shingle === 'words' ? 0 : 1;
  const k = o.shingleSize ?? (mode === 0 ? 5 : 7);
  const perm = permutations(o.numPerm, o.seed);
  const workers = o.workers ?? Math.min(2, availableParallelism());
  // Workers are started with the first full chunk: an input of one chunk is done in this thread.
  let pool: Pool | undefined;
  // Chunks in flight, in order; finished ones are copied into fixed blocks (no copying to grow)
  // and dropped, then the blocks into one array at the end: memory holds the signatures (2 bytes
  // a component) at most twice, for a moment, never once per chunk plus a doubled array.
  const results: Promise<ChunkResult>[] = [];
  const P = o.numPerm;
  const BLOCK = SIG_BLOCK;
  const sigBlocks: Uint16Array[] = [];
  const countBlocks: Uint32Array[] = [];
  let got = 0;
  const take = (chunk: ChunkResult) => {
    const r = { out: new Uint16Array(chunk.out), counts: new Uint32Array(chunk.counts) };
    const m = r.counts.length;
    let k = 0;
    while (k < m) {
      const b = Math.floor(got / BLOCK);
      const at = got % BLOCK;
      if (b === sigBlocks.length) {
        sigBlocks.push(new Uint16Array(0));
        countBlocks.push(new Uint32Array(0));
      }
      const len = Math.min(m - k, BLOCK - at);
      // A block grows (by doubling, up to BLOCK texts) as texts come: small inputs stay small.
      if (countBlocks[b]!.length < at + len) {
        const cap = Math.min(BLOCK, Math.max(at + len, countBlocks[b]!.length * 2, 1024));
        const sb = new Uint16Array(cap * P);
        sb.set(sigBlocks[b]!.subarray(0, at * P));
        sigBlocks[b] = sb;
        const cb = new Uint32Array(cap);
        cb.set(countBlocks[b]!.subarray(0, at));
        countBlocks[b] = cb;
      }
      sigBlocks[b]!.set(r.out.subarray(k * P, (k + len) * P), at * P);
      countBlocks[b]!.set(r.counts.subarray(k, k + len), at);
      k += len;
      got += len;
    }
  };
  const index: number[] = [];
  const scores: number[] = [];
  let n = 0;
  const packer = new Packer(o.chunkSize);

  const flush = async (last = false) => {
    if (packer.count === 0) return;
    const { bytes, offsets, count } = packer.take();
    if (workers > 0 && (pool || !last)) {
      pool ??= new Pool(workers);
      const done = pool.submit(
        {
          bytes: bytes.buffer,
          offsets: offsets.buffer,
          n: count,
          mode,
          k,
          numPerm: o.numPerm,
          perm,
          normalize: o.normalize,
        },
        [bytes.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer],
      );
      done.catch(() => {});
      results.push(done);
      while (results.length > 2 * workers) take(await (results.shift() as Promise<ChunkResult>));
      await pool.room();
    } else {
      const out = new Uint16Array(count * o.numPerm);
      const counts = new Uint32Array(count);
      const slow = o.normalize ? normalizers().nearSlow : null;
      minhashChunk()(bytes, offsets, count, mode, k, o.numPerm, perm, out, counts, slow);
      take({ out: out.buffer, counts: counts.buffer });
    }
  };

  try {
    for await (const batch of batches(items))
      for (const it of batch) {
        if ((n & 4095) === 0) {
          throwIfAborted(signal);
          progress?.(n, 'signatures');
        }
        index.push(it.index);
        scores.push(it.score ?? Number.NaN);
        n++;
        if (packer.add(it.text)) await flush();
      }
    await flush(true);
    while (results.length) take(await (results.shift() as Promise<ChunkResult>));
    throwIfAborted(signal);
    const counts = new Uint32Array(n);
    for (let b = 0; b < countBlocks.length; b++)
      counts.set(countBlocks[b]!.subarray(0, Math.min(BLOCK, n - b * BLOCK)), b * BLOCK);
    let whole: Uint16Array | undefined;
    return {
      blocks: sigBlocks,
      get sig(): Uint16Array {
        if (!whole) {
          whole = new Uint16Array(n * P);
          for (let b = 0; b < sigBlocks.length; b++)
            whole.set(sigBlocks[b]!.subarray(0, Math.min(BLOCK, n - b * BLOCK) * P), b * BLOCK * P);
        }
        return whole;
      },
      counts,
      index: Int32Array.from(index),
      scores: Float64Array.from(scores),
      n,
      numPerm: P,
    };
  } finally {
    await pool?.close();
  }
}

/** The fraction of equal signature components of texts a and b (positions). */
export function estimatedJaccard(s: Signatures, a: number, b: number): number {
  const P = s.numPerm;
  const sa = s.blocks[a >>> 16] as Uint16Array;
  const sb = s.blocks[b >>> 16] as Uint16Array;
  let eq = 0;
  for (let i = 0, ia = (a & 0xffff) * P, ib = (b & 0xffff) * P; i < P; i++, ia++, ib++) if (sa[ia] === sb[ib]) eq++;
  return eq / P;
}

/** Clusters near-duplicates from signatures with LSH banding; candidate pairs are verified. */
export function clusterSignatures(s: Signatures, options: NearOptions = {}, signal?: AbortSignal): DedupResult {
  const o = NearOptions.parse(options);
  const P = s.numPerm;
  let { bands, rows } =
    o.bands !== undefined && o.rows !== undefined ? { bands: o.bands, rows: o.rows } : optimalBands(o.threshold, P);
  if (o.bands !== undefined && o.rows === undefined) {
    bands = o.bands;
    rows = Math.floor(P / bands);
  } else if (o.rows !== undefined && o.bands === undefined) {
    rows = o.rows;
    bands = Math.floor(P / rows);
  }
  if (bands * rows > P || rows < 1 || bands < 1)
    throw new RangeError(`bands * rows (${bands} * ${rows}) must be at most numPerm (${P})`);
  const n = s.n;
  const uf = new UnionFind(n);
  // Only texts with at least one shingle take part.
  let m = 0;
  for (let i = 0; i < n; i++) if ((s.counts[i] as number) > 0) m++;
  const live = new Int32Array(m);
  for (let i = 0, t = 0; i < n; i++) if ((s.counts[i] as number) > 0) live[t++] = i;
  // Per band, texts are bucketed by the hash of their band in an open-addressing table (no sort:
  // O(texts) a band), then laid out bucket by bucket in text order (a counting sort).
  let cap = 16;
  while (cap < 2 * m) cap *= 2;
  const mask = cap - 1;
  const slotKey = new Uint32Array(cap);
  const slotBucket = new Int32Array(cap);
  const bucketOf = new Int32Array(m);
  const bucketStart = new Int32Array(m + 1);
  const order = new Int32Array(m);
  let candidates = 0;
  const blocks = s.blocks;
  const verify = (a: number, b: number) => {
    if (uf.find(a) === uf.find(b)) return;
    candidates++;
    if (estimatedJaccard(s, a, b) >= o.threshold) uf.union(a, b);
  };
  for (let band = 0; band < bands; band++) {
    throwIfAborted(signal);
    slotBucket.fill(-1);
    let buckets = 0;
    bucketStart.fill(0);
    for (let t = 0; t < m; t++) {
      const d = live[t] as number;
      let x = Math.imul(band + 1, 0x9e3779b1);
      const sig = blocks[d >>> 16] as Uint16Array;
      for (let r = 0, at = (d & 0xffff) * P + band * rows; r < rows; r++, at++) {
        x = Math.imul(x ^ (sig[at] as number), 0x5bd1e995);
        x ^= x >>> 13;
      }
      x ^= x >>> 16;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      const key = x >>> 0;
      let h = Math.imul(key, 0x9e3779b1) & mask;
      for (;;) {
        const b = slotBucket[h] as number;
        if (b === -1) {
          slotBucket[h] = buckets;
          slotKey[h] = key;
          bucketOf[t] = buckets++;
          break;
        }
        if (slotKey[h] === key) {
          bucketOf[t] = b;
          break;
        }
        h = (h + 1) & mask;
      }
      bucketStart[(bucketOf[t] as number) + 1]!++;
    }
    for (let b = 0; b < buckets; b++) bucketStart[b + 1]! += bucketStart[b] as number;
    // order: bucket by bucket, texts ascending within a bucket (bucketStart[b] is used as a cursor).
    for (let t = 0; t < m; t++) order[bucketStart[bucketOf[t] as number]!++] = t;
    // Each cursor now sits at its bucket's end, which is the next bucket's start.
    for (let b = 0, start = 0; b < buckets; b++) {
      const end = bucketStart[b] as number;
      const size = end - start;
      if (size > 1) {
        for (let i = start + 1; i < end; i++) {
          const a = live[order[i] as number] as number;
          if (size <= 32) {
            for (let j = start; j < i; j++) verify(a, live[order[j] as number] as number);
          } else {
            verify(a, live[order[start] as number] as number);
            verify(a, live[order[i - 1] as number] as number);
          }
        }
      }
      start = end;
    }
  }
  // Groups of more than one member only (a million singletons are a million arrays otherwise).
  const size = new Int32Array(n);
  for (const d of live) size[uf.find(d)]!++;
  const groups = new Map<number, number[]>();
  for (const d of live) {
    const r = uf.find(d);
    if ((size[r] as number) < 2) continue;
    const g = groups.get(r);
    if (g) g.push(d);
    else groups.set(r, [d]);
  }
  const res = finish(
    [...groups.values()],
    (p) => s.index[p] as number,
    (p) => {
      const v = s.scores[p] as number;
      return Number.isNaN(v) ? undefined : v;
    },
    o.keep,
    'near',
    (a, b) => estimatedJaccard(s, a, b),
  );
  return { ...res, records: n, candidates };
}

export async function nearDuplicates(
  items: Items,
  options: NearOptions = {},
  signal?: AbortSignal,
  progress?: DedupProgress,
): Promise<DedupResult> {
  const s = await computeSignatures(items, options, signal, progress);
  progress?.(s.n, 'clustering');
  return clusterSignatures(s, options, signal);
}

// ---------------------------------------------------------------------------------------------
// Streaming: texts handed over one by one while a caller reads its records

/**
 * A bounded hand-over from a producer (a loop over records) to a consumer that iterates (the
 * duplicate search): the producer waits while `limit` items are queued; a consumer that stops
 * (an error) releases it.
 */
class Channel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private closed = false;
  private stopped = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;
  constructor(private readonly limit: number) {}

  /** Queues an item; a promise to wait for only when the queue is full (undefined otherwise: no await needed). */
  push(x: T): Promise<void> | undefined {
    if (this.stopped) return undefined;
    this.queue.push(x);
    if (this.queue.length === 1 || this.queue.length >= this.limit) this.wakeConsumer?.();
    if (this.queue.length >= this.limit) return new Promise<void>((r) => (this.wakeProducer = r));
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
  }

  /** The consumer gave up: pushes return at once from now on. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.wakeProducer?.();
  }

  /** What is queued, batch by batch, until closed. */
  async *batches(): AsyncGenerator<T[]> {
    for (;;) {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        const w = this.wakeProducer;
        this.wakeProducer = undefined;
        w?.();
        yield batch;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wakeConsumer = r));
      this.wakeConsumer = undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const batch of this.batches()) yield* batch;
  }
}

/**
 * Duplicate search fed one record at a time (the filter's loop over a dataset): exact and near
 * search run while the records are read, so their texts are never all held in memory (near
 * duplicates of 1M records of 1 KB: the signatures, 256 MB, not the texts). Semantic search
 * collects its texts (they go to the embeddings endpoint in batches at the end).
 */
export function duplicateFinder(
  method: DupKind,
  run: (items: Items, signal: AbortSignal) => Promise<DedupResult>,
  signal?: AbortSignal,
): { add(item: DedupItem): Promise<void> | undefined; finish(): Promise<DedupResult>; abandon(): void } {
  // Its own signal: abandon() (the caller failed) stops the search as an abort would.
  const ac = new AbortController();
  const follow = () => ac.abort(signal?.reason);
  if (signal?.aborted) follow();
  else signal?.addEventListener('abort', follow, { once: true });
  const done = () => signal?.removeEventListener('abort', follow);
  if (method === 'semantic') {
    const items: DedupItem[] = [];
    return {
      add: (item) => void items.push(item),
      finish: () => run(items, ac.signal).finally(done),
      abandon: done,
    };
  }
  const channel = new Channel<DedupItem>(4096);
  const result = run(channel, ac.signal).finally(done);
  result.catch(() => channel.stop());
  return {
    add: (item) => channel.push(item),
    finish: () => {
      channel.close();
      return result;
    },
    abandon: () => {
      ac.abort();
      channel.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Semantic: embeddings + cosine, random-hyperplane LSH blocking

/** Embeds texts, one vector per text in order (src/core/llm/embeddings.ts: the endpoint's /embeddings). */
export type EmbedFn = (texts: string[], signal?: AbortSignal) => Promise<number[][]>;

export const SemanticOptions = z.object({
  threshold: z.number().min(-1).max(1).default(0.95),
  /** Texts per embeddings request. */
  batchSize: z.number().int().min(1).default(64),
  /** Requests in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Hash tables and hyperplanes (bits) per table: a pair with angle θ shares a table's bucket with probability (1 - θ/π)^bits. */
  tables: z.number().int().min(1).max(64).default(16),
  bits: z.number().int().min(1).max(30).default(10),
  seed: z.number().int().default(1),
  keep: KeepPolicy.default('first'),
});
export type SemanticOptions = z.input<typeof SemanticOptions>;

export async function semanticDuplicates(
  items: Items,
  embed: EmbedFn,
  options: SemanticOptions = {},
  signal?: AbortSignal,
  progress?: DedupProgress,
): Promise<DedupResult> {
  const o = SemanticOptions.parse(options);
  const index: number[] = [];
  const scores: (number | undefined)[] = [];
  const vectors: Float32Array[] = [];
  let dim = -1;
  let batch: string[] = [];
  // Up to `concurrency` batches in flight; their vectors land in order.
  const inFlight: Promise<number[][]>[] = [];
  let embedded = 0;
  const settle = async () => {
    const out = await (inFlight.shift() as Promise<number[][]>);
    for (const v of out) {
      if (dim === -1) dim = v.length;
      if (v.length !== dim || dim === 0) throw new Error(`embedding of length ${v.length}, expected ${dim}`);
      let norm = 0;
      for (const x of v) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      vectors.push(Float32Array.from(v, (x) => x / norm));
    }
    embedded += out.length;
    progress?.(embedded, 'embeddings');
  };
  const flush = async () => {
    if (batch.length === 0) return;
    throwIfAborted(signal);
    const texts = batch;
    batch = [];
    const p = embed(texts, signal).then((out) => {
      if (out.length !== texts.length)
        throw new Error(`the embeddings function returned ${out.length} vectors for ${texts.length} texts`);
      return out;
    });
    p.catch(() => undefined); // awaited in order below; a failure must not go unhandled meanwhile
    inFlight.push(p);
    if (inFlight.length >= o.concurrency) await settle();
  };
  for await (const it of iterate(items)) {
    batch.push(it.text);
    index.push(it.index);
    scores.push(it.score);
    if (batch.length >= o.batchSize) await flush();
  }
  await flush();
  while (inFlight.length) await settle();
  const n = vectors.length;
  const cos = (a: number, b: number) => {
    const va = vectors[a] as Float32Array;
    const vb = vectors[b] as Float32Array;
    let s = 0;
    for (let i = 0; i < va.length; i++) s += (va[i] as number) * (vb[i] as number);
    return s;
  };
  const uf = new UnionFind(n);
  let candidates = 0;
  if (n > 1) {
    const rnd = mulberry32(o.seed);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    for (let t = 0; t < o.tables; t++) {
      throwIfAborted(signal);
      const planes = Array.from({ length: o.bits }, () => Float32Array.from({ length: dim }, gauss));
      const buckets = new Map<number, number[]>();
      for (let i = 0; i < n; i++) {
        const v = vectors[i] as Float32Array;
        let key = 0;
        for (let b = 0; b < o.bits; b++) {
          const pl = planes[b] as Float32Array;
          let s = 0;
          for (let d = 0; d < dim; d++) s += (v[d] as number) * (pl[d] as number);
          if (s >= 0) key |= 1 << b;
        }
        const g = buckets.get(key);
        if (g) g.push(i);
        else buckets.set(key, [i]);
      }
      for (const g of buckets.values()) {
        for (let i = 1; i < g.length; i++) {
          for (let j = 0; j < i; j++) {
            const a = g[i] as number;
            const b = g[j] as number;
            if (uf.find(a) === uf.find(b)) continue;
            candidates++;
            if (cos(a, b) >= o.threshold) uf.union(a, b);
          }
        }
      }
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    const g = groups.get(r);
    if (g) g.push(i);
    else groups.set(r, [i]);
  }
  const res = finish(
    [...groups.values()],
    (p) => index[p] as number,
    (p) => scores[p],
    o.keep,
    'semantic',
    cos,
  );
  return { ...res, records: n, candidates };
}
