// The registry of `curate` subcommands. To add one: write src/cli/commands/NAME.ts exporting a
// Command, and list it here (the order is the order of `curate help`).
import type { Command } from '../cli';
import { convert } from './convert';
import { get } from './get';
import { set } from './set';
import { stats } from './stats';
import { validate } from './validate';
import { agreement, exportCmd, filter, importCmd, split } from './curation';
import { annotate, consistency, critique, judge, rationale } from './llm';

export const commands: Command[] = [stats, validate, get, set, convert, annotate, judge, consistency, critique, rationale, filter, agreement, exportCmd, importCmd, split];
