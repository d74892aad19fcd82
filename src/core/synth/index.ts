// The generation operations (the survey's synthesis side): self-instruct instructions, responses,
// pairwise preferences and dialogues. Each is defined once here (zod options, an estimate, a
// journaled, resumable run writing a new file); the CLI (`curate generate`) and the VS Code
// commands ("Generate Instructions…", ...) are faces over them. See docs/synthesis.md.
import { dialoguesOperation } from './dialogues';
import { instructionsOperation } from './instructions';
import { preferencesOperation } from './preferences';
import { responsesOperation } from './responses';
import type { SynthEnv, SynthTask } from './common';

export { dialoguesBatchMode, DialoguesOptions } from './dialogues';
export { instructionsBatchMode, InstructionsOptions } from './instructions';
export { preferencesBatchMode, PreferencesOptions } from './preferences';
export { responsesBatchMode, ResponsesOptions } from './responses';
export { GenerateCancelledError, SynthOptions, type GenerateSummary, type SynthEnv, type SynthTask } from './common';
export { EVOLUTION_NAMES, type Evolution } from './templates';

export const SYNTH_TASKS: readonly SynthTask[] = ['instructions', 'responses', 'preferences', 'dialogues'];

/** The four generation operations, bound to a host environment (API key, log, output callback). */
export function synthOperations(env: SynthEnv) {
  return {
    instructions: instructionsOperation(env),
    responses: responsesOperation(env),
    preferences: preferencesOperation(env),
    dialogues: dialoguesOperation(env),
  };
}

/** Default output path: `<input without .jsonl>.<task>.jsonl` beside the input. */
export function defaultGenerateOutput(input: string, task: SynthTask): string {
  return `${input.replace(/\.(jsonl|txt|md|text)$/i, '')}.${task}.jsonl`;
}
