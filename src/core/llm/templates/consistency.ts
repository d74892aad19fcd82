// Self-consistency: k samples of the label task at temperature > 0 (each with its own seed and
// sample index, so each is cached separately); the majority label and the agreement are reported.
import type { PromptTemplate } from '../prompts';
import { labelTemplate } from './label';

export const consistencyTemplate: PromptTemplate = { ...labelTemplate, id: 'consistency', version: '1' };

export function majority(values: readonly string[]): { value: string | undefined; agreement: number } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of counts) if (c > n || (c === n && best !== undefined && v < best)) [best, n] = [v, c];
  return { value: best, agreement: values.length ? n / values.length : 0 };
}
