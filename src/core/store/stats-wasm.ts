// The WebAssembly scanner of dataset statistics (wasm/stats-scan.ts, compiled into
// stats-wasm.generated.ts by scripts/build-wasm.ts): one instance per thread, its memory the
// buffer chunks are read into (no copy), one call per chunk that counts every line it can and
// stops at a line JS must count (stats-core.ts' statsOfRange drives it). Not a native module: it
// runs wherever Node or VS Code's extension host runs (Node 16.4+ has WebAssembly SIMD); where it
// does not compile (no SIMD), or with DC_STATS_WASM=0 in the environment, the JS scanner counts instead
// (the same figures: tests compare all three paths with the full parse).
import type { PartialStats, StatsFields } from './stats-core';
import { STATS_WASM_BASE64 } from './stats-wasm.generated';

/**
 * The part of the WebAssembly JS API used here (the project's lib, ES2023 without the DOM, does
 * not declare it; Node and the extension host have it).
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: object) => { exports: object };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface Exports {
  memory: WasmMemory;
  inputPtr(): number;
  namesPtr(): number;
  nameMax(): number;
  setNames(label: number, judge: number, annotations: number, question: number): void;
  reset(): void;
  setScoreSum(x: number): void;
  getScoreSum(): number;
  count(k: number): number;
  histIntPtr(): number;
  histTenthPtr(): number;
  histMin(): number;
  histN(): number;
  labelTablePtr(): number;
  labelUsedPtr(): number;
  labelsUsed(): number;
  arenaPtr(): number;
  linesCounted(): number;
  stopStart(): number;
  stopNewline(): number;
  prepare(start: number, end: number, bitmap: number): void;
  scan(start: number, end: number, maxLine: number): number;
}

/** Bytes past a chunk the scanner may read (its sentinel, its 64-byte blocks). */
const SLACK = 128;

/** One instance of the module and what it counts; one per thread (statsWasm()). */
export class StatsWasm {
  readonly x: Exports;
  /** Where chunks are read to in the module's memory. */
  readonly base: number;
  private buf: Buffer;
  /** Where the bitmap of the chunk in the input area goes (input() sets it). */
  bitmap = 0;
  private names = '';

  constructor(api: WasmApi, mod: WasmModule) {
    this.x = new api.Instance(mod, {}).exports as Exports;
    this.base = this.x.inputPtr();
    this.buf = Buffer.alloc(0);
  }

  /**
   * Sets the field names the scanner matches; false when one is longer than it holds (the JS
   * scanner then counts).
   */
  setFields(f: StatsFields): boolean {
    const key = `${f.label}\u0000${f.judge}\u0000${f.annotations}\u0000${f.question}`;
    if (key === this.names) return true;
    const max = this.x.nameMax();
    const names = [f.label, f.judge, f.annotations, f.question].map((n) => Buffer.from(n, 'utf8'));
    if (names.some((n) => n.length > max)) return false;
    const mem = new Uint8Array(this.x.memory.buffer, this.x.namesPtr(), 4 * max);
    names.forEach((n, k) => mem.set(n, k * max));
    this.x.setNames(names[0]!.length, names[1]!.length, names[2]!.length, names[3]!.length);
    this.names = key;
    return true;
  }

  /**
   * The input area, at least `n` bytes (the memory grows when needed), as a Buffer from `base`;
   * `bitmap` is then where prepare() may write the bitmap of a chunk of up to `n` bytes.
   */
  input(n: number): Buffer {
    const mem = this.x.memory;
    this.bitmap = this.base + Math.ceil((n + SLACK) / 64) * 64;
    const need = this.bitmap + Math.ceil((n + SLACK) / 64) * 8;
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    if (this.buf.buffer !== mem.buffer || this.buf.length < n) this.buf = Buffer.from(mem.buffer, this.base, n);
    return this.buf;
  }

  /** Adds what the scanner counted since its reset() to `s` (the score sum is handed over call by call, not here). */
  addTo(s: PartialStats): void {
    const x = this.x;
    const buf = x.memory.buffer;
    const records = x.count(0);
    s.lines += records;
    s.records += records;
    s.wasmRecords += records;
    s.annotated += x.count(1);
    s.scored += x.count(2);
    s.reviewed += x.count(3);
    s.humanLabeled += x.count(4);
    s.suggested += x.count(5);
    s.generated += x.count(6);
    const used = x.labelsUsed();
    if (used > 0) {
      const slots = new Uint32Array(buf, x.labelTablePtr());
      const order = new Uint32Array(buf, x.labelUsedPtr(), used);
      const arena = Buffer.from(buf, x.arenaPtr());
      for (let k = 0; k < used; k++) {
        const slot = 4 * order[k]!;
        const n = slots[slot + 3]!;
        if (n === 0) continue;
        const off = slots[slot + 1]!;
        const text = arena.toString('utf8', off, off + slots[slot + 2]!);
        s.labels[text] = (s.labels[text] ?? 0) + n;
      }
    }
    const min = x.histMin();
    const hn = x.histN();
    const ints = new Int32Array(buf, x.histIntPtr(), hn);
    const tenths = new Int32Array(buf, x.histTenthPtr(), hn);
    for (let k = 0; k < hn; k++) {
      const a = ints[k]!;
      if (a !== 0) {
        const b = String(k - min);
        s.histogram[b] = (s.histogram[b] ?? 0) + a;
      }
      const t = tenths[k]!;
      if (t !== 0) {
        const b = ((k - min) / 10).toFixed(1);
        s.histogram[b] = (s.histogram[b] ?? 0) + t;
      }
    }
  }
}

/** This thread's instance; null: WebAssembly (with SIMD) is not there. */
let instance: StatsWasm | null | undefined;
let enabled = process.env.DC_STATS_WASM !== '0';

/** The module's bytes. */
export function statsWasmBytes(): Uint8Array {
  return Buffer.from(STATS_WASM_BASE64, 'base64');
}

/**
 * This thread's instance, or undefined when WebAssembly (with SIMD) is not there or is turned
 * off: the JS scanner counts then.
 */
export function statsWasm(): StatsWasm | undefined {
  if (!enabled || instance === null) return undefined;
  if (instance) return instance;
  instance = null;
  try {
    const bytes = statsWasmBytes();
    // No WebAssembly.validate first: compiling validates (a module it cannot compile, without
    // SIMD for one, throws a CompileError), and a second pass over the bytes costs its time.
    if (wasmApi) instance = new StatsWasm(wasmApi, new wasmApi.Module(bytes));
  } catch {
    instance = null;
  }
  return instance ?? undefined;
}

/** Turns the WebAssembly scanner off or on in this thread (tests: the JS scanner's path). */
export function setStatsWasm(on: boolean): void {
  enabled = on;
}
