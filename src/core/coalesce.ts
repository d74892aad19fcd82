// Coalesces a stream of notifications into at most one every `everyMs`: the first goes at once, a
// burst after it becomes one call when the interval is over (so the last state is always sent), and
// an urgent one goes at once, standing for whatever was pending.

export interface Coalescer<T> {
  /** Notifies: at once when urgent or when the interval is over, else once, at its end. */
  (value: T, urgent?: boolean): void;
  /** Drops a pending call. */
  cancel(): void;
}

export function coalesce<T>(send: (value: T) => void, everyMs: number, now: () => number = Date.now): Coalescer<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  let last = -Infinity;
  const flush = (value: T): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
    last = now();
    send(value);
  };
  const notify = ((value: T, urgent = false) => {
    if (urgent) {
      flush(value);
      return;
    }
    const wait = last + everyMs - now();
    if (wait <= 0 && !timer) {
      flush(value);
      return;
    }
    pending = { value };
    timer ??= setTimeout(
      () => {
        timer = undefined;
        if (pending) flush(pending.value);
      },
      Math.max(0, wait),
    );
  }) as Coalescer<T>;
  notify.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  return notify;
}
