// The byte copy of a save (JsonlDataset.writeTo): the logical lines written to the temp file,
// original byte ranges copied as they are, edited and new lines from the overlay. When the save
// starts from a kernel copy of the indexed file (`clone`: a reflink where the file system has
// them, else an in-kernel copy at about `cp` speed), every original range that ends up at the
// offset it had is already in place and is not copied again: after a relabel to a label of the
// same length, only that line is written; after edits that change lengths, only the bytes from
// the first change in length on.
import { abortError } from './errors';
import { BufferedWriter } from './files';
import type { Eol, LineRef, Piece } from './pieces';
import { Offsets } from './scan';

/** What the copy needs to know of the indexed file. */
export interface SourceFile {
  fd: number;
  size: number;
  offs: Offsets;
  endsWithNewline: boolean;
}

/** Original ranges shorter than this are copied even when in place (one write instead of two). */
const MIN_SKIP = 4096;

/**
 * The buffer of the copy through this process (the bytes a save cannot leave to the kernel's
 * copy): small enough to stay in a core's cache between the read and the write. Measured on
 * 1.15 GB (docs/benchmarks.md): 64-128 KiB copies at about the kernel's speed, 1-8 MiB
 * takes two to four times the CPU.
 */
export const COPY_BUFFER = 128 * 1024;

/**
 * Whether a save should start from a kernel copy of the file, given the bytes that stay where they
 * are (bytesInPlace): the copy costs about as much per byte as writing through this process, so
 * it pays when most of the file stays in place.
 */
export function worthCloning(inPlace: number, size: number): boolean {
  return inPlace >= size * CLONE_SHARE;
}

/** See worthCloning. */
export const CLONE_SHARE = 0.5;

/**
 * True when the file's last line has no terminator of its own, so a line written after it needs
 * one: the file does not end with a newline, or its last line is the empty line a save kept at
 * the end (after the newline of the line before it: undo may still refer to it).
 */
function lastLineOpen(src: SourceFile): boolean {
  return !src.endsWithNewline || (src.offs.length > 0 && src.offs.get(src.offs.length - 1) === src.size);
}

function refLength(ref: LineRef): number {
  return 'text' in ref ? Buffer.byteLength(ref.text, 'utf8') : Buffer.from(ref.base64, 'base64').length;
}

function refBody(ref: LineRef): Buffer {
  return 'text' in ref ? Buffer.from(ref.text, 'utf8') : Buffer.from(ref.base64, 'base64');
}

/**
 * The bytes of original ranges that the written file keeps at their offsets: a save that starts
 * from a copy of the file does not write them. `eol`: what a line without a terminator gets
 * when lines follow it.
 */
export function bytesInPlace(pieces: readonly Piece[], src: SourceFile, total: number, eol: Eol): number {
  const eolLen = Buffer.byteLength(eol || '\n');
  let pos = 0;
  let logical = 0;
  let kept = 0;
  for (const pc of pieces) {
    if (pc.kind === 'orig') {
      const start = src.offs.get(pc.from);
      const end = pc.to < src.offs.length ? src.offs.get(pc.to) : src.size;
      if (pos === start) kept += end - start;
      pos += end - start;
      logical += pc.to - pc.from;
      if (pc.to === src.offs.length && lastLineOpen(src) && logical < total) pos += eolLen;
    } else {
      for (const ref of pc.lines) {
        pos += refLength(ref);
        logical++;
        if (ref.eol) pos += ref.eol.length;
        else if (logical < total) pos += eolLen;
      }
    }
  }
  return kept;
}

/**
 * Writes the logical lines into `out` (a new empty file, or a kernel copy of the source when
 * `clone`) and returns the new line offsets and size. The caller truncates a clone to the size.
 */
export async function writePieces(opts: {
  pieces: Iterable<Piece>;
  src: SourceFile;
  out: number;
  clone: boolean;
  total: number;
  eol: Eol;
  signal?: AbortSignal | undefined;
}): Promise<{ offs: Offsets; size: number }> {
  const { pieces, src, out, clone, total, signal } = opts;
  const eolBytes = Buffer.from(opts.eol || '\n');
  const w = new BufferedWriter(out, COPY_BUFFER);
  const newOffs = new Offsets(total + 1);
  let logical = 0;
  let sinceYield = 0;
  const maybeYield = async (bytes: number) => {
    sinceYield += bytes;
    if (sinceYield >= 64 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw abortError();
    }
  };
  for (const pc of pieces) {
    if (pc.kind === 'orig') {
      const byteStart = src.offs.get(pc.from);
      const byteEnd = pc.to < src.offs.length ? src.offs.get(pc.to) : src.size;
      const shift = w.written - byteStart;
      // The new offsets of the range: the old ones, shifted (typed-array work, no call a line).
      const at = newOffs.length;
      newOffs.pushAll(src.offs.data.subarray(pc.from, pc.to));
      if (shift !== 0) {
        const d = newOffs.data;
        for (let k = at; k < newOffs.length; k++) d[k]! += shift;
      }
      if (clone && shift === 0 && (byteEnd - byteStart >= MIN_SKIP || byteStart === 0)) {
        // Already in place in the copy: go on writing after it.
        w.seek(byteEnd);
      } else {
        // Copy in slices so a long copy still lets the event loop (and cancellation) in.
        const slice = 64 * 1024 * 1024;
        for (let pos = byteStart; pos < byteEnd; pos += slice) {
          const to = Math.min(byteEnd, pos + slice);
          w.copyFrom(src.fd, pos, to);
          await maybeYield(to - pos);
        }
      }
      logical += pc.to - pc.from;
      if (pc.to === src.offs.length && lastLineOpen(src) && logical < total) w.write(eolBytes);
    } else {
      for (const ref of pc.lines) {
        newOffs.push(w.written);
        const b = refBody(ref);
        w.write(b);
        logical++;
        if (ref.eol) w.write(Buffer.from(ref.eol));
        else if (logical < total) w.write(eolBytes);
        await maybeYield(b.length);
      }
    }
  }
  w.flush();
  return { offs: newOffs, size: w.written };
}
