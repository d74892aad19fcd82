// The endpoint in VS Code when no model is set (issue 18): the vLLM and LM Studio presets have no
// model to guess ("YOUR-MODEL" before), so a job asks the server which it serves (GET /v1/models,
// the core's modelFromServer, as the CLI does): the one it serves, or a pick among several.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startOpenAIServer } from '../support/openai-server';
import { endpointFor } from '../../src/extension/llmFace';
import { readEndpointSettings } from '../../src/extension/settings';
import { Log } from '../../src/extension/log';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

describe('Endpoint without a model', () => {
  const cfg = () => vscode.workspace.getConfiguration('datasetCurator');
  const G = vscode.ConfigurationTarget.Global;
  const context = { secrets: { get: async () => undefined } } as unknown as vscode.ExtensionContext;

  afterEach(async () => {
    for (const k of ['llm.preset', 'llm.baseUrl', 'llm.model']) await cfg().update(k, undefined, G);
  });

  it('the vLLM preset has no model; a job takes the one the server serves, or asks which of several', async () => {
    await activateExtension();
    await cfg().update('llm.preset', 'vllm', G);
    const preset = readEndpointSettings();
    assert.equal(preset.baseUrl, 'http://127.0.0.1:8000/v1');
    assert.equal(preset.model, '', 'no YOUR-MODEL');
    const server = await startOpenAIServer({ models: ['Qwen/Qwen2.5-7B-Instruct'] });
    // Its own channel: the extension's "Dataset Curator" channel is shared by name and closing it here
    // would close the extension's.
    const log = new Log('Dataset Curator (endpoint test)');
    try {
      await cfg().update('llm.baseUrl', server.baseURL, G);
      const uri = vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl');
      const one = await endpointFor(uri, context, log);
      assert.equal(one?.model, 'Qwen/Qwen2.5-7B-Instruct');
      assert.equal(server.counts.models, 1);
      // Several: a quick pick; the first is taken.
      server.models = ['model-a', 'model-b'];
      const picked = endpointFor(uri, context, log);
      await waitFor('the pick', async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return server.counts.models === 2 ? true : undefined;
      });
      let s: Awaited<typeof picked> | undefined;
      await waitFor('the model picked', async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        s = await Promise.race([picked, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
        return s;
      });
      assert.equal(s?.model, 'model-a');
      // A model set in the settings is used as it is: the server is not asked.
      await cfg().update('llm.model', 'my-model', G);
      assert.equal((await endpointFor(uri, context, log))?.model, 'my-model');
      assert.equal(server.counts.models, 2);
    } finally {
      log.dispose();
      await server.close();
    }
  });
});
