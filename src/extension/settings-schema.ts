// The types of the extension's settings (`datasetCurator.*`), one zod schema per key. No defaults
// here: the one place for a default is package.json's contributes.configuration, which VS Code
// returns for an unset setting (test/unit/settings-schema.test.ts checks the keys and defaults).
// Kept apart from settings.ts so that node's tests read it without VS Code.
import { z } from 'zod';

const presetNames = ['openai', 'azure', 'ollama', 'vllm', 'lmstudio', 'llamacpp'] as const;

export const SETTINGS = {
  'datasets.include': z.string(),
  'datasets.exclude': z.string(),
  labels: z.array(z.string()),
  'editor.keys': z.record(z.string(), z.string()),
  'llm.preset': z.enum(presetNames),
  'llm.baseUrl': z.string(),
  'llm.model': z.string(),
  'llm.taskModels': z.record(z.string(), z.string()),
  'llm.judgeModels': z.array(z.string()),
  'llm.cascadeModels': z.array(z.string()),
  'llm.temperature': z.number().min(0).max(2),
  'llm.maxTokens': z.number().int().min(1),
  'llm.concurrency': z.number().int().min(1).max(256),
  'llm.requestsPerMinute': z.number().int().min(0),
  'llm.tokensPerMinute': z.number().int().min(0),
  'llm.timeoutSeconds': z.number().int().min(1),
  'llm.pricePerMillionInputTokens': z.number().min(0),
  'llm.pricePerMillionOutputTokens': z.number().min(0),
  'llm.embeddingModel': z.string(),
  'llm.confirmCostAbove': z.number().min(0),
  'llm.confirmRequestsAbove': z.number().int().min(0),
  'llm.cacheDir': z.string(),
  'judges.disagreementThreshold': z.number().min(0.01).max(1),
  annotator: z.string(),
  'leakage.enabled': z.boolean(),
  'leakage.splits': z.object({
    train: z.array(z.string()).optional(),
    validation: z.array(z.string()).optional(),
    eval: z.array(z.string()).optional(),
  }),
  'leakage.nearThreshold': z.number().min(0).max(1),
  'leakage.field': z.string(),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { readonly [K in SettingKey]: z.output<(typeof SETTINGS)[K]> };
