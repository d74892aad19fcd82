// The prompt gate (docs/git.md): re-runs the label prompt (one or several template folders, side by
// side on the same records, promptfoo's matrix) on the records a person decided, and measures the
// agreement between the model's labels and the people's (Cohen's kappa, accuracy, per label). A gate
// for pre-commit and CI: it fails when a folder's kappa is below the bar. The response cache makes
// unchanged calls free, so re-running the gate after an unrelated commit costs nothing.
import { resolve } from 'node:path';
import { UserError } from '../operation';
import { classificationMetrics, type ClassificationMetrics } from '../metrics/agreement-core';
import { cacheFor, clientFor, createTask, LabelOptions } from '../llm/tasks';
import { defaultFields, HumanDecision, type FieldMap } from '../schema/annotation';
import { JsonlDataset } from '../store';
import { isObj } from './records';

export interface PromptGateOptions {
  /** Label options (input, labels, endpoint, model, cache...) as LabelOptions takes them; promptsDir is set per folder. */
  label: Record<string, unknown>;
  /** The template folders to compare; `undefined` stands for the default (the nearest .curator/prompts, else the built-in prompt). */
  promptsDirs: (string | undefined)[];
  /** The bar: a folder whose kappa is below it fails the gate. */
  minKappa?: number;
  /** Use at most this many decided records (the first ones in the file). */
  limit?: number;
  apiKey?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: (done: number, total: number, folder: string) => void;
}

export interface PromptRun {
  /** The folder as given (or "(default)"). */
  folder: string;
  /** The template used: its file, version and hash (or the built-in prompt). */
  prompt: string;
  promptHash: string;
  /** Model vs person, over the records the model answered. */
  metrics: ClassificationMetrics;
  /** Records the model failed on (invalid answers, errors), with the reason of the first few. */
  failed: number;
  failures: { line: number; reason: string }[];
  /** Answers that came from the response cache (free). */
  cached: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** kappa >= minKappa (true when no bar is set). */
  pass: boolean;
}

export interface PromptGateReport {
  file: string;
  question: string;
  /** Records a person decided (the ones run). */
  decided: number;
  minKappa?: number;
  runs: PromptRun[];
  pass: boolean;
}

/** A person's submitted decision for the question as a label, when there is one. */
function decisionOf(value: Record<string, unknown>, question: string, fields: FieldMap): string | undefined {
  const ann = value[fields.annotations];
  if (!isObj(ann) || !isObj(ann.human)) return undefined;
  const h = HumanDecision.safeParse(ann.human[question]);
  if (!h.success || h.data.status !== 'submitted') return undefined;
  const v = h.data.value;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export async function runPromptGate(o: PromptGateOptions): Promise<PromptGateReport> {
  if (o.promptsDirs.length === 0) throw new UserError('no prompt folder to run');
  const base = LabelOptions.parse({ ...o.label, promptsDir: undefined });
  const fields = base.fields ?? defaultFields;
  const question = base.question ?? fields.question;
  const ds = await JsonlDataset.open(base.input, { signal: o.signal });
  try {
    await ds.ready;
    const decided: { index: number; human: string }[] = [];
    for (let i = 0; i < ds.lineCount && decided.length < (o.limit ?? Infinity); i++) {
      const l = ds.line(i);
      if (!l.value || l.invalid) continue;
      const h = decisionOf(l.value, question, fields);
      if (h !== undefined) decided.push({ index: i, human: h });
    }
    if (decided.length === 0)
      throw new UserError(
        `${base.input} has no record a person decided (annotations.human.${question} submitted): nothing to measure the prompt against`,
      );
    const runs: PromptRun[] = [];
    for (const dir of o.promptsDirs) {
      const folder = dir ?? '(default)';
      const opts = LabelOptions.parse({ ...o.label, ...(dir ? { promptsDir: resolve(dir) } : {}) });
      const client = clientFor(opts, o.apiKey, o.log);
      const cache = cacheFor(opts);
      try {
        const task = createTask('label', opts, { client, ...(cache ? { cache } : {}) });
        const pairs: ([string, string] | undefined)[] = []; // sparse: a failed record leaves a hole
        const run: PromptRun = {
          folder,
          prompt: task.promptSource ?? folder,
          promptHash: task.promptHash,
          metrics: classificationMetrics([]),
          failed: 0,
          failures: [],
          cached: 0,
          requests: 0,
          inputTokens: 0,
          outputTokens: 0,
          pass: true,
        };
        let next = 0;
        let done = 0;
        const worker = async () => {
          for (;;) {
            if (o.signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
            const k = next++;
            if (k >= decided.length) return;
            const d = decided[k]!;
            const record = ds.line(d.index).value!;
            const r = await task.run(record, {
              signal: o.signal ?? new AbortController().signal,
              index: d.index,
              line: d.index + 1,
            });
            run.requests += r.requests;
            run.inputTokens += r.usage.input_tokens;
            run.outputTokens += r.usage.output_tokens;
            if (r.ok) {
              if (r.cached) run.cached++;
              pairs[k] = [d.human, String(r.result.value)];
            } else {
              run.failed++;
              if (run.failures.length < 10) run.failures.push({ line: d.index + 1, reason: r.reason });
            }
            o.progress?.(++done, decided.length, folder);
          }
        };
        await Promise.all(Array.from({ length: Math.min(opts.concurrency, decided.length) }, worker));
        run.metrics = classificationMetrics(pairs.filter((p) => p !== undefined));
        const kappa = run.metrics.kappa;
        run.pass = o.minKappa === undefined || (kappa !== null && kappa >= o.minKappa - 1e-12);
        runs.push(run);
      } finally {
        client.close();
        cache?.close();
      }
    }
    return {
      file: base.input,
      question,
      decided: decided.length,
      ...(o.minKappa !== undefined ? { minKappa: o.minKappa } : {}),
      runs,
      pass: runs.every((r) => r.pass),
    };
  } finally {
    ds.close();
  }
}

const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

/** The report as a table: one row per template folder. */
export function gateTable(r: PromptGateReport): string {
  const head = ['prompts', 'template', 'n', 'accuracy', 'kappa', 'macro F1', 'failed', 'cached', 'verdict'];
  const rows = r.runs.map((x) => [
    x.folder,
    x.prompt,
    String(x.metrics.n),
    f3(x.metrics.accuracy),
    f3(x.metrics.kappa),
    f3(x.metrics.macroF1),
    String(x.failed),
    String(x.cached),
    r.minKappa === undefined ? '' : x.pass ? 'pass' : 'FAIL',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
