// The WebAssembly stats scanner's per-chunk path, one thread, two modules in one process: A, the
// module committed at a git revision (default HEAD), against B, wasm/stats-scan.ts compiled now.
// Passes alternate; per stage (the 1 MB read into the module's memory, the UTF-8 check, prepare,
// scan) the best of the rounds. A does the CR search the driver did before session 26 (B's
// driver no longer does). The two modules' counts must agree.
//
//   node --import tsx bench/stats-wasm-ab.ts [FILE] [--rounds 6] [--base REV]
//
// FILE: a records file (bench/records.ts; default /tmp/dc-records-v1-s1-200mb.jsonl). A
// development tool, not in bench/run.ts: it writes no results.
import { execFileSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileStatsWasm } from '../scripts/build-wasm';
import { StatsWasm } from '../src/core/store/stats-wasm';
import { DEFAULT_FIELD_NAMES } from '../src/core/schema/field-names';

type Api = ConstructorParameters<typeof StatsWasm>[0];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string' }, base: { type: 'string' } },
});
const file = positionals[0] ?? '/tmp/dc-records-v1-s1-200mb.jsonl';
const rounds = Number(values.rounds ?? 6);
const CHUNK = 1 << 20;
const d = DEFAULT_FIELD_NAMES;
const fields = { label: d.label, judge: d.judge, annotations: d.annotations, question: d.question };

function moduleAt(rev: string): Buffer {
  const src = execFileSync('git', ['show', `${rev}:src/core/store/stats-wasm.generated.ts`], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
  });
  const b64 = /'([A-Za-z0-9+/=]+)'/.exec(src)?.[1];
  if (!b64) throw new Error(`no module in ${rev}`);
  return Buffer.from(b64, 'base64');
}

/** One pass over the file: ms per stage, and the counts. */
function pass(w: StatsWasm, fd: number, size: number, crSearch: boolean): { ms: number[]; counts: string } {
  const ms = [0, 0, 0, 0];
  w.x.reset();
  let pos = 0;
  while (pos < size) {
    let t = performance.now();
    const buf = w.input(CHUNK);
    const got = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    const end = pos + got < size ? buf.lastIndexOf(10, got - 1) + 1 : got;
    pos += end;
    const view = buf.subarray(0, end);
    const lap = (k: number) => {
      const now = performance.now();
      ms[k]! += now - t;
      t = now;
    };
    lap(0);
    if (!isUtf8(view)) throw new Error('not UTF-8');
    if (crSearch) view.indexOf(13);
    lap(1);
    w.x.prepare(w.base, w.base + end, w.bitmap);
    lap(2);
    let start = w.base;
    while (w.x.scan(start, w.base + end, 1 << 30) !== 0) start = w.x.stopNewline() + 1;
    lap(3);
  }
  const counts = [0, 1, 2, 3, 4, 5, 6].map((k) => w.x.count(k)).join(',');
  return { ms, counts: `${counts} sum ${w.x.getScoreSum()} labels ${w.x.labelsUsed()}` };
}

void (async () => {
  const api = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;
  const a = new StatsWasm(api, new api.Module(moduleAt(values.base ?? 'HEAD')));
  const b = new StatsWasm(api, new api.Module(await compileStatsWasm()));
  a.setFields(fields);
  b.setFields(fields);
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const best = {
    A: [Infinity, Infinity, Infinity, Infinity, Infinity],
    B: [Infinity, Infinity, Infinity, Infinity, Infinity],
  };
  const counts = { A: '', B: '' };
  for (let r = 0; r < rounds; r++)
    for (const [name, w] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const { ms, counts: c } = pass(w, fd, size, name === 'A');
      counts[name] = c;
      const total = ms.reduce((x, y) => x + y, 0);
      best[name] = [...ms, total].map((x, k) => Math.min(x, best[name][k]!));
    }
  console.log(
    `read / utf8 / prepare / scan / total ms, best of ${rounds}: A ${best.A.map((x) => x.toFixed(1)).join(' / ')}; B ${best.B.map((x) => x.toFixed(1)).join(' / ')}`,
  );
  console.log(
    `A/B: scan ${(best.A[3]! / best.B[3]!).toFixed(2)}x, prepare + scan ${((best.A[2]! + best.A[3]!) / (best.B[2]! + best.B[3]!)).toFixed(2)}x, total ${(best.A[4]! / best.B[4]!).toFixed(2)}x (${(size / 1e6).toFixed(0)} MB)`,
  );
  if (counts.A !== counts.B) throw new Error(`the counts differ: A ${counts.A}, B ${counts.B}`);
})();
