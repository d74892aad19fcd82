// Endpoint settings and the API key. The key lives in SecretStorage (or OPENAI_API_KEY), never in
// settings. In an untrusted workspace, workspace-level endpoint settings are ignored (they are
// declared in package.json's restrictedConfigurations), so a cloned repository cannot redirect
// requests, with your key, to a server of its choosing.
import * as path from 'node:path';
// Every setting is read through `setting(key)`: typed by SETTINGS below, its default in one place,
// package.json's contributes.configuration (VS Code returns it; test/unit/settings-schema.test.ts
// checks that the two list the same keys and that each default fits its type).
import * as vscode from 'vscode';
import { z } from 'zod';
import type { TaskId } from '../core/llm/prompts';
import { parse as parseJsonc } from 'jsonc-parser';
import { presets, type EndpointPreset } from '../core/llm/endpoints';
import { SETTINGS, type SettingKey, type Settings } from './settings-schema';

/**
 * A setting's value for a scope, typed. A value of the wrong type (a hand-edited settings.json)
 * counts as unset: the default (package.json's) applies.
 */
export function setting<K extends SettingKey>(key: K, scope?: vscode.Uri): Settings[K] {
  return checked(key, vscode.workspace.getConfiguration('datasetCurator', scope).inspect(key));
}

/** A setting's value when it is set (user, workspace or folder), else undefined: the caller's default applies. */
export function explicitSetting<K extends SettingKey>(key: K, scope?: vscode.Uri): Settings[K] | undefined {
  const info = vscode.workspace.getConfiguration('datasetCurator', scope).inspect(key);
  for (const level of ['workspaceFolderValue', 'workspaceValue', 'globalValue'] as const) {
    const v = schemas[key].safeParse(info?.[level]);
    if (info?.[level] !== undefined && v.success) return v.data;
  }
  return undefined;
}

const schemas: { readonly [K in SettingKey]: z.ZodType<Settings[K]> } = SETTINGS;

/** The value of an inspect(): the most specific valid one, else the default. */
function checked<K extends SettingKey>(
  key: K,
  info:
    | { defaultValue?: unknown; globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown }
    | undefined,
  levels: readonly ('workspaceFolderValue' | 'workspaceValue' | 'globalValue')[] = [
    'workspaceFolderValue',
    'workspaceValue',
    'globalValue',
  ],
): Settings[K] {
  const schema = schemas[key];
  for (const level of levels) {
    const v = schema.safeParse(info?.[level]);
    if (info?.[level] !== undefined && v.success) return v.data;
  }
  return schema.parse(info?.defaultValue);
}

export const SECRET_KEY = 'datasetCurator.apiKey';

// The presets live in the core (the CLI's --preset uses the same); vLLM and LM Studio have no
// model: the server is asked (llmFace.ts, endpointFor).
export { presets, type PresetName } from '../core/llm/endpoints';

export interface EndpointSettings {
  baseUrl: string;
  model: string;
  taskModels: Record<string, string>;
  /** The judge models that score each record side by side (empty: the judge's model alone). */
  judgeModels: string[];
  /** The models of "Label with a Cascade of Models", cheapest first (empty: asked). */
  cascadeModels: string[];
  temperature: number;
  maxTokens: number;
  concurrency: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
  timeoutSeconds: number;
  pricePerMillionInput: number;
  pricePerMillionOutput: number;
  confirmCostAbove: number;
  /** The embeddings model (semantic duplicates). */
  embeddingModel: string;
  /** The response cache folder (absolute); empty: the per-user default (core/llm/cache.ts). */
  cacheDir: string;
  /** Settings the workspace tried to set but that were ignored because it is untrusted. */
  ignored: string[];
}

/** Settings that can redirect requests: only user-level values count in an untrusted workspace. */
export const restrictedKeys = [
  'llm.baseUrl',
  'llm.model',
  'llm.taskModels',
  'llm.judgeModels',
  'llm.cascadeModels',
  'llm.preset',
  'llm.embeddingModel',
  'llm.cacheDir',
] as const;

export function readEndpointSettings(scope?: vscode.Uri): EndpointSettings {
  const cfg = vscode.workspace.getConfiguration('datasetCurator', scope);
  const trusted = vscode.workspace.isTrusted;
  const ignored: string[] = [];
  const get = <K extends SettingKey>(key: K): Settings[K] => {
    const info = cfg.inspect(key);
    if (!trusted && (restrictedKeys as readonly string[]).includes(key)) {
      if (info && (info.workspaceValue !== undefined || info.workspaceFolderValue !== undefined))
        ignored.push(`datasetCurator.${key}`);
      return checked(key, info, ['globalValue']);
    }
    return checked(key, info);
  };
  const preset: EndpointPreset = presets[get('llm.preset')];
  return {
    baseUrl: get('llm.baseUrl') || preset.baseUrl,
    // Empty for vLLM and LM Studio: the server is asked which it serves (endpointFor).
    model: get('llm.model') || preset.model || '',
    taskModels: get('llm.taskModels'),
    judgeModels: get('llm.judgeModels')
      .filter((m) => m.trim() !== '')
      .map((m) => m.trim()),
    cascadeModels: get('llm.cascadeModels')
      .filter((m) => m.trim() !== '')
      .map((m) => m.trim()),
    temperature: get('llm.temperature'),
    maxTokens: get('llm.maxTokens'),
    concurrency: get('llm.concurrency'),
    requestsPerMinute: get('llm.requestsPerMinute'),
    tokensPerMinute: get('llm.tokensPerMinute'),
    timeoutSeconds: get('llm.timeoutSeconds'),
    pricePerMillionInput: get('llm.pricePerMillionInputTokens'),
    pricePerMillionOutput: get('llm.pricePerMillionOutputTokens'),
    confirmCostAbove: get('llm.confirmCostAbove'),
    embeddingModel: get('llm.embeddingModel') || preset.embeddingModel || '',
    cacheDir: cacheDirSetting(get('llm.cacheDir'), scope, trusted, ignored),
    ignored,
  };
}

/**
 * The `llm.cacheDir` setting as an absolute folder (relative: from the workspace folder); empty
 * for the per-user default. A workspace cache is never read in an untrusted workspace, even when a
 * user-level setting points into it.
 */
function cacheDirSetting(value: string, scope: vscode.Uri | undefined, trusted: boolean, ignored: string[]): string {
  const v = typeof value === 'string' ? value.trim() : '';
  if (!v) return '';
  const folder = (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  const dir = path.isAbsolute(v) ? v : folder ? path.join(folder.uri.fsPath, v) : '';
  if (!dir) return '';
  if (!trusted) {
    const inside = (vscode.workspace.workspaceFolders ?? []).some((f) => {
      const rel = path.relative(f.uri.fsPath, dir);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    });
    if (inside) {
      ignored.push('datasetCurator.llm.cacheDir');
      return '';
    }
  }
  return dir;
}

/** The model of a task: the first override in `llm.taskModels` of its keys (trimmed), else `llm.model` (or the preset's). */
export function modelFor(task: TaskId | readonly string[], s: EndpointSettings): string {
  for (const key of typeof task === 'string' ? [task] : task) {
    const m = s.taskModels[key];
    if (typeof m === 'string' && m.trim() !== '') return m.trim();
  }
  return s.model;
}

/** When the judges of a record disagree: the share of the scale their scores may differ by. */
export function disagreementThreshold(scope?: vscode.Uri): number {
  return setting('judges.disagreementThreshold', scope);
}

/**
 * The endpoint settings, with `ignored` listing every restricted setting an untrusted workspace
 * tries to set. VS Code drops those values before an extension sees them (inspect() shows no
 * workspace value), so the workspace's settings files are read here (JSON with comments): the
 * folders' .vscode/settings.json and the .code-workspace file's "settings".
 */
export async function endpointSettings(scope?: vscode.Uri): Promise<EndpointSettings> {
  const s = readEndpointSettings(scope);
  if (vscode.workspace.isTrusted) return s;
  const found = new Set(s.ignored);
  const wanted = new Set(restrictedKeys.map((k) => `datasetCurator.${k}`));
  const scan = async (file: vscode.Uri, pick: (root: unknown) => unknown) => {
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(file)).toString('utf8');
    } catch {
      return; // no settings file
    }
    const settings = pick(parseJsonc(text, [], { allowTrailingComma: true }));
    if (!settings || typeof settings !== 'object') return;
    for (const [k, v] of Object.entries(settings) as [string, unknown][]) {
      if (wanted.has(k)) found.add(k);
      // Language-specific blocks ("[jsonl]": {...}) can set them too.
      if (/^\[.*\]$/.test(k) && v && typeof v === 'object')
        for (const kk of Object.keys(v)) if (wanted.has(kk)) found.add(kk);
    }
  };
  for (const f of vscode.workspace.workspaceFolders ?? [])
    await scan(vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json'), (r) => r);
  const ws = vscode.workspace.workspaceFile;
  if (ws && ws.scheme === 'file')
    await scan(ws, (r) => (r && typeof r === 'object' ? (r as { settings?: unknown }).settings : undefined));
  return { ...s, ignored: [...found].sort() };
}

/** The API key: SecretStorage first, then OPENAI_API_KEY. Never logged, never sent to the webview. */
export async function apiKey(secrets: vscode.SecretStorage): Promise<string | undefined> {
  return (await secrets.get(SECRET_KEY)) ?? (process.env.OPENAI_API_KEY || undefined);
}

export function registerSecretCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('datasetCurator.setApiKey', async () => {
      const key = await vscode.window.showInputBox({
        title: 'Dataset Curator: API key',
        prompt: 'Stored in VS Code SecretStorage (your OS keychain), never in settings or files.',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'Enter a key, or press Escape'),
      });
      if (!key) return;
      await context.secrets.store(SECRET_KEY, key.trim());
      void vscode.window.showInformationMessage('API key saved in SecretStorage.');
    }),
    vscode.commands.registerCommand('datasetCurator.clearApiKey', async () => {
      await context.secrets.delete(SECRET_KEY);
      void vscode.window.showInformationMessage(
        process.env.OPENAI_API_KEY
          ? 'API key cleared; OPENAI_API_KEY from the environment will be used.'
          : 'API key cleared.',
      );
    }),
  );
}
