// The registry of `curate` subcommands. To add one: write src/cli/commands/NAME.ts exporting a
// Command, and list it here (the order is the order of `curate help`).
import type { Command } from '../cli';
import { convert } from './convert';
import { diff } from './diff';
import { evalPrompt } from './eval-prompt';
import { leakage } from './leakage';
import { annotators } from './annotators';
import { mergeDriver } from './merge-driver';
import { agreement, exportCmd, filter, importCmd, reviewQueueCmd, split } from './curation';
import { generate } from './generate';
import { get } from './get';
import { annotate, consistency, critique, judge, rationale } from './llm';
import { set } from './set';
import { stats } from './stats';
import { validate } from './validate';

export const commands: Command[] = [
  // the dataset store
  stats,
  validate,
  get,
  set,
  convert,
  // curation: filters, agreement, export and import, splits
  filter,
  agreement,
  reviewQueueCmd,
  exportCmd,
  importCmd,
  split,
  // LLM jobs
  annotate,
  judge,
  consistency,
  critique,
  rationale,
  // generation (synthesis)
  generate,
  // git: semantic diffs, the merge driver, the prompt gate
  diff,
  mergeDriver,
  evalPrompt,
  leakage,
  annotators,
];
