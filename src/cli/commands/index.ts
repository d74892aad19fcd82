// The registry of `curate` subcommands. To add one: write src/cli/commands/NAME.ts exporting a
// Command, and list it here with its name, its summary and how to load it (the order is the order
// of `curate help`). A command's module, and everything it imports, loads only when that command
// runs: `curate --help` and `curate get` do not pay for the LLM engine (the build makes one bundle
// per module imported here: scripts/build.mjs). test/unit/cli-registry.test.ts checks that each
// entry's name and summary are its command's.
import type { Command } from '../cli';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
  /**
   * Work started before the command's module loads, from its raw arguments (a guess: the options
   * are parsed later, by the command), that the command takes over if it can.
   */
  prestart?(args: readonly string[]): void;
}

/**
 * The first argument that is not an option nor an option's value, in raw arguments: every option
 * but `flags` takes a value, as the next argument unless written `--name=value`.
 */
export function firstPositional(args: readonly string[], flags: readonly string[]): string | undefined {
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--') return args[k + 1];
    if (!a.startsWith('-') || a === '-') return a;
    if (a === '-h' || a === '--help') return undefined;
    if (!a.includes('=') && !flags.includes(a)) k++;
  }
  return undefined;
}

export const commands: CommandEntry[] = [
  // the dataset store
  {
    name: 'stats',
    summary: 'Records, invalid lines, label counts, judge score histogram, annotated and machine-generated shares',
    load: () => import('./stats').then((m) => m.stats),
    // The count's worker threads start while the command loads (core/store/stats-prestart.ts).
    // Required here, not imported at the top: worker_threads costs every other command ~1-2 ms to
    // load. Synchronously, not with import(): the command's module is loaded in the microtask
    // after import()'s, so a worker started from import().then() waited for that load (~5 ms).
    prestart: (args) => {
      const file = firstPositional(args, ['--json']);
      if (file === undefined) return;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous on purpose (above)
        const m = require('../../core/store/stats-prestart') as typeof import('../../core/store/stats-prestart');
        m.prestartStatsWorkers(file);
      } catch {
        // the count starts its own workers
      }
    },
  },
  {
    name: 'validate',
    summary: 'Check every line; exit 1 and list the invalid ones when there are any',
    load: () => import('./validate').then((m) => m.validate),
  },
  {
    name: 'get',
    summary: 'Print one line exactly as stored (raw bytes and terminator)',
    load: () => import('./get').then((m) => m.get),
  },
  {
    name: 'set',
    summary: 'Set one field of one record (atomic save; every other byte unchanged)',
    load: () => import('./set').then((m) => m.set),
  },
  {
    name: 'convert',
    summary: 'Convert CSV, TSV, JSON arrays, Parquet and .jsonl.gz to JSONL, or JSONL to Parquet',
    load: () => import('./convert').then((m) => m.convert),
  },
  // curation: filters, agreement, export and import, splits
  {
    name: 'filter',
    summary: 'Keep the good records: rules, score and confidence thresholds, duplicates',
    load: () => import('./curation').then((m) => m.filter),
  },
  {
    name: 'agreement',
    summary: "Agreement of the model's suggestions with human decisions or a gold file; between judges; between people",
    load: () => import('./curation').then((m) => m.agreement),
  },
  {
    name: 'review-queue',
    summary: 'Send the records the model is unsure about to a human review queue (the uncertainty-guided split)',
    load: () => import('./curation').then((m) => m.reviewQueueCmd),
  },
  {
    name: 'questions',
    summary:
      "A dataset's questions (multi-label, rating, ranking, text, spans): what they are, how far along; to and from Argilla's settings",
    load: () => import('./questions').then((m) => m.questionsCmd),
  },
  {
    name: 'pairs',
    summary:
      'Preference pairs (prompt, chosen, rejected) from a ranking or from ratings of responses to the same prompt',
    load: () => import('./questions').then((m) => m.pairsCmd),
  },
  {
    name: 'export',
    summary:
      'Export to SFT, DPO, prompt-completion, KTO, Alpaca, ShareGPT, Argilla, distilabel; JSONL, Parquet or the Hugging Face layout',
    load: () => import('./curation').then((m) => m.exportCmd),
  },
  {
    name: 'import',
    summary:
      'Import SFT, DPO, prompt-completion, KTO, Alpaca, ShareGPT, Argilla or distilabel rows into the annotation layout',
    load: () => import('./curation').then((m) => m.importCmd),
  },
  {
    name: 'split',
    summary: 'Train/validation split with a seed, stratified by label, exact sizes',
    load: () => import('./curation').then((m) => m.split),
  },
  // LLM jobs
  {
    name: 'label',
    summary:
      'Label records with an LLM (zero- or few-shot), with confidence and rationale; or answer any question type',
    load: () => import('./llm').then((m) => m.label),
  },
  {
    name: 'annotate',
    summary: 'The same as label (its earlier name)',
    load: () => import('./llm').then((m) => m.annotate),
  },
  {
    name: 'judge',
    summary: 'Score records with one or several LLM judges against a rubric, per criterion, with reasons',
    load: () => import('./llm').then((m) => m.judge),
  },
  {
    name: 'consistency',
    summary: 'Self-consistency: k sampled labels, majority vote, agreement as confidence',
    load: () => import('./llm').then((m) => m.consistency),
  },
  {
    name: 'confidence',
    summary: 'How logprob confidence agrees with self-consistency on the same records (nothing is written)',
    load: () => import('./confidence').then((m) => m.confidence),
  },
  {
    name: 'critique',
    summary: 'Critique a response field and propose a refined one, kept beside the original',
    load: () => import('./llm').then((m) => m.critique),
  },
  {
    name: 'rationale',
    summary: "Write a rationale for each record's current label",
    load: () => import('./llm').then((m) => m.rationale),
  },
  {
    name: 'batch',
    summary: 'Batch jobs: status, cancel; offline request files for vllm run-batch and their results',
    load: () => import('./batch').then((m) => m.batch),
  },
  // generation (synthesis)
  {
    name: 'generate',
    summary: 'Generate training data with an LLM: instructions (self-instruct), responses, preference pairs, dialogues',
    load: () => import('./generate').then((m) => m.generate),
  },
  // git: semantic diffs, the merge driver, the prompt gate, leakage, several annotators
  {
    name: 'diff',
    summary: 'What changed per record between two versions of a file (labels, decisions, judges, text), not per line',
    load: () => import('./diff').then((m) => m.diff),
  },
  {
    name: 'merge-driver',
    summary:
      "git's merge driver for .jsonl: merges by record, keeps two people's different decisions, conflicts only per record",
    load: () => import('./merge-driver').then((m) => m.mergeDriver),
  },
  {
    name: 'eval-prompt',
    summary:
      "Prompt gate: re-run the label prompt on records people decided; exit 1 when Cohen's kappa is below --min-kappa",
    load: () => import('./eval-prompt').then((m) => m.evalPrompt),
  },
  {
    name: 'leakage',
    summary: 'Exact and near duplicates shared between train, validation and eval files; exit 1 when there are any',
    load: () => import('./leakage').then((m) => m.leakage),
  },
  {
    name: 'annotators',
    summary:
      "Several people's decisions: agreement between people (Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha), a person's queue",
    load: () => import('./annotators').then((m) => m.annotators),
  },
];
