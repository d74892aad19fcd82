// The stats operation (one definition for `curate stats` and VS Code): its options schema and run.
// Apart from stats.ts so that the CLI's stats command, which calls computeStats itself, loads
// no zod (its start is part of what bench/stats.ts measures against DuckDB).
import { z } from 'zod';
import { defineOperation, type OperationContext } from '../operation';
import { FieldMap, defaultFields } from '../schema/annotation';
import { JsonlDataset } from './dataset';
import { computeStats, type DatasetStats } from './stats';

export const StatsOperationOptions = z.object({
  file: z.string().min(1),
  fields: FieldMap.optional(),
  maxListed: z.number().int().nonnegative().optional(),
});

export const statsOperation = defineOperation({
  id: 'stats',
  title: 'Dataset statistics',
  description:
    'Records, invalid lines, label counts, judge score histogram, annotated, reviewed and machine-generated shares.',
  options: StatsOperationOptions,
  async run(options, ctx: OperationContext): Promise<DatasetStats> {
    // No line index: stats read the file's bytes as they are. Read-only: the folder's stale temps
    // (a crashed save's) are left to the next writer.
    const ds = await JsonlDataset.open(options.file, { signal: ctx.signal, deferScan: true, deferCleanup: true });
    try {
      return await computeStats(ds, options.fields ?? defaultFields, {
        signal: ctx.signal,
        ...(options.maxListed !== undefined ? { maxListed: options.maxListed } : {}),
        onProgress: (p) => ctx.progress({ done: p.bytes, total: p.totalBytes, unit: 'bytes', message: 'counting' }),
      });
    } finally {
      ds.close();
    }
  },
});
