// Flow control for LLM requests: an adaptive (AIMD) concurrency limiter and token buckets for
// requests-per-minute and tokens-per-minute.

export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'The operation was aborted.');
  e.name = 'AbortError';
  return e;
}

/**
 * Runs `send` (one SDK request) with a signal of its own that follows `outer` until `send` settles.
 * The openai SDK adds an abort listener to the signal a request is given and never removes it
 * (`fetchWithTimeout`, openai 6.x): given a job's signal, a job of 100,000 requests left 100,000
 * listeners on it, and Node's EventTarget walks them all at each add, so the job's CPU grew with
 * the square of its records (`curate label` over 100,000 records: 312 s of CPU, 2.9 s of a 20,000
 * records run's 13 s in `addEventListener`, a CPU profile).
 */
export async function withRequestSignal<T>(
  outer: AbortSignal | undefined,
  send: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (!outer) return send(undefined);
  const own = new AbortController();
  const follow = (): void => own.abort(outer.reason);
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  try {
    return await send(own.signal);
  } finally {
    outer.removeEventListener('abort', follow);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface Permit {
  /** Sequence number at grant time: congestion seen by requests granted before the last decrease is ignored. */
  readonly seq: number;
  release(): void;
}

/**
 * AIMD concurrency: starts at `max`; `congestion()` (429/503) halves the limit (at most once per
 * "generation": answers to requests that were already in flight before the last decrease do not
 * halve it again); `success()` grows it by one after `growAfter` consecutive successes; never
 * above `max`, never below 1.
 */
export class AdaptiveLimiter {
  private _limit: number;
  private inFlight = 0;
  private seq = 0;
  private decreasedAt = -1;
  private successes = 0;
  private waiters: Array<{ grant: (p: Permit) => void }> = [];

  constructor(
    readonly max: number,
    private readonly growAfter = 8,
  ) {
    if (!(max >= 1)) throw new RangeError('concurrency must be >= 1');
    this._limit = max;
  }

  get limit(): number {
    return this._limit;
  }
  get active(): number {
    return this.inFlight;
  }

  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.inFlight < this._limit && this.waiters.length === 0) return Promise.resolve(this.grant());
    return new Promise<Permit>((resolve, reject) => {
      const w = {
        grant: (p: Permit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(p);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  private grant(): Permit {
    this.inFlight++;
    const seq = ++this.seq;
    let released = false;
    return {
      seq,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      },
    };
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.inFlight < this._limit) {
      const w = this.waiters.shift() as { grant: (p: Permit) => void };
      w.grant(this.grant());
    }
  }

  success(): void {
    if (this._limit >= this.max) return;
    if (++this.successes >= this.growAfter) {
      this.successes = 0;
      this._limit++;
      this.pump();
    }
  }

  congestion(permit?: Permit): void {
    this.successes = 0;
    if (permit && permit.seq <= this.decreasedAt) return;
    this._limit = Math.max(1, Math.floor(this._limit / 2));
    this.decreasedAt = this.seq;
  }
}

/**
 * A token bucket of `perMinute` tokens refilling continuously. `take(n)` waits (FIFO) until n
 * tokens are there (a request larger than the bucket waits for a full bucket, then goes into
 * debt). `adjust(d)` corrects an estimate afterwards (d > 0 takes more, d < 0 gives back).
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }

  take(n: number, signal?: AbortSignal): Promise<void> {
    const need = Math.min(n, this.perMinute);
    const run = async (): Promise<void> => {
      for (;;) {
        this.refill();
        if (this.tokens >= need) {
          this.tokens -= n;
          return;
        }
        const waitMs = Math.ceil(((need - this.tokens) * 60_000) / this.perMinute);
        await sleep(Math.max(1, waitMs), signal);
      }
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => {});
    return p;
  }

  adjust(delta: number): void {
    this.refill();
    this.tokens = Math.min(this.perMinute, this.tokens - delta);
  }
}
