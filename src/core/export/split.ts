// Train/validation (or any named) splits: deterministic with a seed, stratified by label, with
// exact sizes (largest remainder). Each record's place comes from a hash of the seed and its key
// (the id field, else its index), so adding records elsewhere does not reshuffle the others.
// Exact duplicates (the same text, as `filter --dedup exact` sees it) form one group that goes to
// one side as a whole: a record in train and its copy in validation would leak. The group is
// placed where its first record would be; the sizes then move by less than the largest group.
import { openStore } from '../sources';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { defineOperation, UserError } from '../operation';
import { getPath, iterateLines, throwIfAborted, type LineSource } from '../filter/fields';
import { labelKey } from '../metrics/agreement';
import { decidedLabel } from './formats';
import { exactKey } from '../filter/dedup';
import { dedupText } from '../filter/filter';
import { writeLinesAtomic } from '../write-lines';
import { fmix32 } from '../hash32';

/**
 * Sizes that sum to n, proportional to the fractions (largest remainder / Hamilton): floor(n·f_i)
 * each, then one more to the largest remainders; ties go to the earlier split.
 */
export function largestRemainder(n: number, fractions: readonly number[]): number[] {
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (!(sum > 0) || fractions.some((f) => f < 0 || !Number.isFinite(f)))
    throw new RangeError('fractions must be non-negative with a positive sum');
  const quotas = fractions.map((f) => (n * f) / sum);
  const sizes = quotas.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = quotas.map((q, i) => ({ i, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    sizes[i] = (sizes[i] as number) + 1;
    left--;
  }
  return sizes;
}

/**
 * Splits strata: each stratum's counts sum to its size, each split's total is exactly the global
 * largest-remainder size, and every count is its stratum's quota rounded down or up (controlled
 * rounding). The units left after flooring are placed by a max-flow (rows -> cells of capacity 1
 * -> splits), first over the cells with a fractional part, largest first, then over any cell.
 */
export function stratifiedSizes(strata: readonly number[], fractions: readonly number[]): number[][] {
  const n = strata.reduce((a, b) => a + b, 0);
  const totals = largestRemainder(n, fractions);
  const sum = fractions.reduce((a, b) => a + b, 0);
  const m = strata.length;
  const k = fractions.length;
  const quota = strata.map((s) => fractions.map((f) => (s * f) / sum));
  const counts = quota.map((row) => row.map(Math.floor));
  const rowLeft = strata.map((s, i) => s - (counts[i] as number[]).reduce((a, b) => a + b, 0));
  const colLeft = totals.map((t, j) => t - counts.reduce((a, row) => a + (row[j] as number), 0));
  // used[i][j]: the cell got its +1. Augmenting paths alternate row -> col (unused cell) and col -> row (used cell).
  const used = counts.map(() => new Array<boolean>(k).fill(false));
  const allowed = (i: number, j: number, any: boolean) => any || ((quota[i] as number[])[j] as number) % 1 > 0;
  const order = (i: number) =>
    [...Array(k).keys()].sort(
      (a, b) => (((quota[i] as number[])[b] as number) % 1) - (((quota[i] as number[])[a] as number) % 1) || a - b,
    );
  const augment = (start: number, any: boolean): boolean => {
    // BFS from row `start` to a column with units left.
    const prevCol = new Array<number>(k).fill(-1); // the row we came from to reach col j
    const prevRow = new Array<number>(m).fill(-2); // the col we came from to reach row i (-1: start)
    prevRow[start] = -1;
    const queue = [start];
    while (queue.length) {
      const i = queue.shift() as number;
      for (const j of order(i)) {
        if (prevCol[j] !== -1 || (used[i] as boolean[])[j] || !allowed(i, j, any)) continue;
        prevCol[j] = i;
        if ((colLeft[j] as number) > 0) {
          // flip the path back to the start
          let cj = j;
          for (;;) {
            const ri = prevCol[cj] as number;
            (used[ri] as boolean[])[cj] = true;
            const back = prevRow[ri] as number;
            if (back === -1) break;
            (used[ri] as boolean[])[back] = false;
            cj = back;
          }
          colLeft[j] = (colLeft[j] as number) - 1;
          rowLeft[start] = (rowLeft[start] as number) - 1;
          return true;
        }
        for (let r = 0; r < m; r++) {
          if (prevRow[r] === -2 && (used[r] as boolean[])[j]) {
            prevRow[r] = j;
            queue.push(r);
          }
        }
      }
    }
    return false;
  };
  const rows = [...Array(m).keys()];
  for (const any of [false, true]) {
    for (const i of rows) while ((rowLeft[i] as number) > 0 && augment(i, any));
  }
  if (rowLeft.some((r) => r !== 0)) throw new Error('stratified split: no exact rounding found');
  return counts.map((row, i) => row.map((c, j) => c + ((used[i] as boolean[])[j] ? 1 : 0)));
}

/** A 32-bit hash of a string with a seed (murmur3-style mixing of FNV-1a). */
export function seededHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) | 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

export const SplitOptions = z.object({
  /** Split names and their shares (normalized), e.g. {train: 0.9, validation: 0.1}. */
  fractions: z.record(z.string().min(1), z.number().min(0)).default({ train: 0.9, validation: 0.1 }),
  seed: z.number().int().default(42),
  /** The label to stratify on (the human decision for that question, else the field); null: no strata. */
  stratify: z.string().nullable().default('label'),
  /** The record key hashed with the seed: a field such as id (missing: the index). */
  key: z.string().default('id'),
  /** Keep exact duplicates (same normalized text) on one side (default); false splits them like any record. */
  groupDuplicates: z.boolean().default(true),
  /** The text compared for duplicates (default: text, prompt, instruction, ..., else the record without its annotations). */
  dedupField: z.string().optional(),
});
export type SplitOptions = z.input<typeof SplitOptions>;

export interface SplitResult {
  /** Indices per split, ascending. */
  splits: Record<string, number[]>;
  sizes: Record<string, number>;
  /** Per stratum (label; '' for records without one), the count in each split. */
  strata: Record<string, Record<string, number>>;
  /** Invalid lines, in no split. */
  invalid: number;
  /** Groups of exact duplicates kept on one side, and the records in them. */
  duplicateGroups: number;
  duplicateRecords: number;
}

/** Fields of the annotation layout: not part of what makes two records the same. */
const ANNOTATION_KEYS = new Set(['id', 'label', 'rationale', 'judge', 'judges', 'annotations']);

/**
 * What two records must share to be exact duplicates: their text (normalized), else the record
 * without its id and annotations; undefined when there is nothing else (no content to compare).
 */
function duplicateKey(value: Record<string, unknown>, field: string | undefined): string | undefined {
  const text = dedupText(value, field);
  if (text !== undefined) return `t:${exactKey(text)}`;
  const rest = Object.keys(value)
    .filter((k) => !ANNOTATION_KEYS.has(k))
    .sort()
    .map((k) => [k, value[k]]);
  return rest.length ? `r:${exactKey(JSON.stringify(rest))}` : undefined;
}

interface Unit {
  /** Line indices, ascending; more than one for a group of exact duplicates. */
  indices: number[];
  h: number;
}

export async function splitLines(
  source: LineSource,
  options: SplitOptions = {},
  signal?: AbortSignal,
): Promise<SplitResult> {
  const o = SplitOptions.parse(options);
  const names = Object.keys(o.fractions);
  if (names.length === 0) throw new UserError('A split needs at least one part.');
  const fractions = names.map((n) => o.fractions[n] as number);
  if (!(fractions.reduce((a, b) => a + b, 0) > 0)) throw new UserError('The split fractions must not all be 0.');
  // A group of exact duplicates is one unit, in the stratum of its first record.
  const byStratum = new Map<string, Unit[]>();
  const groups = new Map<string, Unit>();
  let invalid = 0;
  let n = 0;
  for await (const line of iterateLines(source)) {
    if ((n++ & 1023) === 0) throwIfAborted(signal);
    if (!line.value) {
      invalid++;
      continue;
    }
    const dup = o.groupDuplicates ? duplicateKey(line.value, o.dedupField) : undefined;
    const same = dup === undefined ? undefined : groups.get(dup);
    if (same) {
      same.indices.push(line.index);
      continue;
    }
    const label = o.stratify === null ? undefined : decidedLabel(line.value, o.stratify);
    const stratum = label === undefined || label === null ? '' : labelKey(label);
    const k = getPath(line.value, o.key);
    const key = typeof k === 'string' || typeof k === 'number' ? `k:${k}` : `i:${line.index}`;
    const unit: Unit = { indices: [line.index], h: seededHash(key, o.seed) };
    if (dup !== undefined) groups.set(dup, unit);
    const list = byStratum.get(stratum) ?? [];
    list.push(unit);
    byStratum.set(stratum, list);
  }
  let duplicateGroups = 0;
  let duplicateRecords = 0;
  for (const g of groups.values()) {
    if (g.indices.length > 1) {
      duplicateGroups++;
      duplicateRecords += g.indices.length;
    }
  }
  const labels = [...byStratum.keys()].sort();
  const weight = (units: Unit[]) => units.reduce((a, u) => a + u.indices.length, 0);
  const sizes = stratifiedSizes(
    labels.map((l) => weight(byStratum.get(l) as Unit[])),
    fractions,
  );
  const splits: Record<string, number[]> = Object.fromEntries(names.map((nm) => [nm, [] as number[]]));
  const strata: Record<string, Record<string, number>> = {};
  labels.forEach((label, i) => {
    const units = (byStratum.get(label) as Unit[]).sort(
      (a, b) => a.h - b.h || (a.indices[0] as number) - (b.indices[0] as number),
    );
    const counts = (sizes[i] as number[]).slice();
    // Cumulative targets: a unit goes to the split its first record falls in (exact when there are no groups).
    const bounds: number[] = [];
    counts.reduce((acc, c, j) => (bounds[j] = acc + c), 0);
    const placed = names.map(() => 0);
    let at = 0;
    for (const u of units) {
      let j = 0;
      while (j < names.length - 1 && at >= (bounds[j] as number)) j++;
      for (const idx of u.indices) (splits[names[j] as string] as number[]).push(idx);
      placed[j] = (placed[j] as number) + u.indices.length;
      at += u.indices.length;
    }
    strata[label] = Object.fromEntries(names.map((nm, j) => [nm, placed[j] as number]));
  });
  for (const nm of names) (splits[nm] as number[]).sort((a, b) => a - b);
  return {
    splits,
    sizes: Object.fromEntries(names.map((nm) => [nm, (splits[nm] as number[]).length])),
    strata,
    invalid,
    duplicateGroups,
    duplicateRecords,
  };
}

export const SplitOperationOptions = SplitOptions.extend({
  file: z.string().min(1),
  /** Where each split goes: {train: 'train.jsonl', validation: 'val.jsonl'}; default FILE.<name>.jsonl beside the input. */
  outputs: z.record(z.string(), z.string().min(1)).optional(),
  overwrite: z.boolean().default(false),
});

/** Operation `split`: writes each split's lines (byte-exact copies) to its file. */
export function createSplitOperation(open: (file: string, signal?: AbortSignal) => LineSource = openStore) {
  return defineOperation({
    id: 'split',
    title: 'Train/validation split',
    description:
      'Splits the records into train/validation (or any named parts): seeded, stratified by label, exact sizes.',
    options: SplitOperationOptions,
    async run(options, ctx) {
      ctx.progress({ done: 0, unit: 'records', message: 'reading' });
      const r = await splitLines(open(options.file, ctx.signal), options, ctx.signal);
      const base = options.file.replace(/\.jsonl$/i, '');
      const outputs: Record<string, string> = {};
      for (const name of Object.keys(r.splits)) {
        const out = resolve(options.outputs?.[name] ?? `${base}.${name}.jsonl`);
        if (out === resolve(options.file)) throw new UserError(`The ${name} output must differ from the input.`);
        outputs[name] = out;
      }
      const where = new Map<number, string>();
      for (const [name, idx] of Object.entries(r.splits)) for (const i of idx) where.set(i, name);
      // One pass over the input per split keeps memory flat and lines in their original order.
      for (const [name, out] of Object.entries(outputs)) {
        await mkdir(dirname(out), { recursive: true });
        async function* rows(): AsyncGenerator<string | Uint8Array> {
          for await (const l of iterateLines(open(options.file, ctx.signal)))
            if (where.get(l.index) === name) yield l.bytes ?? l.raw;
        }
        await writeLinesAtomic(out, rows(), ctx.signal, options.overwrite);
        ctx.log(`${name}: ${r.sizes[name]} records -> ${out}`);
      }
      return { ...r, outputs };
    },
  });
}

export const splitOperation = createSplitOperation();
