// What every LLM command in VS Code does before it runs (label, judge, generate, ...): read the
// endpoint settings (telling the user when an untrusted workspace's were ignored), make sure there
// is a key for a remote endpoint, and confirm an estimate above `llm.confirmCostAbove`.
import * as vscode from 'vscode';
import type { Estimate } from '../core/operation';
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
export async function endpointFor(uri: vscode.Uri, context: vscode.ExtensionContext, log: Log): Promise<EndpointSettings | undefined> {
  const s = await endpointSettings(uri);
  if (s.ignored.length) {
    void vscode.window.showWarningMessage(
      `This workspace is not trusted, so its settings ${s.ignored.join(', ')} were ignored; requests go to ${s.baseUrl}. Trust the workspace to use them.`,
    );
    log.warn(`untrusted workspace: ignored ${s.ignored.join(', ')}`);
  }
  const key = await apiKey(context.secrets);
  if (!key && !isLocal(s.baseUrl)) {
    const pick = await vscode.window.showWarningMessage(`No API key for ${s.baseUrl}. Set one (kept in SecretStorage) or set OPENAI_API_KEY.`, 'Set API Key');
    if (pick) await vscode.commands.executeCommand('datasetCurator.setApiKey');
    if (!(await apiKey(context.secrets))) return undefined;
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

/** Logs the estimate; above the threshold, asks (modal). True to go on. */
export async function confirmEstimate(what: string, est: Estimate, s: EndpointSettings, log: Log, action = 'Run'): Promise<boolean> {
  log.info(`${what}: ${est.records} records, ~${est.requests} requests, ~${est.inputTokens}+${est.outputTokens} tokens, ~$${(est.cost ?? 0).toFixed(4)}`);
  if ((est.cost ?? 0) <= s.confirmCostAbove) return true;
  const go = await vscode.window.showWarningMessage(`${what} takes about ${est.requests} requests and costs about $${(est.cost ?? 0).toFixed(2)}.`, { modal: true }, action);
  return go === action;
}
