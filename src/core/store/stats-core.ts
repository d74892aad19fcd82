// The per-line work of dataset statistics, shared by the main thread and the stats workers
// (scan-worker.ts runs it on byte ranges). Exact: every line is classified with the store's own
// rules; valid lines are parsed once, invalid ones get checkLineBytes' reason.
import { isUtf8 } from 'node:buffer';
import { readSync } from 'node:fs';
import { DEFAULT_MAX_LINE_BYTES, checkLineBytes, tooDeep } from './check';
import { lineChunks } from './scan-lines';
import { StatsScanner, bucketOf } from './stats-scan';
import { statsWasm, type StatsWasm } from './stats-wasm';

/** The names stats reads (a FieldMap's relevant part). */
export interface StatsFields {
  label: string;
  judge: string;
  annotations: string;
  question: string;
}

export interface PartialStats {
  lines: number;
  records: number;
  invalid: number;
  invalidLines: { line: number; reason: string }[];
  labels: Record<string, number>;
  annotated: number;
  reviewed: number;
  humanLabeled: number;
  suggested: number;
  scored: number;
  scoreSum: number;
  histogram: Record<string, number>;
  /** Records marked machine-generated (annotations.origin.type == "model"). */
  generated: number;
  /** Of `records`, those the WebAssembly scanner counted (the rest: the JS scanner or the full parse). */
  wasmRecords: number;
}

export function emptyStats(): PartialStats {
  // Null-prototype maps: a label named "__proto__" is just a label.
  const labels = Object.create(null) as Record<string, number>;
  const histogram = Object.create(null) as Record<string, number>;
  return {
    lines: 0,
    records: 0,
    invalid: 0,
    invalidLines: [],
    labels,
    annotated: 0,
    reviewed: 0,
    humanLabeled: 0,
    suggested: 0,
    scored: 0,
    scoreSum: 0,
    histogram,
    generated: 0,
    wasmRecords: 0,
  };
}

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The histogram bucket of a judge score: tenths on a 0..1 scale, else the rounded integer. */
export function scoreBucket(score: number, scale: unknown): string {
  return bucketOf(score, Array.isArray(scale) && typeof scale[1] === 'number' ? scale[1] : undefined);
}

export function addRecord(s: PartialStats, rec: Rec, f: StatsFields): void {
  s.records++;
  const label = rec[f.label];
  const text =
    typeof label === 'string'
      ? label
      : typeof label === 'number' || typeof label === 'boolean'
        ? String(label)
        : undefined;
  if (text !== undefined && text !== '') {
    s.labels[text] = (s.labels[text] ?? 0) + 1;
    s.annotated++;
  }
  const judge = rec[f.judge];
  if (isObj(judge) && typeof judge.score === 'number' && Number.isFinite(judge.score)) {
    s.scored++;
    s.scoreSum += judge.score;
    const b = scoreBucket(judge.score, judge.scale);
    s.histogram[b] = (s.histogram[b] ?? 0) + 1;
  }
  const ann = rec[f.annotations];
  if (isObj(ann)) {
    const review = ann.review;
    if (isObj(review) && typeof review.status === 'string' && review.status !== 'pending') s.reviewed++;
    const human = ann.human;
    if (isObj(human) && isObj(human[f.question])) s.humanLabeled++;
    const sugg = ann.suggestions;
    if (isObj(sugg) && Array.isArray(sugg[f.question]) && (sugg[f.question] as unknown[]).length > 0) s.suggested++;
    if (isObj(ann.origin) && ann.origin.type === 'model') s.generated++;
  }
}

export function addInvalid(s: PartialStats, line: number, reason: string, maxListed: number): void {
  s.invalid++;
  if (s.invalidLines.length < maxListed) s.invalidLines.push({ line, reason });
}

/** What a reader of byte ranges does with each line: a record, or an invalid line (1-based `line`). */
export interface LineVisitor {
  record(value: Rec, line: number): void;
  invalid(line: number, reason: string): void;
}

/** Classifies one line's content (terminator excluded) with the store's rules. `line` is 1-based. */
export function visitLine(
  v: LineVisitor,
  content: Buffer,
  line: number,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  knownUtf8 = false,
  knownNoCR = false,
): void {
  const n = content.length;
  if (
    n > 0 &&
    n <= maxLineBytes &&
    content[0] !== 0xef &&
    (knownNoCR || content.indexOf(13) === -1) &&
    (knownUtf8 || isUtf8(content))
  ) {
    let value: unknown;
    let ok = true;
    const text = content.toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      ok = false;
    }
    if (ok && isObj(value) && !tooDeep(text)) {
      v.record(value, line);
      return;
    }
  }
  const c = checkLineBytes(content, maxLineBytes);
  if (c.value) v.record(c.value, line);
  else v.invalid(line, c.invalid?.reason ?? 'invalid');
}

function statsVisitor(s: PartialStats, f: StatsFields, maxListed: number): LineVisitor {
  return {
    record: (value) => {
      s.lines++;
      addRecord(s, value, f);
    },
    invalid: (line, reason) => {
      s.lines++;
      addInvalid(s, line, reason, maxListed);
    },
  };
}

/** Classifies and counts one line's content (terminator excluded). `line` is 1-based. */
export function addLine(
  s: PartialStats,
  content: Buffer,
  line: number,
  f: StatsFields,
  maxListed: number,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  knownUtf8 = false,
  knownNoCR = false,
): void {
  visitLine(statsVisitor(s, f, maxListed), content, line, maxLineBytes, knownUtf8, knownNoCR);
}

/**
 * Visits the lines of bytes [from, to) of a file (starting at a line start and ending at a line
 * end or EOF); the first is line `firstLine` (1-based). `shouldStop` is polled per chunk. Every
 * line is classified with the store's own rules (checkLineBytes), with a fast path for clean
 * chunks that parses each line once.
 */
export function visitRange(
  fd: number,
  from: number,
  to: number,
  firstLine: number,
  v: LineVisitor,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  shouldStop?: () => boolean,
  chunkSize = 4 * 1024 * 1024,
): void {
  let line = firstLine;
  for (const view of lineChunks(fd, from, to, chunkSize, shouldStop)) {
    const end = view.length;
    const utf8 = isUtf8(view);
    let noCR = view.indexOf(13) === -1;
    if (!noCR) {
      // CRs only as part of CRLF terminators still let the per-line check be skipped.
      noCR = true;
      for (let i = view.indexOf(13); i !== -1; i = view.indexOf(13, i + 1)) {
        if (view[i + 1] !== 10) {
          noCR = false;
          break;
        }
      }
    }
    let start = 0;
    while (start < end) {
      let nl = view.indexOf(10, start);
      const lineEnd = nl === -1 ? end : nl;
      let cEnd = lineEnd;
      if (nl !== -1 && cEnd > start && view[cEnd - 1] === 13) cEnd--;
      // Fast path (no Buffer per line): clean chunk, non-empty line without a BOM, a JSON object.
      let counted = false;
      if (utf8 && noCR && cEnd > start && cEnd - start <= maxLineBytes && view[start] !== 0xef) {
        let value: unknown;
        const text = view.toString('utf8', start, cEnd);
        try {
          value = JSON.parse(text);
        } catch {
          value = undefined;
        }
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && !tooDeep(text)) {
          v.record(value as Rec, line);
          counted = true;
        }
      }
      if (!counted) visitLine(v, view.subarray(start, cEnd), line, maxLineBytes, utf8, noCR);
      line++;
      if (nl === -1) nl = end;
      start = nl + 1;
    }
  }
}

/** True when every CR in `view` is part of a CRLF terminator (lines then need no CR check). */
function onlyCRLF(view: Buffer): boolean {
  for (let i = view.indexOf(13); i !== -1; i = view.indexOf(13, i + 1)) if (view[i + 1] !== 10) return false;
  return true;
}

/** The record of a clean line (valid UTF-8, no CR, not empty, within the size limit, no BOM) by the full parse, or undefined: the store's rules decide. */
function parseClean(view: Buffer, start: number, end: number): Rec | undefined {
  let value: unknown;
  const text = view.toString('utf8', start, end);
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !tooDeep(text)
    ? (value as Rec)
    : undefined;
}

/**
 * Counts the line in bytes [start, cEnd) of a chunk (`clean`: the line is valid UTF-8 without a
 * CR): the byte scanner, else the full parse, else the store's own rules.
 */
function countLine(
  s: PartialStats,
  v: LineVisitor,
  sc: StatsScanner | undefined,
  view: Buffer,
  start: number,
  cEnd: number,
  line: number,
  maxLineBytes: number,
  clean: boolean,
): void {
  if (clean && cEnd > start && cEnd - start <= maxLineBytes && view[start] !== 0xef) {
    if (sc !== undefined && sc.scan(view, start, cEnd)) {
      s.lines++;
      sc.addTo(s);
    } else {
      const rec = parseClean(view, start, cEnd);
      if (rec) v.record(rec, line);
      else visitLine(v, view.subarray(start, cEnd), line, maxLineBytes, true, true);
    }
  } else visitLine(v, view.subarray(start, cEnd), line, maxLineBytes, clean, clean);
}

/**
 * One scanner per field map and thread, kept across ranges: a worker counts piece after piece
 * with the same object, so V8's optimized code for it stays valid (a fresh scanner and closure
 * per piece deoptimized the loop at each piece start: about 2x slower for the next ~60 MB).
 */
const scanners = new Map<string, StatsScanner>();

function scannerFor(f: StatsFields): StatsScanner {
  const key = `${f.label}\u0000${f.judge}\u0000${f.annotations}\u0000${f.question}`;
  let sc = scanners.get(key);
  if (!sc) {
    if (scanners.size >= 8) scanners.clear();
    sc = new StatsScanner(f);
    scanners.set(key, sc);
  }
  return sc;
}

/** Bytes read at a time by statsOfRange: small enough that the UTF-8 check and the scan read them from cache. */
export const STATS_CHUNK = 1024 * 1024;

/**
 * Counts the lines of bytes [from, to) of a file, like visitRange with a stats visitor. Clean
 * lines go through the WebAssembly scanner (stats-wasm.ts) or, without it, the JS byte scanner
 * (stats-scan.ts), and when they give up, the full parse: the same figures either way. `scan:
 * 'js'` skips the WebAssembly scanner, `scan: false` counts every line with the full parse (tests
 * and benches compare them). Its own loop, not visitRange's with a callback: the hot path calls the
 * scanner directly (monomorphic, no closure per range).
 */
export function statsOfRange(
  fd: number,
  from: number,
  to: number,
  firstLine: number,
  f: StatsFields,
  maxListed: number,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  shouldStop?: () => boolean,
  chunkSize = STATS_CHUNK,
  scan: boolean | 'js' = true,
): PartialStats {
  const s = emptyStats();
  const v = statsVisitor(s, f, maxListed);
  const scanner = scan ? scannerFor(f) : undefined;
  const sc = scanner?.usable ? scanner : undefined;
  const w = sc !== undefined && scan === true ? statsWasm() : undefined;
  if (w?.setFields(f)) wasmRange(w, fd, from, to, firstLine, s, v, sc!, maxLineBytes, shouldStop, chunkSize);
  else jsRange(fd, from, to, firstLine, s, v, sc, maxLineBytes, shouldStop, chunkSize);
  return s;
}

/** statsOfRange with the JS scanner (`sc`; none: the full parse). */
function jsRange(
  fd: number,
  from: number,
  to: number,
  firstLine: number,
  s: PartialStats,
  v: LineVisitor,
  sc: StatsScanner | undefined,
  maxLineBytes: number,
  shouldStop: (() => boolean) | undefined,
  chunkSize: number,
): void {
  let line = firstLine;
  for (const view of lineChunks(fd, from, to, chunkSize, shouldStop)) {
    const end = view.length;
    // A clean chunk (valid UTF-8, CRs only in CRLF terminators): its lines need no per-line check.
    const clean = isUtf8(view) && (view.indexOf(13) === -1 || onlyCRLF(view));
    let start = 0;
    while (start < end) {
      const nl = view.indexOf(10, start);
      const lineEnd = nl === -1 ? end : nl;
      let cEnd = lineEnd;
      if (nl !== -1 && cEnd > start && view[cEnd - 1] === 13) cEnd--;
      countLine(s, v, sc, view, start, cEnd, line, maxLineBytes, clean);
      line++;
      start = lineEnd + 1;
    }
  }
}

/**
 * The largest chunk read into the WebAssembly memory (a line longer than that: the rest of the
 * range is counted with the JS scanner). The memory of a WebAssembly instance never shrinks: a
 * 60 MB line would otherwise keep some 70 MB in every thread that met it, for the thread's life.
 */
export const WASM_MAX_CHUNK = 8 * 1024 * 1024;

/**
 * statsOfRange with the WebAssembly scanner: each chunk is read straight into the module's memory,
 * checked (UTF-8) by native code, and scanned by one call, which counts every line it can and
 * stops at a line it gives up on; that line is counted here (the JS scanner, else the full parse),
 * and the scan goes on after it. The score sum is one running sum, in line order, handed to the
 * module and back at each call: the figures are exactly the JS path's.
 */
function wasmRange(
  w: StatsWasm,
  fd: number,
  from: number,
  to: number,
  firstLine: number,
  s: PartialStats,
  v: LineVisitor,
  sc: StatsScanner,
  maxLineBytes: number,
  shouldStop: (() => boolean) | undefined,
  chunkSize: number,
): void {
  const x = w.x;
  x.reset();
  const base = w.base;
  const maxLine = Math.min(maxLineBytes, 0x7fffffff);
  let line = firstLine;
  let cap = Math.min(chunkSize, WASM_MAX_CHUNK);
  let pos = from;
  while (pos < to) {
    if (shouldStop?.()) break;
    const buf = w.input(cap);
    const got = readSync(fd, buf, 0, Math.min(cap, to - pos), pos);
    if (got <= 0) break;
    let end = got;
    if (pos + got < to) {
      const lastNl = buf.lastIndexOf(10, got - 1);
      if (lastNl === -1) {
        // One line longer than the chunk: a larger one, read again (past the limit: the JS scanner).
        cap *= 2;
        if (cap > WASM_MAX_CHUNK) {
          jsRange(fd, pos, to, line, s, v, sc, maxLineBytes, shouldStop, chunkSize);
          break;
        }
        continue;
      }
      end = lastNl + 1;
    }
    pos += end;
    const view = buf.subarray(0, end);
    // Valid UTF-8: the module scans the chunk. CRs are not looked for here: the module gives up
    // on a line with a CR anywhere but in its CRLF terminator, and only such a line (one JS
    // counts) needs to know (crFree, below).
    const utf8 = isUtf8(view);
    if (utf8) x.prepare(base, base + end, w.bitmap);
    /** The chunk has no CR (checked once, at the first line JS counts); undefined: not checked yet. */
    let chunkNoCR: boolean | undefined;
    let start = 0;
    while (start < end) {
      let nl: number;
      if (utf8) {
        x.setScoreSum(s.scoreSum);
        const stopped = x.scan(base + start, base + end, maxLine);
        s.scoreSum = x.getScoreSum();
        line += x.linesCounted();
        if (stopped === 0) break;
        start = x.stopStart() - base;
        nl = x.stopNewline() - base;
      } else {
        nl = view.indexOf(10, start);
        if (nl === -1) nl = end;
      }
      let cEnd = nl;
      if (nl < end && cEnd > start && view[cEnd - 1] === 13) cEnd--;
      let clean = utf8;
      if (clean) {
        chunkNoCR ??= view.indexOf(13) === -1;
        clean = chunkNoCR || view.subarray(start, cEnd).indexOf(13) === -1;
      }
      countLine(s, v, sc, view, start, cEnd, line, maxLineBytes, clean);
      line++;
      start = nl + 1;
    }
  }
  w.addTo(s);
}

/** `from.generated` and `from.wasmRecords` may be missing: a part counted by a worker thread of an older build has none. */
export function mergeStats(
  into: PartialStats,
  from: Omit<PartialStats, 'generated' | 'wasmRecords'> & { generated?: number; wasmRecords?: number },
  maxListed: number,
): void {
  into.lines += from.lines;
  into.records += from.records;
  into.invalid += from.invalid;
  for (const l of from.invalidLines) if (into.invalidLines.length < maxListed) into.invalidLines.push(l);
  for (const [k, v] of Object.entries(from.labels)) into.labels[k] = (into.labels[k] ?? 0) + v;
  into.annotated += from.annotated;
  into.reviewed += from.reviewed;
  into.humanLabeled += from.humanLabeled;
  into.suggested += from.suggested;
  into.scored += from.scored;
  into.scoreSum += from.scoreSum;
  for (const [k, v] of Object.entries(from.histogram)) into.histogram[k] = (into.histogram[k] ?? 0) + v;
  into.generated += from.generated ?? 0;
  into.wasmRecords += from.wasmRecords ?? 0;
}
