// The logical line sequence of an edited dataset: a piece table over ranges of original lines
// and runs of new lines. Lookups are a binary search over piece start indices (rebuilt lazily
// after an edit), so a million lines with thousands of edits stay fast.

/** The terminator of a line: LF, CRLF, or none (the last line of a file without a final newline). */
export type Eol = '\n' | '\r\n' | '';

/**
 * The content of one line, JSON-serializable. `text` when the bytes are valid UTF-8, else
 * `base64`. `orig`/`base` say which original line of which indexed file it was, so that
 * undoing an edit restores the untouched original (copied byte for byte on save).
 */
export type LineRef = ({ text: string } | { base64: string }) & { eol: Eol; orig?: number; base?: string };

export type Item = { orig: number } | { ref: LineRef };

export type Piece = { kind: 'orig'; from: number; to: number } | { kind: 'lines'; lines: LineRef[] };

export class PieceTable {
  pieces: Piece[] = [];
  private starts: number[] | undefined;
  private total = 0;

  reset(count: number): void {
    this.pieces = count > 0 ? [{ kind: 'orig', from: 0, to: count }] : [];
    this.starts = undefined;
    this.total = count;
  }

  get length(): number {
    return this.total;
  }

  /** True when the table is exactly the original lines 0..count. */
  pristine(count: number): boolean {
    if (count === 0) return this.pieces.length === 0;
    const p = this.pieces[0];
    return this.pieces.length === 1 && p?.kind === 'orig' && p.from === 0 && p.to === count;
  }

  private index(): number[] {
    if (!this.starts) {
      const s: number[] = new Array<number>(this.pieces.length);
      let t = 0;
      for (let k = 0; k < this.pieces.length; k++) {
        s[k] = t;
        const pc = this.pieces[k]!;
        t += pc.kind === 'orig' ? pc.to - pc.from : pc.lines.length;
      }
      this.starts = s;
    }
    return this.starts;
  }

  /** The piece holding logical line `i` (0 <= i < length) and the offset inside it. */
  locate(i: number): { p: number; off: number } {
    const s = this.index();
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return { p: lo, off: i - (s[lo] ?? 0) };
  }

  get(i: number): Item {
    if (i < 0 || i >= this.total) throw new RangeError(`line index ${i} is out of range (0..${this.total - 1})`);
    const { p, off } = this.locate(i);
    const pc = this.pieces[p]!;
    return pc.kind === 'orig' ? { orig: pc.from + off } : { ref: pc.lines[off]! };
  }

  private static len(pc: Piece): number {
    return pc.kind === 'orig' ? pc.to - pc.from : pc.lines.length;
  }

  /** Splits so that logical line `i` begins a piece; returns that piece's position. */
  private splitAt(i: number): number {
    if (i >= this.total) return this.pieces.length;
    const { p, off } = this.locate(i);
    if (off === 0) return p;
    const pc = this.pieces[p]!;
    const parts: Piece[] =
      pc.kind === 'orig'
        ? [
            { kind: 'orig', from: pc.from, to: pc.from + off },
            { kind: 'orig', from: pc.from + off, to: pc.to },
          ]
        : [
            { kind: 'lines', lines: pc.lines.slice(0, off) },
            { kind: 'lines', lines: pc.lines.slice(off) },
          ];
    this.pieces.splice(p, 1, ...parts);
    this.starts = undefined;
    return p + 1;
  }

  /** Merges the pieces at positions k-1 and k when they are contiguous originals or both new. */
  private mergeAt(k: number): void {
    const a = this.pieces[k - 1];
    const b = this.pieces[k];
    if (!a || !b) return;
    if (a.kind === 'orig' && b.kind === 'orig' && a.to === b.from) {
      this.pieces.splice(k - 1, 2, { kind: 'orig', from: a.from, to: b.to });
      this.starts = undefined;
    } else if (a.kind === 'lines' && b.kind === 'lines') {
      // In place when appending to the longer run (edits front to back stay linear; snapshot() copies).
      if (a.lines.length >= b.lines.length) {
        for (const l of b.lines) a.lines.push(l);
        this.pieces.splice(k, 1);
      } else this.pieces.splice(k - 1, 2, { kind: 'lines', lines: a.lines.concat(b.lines) });
      this.starts = undefined;
    }
  }

  insert(i: number, item: Item): void {
    if (i < 0 || i > this.total) throw new RangeError(`insert position ${i} is out of range (0..${this.total})`);
    const at = this.splitAt(i);
    const piece: Piece =
      'orig' in item ? { kind: 'orig', from: item.orig, to: item.orig + 1 } : { kind: 'lines', lines: [item.ref] };
    this.pieces.splice(at, 0, piece);
    this.total++;
    this.starts = undefined;
    this.mergeAt(at + 1);
    this.mergeAt(at);
  }

  remove(i: number): Item {
    const item = this.get(i);
    const at = this.splitAt(i);
    const pc = this.pieces[at]!;
    if (PieceTable.len(pc) === 1) this.pieces.splice(at, 1);
    else if (pc.kind === 'orig') pc.from++;
    else pc.lines.shift();
    this.total--;
    this.starts = undefined;
    this.mergeAt(at);
    return item;
  }

  /** A copy that later edits do not change (pieces are mutated in place by edits). */
  snapshot(): Piece[] {
    return this.pieces.map((pc) => (pc.kind === 'orig' ? { ...pc } : { kind: 'lines', lines: pc.lines.slice() }));
  }
}
