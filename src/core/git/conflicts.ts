// The conflict blocks the merge driver writes (./merge.ts) around one record: finding the block
// around a line and resolving it to one side, for the text editor's quick fix.

export interface ConflictBlock {
  /** 0-based lines of the markers. */
  start: number;
  separator: number;
  end: number;
  /** The lines between the markers. */
  ours: string[];
  theirs: string[];
  /** The marker's label after `<<<<<<< ` (e.g. `ours train.jsonl (id 4: text edited on both sides)`). */
  label: string;
}

const OPEN = /^<{7,} ?(.*)$/;
const SEP = /^={7,}$/;
const CLOSE = /^>{7,}( .*)?$/;

/** The conflict block holding line `at` (0-based), looking at most `reach` lines up and down. */
export function conflictAt(
  lineAt: (i: number) => string,
  lineCount: number,
  at: number,
  reach = 200,
): ConflictBlock | undefined {
  let start = -1;
  for (let i = at; i >= Math.max(0, at - reach); i--) {
    const t = lineAt(i);
    if (OPEN.test(t)) {
      start = i;
      break;
    }
    if (CLOSE.test(t) && i !== at) return undefined;
  }
  if (start < 0) return undefined;
  let separator = -1;
  for (let i = start + 1; i < Math.min(lineCount, start + 2 * reach); i++) {
    const t = lineAt(i);
    if (separator < 0 && SEP.test(t)) separator = i;
    else if (OPEN.test(t)) return undefined;
    else if (CLOSE.test(t)) {
      if (separator < 0 || at > i) return undefined;
      const lines = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, k) => lineAt(a + k));
      return {
        start,
        separator,
        end: i,
        ours: lines(start + 1, separator),
        theirs: lines(separator + 1, i),
        label: OPEN.exec(lineAt(start))?.[1] ?? '',
      };
    }
  }
  return undefined;
}
