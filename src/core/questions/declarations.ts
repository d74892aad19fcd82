// Where a dataset's questions are declared: `.curator/questions.json`, the nearest one in the
// dataset's folder or above (as `.curator/prompts`), committed beside the data:
//
//   {
//     "questions": [                                  // every dataset in this folder and below
//       { "name": "topics", "type": "multi-label", "labels": ["billing", "refund", "other"],
//         "description": "What the message is about", "guidelines": "Pick every topic that applies." },
//       { "name": "quality", "type": "rating", "min": 1, "max": 5 }
//     ],
//     "datasets": {                                   // one dataset's own (path from the folder holding .curator/)
//       "data/chat.jsonl": [ { "name": "best", "type": "ranking", "field": "generations" } ]
//     }
//   }
//
// A dataset's questions are the shared ones, then its own (its own replace a shared one of the same
// name). No file, or no questions for a dataset: today's single `label` question, unchanged.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { UserError } from '../operation';
import { writeLinesAtomic } from '../write-lines';
import { Question, Questions, type QuestionInput } from './schema';

export const QUESTIONS_FILE = 'questions.json';

export const QuestionsFile = z.object({
  $schema: z.string().optional(),
  questions: Questions.default([]),
  datasets: z.record(z.string(), Questions).default({}),
});
export type QuestionsFile = z.output<typeof QuestionsFile>;

/**
 * The JSON Schema of `.curator/questions.json` (for editors: VS Code validates and completes the
 * file with it, media/questions.schema.json through `contributes.jsonValidation`). Generated from
 * the zod schema; the checks JSON Schema cannot say (unique names, max above min) stay zod's.
 */
export function questionsJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(QuestionsFile, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...s,
    title: 'Dataset Curator questions (.curator/questions.json)',
    description: 'The questions a dataset asks of people and models: docs/questions.md.',
  };
}

/** A declaration file that cannot be used; the message names the file and the problem. */
export class QuestionsFileError extends UserError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'QuestionsFileError';
  }
}

/** The nearest `.curator/questions.json` in the dataset's folder or above. */
export function findQuestionsFile(dataset: string): string | undefined {
  let dir = dirname(resolve(dataset));
  for (;;) {
    const candidate = join(dir, '.curator', QUESTIONS_FILE);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Reads and validates a declaration file. */
export function readQuestionsFile(file: string): QuestionsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new QuestionsFileError(file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const p = QuestionsFile.safeParse(raw);
  if (!p.success) throw new QuestionsFileError(file, z.prettifyError(p.error));
  return p.data;
}

/** The key of a dataset in a declaration file's `datasets`: its path from the folder that holds `.curator/`, with forward slashes. */
export function datasetKey(file: string, dataset: string): string {
  return relative(dirname(dirname(resolve(file))), resolve(dataset))
    .split(sep)
    .join('/');
}

export interface DatasetQuestions {
  /** The declaration file, when there is one. */
  file?: string;
  questions: Question[];
}

/** A dataset's declared questions (none: the dataset has only today's `label` question). */
export function questionsFor(dataset: string, file: string | undefined = findQuestionsFile(dataset)): DatasetQuestions {
  if (!file) return { questions: [] };
  if (!existsSync(file)) throw new QuestionsFileError(file, 'no such file');
  const decl = readQuestionsFile(file);
  const key = datasetKey(file, dataset);
  const own = decl.datasets[key] ?? [];
  const ownNames = new Set(own.map((q) => q.name));
  return { file, questions: [...decl.questions.filter((q) => !ownNames.has(q.name)), ...own] };
}

/** One declared question of a dataset, by name. */
export function declaredQuestion(dataset: string, name: string, file?: string): Question | undefined {
  return questionsFor(dataset, file ?? findQuestionsFile(dataset)).questions.find((q) => q.name === name);
}

/** Writes a declaration file atomically (2-space JSON, a final newline). */
export async function writeQuestionsFile(
  file: string,
  decl: { questions?: QuestionInput[]; datasets?: Record<string, QuestionInput[]> },
): Promise<QuestionsFile> {
  const p = QuestionsFile.safeParse(decl);
  if (!p.success) throw new QuestionsFileError(file, z.prettifyError(p.error));
  const text = JSON.stringify(p.data, null, 2);
  await writeLinesAtomic(file, [text], undefined, true);
  return p.data;
}

/** Parses one question (from a flag set or a setting); a problem is a UserError naming the field. */
export function parseQuestion(input: unknown): Question {
  const p = Question.safeParse(input);
  if (!p.success) throw new UserError(`invalid question: ${z.prettifyError(p.error)}`);
  return p.data;
}
