// What every LLM command in VS Code does before it runs (label, judge, generate, ...): read the
// endpoint settings (telling the user when an untrusted workspace's were ignored), make sure there
// is a key for a remote endpoint, and confirm an estimate above `llm.confirmCostAbove`.
import * as vscode from 'vscode';
import { sampledNote } from '../core/estimate';
import type { Estimate } from '../core/operation';
import { modelFromServer } from '../core/llm/endpoints';
import { confirmationNeeded, DEFAULT_CONFIRM_REQUESTS_ABOVE, PRICE_TABLE_DATE } from '../core/llm/prices';
import { apiKey, endpointSettings, type EndpointSettings } from './settings';
import type { Log } from './log';

export function isLocal(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '::1' || h === '[::1]';
  } catch {
    return false;
  }
}

/** The endpoint settings for a file, or undefined when the user could not supply a needed key. */
export async function endpointFor(
  uri: vscode.Uri,
  context: vscode.ExtensionContext,
  log: Log,
): Promise<EndpointSettings | undefined> {
  const s = await endpointSettings(uri);
  if (s.ignored.length) {
    void vscode.window.showWarningMessage(
      `This workspace is not trusted, so its settings ${s.ignored.join(', ')} were ignored; requests go to ${s.baseUrl}. Trust the workspace to use them.`,
    );
    log.warn(`untrusted workspace: ignored ${s.ignored.join(', ')}`);
  }
  const key = await apiKey(context.secrets);
  if (!key && !isLocal(s.baseUrl)) {
    const pick = await vscode.window.showWarningMessage(
      `No API key for ${s.baseUrl}. Set one (kept in SecretStorage) or set OPENAI_API_KEY.`,
      'Set API Key',
    );
    if (pick) await vscode.commands.executeCommand('datasetCurator.setApiKey');
    if (!(await apiKey(context.secrets))) return undefined;
  }
  if (!s.model) {
    // No model set and none in the preset (vLLM, LM Studio): the one the server serves, or a pick.
    try {
      s.model = await modelFromServer(s.baseUrl, key ?? (await apiKey(context.secrets)), {
        how: 'set datasetCurator.llm.model',
        choose: async (models) =>
          (await vscode.window.showQuickPick(models, {
            title: `${s.baseUrl} serves ${models.length} models`,
            placeHolder: 'The model for this job (set datasetCurator.llm.model to keep one)',
          })) ?? undefined,
      });
      log.info(`no model set: ${s.baseUrl} serves ${s.model}`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const pick = await vscode.window.showErrorMessage(msg, 'Open Settings');
      if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'datasetCurator.llm.model');
      return undefined;
    }
  }
  return s;
}

/** The engine's options from the settings (what every LLM operation takes besides its own). */
export function engineOptions(s: EndpointSettings) {
  return {
    baseURL: s.baseUrl,
    concurrency: s.concurrency,
    requestsPerMinute: s.requestsPerMinute,
    tokensPerMinute: s.tokensPerMinute,
    timeoutSeconds: s.timeoutSeconds,
    pricePerMillionInputTokens: s.pricePerMillionInput,
    pricePerMillionOutputTokens: s.pricePerMillionOutput,
    ...(s.cacheDir ? { cacheDir: s.cacheDir } : {}),
  };
}

/**
 * Logs the estimate; asks (modal) above `llm.confirmCostAbove` when the model's price is known
 * (the settings', else the table in src/core/llm/prices.ts), above `llm.confirmRequestsAbove`
 * requests when it is not. True to go on.
 */
export async function confirmEstimate(
  what: string,
  est: Estimate,
  s: EndpointSettings,
  log: Log,
  action = 'Run',
): Promise<boolean> {
  log.info(
    `${what}: ${est.records} records${est.remaining !== undefined ? ` (${est.remaining} left to do)` : ''}, ~${est.requests} requests, ~${est.inputTokens}+${est.outputTokens} tokens, ~$${(est.cost ?? 0).toFixed(4)}${sampledNote(est)}`,
  );
  const confirmRequestsAbove = vscode.workspace
    .getConfiguration('datasetCurator')
    .get<number>('llm.confirmRequestsAbove', DEFAULT_CONFIRM_REQUESTS_ABOVE);
  const why = confirmationNeeded(est, { confirmCostAbove: s.confirmCostAbove, confirmRequestsAbove });
  if (!why) return true;
  const cost =
    (est.cost ?? 0) > 0
      ? ` and costs about $${(est.cost ?? 0).toFixed(2)} (prices of ${PRICE_TABLE_DATE} unless set in llm.pricePerMillion…)`
      : ', at a price this extension does not know';
  const go = await vscode.window.showWarningMessage(
    `${what} takes about ${est.requests.toLocaleString('en-US')} requests${cost}. Asked because ${why}.`,
    { modal: true },
    action,
  );
  return go === action;
}
