// The `filter` operation: rules + thresholds + duplicates, then an action: a dry run (counts per
// rule), writing the kept lines to a new file (byte-exact copies), tagging the dropped records
// (annotations.tags, reversible) or deleting them in place (indices for the store).
import { writeLinesAtomic } from '../write-lines';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineOperation, UserError, type Estimate, type OperationContext } from '../operation';
import {
  duplicateFinder,
  exactDuplicates,
  ExactOptions,
  KeepPolicy,
  nearDuplicates,
  NearOptions,
  semanticDuplicates,
  SemanticOptions,
  type DupCluster,
  type EmbedFn,
} from './dedup';
import {
  getPath,
  iterateLines,
  tagsOf,
  textOf,
  throwIfAborted,
  type FieldEdit,
  type Line,
  type LineSource,
} from './fields';
import { compileRule, parseRule, printRule, RuleSchema, RuleSyntaxError, type Rule } from './rules';
import { judgeScore, ThresholdOptions, thresholdChecks } from './thresholds';
import { openStore } from '../sources';
import { QuestionFilterOptions, questionChecks } from '../questions/filters';

/** A rule as a --where string (parsed) or as JSON (validated). */
export const RuleInput = z
  .custom<string | Rule>(() => true)
  .transform((v, ctx): Rule => {
    if (typeof v === 'string') {
      try {
        return parseRule(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof RuleSyntaxError ? e.message : String(e) });
        return z.NEVER;
      }
    }
    const r = RuleSchema.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });

export const DedupMethod = z.enum(['none', 'exact', 'near', 'semantic']);
export type DedupMethod = z.infer<typeof DedupMethod>;

export const FilterSpec = ThresholdOptions.extend({
  // Per question (src/core/questions/filters.ts): rating bounds, labels had or lacked, answered, answers that fit.
  ...QuestionFilterOptions.shape,
  /** Every rule must pass for a record to be kept. */
  rules: z.array(RuleInput).default([]),
  dedup: DedupMethod.default('none'),
  /** The field whose text is deduplicated; default: the first of text, messages, conversations, prompt, instruction, input, question. */
  dedupField: z.string().optional(),
  /** Which duplicate is kept: the first, or the one with the highest judge score (ties: the first). */
  keep: KeepPolicy.default('first'),
  exact: ExactOptions.omit({ keep: true }).optional(),
  near: NearOptions.omit({ keep: true }).optional(),
  semantic: SemanticOptions.omit({ keep: true }).optional(),
});
export type FilterSpec = z.input<typeof FilterSpec>;

export const FilterAction = z.enum(['dry-run', 'write', 'tag', 'delete']);
export type FilterAction = z.infer<typeof FilterAction>;

export const FilterOptions = FilterSpec.extend({
  /** The JSONL file to filter. */
  file: z.string().min(1),
  action: FilterAction.default('dry-run'),
  /** write: where the kept lines go (a new file; never the input). */
  out: z.string().min(1).optional(),
  /** write: replace `out` if it exists. */
  overwrite: z.boolean().default(false),
  /** tag: the tag added to annotations.tags of each dropped record. */
  tag: z.string().min(1).default('filtered'),
}).refine((o) => o.action !== 'write' || o.out !== undefined, {
  error: 'action "write" needs an out path',
  path: ['out'],
});
export type FilterOptions = z.input<typeof FilterOptions>;

export interface RuleCount {
  /** The rule as text (`len(text) >= 20`, `judge.score >= 7`, `duplicates (near)`). */
  rule: string;
  /** Records this rule alone drops. For duplicates: among the records the other rules keep. */
  dropped: number;
}

export interface FilterReport {
  total: number;
  kept: number;
  dropped: number;
  /** Invalid lines seen (whether or not a rule drops them). */
  invalid: number;
  rules: RuleCount[];
  /** compared: the records with a text to compare (those the other rules keep). */
  dedup?: {
    method: Exclude<DedupMethod, 'none'>;
    clusters: DupCluster[];
    dropped: number;
    compared: number;
    candidates?: number | undefined;
  };
}

export interface FilterResult extends FilterReport {
  action: FilterAction;
  /** write: the file written and the lines in it. */
  out?: string;
  written?: number;
  /** tag: the edits to apply (one undoable edit). */
  edits?: FieldEdit[];
  /** delete (and tag): the indices to delete, ascending (one undoable edit). */
  deleteIndices?: number[];
}

const TEXT_FIELDS = ['text', 'messages', 'conversations', 'prompt', 'instruction', 'input', 'question'];

/** The text a record is deduplicated on. */
export function dedupText(value: Record<string, unknown>, field?: string): string | undefined {
  if (field !== undefined) return textOf(getPath(value, field));
  for (const f of TEXT_FIELDS) {
    const t = textOf(value[f]);
    if (t !== undefined) return t;
  }
  return undefined;
}

interface Evaluated {
  report: FilterReport;
  /** Dropped indices, ascending. */
  dropped: number[];
  /** Existing tags of dropped records (for the tag action). */
  tags: Map<number, string[] | undefined>;
  /** Raw of kept lines, when the source cannot be read twice. */
  keptRaw?: (string | Uint8Array)[];
}

async function evaluate(
  source: LineSource,
  spec: z.output<typeof FilterSpec>,
  ctx: OperationContext,
  deps: { embed?: EmbedFn | undefined },
  keepRaw: boolean,
  needTags = true,
): Promise<Evaluated> {
  const named: { name: string; test: (l: Line) => boolean }[] = [
    ...spec.rules.map((r) => ({ name: printRule(r), test: compileRule(r) })),
    ...thresholdChecks(spec).map((c) => ({
      name: c.name,
      test: (l: Line) => l.value !== undefined && c.test(l.value),
    })),
    ...questionChecks(
      spec,
      (spec as { file?: string }).file === '-' ? undefined : (spec as { file?: string }).file,
    ).map((c) => ({ name: c.name, test: (l: Line) => l.value !== undefined && c.test(l.value) })),
  ];
  const counts = new Array<number>(named.length).fill(0);
  const dropped: number[] = [];
  const tags = new Map<number, string[] | undefined>();
  const itemTags = new Map<number, string[]>();
  // The duplicate search runs while the lines are read (dedup.ts duplicateFinder).
  const progress = (done: number, phase: string) => ctx.progress({ done, unit: 'records', message: phase });
  const finder =
    spec.dedup === 'none'
      ? undefined
      : duplicateFinder(
          spec.dedup,
          async (items, signal) => {
            if (spec.dedup === 'exact')
              return exactDuplicates(items, { ...spec.exact, keep: spec.keep }, signal, progress);
            if (spec.dedup === 'near')
              return nearDuplicates(items, { ...spec.near, keep: spec.keep }, signal, progress);
            if (!deps.embed)
              throw new UserError('Semantic duplicates need an embeddings endpoint; none is configured.');
            return semanticDuplicates(items, deps.embed, { ...spec.semantic, keep: spec.keep }, signal, progress);
          },
          ctx.signal,
        );
  const keptRaw: (string | Uint8Array)[] | undefined = keepRaw ? [] : undefined;
  const keptRawIndex: number[] = [];
  let total = 0;
  let invalid = 0;
  try {
    for await (const line of iterateLines(source)) {
      if ((total & 1023) === 0) {
        throwIfAborted(ctx.signal);
        ctx.progress({ done: total, unit: 'records', message: 'checking rules' });
      }
      total++;
      if (line.invalid || !line.value) invalid++;
      let ok = true;
      for (let i = 0; i < named.length; i++) {
        if (!(named[i] as (typeof named)[number]).test(line)) {
          counts[i] = (counts[i] as number) + 1;
          ok = false;
        }
      }
      if (!ok) {
        dropped.push(line.index);
        tags.set(line.index, line.value ? tagsOf(line.value) : undefined);
        continue;
      }
      if (keptRaw) {
        keptRaw.push(line.bytes ?? line.raw);
        keptRawIndex.push(line.index);
      }
      if (spec.dedup !== 'none' && line.value) {
        const text = dedupText(line.value, spec.dedupField);
        if (text !== undefined) {
          // A promise only when the search is behind (then wait for it). The score and the tags
          // only when they are used (keep the highest score; the tag action): this loop is the
          // main thread's part of a duplicate search over a million records.
          const score = spec.keep === 'highest-score' ? judgeScore(line.value) : undefined;
          const wait = finder?.add({ index: line.index, text, score });
          if (wait) await wait;
          if (needTags) {
            const t = tagsOf(line.value);
            if (t.length) itemTags.set(line.index, t);
          }
        }
      }
    }
  } catch (err) {
    finder?.abandon();
    throw err;
  }
  const report: FilterReport = {
    total,
    kept: 0,
    dropped: 0,
    invalid,
    rules: named.map((r, i) => ({ rule: r.name, dropped: counts[i] as number })),
  };
  if (finder && spec.dedup !== 'none') {
    const r = await finder.finish();
    report.dedup = {
      method: spec.dedup,
      clusters: r.clusters,
      dropped: r.drop.length,
      compared: r.records,
      ...(r.candidates !== undefined ? { candidates: r.candidates } : {}),
    };
    report.rules.push({ rule: `duplicates (${spec.dedup})`, dropped: r.drop.length });
    for (const i of r.drop) {
      dropped.push(i);
      tags.set(i, itemTags.get(i) ?? []);
    }
    dropped.sort((a, b) => a - b);
    if (keptRaw && r.drop.length) {
      const gone = new Set(r.drop);
      const raws: (string | Uint8Array)[] = [];
      keptRaw.forEach((raw, k) => {
        if (!gone.has(keptRawIndex[k] as number)) raws.push(raw);
      });
      keptRaw.length = 0;
      keptRaw.push(...raws);
    }
  }
  report.dropped = dropped.length;
  report.kept = total - dropped.length;
  return { report, dropped, tags, ...(keptRaw ? { keptRaw } : {}) };
}

/**
 * Filters lines (the library entry point). With action 'write', `out` gets the kept lines'
 * `raw + "\n"` in order; a source given as a function is read a second time for that, any other
 * async iterable has its kept lines kept in memory.
 */
export async function filterLines(
  source: LineSource,
  options: Omit<z.input<typeof FilterOptions>, 'file'> & { file?: string },
  ctx: OperationContext,
  deps: { embed?: EmbedFn | undefined } = {},
): Promise<FilterResult> {
  const o = FilterOptions.parse({ file: '-', ...options });
  const reopenable = typeof source === 'function' || (Symbol.iterator in source && !(Symbol.asyncIterator in source));
  const ev = await evaluate(source, o, ctx, deps, o.action === 'write' && !reopenable, o.action === 'tag');
  const result: FilterResult = { ...ev.report, action: o.action };
  ctx.log(`${ev.report.kept} kept, ${ev.report.dropped} dropped of ${ev.report.total}`);
  switch (o.action) {
    case 'dry-run':
      break;
    case 'write': {
      const out = resolve(o.out as string);
      if (o.file !== '-' && resolve(o.file) === out)
        throw new UserError('The output file must differ from the input (use action "delete" to filter in place).');
      if (!o.overwrite && (await stat(out).catch(() => undefined)))
        throw new UserError(`${o.out} exists; pass overwrite to replace it.`);
      const drop = new Set(ev.dropped);
      const kept = ev.keptRaw
        ? ev.keptRaw
        : (async function* () {
            for await (const l of iterateLines(source)) if (!drop.has(l.index)) yield l.bytes ?? l.raw;
          })();
      ctx.progress({ done: 0, total: ev.report.kept, unit: 'records', message: 'writing' });
      result.written = await writeLinesAtomic(out, kept, ctx.signal, true);
      result.out = out;
      ctx.progress({ done: result.written, total: ev.report.kept, unit: 'records', message: 'written' });
      break;
    }
    case 'tag':
      result.edits = tagEdits(
        ev.dropped.map((i) => [i, ev.tags.get(i)] as const),
        o.tag,
      );
      // And what a delete would remove: the editor offers both after one pass.
      result.deleteIndices = ev.dropped;
      break;
    case 'delete':
      result.deleteIndices = ev.dropped;
      break;
  }
  return result;
}

/**
 * The tag action's edits: `tag` added to annotations.tags of each record, given with its current
 * tags (undefined: an invalid line, left alone). Records already tagged are left out.
 */
export function tagEdits(
  records: Iterable<readonly [number, readonly string[] | undefined]>,
  tag: string,
): FieldEdit[] {
  const edits: FieldEdit[] = [];
  for (const [index, existing] of records) {
    if (existing === undefined || existing.includes(tag)) continue;
    edits.push({ index, path: ['annotations', 'tags'], value: [...existing, tag] });
  }
  return edits;
}

/** Removes a tag from records (the reverse of the tag action): the edits to apply. */
export async function untagEdits(source: LineSource, tag: string): Promise<FieldEdit[]> {
  const edits: FieldEdit[] = [];
  for await (const l of iterateLines(source)) {
    if (!l.value) continue;
    const t = tagsOf(l.value);
    if (t.includes(tag))
      edits.push({ index: l.index, path: ['annotations', 'tags'], value: t.filter((x) => x !== tag) });
  }
  return edits;
}

async function countLines(file: string): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return { lines: lines + (last !== 10 ? 1 : 0), bytes };
}

export interface FilterDeps {
  /** Opens the file as lines (default: the local JSONL reader; the lead may plug the store). */
  open?: (file: string, signal?: AbortSignal) => LineSource;
  /** Embeddings for dedup 'semantic'. */
  embed?: EmbedFn;
}

/** Operation `filter`. */
export function createFilterOperation(deps: FilterDeps = {}) {
  const open = deps.open ?? openStore;
  return defineOperation({
    id: 'filter',
    title: 'Filter records',
    description:
      'Drops records by rules, judge score, confidence and duplicates: dry run, write the kept lines, tag or delete.',
    options: FilterOptions,
    async estimate(options): Promise<Estimate> {
      const { lines, bytes } = await countLines(options.file);
      const semantic = options.dedup === 'semantic';
      const batch = options.semantic?.batchSize ?? 64;
      return {
        records: lines,
        requests: semantic ? Math.ceil(lines / batch) : 0,
        inputTokens: semantic ? Math.ceil(bytes / 4) : 0,
        outputTokens: 0,
      };
    },
    run(options, ctx) {
      return filterLines(open(options.file, ctx.signal), options, ctx, { embed: deps.embed });
    },
  });
}

export const filterOperation = createFilterOperation();
