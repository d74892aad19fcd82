// "Generate Instructions…", "Generate Responses…", "Generate Preferences…", "Generate Dialogues…":
// the core's generation operations (src/core/synth) on the Datasets view's selection or an
// Explorer file. Asks what the task needs (input boxes, quick picks), shows the estimate (confirmed
// above llm.confirmCostAbove), runs with progress and cancel, and opens the new file in the
// Curation Editor as soon as its first records are written; the editor reloads as more arrive.
// An unfinished run (cancelled, killed, or with failed records) is resumed with the same options.
import * as vscode from 'vscode';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { defaultGenerateOutput, EVOLUTION_NAMES, type GenerateSummary, type SynthTask } from '../core/synth';
import { readSeedList, sharedInput } from '../core/synth/common';
import { batchableIds, faceNames, generateEntries } from '../core/registry';
import { journalDirFor } from '../core/jobs/runner';
import { targetUris } from './commands';
import { CurationEditorProvider } from './curationEditor';
import { batchFace, runOperation } from './jobs';
import { endpointFor, engineOptions } from './llmFace';
import { apiKey, explicitSetting, modelFor, type EndpointSettings } from './settings';
import type { Log } from './log';

/** The four commands, named after their operations' ids (generate-instructions: datasetCurator.generateInstructions). */
export const GENERATE_COMMANDS: Record<string, SynthTask> = Object.fromEntries(
  (['instructions', 'responses', 'preferences', 'dialogues'] as const).map((t) => [
    faceNames(`generate-${t}`).vscode,
    t,
  ]),
);

/** "… as a Batch": the generations with a batch mode (registry batchableIds: datasetCurator.generateResponsesBatch, ...). */
export const GENERATE_BATCH_COMMANDS: Record<string, SynthTask> = Object.fromEntries(
  (['responses', 'preferences', 'dialogues'] as const)
    .filter((t) => batchableIds().includes(`generate-${t}`))
    .map((t) => [faceNames(`generate-${t}`).vscodeBatch, t]),
);

const TITLES: Record<SynthTask, string> = {
  instructions: 'Instructions',
  responses: 'Responses',
  preferences: 'Preferences',
  dialogues: 'Dialogues',
};
const NOUN: Record<SynthTask, string> = {
  instructions: 'instructions',
  responses: 'responses',
  preferences: 'preference pairs',
  dialogues: 'dialogues',
};

type Answers = Record<string, unknown>;

/** The questions a person answers; integration tests replace them. */
export interface GenerateQuestions {
  inputBox(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  quickPick<T extends vscode.QuickPickItem>(
    items: T[],
    options: vscode.QuickPickOptions & { canPickMany?: boolean },
  ): Thenable<T | T[] | undefined>;
}

const ui: GenerateQuestions = {
  inputBox: (o) => vscode.window.showInputBox(o),
  quickPick: (items, o) => vscode.window.showQuickPick(items, o),
};

const STATE_KEY = (out: string): string => `datasetCurator.generate:${out}`;

function intBox(title: string, prompt: string, value: number, min: number, max: number): vscode.InputBoxOptions {
  return {
    title,
    prompt,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max
        ? undefined
        : `A whole number from ${min} to ${max}`,
  };
}

function liveJournals(out: string, task: SynthTask): string[] {
  const dir = journalDirFor(out);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${task}-`) && f.endsWith('.jsonl') && !f.includes('.done-'))
    .map((f) => path.join(dir, f));
}

/** Where the records go: a new file; or resuming an unfinished run into it; or replacing it. */
async function chooseOutput(
  task: SynthTask,
  input: string,
  title: string,
  context: vscode.ExtensionContext,
  q: GenerateQuestions,
): Promise<{ out: string; resume?: Answers; force?: boolean } | undefined> {
  let out = defaultGenerateOutput(input, task);
  for (;;) {
    const typed = await q.inputBox({
      title,
      prompt: 'The new file the generated records go to',
      value: out,
      ignoreFocusOut: true,
      validateInput: (v) => {
        const p = path.resolve(path.dirname(input), v.trim());
        if (!v.trim().toLowerCase().endsWith('.jsonl')) return 'A .jsonl file';
        if (p === path.resolve(input)) return 'Not the input file: generated records go to a new file';
        return undefined;
      },
    });
    if (!typed) return undefined;
    out = path.resolve(path.dirname(input), typed.trim());
    if (!existsSync(out)) return { out };
    const saved = context.workspaceState.get<Answers>(STATE_KEY(out));
    const live = liveJournals(out, task);
    type Item = vscode.QuickPickItem & { id: 'resume' | 'replace' | 'other' };
    const items: Item[] = [];
    if (live.length && saved)
      items.push({
        id: 'resume',
        label: '$(debug-continue) Resume the unfinished run',
        description: 'with the options it was started with; finished records are kept',
      });
    items.push({
      id: 'replace',
      label: '$(trash) Replace it',
      description: 'start over (answers already paid for come from the response cache)',
    });
    items.push({ id: 'other', label: '$(new-file) Write to another file…' });
    const pick = (await q.quickPick(items, {
      title,
      placeHolder: `${path.basename(out)} exists${live.length ? ' and an unfinished run was writing it' : ''}`,
      ignoreFocusOut: true,
    })) as Item | undefined;
    if (!pick) return undefined;
    if (pick.id === 'resume') return { out, resume: saved };
    if (pick.id === 'replace') {
      for (const j of live) rmSync(j, { force: true });
      return { out, force: true };
    }
  }
}

/** The task's own questions; undefined when the user pressed Escape. */
async function askTask(
  task: SynthTask,
  title: string,
  s: EndpointSettings,
  q: GenerateQuestions,
): Promise<Answers | undefined> {
  const a: Answers = {};
  if (task === 'instructions') {
    const target = await q.inputBox(intBox(title, 'How many new instructions (the target)', 100, 1, 1_000_000));
    if (!target) return undefined;
    a.target = Number(target);
    const sim = await q.inputBox({
      title,
      prompt: 'Reject a new instruction when its ROUGE-L to any instruction in the pool is at least this',
      value: '0.7',
      ignoreFocusOut: true,
      validateInput: (v) => (Number(v) > 0 && Number(v) <= 1 ? undefined : 'A number above 0, at most 1'),
    });
    if (!sim) return undefined;
    a.similarity = Number(sim);
    type D = vscode.QuickPickItem & { id: string };
    const drivers: D[] = [
      {
        id: 'personas',
        label: 'Personas from a file…',
        description: 'one drawn per request (a text file, one persona a line)',
      },
      {
        id: 'attributes',
        label: 'Attributes (topic, difficulty, format…)',
        description: 'one value of each drawn per request',
      },
      ...EVOLUTION_NAMES.map((e) => ({
        id: `evolve:${e}`,
        label: `Evolve: ${e}`,
        description: 'Evol-Instruct: rewrite pool instructions',
      })),
    ];
    const picked = (await q.quickPick(drivers, {
      title,
      placeHolder: 'Diversity (optional): pick any, or none, then press Enter',
      canPickMany: true,
      ignoreFocusOut: true,
    })) as D[] | undefined;
    if (!picked) return undefined;
    a.evolve = picked.filter((p) => p.id.startsWith('evolve:')).map((p) => p.id.slice(7));
    if (picked.some((p) => p.id === 'personas')) {
      const files = await vscode.window.showOpenDialog({
        title: 'Personas: a text file (one a line) or JSONL with a "persona" field',
        canSelectMany: false,
        openLabel: 'Use These Personas',
      });
      if (!files?.[0]) return undefined;
      a.personas = (await readSeedList(files[0].fsPath, ['persona', 'text', 'description'])).map((p) => p.text);
    }
    if (picked.some((p) => p.id === 'attributes')) {
      const text = await q.inputBox({
        title,
        prompt: 'Attributes: NAME=value,value; NAME=value,...',
        value: 'topic=science,history,cooking,programming; difficulty=easy,hard; format=question,essay,list',
        ignoreFocusOut: true,
        validateInput: (v) => (parseAttributes(v) ? undefined : 'NAME=value,value; NAME=value,...'),
      });
      if (!text) return undefined;
      a.attributes = parseAttributes(text);
    }
  } else if (task === 'responses') {
    const n = await q.inputBox(intBox(title, 'Responses per record', 1, 1, 50));
    if (!n) return undefined;
    a.n = Number(n);
  } else if (task === 'preferences') {
    const n = await q.inputBox(
      intBox(
        title,
        'Candidate responses per prompt (rated by the judge; the best and the worst become the pair)',
        2,
        2,
        16,
      ),
    );
    if (!n) return undefined;
    a.candidates = Number(n);
    const models = await q.inputBox({
      title,
      prompt: 'Candidate models, separated by commas (used in turn)',
      value: modelFor(['generate'], s),
      ignoreFocusOut: true,
      validateInput: (v) => (v.split(',').some((x) => x.trim()) ? undefined : 'At least one model'),
    });
    if (!models) return undefined;
    a.models = models
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const judge = await q.inputBox({
      title,
      prompt: 'The judge model',
      value: modelFor('judge', s),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'A model'),
    });
    if (!judge) return undefined;
    a.judgeModel = judge.trim();
  } else {
    const turns = await q.inputBox(intBox(title, 'User-assistant exchanges per conversation', 3, 1, 50));
    if (!turns) return undefined;
    a.turns = Number(turns);
    const per = await q.inputBox(intBox(title, 'Conversations per seed (topic or persona)', 1, 1, 50));
    if (!per) return undefined;
    a.perSeed = Number(per);
  }
  return a;
}

export function parseAttributes(text: string): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const part of text
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z][\w -]{0,39})=(.+)$/.exec(part);
    if (!m) return undefined;
    const values = (m[2] as string)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!values.length) return undefined;
    out[(m[1] as string).trim()] = values;
  }
  return Object.keys(out).length ? out : undefined;
}

export interface GenerateDeps {
  context: vscode.ExtensionContext;
  editors: CurationEditorProvider;
  log: Log;
  questions?: GenerateQuestions;
  /** Run it as a Batch API job (the operation's batch mode). */
  batch?: boolean;
}

/** Runs one generation task on `uris` (instructions: all of them are seed files; others: the first). */
export async function runGenerateCommand(
  task: SynthTask,
  uris: vscode.Uri[],
  deps: GenerateDeps,
): Promise<GenerateSummary | undefined> {
  const { context, editors, log } = deps;
  const q = deps.questions ?? ui;
  const [first] = uris;
  if (!first) return undefined;
  const input = first.fsPath;
  const title = `Generate ${TITLES[task]} from ${path.basename(input)}`;
  const s = await endpointFor(first, context, log);
  if (!s) return undefined;

  let answers: Answers;
  const where = await chooseOutput(task, input, title, context, q);
  if (!where) return undefined;
  const out = where.out;
  if (where.resume) answers = where.resume;
  else {
    const a = await askTask(task, title, s, q);
    if (!a) return undefined;
    answers = { ...a, ...(where.force ? { force: true } : {}) };
  }
  const model = modelFor([task, 'generate'], s);
  // Set by the user, else the generation's own defaults (0.7, 1024 tokens), not the labeling's.
  const temperature = explicitSetting('llm.temperature', first);
  const maxTokens = explicitSetting('llm.maxTokens', first);
  let opened = false;
  const outUri = vscode.Uri.file(out);
  // The input is opened and indexed once, for the estimate and the run.
  const records = sharedInput();
  const op = generateEntries({
    apiKey: () => apiKey(context.secrets),
    openInput: (o) => records.openInput(o),
    log: (l) => log.info(l),
    onOutput: () => {
      if (opened) return;
      opened = true;
      void vscode.commands.executeCommand('vscode.openWith', outUri, CurationEditorProvider.viewType, {
        preview: false,
      });
    },
  })[task];
  await context.workspaceState.update(STATE_KEY(out), { ...answers, force: undefined });
  try {
    return await runOperation(
      op,
      {
        input,
        output: out,
        ...engineOptions(s),
        model,
        ...(temperature !== undefined ? { temperature } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(task === 'instructions' && uris.length > 1 ? { seedFiles: uris.slice(1).map((u) => u.fsPath) } : {}),
        ...answers,
      },
      {
        // as a batch: polled in the background, a notification when the results land (jobs.ts batchFace)
        ...(deps.batch
          ? batchFace<GenerateSummary>(`Generating ${NOUN[task]} into ${path.basename(out)}`, log)
          : { title: `Generating ${NOUN[task]} into ${path.basename(out)}` }),
        log,
        confirm: { what: title, settings: s, action: 'Generate' },
        // A retry resumes the same output: the journal keeps what is done.
        retry: (raw) => ({ ...raw, force: undefined }),
        ran: (summary) => {
          if (!summary) return; // cancelled or failed: told by the runner; a re-run resumes
          if (!opened && existsSync(out))
            void vscode.commands.executeCommand('vscode.openWith', outUri, CurationEditorProvider.viewType, {
              preview: false,
            });
          editors.documentFor(outUri)?.notifyChanged(undefined);
        },
      },
    );
  } finally {
    await records.close();
  }
}

/** The four commands, on the Datasets view's selection, an Explorer file or the active editor. */
export function registerGenerateCommands(context: vscode.ExtensionContext, deps: Omit<GenerateDeps, 'context'>): void {
  const commands = [
    ...Object.entries(GENERATE_COMMANDS).map(([id, task]) => [id, task, false] as const),
    ...Object.entries(GENERATE_BATCH_COMMANDS).map(([id, task]) => [id, task, true] as const),
  ];
  for (const [id, task, batch] of commands) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg: unknown, selected: unknown) => {
        const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
        if (uris.length === 0) {
          void vscode.window.showWarningMessage('Select a dataset file (.jsonl) first.');
          return;
        }
        try {
          // Instructions take every selected file as seeds; the others run once per file.
          if (task === 'instructions') await runGenerateCommand(task, uris, { ...deps, context, batch });
          else for (const uri of uris) await runGenerateCommand(task, [uri], { ...deps, context, batch });
        } catch (err) {
          deps.log.error(`Generate ${task} failed`, err);
          void vscode.window.showErrorMessage(
            `Generate ${TITLES[task]} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }),
    );
  }
}
