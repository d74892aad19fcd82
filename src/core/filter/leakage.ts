// Leakage between splits (docs/git.md): exact and near duplicates shared by a workspace's train,
// validation and eval files, found with the duplicate finders of ./dedup.ts over every file's texts
// at once. A leak is reported on the record in the later split (validation after train, eval after
// both), naming the earlier file and line it repeats.
import { basename } from 'node:path';
import { JsonlDataset } from '../store';
import {
  clusterSignatures,
  computeSignatures,
  estimatedJaccard,
  exactDuplicates,
  exactKey,
  type DedupItem,
  type Signatures,
} from './dedup';
import { dedupText } from './filter';

export type SplitRole = 'train' | 'validation' | 'eval';
export const SPLIT_ORDER: readonly SplitRole[] = ['train', 'validation', 'eval'];

/** Which split a file is, by the glob patterns of its base name (`*` any run of characters, `?` one). */
export const DEFAULT_SPLIT_PATTERNS: Record<SplitRole, string[]> = {
  train: ['*train*'],
  validation: ['*valid*', '*val.*', '*val_*', '*_val*', '*-val*', '*dev*'],
  eval: ['*test*', '*eval*', '*holdout*'],
};

function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** The split of a file by its base name; eval patterns first (so "train_eval" is eval), then validation, then train. */
export function splitRole(
  file: string,
  patterns: Partial<Record<SplitRole, string[]>> = DEFAULT_SPLIT_PATTERNS,
): SplitRole | undefined {
  const name = basename(file);
  for (const role of ['eval', 'validation', 'train'] as const) {
    if ((patterns[role] ?? DEFAULT_SPLIT_PATTERNS[role]).some((g) => globRegex(g).test(name))) return role;
  }
  return undefined;
}

export interface SplitFile {
  path: string;
  role: SplitRole;
}

export interface Leak {
  /** The file and 1-based line of the repeated record (in the later split). */
  file: string;
  line: number;
  role: SplitRole;
  kind: 'exact' | 'near';
  /** 1 for exact; the estimated Jaccard for near. */
  similarity: number;
  /** The earlier split's record it repeats. */
  other: { file: string; line: number; role: SplitRole };
}

export interface LeakOptions {
  /** The field holding the text (dotted path); default the record's text, messages, prompt, instruction... */
  field?: string;
  /** Near duplicates at or above this estimated Jaccard; `false`: exact duplicates only. Default 0.8. */
  near?: number | false;
  /** Worker threads for near duplicates (0: this thread). */
  workers?: number;
  signal?: AbortSignal;
}

/** Every leak between the files' splits: records of a later split that repeat one of an earlier split. */
export async function findLeaks(files: readonly SplitFile[], opts: LeakOptions = {}): Promise<Leak[]> {
  const fileOf: number[] = [];
  const lineOf: number[] = [];
  const items: DedupItem[] = [];
  const exactKeys: string[] = [];
  for (let f = 0; f < files.length; f++) {
    const ds = await JsonlDataset.open(files[f]!.path, { signal: opts.signal });
    try {
      await ds.ready;
      for (let i = 0; i < ds.lineCount; i++) {
        if ((i & 0x3ff) === 0x3ff) {
          // let the extension host breathe (the lint runs there)
          if (opts.signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
          await new Promise((r) => setImmediate(r));
        }
        const l = ds.line(i);
        if (!l.value || l.invalid) continue;
        const text = dedupText(l.value, opts.field);
        if (text === undefined || text.trim() === '') continue;
        const g = items.length;
        fileOf.push(f);
        lineOf.push(i + 1);
        items.push({ index: g, text });
        exactKeys.push(exactKey(text));
      }
    } finally {
      ds.close();
    }
  }
  const rank = (g: number) => SPLIT_ORDER.indexOf(files[fileOf[g]!]!.role);
  const leaks = new Map<number, Leak>();
  let sigs: Signatures | undefined;
  const report = (members: number[], kind: 'exact' | 'near') => {
    const sorted = [...members].sort((a, b) => rank(a) - rank(b) || a - b);
    const first = sorted[0]!;
    for (const g of sorted) {
      if (rank(g) <= rank(first) || leaks.has(g)) continue;
      // the record of an earlier split it repeats: an exact copy when there is one, else the most similar (a cluster is transitive)
      const earlier = sorted.filter((x) => rank(x) < rank(g));
      let source = earlier.find((x) => exactKeys[x] === exactKeys[g]);
      let similarity = 1;
      if (source === undefined) {
        similarity = -1;
        for (const x of earlier) {
          const j = sigs ? estimatedJaccard(sigs, x, g) : 0;
          if (j > similarity) [source, similarity] = [x, j];
        }
      }
      if (source === undefined || (kind === 'near' && similarity < nearThreshold)) continue;
      leaks.set(g, {
        file: files[fileOf[g]!]!.path,
        line: lineOf[g]!,
        role: files[fileOf[g]!]!.role,
        kind: similarity === 1 && exactKeys[g] === exactKeys[source] ? 'exact' : 'near',
        similarity: Math.round(similarity * 1e6) / 1e6,
        other: { file: files[fileOf[source]!]!.path, line: lineOf[source]!, role: files[fileOf[source]!]!.role },
      });
    }
  };
  const nearThreshold = opts.near === false ? 1 : (opts.near ?? 0.8);
  const exact = await exactDuplicates(items, {}, opts.signal);
  for (const c of exact.clusters) report(c.members, 'exact');
  if (opts.near !== false && items.length > 1) {
    const options = { threshold: nearThreshold, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) };
    sigs = await computeSignatures(items, options, opts.signal);
    for (const c of clusterSignatures(sigs, options, opts.signal).clusters) report(c.members, 'near');
  }
  return [...leaks.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/** A leak in words, for the Problems panel and the CLI. */
export function describeLeak(l: Leak, name: (file: string) => string = basename): string {
  const what = l.kind === 'exact' ? 'an exact duplicate' : `a near duplicate (Jaccard ~${l.similarity.toFixed(2)})`;
  return `Leakage: this ${l.role} record is ${what} of ${l.other.role} record ${name(l.other.file)}:${l.other.line}`;
}
