// How the judges of one record agree, and when they disagree: pure (no I/O), so that the editor
// session, its dev page and the filters share it.
import { judgePanelOf } from './fields';

export interface JudgeAgreement {
  /** Judges with a score. */
  n: number;
  mean: number;
  /** max - min. */
  spread: number;
  /** Population standard deviation (divides by n). */
  stdev: number;
  /** spread / (scale max - scale min), when the judges give their scale. */
  relativeSpread?: number;
}

/** Agreement between the judges of one record (its current panel); undefined with fewer than 2 scores. */
export function judgeAgreement(value: Record<string, unknown>): JudgeAgreement | undefined {
  const panel = judgePanelOf(value);
  const scores = panel.map((j) => j.score);
  if (scores.length < 2) return undefined;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const variance = scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length;
  const spread = Math.max(...scores) - Math.min(...scores);
  const scale = panel.find((j) => j.scale)?.scale;
  const out: JudgeAgreement = { n: scores.length, mean, spread, stdev: Math.sqrt(variance) };
  if (scale && scale[1] > scale[0]) out.relativeSpread = spread / (scale[1] - scale[0]);
  return out;
}

/** The default of "judges disagree": their scores differ by at least 30% of the scale. */
export const DEFAULT_DISAGREEMENT = 0.3;

/**
 * Whether the judges of a record disagree: the spread of their scores is at least `threshold` of
 * the scale (a share, 0..1), or, when they give no scale, at least `threshold` x 10 points.
 */
export function judgesDisagree(a: JudgeAgreement | undefined, threshold = DEFAULT_DISAGREEMENT): boolean {
  if (!a) return false;
  return a.relativeSpread !== undefined ? a.relativeSpread >= threshold - 1e-9 : a.spread >= threshold * 10 - 1e-9;
}
