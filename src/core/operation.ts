// The one way an operation (stats, annotate, judge, generate, filter, export, ...) is defined.
// Each is declared once here in the core, with a zod schema of its options, a cost estimate and a
// run function that reports progress; the CLI subcommands and the VS Code commands are thin faces
// over these definitions.
import type { z } from 'zod';

export interface Progress {
  /** Units finished so far (records, bytes, requests: the operation says which in `unit`). */
  done: number;
  /** Units in all, when known. */
  total?: number;
  unit?: string;
  message?: string;
}

export interface Estimate {
  records: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** In US dollars, when prices are known. */
  cost?: number;
  /** A resumed job: the records still to do (the requests, tokens and cost above count only these). */
  remaining?: number;
  /**
   * The requests, tokens and cost were summed over this many records spread evenly over the file
   * and scaled to all of them (a large file no job has touched yet), or, with `remaining`, to all
   * the records left (a resumed job's: src/core/estimate.ts).
   */
  sampled?: number;
}

/** What an estimate is given: the signal that stops it (a long pass over a file) and where it reports how far it is. */
export interface EstimateContext {
  signal: AbortSignal;
  progress?: (p: Progress) => void;
}

export interface OperationContext {
  signal: AbortSignal;
  progress: (p: Progress) => void;
  log: (line: string) => void;
}

export interface Operation<S extends z.ZodType, R> {
  /** Stable id: the CLI subcommand and the VS Code command derive from it (registry.ts, faceNames). */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly options: S;
  estimate?(options: z.output<S>, ctx: EstimateContext): Promise<Estimate>;
  run(options: z.output<S>, ctx: OperationContext): Promise<R>;
}

export function defineOperation<S extends z.ZodType, R>(op: Operation<S, R>): Operation<S, R> {
  return op;
}

/** A context for callers that want no progress or logs (tests, scripts). */
export function quietContext(signal: AbortSignal = new AbortController().signal): OperationContext {
  return { signal, progress: () => {}, log: () => {} };
}

/**
 * Thrown when an operation is given options it cannot run with; the message is for the user, in
 * neutral words. `option`: the option that would change the outcome (the CLI names its flag, VS Code
 * its setting or its own choice).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    readonly option?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
