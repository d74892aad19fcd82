// The commands behind the "Get Started with Dataset Curator" walkthrough (package.json
// contributes.walkthroughs): open the bundled sample, choose an endpoint. The other steps link to
// the extension's ordinary commands (relabel in the editor, Label Records, Filter, Export).
import * as vscode from 'vscode';
import { CurationEditorProvider } from './curationEditor';
import { presetModel, presets, serverModels, type PresetName } from '../core/llm/endpoints';

export const WALKTHROUGH_ID = 'dataset-curator.dataset-curator#datasetCurator.gettingStarted';

/**
 * Opens a copy of the bundled sample (in the extension's global storage: the installed
 * extension's own files stay as shipped) in the curation editor, beside the walkthrough. An
 * existing copy is kept, edits included; `reset` starts over from the shipped one.
 */
export async function openSample(context: vscode.ExtensionContext, reset = false): Promise<vscode.Uri> {
  const shipped = vscode.Uri.joinPath(context.extensionUri, 'samples', 'reviews.jsonl');
  const dir = vscode.Uri.joinPath(context.globalStorageUri, 'samples');
  const copy = vscode.Uri.joinPath(dir, 'reviews.jsonl');
  let exists = true;
  try {
    await vscode.workspace.fs.stat(copy);
  } catch {
    exists = false;
  }
  if (!exists || reset) {
    await vscode.workspace.fs.createDirectory(dir);
    await vscode.workspace.fs.copy(shipped, copy, { overwrite: true });
  }
  // From the walkthrough (a tab whose input the API does not expose), beside it, so both show.
  const active = vscode.window.tabGroups.activeTabGroup.activeTab;
  const beside = active !== undefined && active.input === undefined;
  await vscode.commands.executeCommand(
    'vscode.openWith',
    copy,
    CurationEditorProvider.viewType,
    beside ? vscode.ViewColumn.Beside : undefined,
  );
  return copy;
}

type EndpointPick = vscode.QuickPickItem & { preset?: PresetName; custom?: true };

/** Sets where LLM requests go (user settings), then asks for the key when the endpoint needs one. */
export async function chooseEndpoint(): Promise<void> {
  const labels: Record<PresetName, string> = {
    openai: 'OpenAI',
    azure: 'Azure OpenAI',
    ollama: 'Ollama on this machine',
    vllm: 'vLLM on this machine',
    lmstudio: 'LM Studio on this machine',
    llamacpp: 'llama.cpp server on this machine',
  };
  const items: EndpointPick[] = [
    ...(Object.keys(presets) as PresetName[]).map((p) => ({
      label: labels[p],
      description: presets[p].baseUrl,
      detail: presets[p].needsKey ? 'Needs an API key (kept in SecretStorage)' : 'No key needed',
      preset: p,
    })),
    { label: 'Another OpenAI-compatible server…', description: 'base URL and model', custom: true },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Dataset Curator: where LLM requests go',
    placeHolder: 'Pick an endpoint (saved in your user settings)',
  });
  if (!pick) return;
  const cfg = vscode.workspace.getConfiguration('datasetCurator');
  const target = vscode.ConfigurationTarget.Global;
  if (pick.custom) {
    const baseUrl = await vscode.window.showInputBox({
      title: 'Base URL of the OpenAI-compatible endpoint',
      value: 'http://127.0.0.1:8000/v1',
      ignoreFocusOut: true,
      validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'An http:// or https:// URL'),
    });
    if (!baseUrl) return;
    const model = await vscode.window.showInputBox({
      title: 'Model name',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'The model the server serves'),
    });
    if (!model) return;
    await cfg.update('llm.baseUrl', baseUrl.trim(), target);
    await cfg.update('llm.model', model.trim(), target);
  } else if (pick.preset) {
    await cfg.update('llm.preset', pick.preset, target);
    await cfg.update('llm.baseUrl', undefined, target);
    await cfg.update('llm.model', undefined, target);
    if (presets[pick.preset].needsKey) {
      const set = await vscode.window.showInformationMessage(
        `${pick.label} needs an API key. It is kept in SecretStorage, never in settings.`,
        'Set API Key',
      );
      if (set) await vscode.commands.executeCommand('datasetCurator.setApiKey');
    }
    if (presetModel(pick.preset) === undefined) {
      // vLLM, LM Studio: the model is the server's; ask it now to say which (jobs ask again when they start).
      const served = await serverModels(presets[pick.preset].baseUrl, undefined).catch(() => undefined);
      void vscode.window.showInformationMessage(
        served === undefined
          ? `${pick.label} is not answering at ${pick.description} yet. When a job starts, the model it serves is used (or set datasetCurator.llm.model).`
          : served.length === 1
            ? `${pick.label} serves ${served[0]}: jobs use it.`
            : `${pick.label} serves ${served.length} models (${served.slice(0, 5).join(', ')}${served.length > 5 ? ', …' : ''}): a job asks which, or set datasetCurator.llm.model.`,
      );
      return;
    }
  }
  void vscode.window.showInformationMessage(
    `LLM requests go to ${pick.custom ? cfg.get<string>('llm.baseUrl', '') : pick.description}.`,
  );
}

export function registerWalkthroughCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('datasetCurator.openSample', () => openSample(context)),
    vscode.commands.registerCommand('datasetCurator.chooseEndpoint', () => chooseEndpoint()),
    vscode.commands.registerCommand('datasetCurator.showWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    ),
  );
}
