// The export's choices, with the words people see: the VS Code export's pick lists them, the CLI
// takes the same names (EXPORT_CHOICES in export.ts), and a test keeps the two lists equal.
import type { ExportFormat } from './formats';

/** A choice of the export: a row format, or `parquet` (the records as they are). */
export type ExportChoice = ExportFormat | 'parquet';

/** The export's choices as people see them (the VS Code export's pick; the CLI offers the same). */
export const EXPORT_FORMAT_CHOICES: { format: ExportChoice; label: string; detail: string }[] = [
  {
    format: 'sft',
    label: 'OpenAI chat fine-tuning (SFT)',
    detail:
      '{"messages": [...]} with tools, tool calls and weights; from messages, instruction/input/output or prompt/response',
  },
  {
    format: 'openai-preference',
    label: 'OpenAI preference fine-tuning',
    detail: 'input, preferred_output, non_preferred_output',
  },
  { format: 'dpo', label: 'TRL DPO', detail: 'prompt, chosen, rejected' },
  {
    format: 'prompt-completion',
    label: 'TRL prompt-completion',
    detail: 'prompt, completion (the conversation up to its final assistant turn, and that turn)',
  },
  {
    format: 'kto',
    label: 'TRL KTO (unpaired preference)',
    detail: 'prompt, completion, label: accepted records true, rejected false',
  },
  { format: 'distilabel-dpo', label: 'distilabel DPO', detail: 'prompt, chosen, rejected with models and ratings' },
  {
    format: 'alpaca',
    label: 'Alpaca (LLaMA-Factory)',
    detail: 'instruction, input, output, system, history; adds its dataset_info.json entry',
  },
  {
    format: 'alpaca-ranking',
    label: 'Alpaca ranking (LLaMA-Factory)',
    detail: 'instruction, input, chosen, rejected; adds its dataset_info.json entry',
  },
  {
    format: 'sharegpt',
    label: 'ShareGPT (LLaMA-Factory)',
    detail: 'conversations: [{from, value}], tools; adds its dataset_info.json entry',
  },
  {
    format: 'sharegpt-ranking',
    label: 'ShareGPT ranking (LLaMA-Factory)',
    detail: 'conversations, chosen, rejected; adds its dataset_info.json entry',
  },
  {
    format: 'argilla',
    label: 'Argilla 2.x records',
    detail: 'Record.to_dict(): fields, metadata, suggestions, responses by user, vectors, status',
  },
  {
    format: 'argilla-hub',
    label: "Argilla's Hugging Face Hub columns",
    detail: '<question>.suggestion, .suggestion.score, .responses, .responses.users, .responses.status',
  },
  {
    format: 'argilla-v1',
    label: 'Argilla 1.x FeedbackRecord',
    detail: 'suggestions and responses as lists with question_name',
  },
  { format: 'distilabel', label: 'distilabel columns', detail: 'instruction, generation, ratings, labels, model_name' },
  {
    format: 'parquet',
    label: 'The records as they are',
    detail: 'every field, nested lists and structs kept (for Parquet and the Hugging Face Hub)',
  },
];

/** The formats whose rows come in TRL's two styles (standard strings, conversational message lists). */
export const STYLED_FORMATS: ReadonlySet<ExportChoice> = new Set(['dpo', 'prompt-completion', 'kto']);
