// The registry of `curate` subcommands. To add one: write src/cli/commands/NAME.ts exporting a
// Command, and list it here (the order is the order of `curate help`).
import type { Command } from '../cli';
import { batch } from './batch';
import { convert } from './convert';
import { agreement, exportCmd, filter, importCmd, reviewQueueCmd, split } from './curation';
import { generate } from './generate';
import { get } from './get';
import { annotate, consistency, critique, judge, label, rationale } from './llm';
import { pairsCmd, questionsCmd } from './questions';
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
  questionsCmd,
  pairsCmd,
  exportCmd,
  importCmd,
  split,
  // LLM jobs
  label,
  annotate,
  judge,
  consistency,
  critique,
  rationale,
  batch,
  // generation (synthesis)
  generate,
];
