// A dataset's declared questions (.curator/questions.json, the nearest in its folder or above), for
// the curation editor and the text editor's features: read again only when the file changes.
import { statSync } from 'node:fs';
import { findQuestionsFile, questionsFor } from '../core/questions/declarations';
import type { Question } from '../core/questions/schema';

const cache = new Map<string, { file: string; stamp: string; questions: Question[] }>();

/**
 * The questions declared for a dataset ([]: none, the single label only). Throws the
 * declaration's problem (naming the file) when it cannot be read.
 */
export function declaredQuestions(dataset: string): Question[] {
  const file = findQuestionsFile(dataset);
  if (!file) {
    cache.delete(dataset);
    return [];
  }
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    return [];
  }
  const hit = cache.get(dataset);
  if (hit && hit.file === file && hit.stamp === stamp) return hit.questions;
  const questions = questionsFor(dataset, file).questions;
  cache.set(dataset, { file, stamp, questions });
  return questions;
}
