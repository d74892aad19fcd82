// Single-record CLI work against what a user would run instead, same file, same run:
//   - start: `curate --help` against `node -e 0` (target: within 2x)
//   - `curate get FILE --line 1` on the large file against `curate --help` (target: within
//     50 ms of the CLI's own start) and `head -n 1` (the floor)
//   - `curate set FILE --line 500000` one field against `cp FILE COPY && sync COPY` (target:
//     1.5x): a relabel to a label of the same length, and a value of another length; and the CPU
//     time (user + system) of each against cp's and sync's, steadier than wall time on a loaded
//     machine. `curate set` returns before the replaced version is released (a detached helper
//     holds it until the command exits: src/core/store/replace.ts closeAfterExit); each round
//     waits for that release before the next command, so it never overlaps a baseline, and
//     reports the time until it too (no target: `cp` + `sync` deletes nothing)
// Records: bench/records.ts. Each figure is the best of its rounds (interleaved with its
// baseline), with the load average at that moment (2 cores shared with other work).
//
//   node --import tsx bench/cli.ts [--full] [--size-mb 256] [--rounds 5]
//
// --full: the 1.1 GB file (the size). Writes bench/results/cli.json.
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtCli, load1, run, writeResults, type TableRowOut } from './lib';
import { MB, FULL_SIZES, recordsFile } from './records';

/**
 * The `sh` processes now (Linux: /proc). The helper that holds a replaced version (replace.ts
 * closeAfterExit) is an `sh`; its command line cannot identify it while it releases the file (the
 * kernel drops a process's memory, where the command line is, before its files), its name can.
 */
function shells(): Set<number> {
  const out = new Set<number>();
  if (process.platform !== 'linux') return out;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d)))
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'latin1') === 'sh\n') out.add(Number(pid));
    } catch {
      // gone meanwhile
    }
  return out;
}

/**
 * Waits until the `sh` processes started since `before` have ended (the helper's exit is the
 * release: the kernel frees the file's pages and blocks as its last descriptor closes), 10 s at
 * most each (an unrelated shell started meanwhile); the time then.
 */
function released(before: Set<number>): number {
  for (const pid of shells()) {
    if (before.has(pid)) continue;
    const end = performance.now() + 10_000;
    while (performance.now() < end && existsSync(`/proc/${pid}`) && !/\) Z /.test(readStat(pid)))
      Atomics.wait(pause, 0, 0, 2);
  }
  return performance.now();
}
const pause = new Int32Array(new SharedArrayBuffer(4));
function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return ') Z ';
  }
}

interface Best {
  ms: number;
  load: number;
}
const better = (b: Best | undefined, ms: number): Best => (b && b.ms <= ms ? b : { ms, load: load1() });

function main(): void {
  const { values } = parseArgs({
    options: { full: { type: 'boolean' }, 'size-mb': { type: 'string' }, rounds: { type: 'string' } },
  });
  const bytes = values.full ? FULL_SIZES[1]! : Number(values['size-mb'] ?? 256) * MB;
  const rounds = Number(values.rounds ?? 5);
  const cli = builtCli();
  const file = recordsFile({ bytes });
  const size = statSync(file).size;
  const tag = size >= 1e9 ? `${(size / 1e9).toFixed(2)} GB` : `${Math.round(size / 1e6)} MB`;
  const rows: TableRowOut[] = [];
  const node = process.execPath;

  // Start-up and get.
  let bare: Best | undefined;
  let help: Best | undefined;
  let get: Best | undefined;
  let head: Best | undefined;
  for (let r = 0; r < rounds * 2; r++) {
    bare = better(bare, run(node, ['-e', '0']).ms);
    help = better(help, run(node, [cli, '--help']).ms);
    get = better(get, run(node, [cli, 'get', file, '--line', '1']).ms);
    head = better(head, run('head', ['-n', '1', file]).ms);
  }
  rows.push({
    figure: 'CLI start (curate --help)',
    value: help!.ms,
    unit: 'ms',
    baseline: bare!.ms,
    baselineLabel: 'node -e 0, ms',
    ratio: help!.ms / bare!.ms,
    target: '<= 2x',
    pass: help!.ms <= 2 * bare!.ms,
    load: help!.load,
  });
  rows.push({
    figure: `curate get --line 1, ${tag}`,
    value: get!.ms,
    unit: 'ms',
    baseline: help!.ms,
    baselineLabel: 'curate --help, ms',
    ratio: get!.ms / help!.ms,
    target: '<= start + 50 ms',
    pass: get!.ms <= help!.ms + 50,
    load: get!.load,
  });
  rows.push({
    figure: `curate get --line 1 vs head, ${tag}`,
    value: get!.ms,
    unit: 'ms',
    baseline: head!.ms,
    baselineLabel: 'head -n 1, ms',
    ratio: get!.ms / head!.ms,
    target: '',
    load: get!.load,
  });

  // set vs cp + sync, on a copy of the file next to it (same file system).
  const work = join(dirname(file), `dc-bench-set-${process.pid}.jsonl`);
  const copy = join(dirname(file), `dc-bench-cp-${process.pid}.jsonl`);
  copyFileSync(file, work);
  run('sync', []);
  const line = Math.min(500_000, Math.floor(size / 1100 / 2));
  const label = (
    JSON.parse(run(node, [cli, 'get', work, '--line', String(line)], { stdout: true }).stdout.toString('utf8')) as {
      label: string;
    }
  ).label;
  // A label of the same length (positive <-> negative), or of another length.
  const same = label === 'positive' ? 'negative' : label === 'negative' ? 'positive' : 'neutrul';
  let cp: Best | undefined;
  let setSame: Best | undefined;
  let setOther: Best | undefined;
  let cpCpu: Best | undefined;
  let sameCpu: Best | undefined;
  let otherCpu: Best | undefined;
  const cpuOf = (r: { cpuMs?: number }) => r.cpuMs ?? NaN;
  const setRounds = Math.max(2, Math.ceil(rounds / 2));
  /** `curate set` of one field of the line, timed. */
  let sameFreed: Best | undefined;
  let otherFreed: Best | undefined;
  /** `curate set` of one field of the line, timed; `freedMs`: until the replaced version was released. */
  const curateSet = (field: string, value: string) => {
    const before = shells();
    const t = performance.now();
    const r = run(node, [cli, 'set', work, '--line', String(line), '--field', field, '--value', JSON.stringify(value)]);
    return { ...r, freedMs: released(before) - t };
  };
  try {
    for (let r = 0; r < setRounds; r++) {
      const t = performance.now();
      const c1 = run('cp', [file, copy]);
      const c2 = run('sync', [copy]);
      cp = better(cp, performance.now() - t);
      cpCpu = better(cpCpu, cpuOf(c1) + cpuOf(c2));
      unlinkSync(copy);
      run('sync', []);
      // Relabel back and forth: same length each time.
      const same1 = curateSet('label', r % 2 ? label : same);
      setSame = better(setSame, same1.ms);
      sameFreed = better(sameFreed, same1.freedMs);
      sameCpu = better(sameCpu, cpuOf(same1));
      run('sync', []);
      const other1 = curateSet('rationale', `edited ${'x'.repeat(r + 1)}`);
      setOther = better(setOther, other1.ms);
      otherFreed = better(otherFreed, other1.freedMs);
      otherCpu = better(otherCpu, cpuOf(other1));
      run('sync', []);
    }
  } finally {
    unlinkSync(work);
    if (existsSync(copy)) unlinkSync(copy);
  }
  rows.push({
    figure: `curate set, same-length label, line ${line}, ${tag}`,
    value: setSame!.ms,
    unit: 'ms',
    baseline: cp!.ms,
    baselineLabel: 'cp + sync, ms',
    ratio: setSame!.ms / cp!.ms,
    target: '<= 1.5x',
    pass: setSame!.ms <= 1.5 * cp!.ms,
    load: setSame!.load,
  });
  rows.push({
    figure: `curate set, a field of another length, line ${line}, ${tag}`,
    value: setOther!.ms,
    unit: 'ms',
    baseline: cp!.ms,
    baselineLabel: 'cp + sync, ms',
    ratio: setOther!.ms / cp!.ms,
    target: '<= 1.5x',
    pass: setOther!.ms <= 1.5 * cp!.ms,
    load: setOther!.load,
  });
  for (const [what, b] of [
    ['same-length label', sameFreed],
    ['a field of another length', otherFreed],
  ] as const)
    rows.push({
      figure: `curate set until the replaced version is released, ${what}, ${tag}`,
      value: b!.ms,
      unit: 'ms',
      baseline: cp!.ms,
      baselineLabel: 'cp + sync, ms',
      ratio: b!.ms / cp!.ms,
      target: '',
      load: b!.load,
    });
  for (const [what, b] of [
    ['same-length label', sameCpu],
    ['a field of another length', otherCpu],
  ] as const) {
    if (!b || !cpCpu || !Number.isFinite(b.ms) || !Number.isFinite(cpCpu.ms)) continue;
    rows.push({
      figure: `curate set CPU time (user + system), ${what}, ${tag}`,
      value: b.ms,
      unit: 'ms',
      baseline: cpCpu.ms,
      baselineLabel: 'cp + sync CPU, ms',
      ratio: b.ms / cpCpu.ms,
      target: '',
      load: b.load,
    });
  }
  writeResults('cli', rows, { rounds, file, bytes: size });
}

main();
