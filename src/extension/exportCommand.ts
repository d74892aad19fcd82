// "Export for Fine-Tuning…": the core's export operation over a dataset, with the choices the CLI
// has: the format, the style (standard or conversational) of TRL's formats, a field map, keeping
// the annotations, and the container (JSONL, Parquet, or the Hugging Face layout in a folder);
// then a save dialog and progress. Reads the file on disk, so unsaved edits are saved first (or the
// user says no). Nothing is written when no record can be exported: the reasons are shown.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { exportOperation, type ExportReport } from '../core/export/export';
import { FieldMapping } from '../core/export/formats';
import { EXPORT_FORMAT_CHOICES as formats, STYLED_FORMATS as STYLED } from '../core/export/choices';
import { DEFAULT_FINE_TUNE_MODEL, describeReadiness, FINE_TUNE_MODELS } from '../core/export/readiness';
import { runWithProgress } from './jobs';
import type { CurationEditorProvider } from './curationEditor';
import type { Log } from './log';

const MAP_KEYS = Object.keys(FieldMapping.shape);

/** "FIELD=PATH, FIELD=PATH" as a field map, or why not. */
function parseMap(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const at = part.indexOf('=');
    const k = part.slice(0, at).trim();
    const v = part.slice(at + 1).trim();
    if (at <= 0 || !v) return `"${part}" is not FIELD=PATH`;
    if (!MAP_KEYS.includes(k)) return `"${k}" is not a field of the map (${MAP_KEYS.join(', ')})`;
    out[k] = v;
  }
  return out;
}

export async function exportCommand(
  uri: vscode.Uri,
  editors: CurationEditorProvider,
  log: Log,
): Promise<ExportReport | undefined> {
  const name = path.basename(uri.fsPath);
  const doc = editors.documentFor(uri);
  if (doc?.isDirty) {
    const save = await vscode.window.showWarningMessage(
      `${name} has unsaved edits. Export reads the file on disk: save them first?`,
      { modal: true },
      'Save and Export',
    );
    if (save !== 'Save and Export') return undefined;
    await doc.save();
  }
  const pick = await vscode.window.showQuickPick(
    formats.map((f) => ({ ...f, description: f.format })),
    { title: `Export ${name}`, placeHolder: 'The training format', matchOnDetail: true },
  );
  if (!pick) return undefined;

  let dpoStyle: 'standard' | 'conversational' | undefined;
  if (STYLED.has(pick.format)) {
    const s = await vscode.window.showQuickPick(
      [
        { label: 'Standard', style: 'standard' as const, detail: 'plain strings: the prompt is one user message' },
        {
          label: 'Conversational',
          style: 'conversational' as const,
          detail: 'message lists: system prompts and several turns kept',
        },
      ],
      { title: `Export ${name} as ${pick.label}`, placeHolder: 'The style of the rows' },
    );
    if (!s) return undefined;
    dpoStyle = s.style;
  }

  const opts = await vscode.window.showQuickPick(
    [
      {
        label: 'Keep the annotations',
        id: 'annotations',
        detail: 'label, rationale, judges and annotations beside the row where the format has no place for them',
      },
      {
        label: 'Map fields…',
        id: 'map',
        detail: `which record fields hold what: ${MAP_KEYS.join(', ')} (default: the same names)`,
      },
      {
        label: 'Check fine-tune readiness for a model…',
        id: 'model',
        detail: `tokens per row against its context, rows that would be cut, training tokens and cost (OpenAI formats: ${DEFAULT_FINE_TUNE_MODEL} unless picked)`,
      },
    ],
    { title: `Export ${name} as ${pick.label}`, placeHolder: 'Options (none picked: the defaults)', canPickMany: true },
  );
  if (!opts) return undefined;
  let mapping: Record<string, string> = {};
  if (opts.some((o) => o.id === 'map')) {
    const text = await vscode.window.showInputBox({
      title: 'Field map',
      prompt: 'FIELD=PATH pairs, comma-separated (a PATH is a dotted path into the record)',
      placeHolder: 'prompt=question, response=answer.text, system=meta.system',
      validateInput: (t) => {
        const m = parseMap(t);
        return typeof m === 'string' ? m : undefined;
      },
    });
    if (text === undefined) return undefined;
    mapping = parseMap(text) as Record<string, string>;
  }

  let model: string | undefined;
  if (opts.some((o) => o.id === 'model')) {
    const m = await vscode.window.showQuickPick(
      Object.entries(FINE_TUNE_MODELS).map(([name, spec]) => ({
        label: name,
        detail: `${spec.contextLength.toLocaleString('en-US')} tokens per example, $${spec.pricePerMillion} per million training tokens`,
      })),
      { title: 'Fine-tune readiness', placeHolder: 'The model to be fine-tuned (its tokenizer, context and price)' },
    );
    if (!m) return undefined;
    model = m.label;
  }

  const where = await vscode.window.showQuickPick(
    [
      { label: 'JSON Lines', container: 'jsonl' as const, detail: 'one row a line (.jsonl)' },
      { label: 'Parquet', container: 'parquet' as const, detail: 'one .parquet file, nested columns kept' },
      {
        label: 'Hugging Face dataset folder',
        container: 'hub' as const,
        detail: 'data/train-00000-of-00001.parquet and a README.md dataset card, for load_dataset and the Hub',
      },
    ],
    { title: `Export ${name} as ${pick.label}`, placeHolder: 'Write it as' },
  );
  if (!where) return undefined;
  const stem = uri.fsPath.replace(/\.(jsonl|ndjson)$/i, '');
  let out: vscode.Uri | undefined;
  if (where.container === 'hub') {
    out = (
      await vscode.window.showOpenDialog({
        title: `Folder for the Hugging Face layout of ${name}`,
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Export Here',
        defaultUri: vscode.Uri.file(path.dirname(uri.fsPath)),
      })
    )?.[0];
  } else {
    const ext = where.container === 'parquet' ? 'parquet' : 'jsonl';
    out = await vscode.window.showSaveDialog({
      title: `Export ${name} as ${pick.label}`,
      defaultUri: vscode.Uri.file(`${stem}.${pick.format === 'parquet' ? 'records' : pick.format}.${ext}`),
      filters: ext === 'parquet' ? { Parquet: ['parquet'] } : { 'JSON Lines': ['jsonl'] },
    });
  }
  if (!out) return undefined;
  const format =
    where.container !== 'jsonl' && pick.format === 'parquet'
      ? 'parquet'
      : pick.format === 'parquet'
        ? 'records'
        : pick.format;
  const options = exportOperation.options.parse({
    file: uri.fsPath,
    out: out.fsPath,
    format,
    overwrite: true,
    hub: where.container === 'hub',
    mapping,
    includeAnnotations: opts.some((o) => o.id === 'annotations'),
    ...(dpoStyle ? { dpoStyle } : {}),
    ...(model ? { model } : {}),
  });
  const r = await runWithProgress(exportOperation, options, { title: `Exporting ${name}` }, log);
  if (!r) return undefined;
  for (const s of r.skipped.slice(0, 100)) log.info(`${name}:${s.index + 1}: skipped: ${s.reason}`);
  if (r.written === 0) {
    const why = r.reasons?.[0] ? ` Most common: ${r.reasons[0].reason} (${r.reasons[0].count}).` : '';
    log.info(
      `Export ${name}: no ${pick.label} row written; ${r.skippedCount} record(s) skipped, ${r.invalid} invalid line(s).`,
    );
    const act = await vscode.window.showErrorMessage(
      `No record of ${name} can be written as ${pick.label}: nothing was written.${why}`,
      'Show Reasons',
    );
    if (act === 'Show Reasons') log.show();
    return r;
  }
  const target = vscode.Uri.file(r.out ?? out.fsPath);
  const msg = `Wrote ${r.written} ${pick.label} row(s) to ${path.basename(target.fsPath)}; ${r.skippedCount} record(s) skipped, ${r.invalid} invalid line(s).`;
  log.info(`Export ${name}: ${msg}`);
  for (const f of r.files ?? []) log.info(`Export ${name}: wrote ${f}`);
  if (r.readiness) log.info(`Export ${name}: ${describeReadiness(r.readiness)}`);
  const fit = r.readiness?.warnings.length ? ` ${r.readiness.warnings.join('; ')}.` : '';
  const cost =
    r.readiness?.estimatedCost !== undefined
      ? ` About ${r.readiness.trainingTokens.toLocaleString('en-US')} training tokens, $${r.readiness.estimatedCost.toFixed(2)} on ${r.readiness.model}.`
      : '';
  const open = await vscode.window.showInformationMessage(
    msg + fit + cost,
    'Open',
    ...(r.skippedCount || r.readiness ? ['Show Details'] : []),
  );
  if (open === 'Open') await vscode.commands.executeCommand('vscode.open', target);
  if (open === 'Show Details') log.show();
  return r;
}
