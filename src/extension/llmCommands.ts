// The five LLM tasks as VS Code commands (Label, Write Rationales, Judge, Self-Consistency, Critique
// and Refine), on a file or on the curation editor's current record, through one flow: the core's
// operation with the endpoint from settings (the task's model override applied), the key from
// SecretStorage or OPENAI_API_KEY, the task's own questions (pre-filled with this workspace's last
// answers; a record's command asks nothing and reuses them), an estimate confirmed above a cost
// threshold, progress with cancel, a status bar item and the output channel, results in the
// curation editor as they arrive (written through the store and saved atomically; the journal
// makes a killed job resume), and a summary with the failures and "Retry Failed".
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { humanLabeledExamples, type LlmEnv } from '../core/llm/tasks';
import { isBatchTask } from '../core/llm/batch/operation';
import { faceNames, jobReporting, llmEntries } from '../core/registry';
import { DEFAULT_ESCALATE_BELOW } from '../core/llm/batch/cascade-run';
import { LlmClient } from '../core/llm/client';
import type { TaskId } from '../core/llm/prompts';
import { SINK_BATCH, StoreRecordSource, StoreResultSink } from '../core/jobs/store-io';
import type { Binding, RecordSource, SourceRecord } from '../core/jobs/types';
import type { TaskResult } from '../core/llm/apply-result';
import type { JobSummary } from '../core/jobs/runner';
import { CurationEditorProvider, type DatasetDocument } from './curationEditor';
import { apiKey, modelFor, type EndpointSettings } from './settings';
import { batchFace, runOperation } from './jobs';
import { endpointFor, engineOptions } from './llmFace';
import type { Log } from './log';

export interface LlmDeps {
  context: vscode.ExtensionContext;
  editors: CurationEditorProvider;
  log: Log;
}

/** What a task's questions see. */
interface AskContext {
  /** The file (or "line N of file") for titles. */
  name: string;
  doc: DatasetDocument;
  settings: EndpointSettings;
  /** The task's model (its override, else the default). */
  model: string;
  /** This workspace's last answers for the task. */
  last: Record<string, unknown>;
  /** The record, for a record's command. */
  record?: Record<string, unknown>;
  apiKey(): Promise<string | undefined>;
}

type Options = Record<string, unknown>;

interface TaskSpec {
  task: TaskId;
  /** "Labeling", "Judging", ... for titles and summaries. */
  doing: string;
  /** The file-level questions; undefined when the user cancelled. */
  ask(c: AskContext): Promise<Options | undefined>;
  /** For one record, no questions: the last answers or defaults; a string is why it cannot run. */
  quick(c: AskContext): Options | string;
}

// ---------------------------------------------------------------------------------------------
// The questions

const DEFAULT_RUBRIC = 'Overall quality as training data: the label is correct, the text is clear, helpful and safe.';

/** The items of a comma-separated answer, trimmed, without empty ones. */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

async function askLabels(c: AskContext, title: string): Promise<string[] | undefined> {
  const labels = await vscode.window.showInputBox({
    title,
    prompt: 'The label set, separated by commas',
    value: (strings(c.last.labels) ?? c.doc.session.labels()).join(', '),
    ignoreFocusOut: true,
    validateInput: (v) => (splitList(v).length >= 2 ? undefined : 'Give at least two labels'),
  });
  return labels === undefined ? undefined : splitList(labels);
}

function labelsFor(c: AskContext): string[] | string {
  const labels = strings(c.last.labels) ?? c.doc.session.labels();
  return labels.length >= 2 ? labels : 'Set the label set first (datasetCurator.labels), or label the whole file once.';
}

/** A rubric is text, or the path of a file (relative to the workspace folder or the dataset). */
function readRubric(value: string, doc: DatasetDocument): string {
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath ?? path.dirname(doc.uri.fsPath);
  if (/[\n]/.test(value) || value.length > 500) return value;
  for (const p of [path.resolve(folder, value), path.resolve(path.dirname(doc.uri.fsPath), value)]) {
    try {
      if (existsSync(p) && statSync(p).isFile()) return readFileSync(p, 'utf8');
    } catch {
      /* not a file */
    }
  }
  return value;
}

/** The models offered as judges: the settings', the last ones and the endpoint's own list. */
async function pickJudges(c: AskContext, title: string): Promise<string[] | undefined> {
  const preselected =
    strings(c.last.judgeModels) ?? (c.settings.judgeModels.length ? c.settings.judgeModels : [c.model]);
  const known = [...new Set([...preselected, ...c.settings.judgeModels, c.model, c.settings.model])];
  const other: vscode.QuickPickItem = { label: '$(edit) Other models…', alwaysShow: true };
  const qp = vscode.window.createQuickPick();
  qp.title = title;
  qp.placeholder = 'The judges: every model picked scores every record; their verdicts are shown side by side';
  qp.canSelectMany = true;
  qp.ignoreFocusOut = true;
  const item = (m: string): vscode.QuickPickItem => ({
    label: m,
    description: c.settings.judgeModels.includes(m)
      ? 'datasetCurator.llm.judgeModels'
      : m === c.model
        ? 'the judge model'
        : undefined,
  });
  qp.items = [...known.map(item), other];
  qp.selectedItems = qp.items.filter((i) => preselected.includes(i.label));
  // The endpoint's models, when it lists them (not every server does): offered, never preselected.
  const ac = new AbortController();
  const client = new LlmClient({
    baseURL: c.settings.baseUrl,
    apiKey: await c.apiKey(),
    model: c.model,
    timeoutMs: 5000,
    maxRetries: 0,
    concurrency: 1,
  });
  qp.busy = true;
  void client
    .listModels(AbortSignal.any([ac.signal, AbortSignal.timeout(5000)]))
    .then((ids) => {
      const selected = qp.selectedItems.map((i) => i.label);
      const more = ids.filter((m) => !known.includes(m)).sort();
      if (more.length === 0) return;
      qp.items = [...known.map(item), ...more.map((m) => ({ label: m, description: 'served by the endpoint' })), other];
      qp.selectedItems = qp.items.filter((i) => selected.includes(i.label));
    })
    .catch(() => undefined)
    .finally(() => {
      qp.busy = false;
      client.close();
    });
  const picked = await new Promise<readonly vscode.QuickPickItem[] | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  ac.abort();
  qp.dispose();
  if (!picked) return undefined;
  let models = picked.filter((i) => i !== other).map((i) => i.label);
  if (picked.includes(other)) {
    const typed = await vscode.window.showInputBox({
      title,
      prompt: 'Judge models, separated by commas',
      value: models.join(', '),
      ignoreFocusOut: true,
    });
    if (typed === undefined) return undefined;
    models = splitList(typed);
  }
  if (models.length === 0) {
    void vscode.window.showWarningMessage('Pick at least one judge model.');
    return undefined;
  }
  return models;
}

function critiqueField(c: AskContext): string {
  const last = str(c.last.field);
  const has = (f: string): boolean => (c.record ? c.record[f] !== undefined : c.doc.session.info().columns.includes(f));
  if (last && has(last)) return last;
  return ['response', 'output', 'completion', 'answer', 'generation', 'chosen', 'text'].find(has) ?? last ?? 'response';
}

function fewShotExamples(c: AskContext, n: number): Options {
  if (n <= 0) return { examples: [] };
  return { examples: humanLabeledExamples(c.doc.store, n) };
}

const specs: Record<TaskId, TaskSpec> = {
  label: {
    task: 'label',
    doing: 'Labeling',
    async ask(c) {
      const title = `Label ${c.name} with ${c.model}`;
      const labels = await askLabels(c, title);
      if (!labels) return undefined;
      const lastShots = num(c.last.fewShot) ?? 0;
      // The last choice first, so Enter repeats it.
      const shots = [lastShots, ...[0, 4, 8, 16].filter((n) => n !== lastShots)];
      const pick = await vscode.window.showQuickPick(
        shots.map((n) => ({
          label: n === 0 ? 'Zero-shot' : `Few-shot: ${n} examples`,
          description: n === 0 ? 'no examples in the prompt' : 'records a person already labeled in this file',
          n,
        })),
        { title, placeHolder: 'Show the model examples a person labeled?', ignoreFocusOut: true },
      );
      if (!pick) return undefined;
      return { labels, fewShot: pick.n, ...fewShotExamples(c, pick.n) };
    },
    quick(c) {
      const labels = labelsFor(c);
      return typeof labels === 'string' ? labels : { labels, ...fewShotExamples(c, num(c.last.fewShot) ?? 0) };
    },
  },
  rationale: {
    task: 'rationale',
    doing: 'Writing rationales for',
    ask() {
      return Promise.resolve({});
    },
    quick(c) {
      return c.record && (c.record.label === undefined || c.record.label === null)
        ? 'This record has no label to explain.'
        : {};
    },
  },
  judge: {
    task: 'judge',
    doing: 'Judging',
    async ask(c) {
      const steps = 4;
      const title = (n: number): string => `Judge ${c.name} (${n}/${steps})`;
      const rubric = await vscode.window.showInputBox({
        title: title(1),
        prompt: 'The rubric: what makes a record good training data (text, or the path of a file that holds it)',
        value: str(c.last.rubricInput) ?? DEFAULT_RUBRIC,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'Give a rubric'),
      });
      if (!rubric) return undefined;
      const scale = await vscode.window.showInputBox({
        title: title(2),
        prompt: 'The scale: MIN-MAX',
        value: `${num(c.last.scaleMin) ?? 1}-${num(c.last.scaleMax) ?? 10}`,
        ignoreFocusOut: true,
        validateInput: (v) => {
          const m = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/.exec(v);
          return m && Number(m[2]) > Number(m[1]) ? undefined : 'Like 1-10 (the maximum above the minimum)';
        },
      });
      if (!scale) return undefined;
      const criteria = await vscode.window.showInputBox({
        title: title(3),
        prompt: 'Criteria scored separately, separated by commas (empty: the overall score only)',
        value: (strings(c.last.criteria) ?? []).join(', '),
        ignoreFocusOut: true,
        validateInput: (v) =>
          splitList(v).every((x) => /^[A-Za-z_][\w-]{0,63}$/.test(x)) ? undefined : 'Names of letters, digits, _ and -',
      });
      if (criteria === undefined) return undefined;
      const judgeModels = await pickJudges(c, title(4));
      if (!judgeModels) return undefined;
      const [, lo, hi] = /(-?\d+)\s*-\s*(-?\d+)/.exec(scale) as RegExpExecArray;
      return {
        rubricInput: rubric,
        rubric: readRubric(rubric, c.doc),
        scaleMin: Number(lo),
        scaleMax: Number(hi),
        criteria: splitList(criteria),
        judgeModels,
      };
    },
    quick(c) {
      const rubric = str(c.last.rubricInput) ?? DEFAULT_RUBRIC;
      return {
        rubricInput: rubric,
        rubric: readRubric(rubric, c.doc),
        ...(num(c.last.scaleMin) !== undefined ? { scaleMin: c.last.scaleMin, scaleMax: c.last.scaleMax } : {}),
        criteria: strings(c.last.criteria) ?? [],
        judgeModels:
          strings(c.last.judgeModels) ?? (c.settings.judgeModels.length ? c.settings.judgeModels : [c.model]),
      };
    },
  },
  consistency: {
    task: 'consistency',
    doing: 'Self-consistency labeling',
    async ask(c) {
      const title = `Self-consistency labels for ${c.name} with ${c.model}`;
      const labels = await askLabels(c, title);
      if (!labels) return undefined;
      const k = await vscode.window.showInputBox({
        title,
        prompt: 'Samples per record (the majority is the label, the share that agrees its confidence)',
        value: String(num(c.last.k) ?? 5),
        ignoreFocusOut: true,
        validateInput: (v) =>
          /^\d+$/.test(v.trim()) && Number(v) >= 2 && Number(v) <= 50 ? undefined : 'A number from 2 to 50',
      });
      if (!k) return undefined;
      return { labels, k: Number(k) };
    },
    quick(c) {
      const labels = labelsFor(c);
      return typeof labels === 'string' ? labels : { labels, k: num(c.last.k) ?? 5 };
    },
  },
  critique: {
    task: 'critique',
    doing: 'Critiquing',
    async ask(c) {
      const columns = c.doc.session.info().columns;
      const preferred = critiqueField(c);
      const pick = await vscode.window.showQuickPick(
        [preferred, ...columns.filter((f) => f !== preferred)].map((f) => ({ label: f })),
        {
          title: `Critique and refine ${c.name} with ${c.model}`,
          placeHolder: 'The field to critique and refine (the refined version is kept beside the original)',
          ignoreFocusOut: true,
        },
      );
      return pick ? { field: pick.label } : undefined;
    },
    quick(c) {
      const field = critiqueField(c);
      return c.record && c.record[field] === undefined ? `This record has no "${field}" field to critique.` : { field };
    },
  },
};

/**
 * "Label with a Cascade of Models…": the models, cheapest first (datasetCurator.llm.cascadeModels,
 * else the last ones, else asked), the label set, the threshold below which a record goes on to
 * the next model (and after the last to the review queue), online or as a batch.
 */
async function askCascade(c: AskContext): Promise<Options | undefined> {
  const steps = 4;
  const title = (n: number): string => `Label ${c.name} with a cascade of models (${n}/${steps})`;
  const preset = c.settings.cascadeModels.length >= 2 ? c.settings.cascadeModels : strings(c.last.cascade);
  const typed = await vscode.window.showInputBox({
    title: title(1),
    prompt:
      'The models, cheapest first, separated by commas: each next one labels only the records the one before was unsure of',
    value: (preset ?? [c.model]).join(', '),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const m = splitList(v);
      if (m.length < 2) return 'Give at least two models, cheapest first';
      return new Set(m).size === m.length ? undefined : 'Each model once';
    },
  });
  if (typed === undefined) return undefined;
  const labels = await askLabels(c, title(2));
  if (!labels) return undefined;
  const threshold = await vscode.window.showInputBox({
    title: title(3),
    prompt:
      'Escalate below this confidence: a record the model is less sure of goes to the next model, and after the last to the review queue',
    value: String(num(c.last.escalateBelow) ?? DEFAULT_ESCALATE_BELOW),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const x = Number(v.trim());
      return v.trim() !== '' && Number.isFinite(x) && x >= 0 && x <= 1 ? undefined : 'A number from 0 to 1';
    },
  });
  if (threshold === undefined) return undefined;
  const lastBatch = c.last.batch === true;
  const modes = [
    { label: 'Online', description: "now, at the endpoint's price", batch: false },
    { label: 'As a batch', description: 'the Batch API: half the price, results within 24 hours', batch: true },
  ];
  const mode = await vscode.window.showQuickPick(lastBatch ? [...modes].reverse() : modes, {
    title: title(4),
    placeHolder: 'Run each stage online or as a batch?',
    ignoreFocusOut: true,
  });
  if (!mode) return undefined;
  return { cascade: splitList(typed), labels, escalateBelow: Number(threshold.trim()), batch: mode.batch };
}

/** Remembered per workspace, so the next run (and a record's command) starts from them. */
const lastKey = (task: TaskId | 'labelCascade'): string => `datasetCurator.llm.last.${task}`;

// ---------------------------------------------------------------------------------------------
// The flow

/** One record of the store as a job's whole source (the job's index 0 is the record's index). */
class OneRecord implements RecordSource {
  constructor(
    private readonly inner: StoreRecordSource,
    readonly index: number,
  ) {}
  count(): number {
    return 1;
  }
  get(): SourceRecord {
    return this.inner.get(this.index);
  }
}

/**
 * Runs a task over a file (`record` undefined) or over one record of it (the curation editor's
 * "… This Record": no questions, the last answers, one request per model).
 */
export async function runTaskCommand(
  task: TaskId,
  uri: vscode.Uri,
  deps: LlmDeps,
  record?: number,
  opts: { batch?: boolean; cascade?: boolean } = {},
): Promise<JobSummary | undefined> {
  const { context, editors, log } = deps;
  const spec = specs[task];
  const name = record === undefined ? path.basename(uri.fsPath) : `line ${record + 1} of ${path.basename(uri.fsPath)}`;
  // A cascade (label only, a file): its own questions, which say whether it runs as a batch.
  const cascade = opts.cascade === true && task === 'label' && record === undefined;
  let batch = opts.batch === true && record === undefined;
  const s = await endpointFor(uri, context, log);
  if (!s) return undefined;

  // Open it in the Curation Editor: the results show up there as they arrive.
  await vscode.commands.executeCommand('vscode.openWith', uri, CurationEditorProvider.viewType);
  const doc = editors.documentFor(uri);
  if (!doc) throw new Error(`${name} could not be opened in the Curation Editor`);
  await doc.store.ready;
  if (doc.isDirty) {
    const save = await vscode.window.showWarningMessage(
      `${name} has unsaved edits. Save them before the job writes its results?`,
      { modal: true },
      'Save and Run',
    );
    if (save !== 'Save and Run') return undefined;
    await vscode.commands.executeCommand('workbench.action.files.save');
    // the save may fail or be cancelled (TypeScript keeps the check above narrowed across the await)
    if (doc.isDirty as boolean) return undefined;
  }

  const model = modelFor(task, s);
  const remember = cascade ? lastKey('labelCascade') : lastKey(task);
  const last = context.workspaceState.get<Options>(remember) ?? {};
  const ask: AskContext = {
    name,
    doc,
    settings: s,
    model,
    last,
    apiKey: () => apiKey(context.secrets),
    ...(record !== undefined ? { record: doc.store.line(record).value } : {}),
  };
  let answers: Options | string | undefined;
  if (record === undefined) {
    answers = await (cascade ? askCascade(ask) : spec.ask(ask));
    if (answers) {
      const { examples: _e, rubric: _r, ...remembered } = answers;
      await context.workspaceState.update(remember, remembered);
    }
  } else answers = spec.quick(ask);
  if (answers === undefined) return undefined;
  if (typeof answers === 'string') throw new Error(answers);
  const { rubricInput: _ri, fewShot: _fs, batch: asBatch, ...taskOptions } = answers;
  if (cascade) batch = asBatch === true;

  const op = llmEntries(documentEnv(context, doc, log, record))[task];
  const judges = task === 'judge' ? (strings(taskOptions.judgeModels) ?? []) : [];
  const models = cascade ? (strings(taskOptions.cascade) ?? []) : [];
  const who =
    judges.length > 1
      ? `${judges.length} judges (${judges.join(', ')})`
      : models.length > 1
        ? `the cascade ${models.join(' > ')} (below ${String(taskOptions.escalateBelow)}: the next model, after the last the review queue)`
        : (judges[0] ?? model);
  const raw = {
    input: uri.fsPath,
    inPlace: true,
    ...engineOptions(s),
    model,
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    ...taskOptions,
    ...(record !== undefined ? { jobId: `${task}-line-${record + 1}-${Date.now().toString(36)}` } : {}),
  };
  const doing = cascade ? `${spec.doing} ${name} with a cascade` : `${spec.doing} ${name}`;
  const result = batch
    ? await runOperation(op, raw, {
        ...batchFace(doing, log, () => doc.notifyChanged(undefined)),
        confirm: { what: `${spec.doing} ${name} with ${who} as a batch (at batch prices)`, settings: s },
      })
    : await runOperation(op, raw, {
        title: doing,
        log,
        confirm: { what: `${spec.doing} ${name} with ${who}`, settings: s },
        ran: () => doc.notifyChanged(record),
      });
  // A cascade's stages, one line each in the output channel (the notification has them in one).
  if (result?.cascade) for (const l of jobReporting.summarize(result).details) log.info(`${doing}: ${l}`);
  return result;
}

/**
 * The sink of a job over a document the Curation Editor holds: each result an edit the editor is
 * told of, and the results saved every `saveEvery` (SINK_BATCH) unless the person has unsaved edits.
 */
export function editorSink(
  doc: DatasetDocument,
  opts: { replace?: boolean; saveEvery?: number } = {},
): StoreResultSink {
  return new StoreResultSink(doc.store, {
    replace: opts.replace,
    onApplied: (i, edit) => doc.notifyChanged(i, [edit]),
    saveEvery: { results: opts.saveEvery ?? SINK_BATCH, canSave: () => !doc.isDirty },
  });
}

/**
 * The host environment of a job over a document the Curation Editor holds: its records and its
 * store (results show as they arrive), the key from SecretStorage or OPENAI_API_KEY.
 */
export function documentEnv(context: vscode.ExtensionContext, doc: DatasetDocument, log: Log, record?: number): LlmEnv {
  return {
    apiKey: () => apiKey(context.secrets),
    openSource: () =>
      Promise.resolve(
        record === undefined
          ? new StoreRecordSource(doc.store)
          : new OneRecord(new StoreRecordSource(doc.store), record),
      ),
    openSink: (_source, options) => {
      // a cascade's later stage replaces the label an earlier stage wrote (cascade-run.ts)
      const sink = editorSink(doc, { replace: options.replaceExisting });
      if (record === undefined) return Promise.resolve(sink);
      return Promise.resolve({
        apply: (_i: number, result: TaskResult, bound?: Binding) => sink.apply(record, result, bound),
        flush: () => sink.flush(),
      });
    },
    log: (l) => log.info(l),
  };
}

/**
 * The commands, file-level (tree, Explorer, editor title), per record (curation editor) and, for
 * an operation with a batch mode, "Run as Batch": names derived from the operation's id.
 */
export const taskCommands: { task: TaskId; file: string; record: string; batch?: string }[] = (
  ['label', 'rationale', 'judge', 'consistency', 'critique'] as const
).map((task) => {
  const n = faceNames(task);
  return { task, file: n.vscode, record: n.vscodeRecord, ...(isBatchTask(task) ? { batch: n.vscodeBatch } : {}) };
});

/** "Label with a Cascade of Models…": the label operation's command with `Cascade` (registry naming). */
export const cascadeCommand = `${faceNames('label').vscode}Cascade`;

export function doingOf(task: TaskId): string {
  return specs[task].doing;
}
