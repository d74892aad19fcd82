// "Open Prompt Template…": the prompts the LLM jobs send, visible and editable per workspace. The
// built-in template of a task is copied to <workspace folder>/.curator/prompts/<task>.md (the
// override format of src/core/llm/prompts.ts) and opened; every job on a dataset in that folder
// then uses it (the nearest .curator/prompts above the dataset wins), and the output channel says
// which prompt a job used. An existing file is opened as it is, never overwritten.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { TASK_IDS, templateFile, type PromptTemplate, type TaskId } from '../core/llm/prompts';
import {
  consistencyTemplate,
  critiqueTemplate,
  judgeTemplate,
  labelTemplate,
  rationaleTemplate,
} from '../core/llm/templates';

const builtIn: Record<TaskId, PromptTemplate> = {
  label: labelTemplate,
  rationale: rationaleTemplate,
  judge: judgeTemplate,
  consistency: consistencyTemplate,
  critique: critiqueTemplate,
};

const what: Record<TaskId, string> = {
  label: 'Label Records: one label from a set, with confidence and rationale',
  rationale: 'Write Rationales: why a record has its label',
  judge: 'Judge Records: scores against a rubric, per criterion, with reasons',
  consistency: 'Self-Consistency Labels: the label prompt, sampled k times',
  critique: 'Critique and Refine: feedback on a field and an improved version',
};

export async function openPromptTemplate(near?: vscode.Uri): Promise<void> {
  const folder = (near && vscode.workspace.getWorkspaceFolder(near)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('Open a folder first: prompt templates live in its .curator/prompts.');
  const dir = path.join(folder.uri.fsPath, '.curator', 'prompts');
  const pick = await vscode.window.showQuickPick(
    TASK_IDS.map((t) => ({
      label: t,
      description: existsSync(path.join(dir, `${t}.md`)) ? 'edited in this workspace' : 'built-in',
      detail: what[t],
      task: t,
    })),
    {
      title: 'Open Prompt Template',
      placeHolder: `Copied to ${path.relative(folder.uri.fsPath, dir)}/ for editing; jobs on datasets in this folder use it`,
    },
  );
  if (!pick) return;
  const file = path.join(dir, `${pick.task}.md`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, templateFile(builtIn[pick.task]), { flag: 'wx' });
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
