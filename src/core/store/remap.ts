// Where logical lines go under store edits, for views that hold line indices across edits
// (duplicate clusters): each tracked line's index after the edits, undefined while deleted. A
// line deleted and then put back by the undo of that delete (the same line reference) is tracked
// again. Runs of deletes at descending indices (a filter's or a duplicate review's "delete the
// others") and of inserts at ascending indices (their undo) are mapped in one pass each.
import type { Edit } from './dataset';
import type { LineRef } from './pieces';

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class LineTracker {
  /** The current index of each tracked line (undefined: deleted). */
  readonly at: (number | undefined)[];
  /** Deleted lines' references, and the tracked lines they were (an undo inserts the same reference). */
  private readonly graves = new Map<LineRef, number[]>();

  constructor(indices: readonly (number | undefined)[]) {
    this.at = [...indices];
  }

  apply(edits: readonly Edit[]): void {
    for (let k = 0; k < edits.length;) {
      const e = edits[k] as Edit;
      let j = k;
      if (e.type === 'delete')
        while (j + 1 < edits.length && edits[j + 1]!.type === 'delete' && edits[j + 1]!.index < edits[j]!.index) j++;
      else if (e.type === 'insert')
        while (j + 1 < edits.length && edits[j + 1]!.type === 'insert' && edits[j + 1]!.index > edits[j]!.index) j++;
      const run = edits.slice(k, j + 1) as Extract<Edit, { type: 'delete' | 'insert' }>[];
      if (e.type === 'delete') this.deleteRun(run);
      else if (e.type === 'insert') this.insertRun(run);
      k = j + 1;
    }
  }

  /** Descending deletes: every index is in the coordinates before the run. */
  private deleteRun(run: Extract<Edit, { type: 'delete' | 'insert' }>[]): void {
    const refAt = new Map<number, LineRef>();
    for (const e of run) refAt.set(e.index, e.line);
    const gone = [...refAt.keys()].sort((a, b) => a - b);
    this.at.forEach((m, id) => {
      if (m === undefined) return;
      const p = lowerBound(gone, m);
      if (gone[p] === m) {
        this.at[id] = undefined;
        const ref = refAt.get(m) as LineRef;
        this.graves.set(ref, [...(this.graves.get(ref) ?? []), id]);
      } else this.at[id] = m - p;
    });
  }

  /** Ascending inserts: each index is in the coordinates after the ones before it, and is where that line ends up. */
  private insertRun(run: Extract<Edit, { type: 'delete' | 'insert' }>[]): void {
    const ins = run.map((e) => e.index);
    const order = this.at
      .map((_, id) => id)
      .filter((id) => this.at[id] !== undefined)
      .sort((a, b) => (this.at[a] as number) - (this.at[b] as number));
    const next = [...this.at];
    let shift = 0;
    let t = 0;
    for (const id of order) {
      const m = this.at[id] as number;
      while (t < ins.length && (ins[t] as number) <= m + shift) {
        shift++;
        t++;
      }
      next[id] = m + shift;
    }
    for (const e of run) {
      const back = this.graves.get(e.line);
      if (!back) continue;
      this.graves.delete(e.line);
      for (const id of back) next[id] = e.index;
    }
    next.forEach((v, id) => (this.at[id] = v));
  }
}

/** The indices of lines after edits (undefined: deleted); see LineTracker. */
export function remapIndices(indices: readonly (number | undefined)[], edits: readonly Edit[]): (number | undefined)[] {
  const t = new LineTracker(indices);
  t.apply(edits);
  return t.at;
}
