// The setup of the e2e tests that run LLM jobs: the project's loopback OpenAI-compatible server in
// a child process, a workspace with the sample, code-server pointed at the loopback server with an
// API key in the environment, and a browser on the workbench. `close()` undoes it all.
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import {
  cleanup,
  launchBrowser,
  makeWorkspace,
  openWorkbench,
  startCodeServer,
  type CodeServer,
} from '../harness/vscode';
import { spawnOpenAIServer } from './openai-server';

export interface LlmWorkbench {
  llm: ChildProcess;
  /** The loopback server's origin (the endpoint is `${baseUrl}/v1`). */
  baseUrl: string;
  server: CodeServer;
  browser: Browser;
  page: Page;
  workspace: string;
  close(): Promise<void>;
}

/** `serverArgs`: the loopback server's flags (`--latency 100`, `--synth`, `--seed-by-model`...). */
export async function openLlmWorkbench(
  serverArgs: string[],
  opts: { apiKey: string; settings?: Record<string, unknown> },
): Promise<LlmWorkbench> {
  const { url: baseUrl, child: llm } = await spawnOpenAIServer(serverArgs);
  const workspace = makeWorkspace('samples');
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.stop();
    llm.kill();
    cleanup(workspace);
  };
  try {
    server = await startCodeServer({
      env: { OPENAI_API_KEY: opts.apiKey },
      settings: {
        'datasetCurator.llm.baseUrl': `${baseUrl}/v1`,
        'datasetCurator.llm.model': 'fake-model',
        'datasetCurator.llm.concurrency': 4,
        ...opts.settings,
      },
    });
    browser = await launchBrowser();
    const { page } = await openWorkbench(browser, server.url({ folder: workspace }));
    return { llm, baseUrl, server, browser, page, workspace, close };
  } catch (err) {
    await close();
    throw err;
  }
}
