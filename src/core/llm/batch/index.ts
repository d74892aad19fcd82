// Big runs on the engines that exist for them: the OpenAI Batch API and offline batch files for a
// cluster's batch runner (vllm run-batch). See docs/batch.md.
export {
  BatchApiClient,
  BatchApiError,
  DEFAULT_POLL,
  pollUntilDone,
  TERMINAL_STATUSES,
  type Batch,
  type BatchApiOptions,
  type FileObject,
  type PollPolicy,
} from './api';
export {
  cascadeReport,
  estimateCascade,
  selectEscalation,
  type CascadeEstimate,
  type CascadeReport,
  type CascadeStage,
  type Selection,
  type StageRecord,
  type StageReport,
} from './cascade';
export { batchFacet, type BatchAnswer, type BatchFacet } from './facet';
export {
  BATCH_LIMITS,
  CHAT_ENDPOINT,
  chatAnswer,
  forEachLine,
  inputLine,
  parseOutputLine,
  readInputFile,
  readOutcomes,
  type BatchOutcome,
  type BatchRequest,
  type ChatAnswer,
  type TokenLogprob,
  type TopLogprob,
} from './format';
export { InputFileWriter, writeInputFiles, type InputFile, type SplitLimits } from './input-files';
export { readBatchJournal, type BatchJournalEntry, type BatchJournalState, type PartState } from './journal';
export { FileApplier, fileRequests } from './file-apply';
export {
  runBatchJob,
  runFileBatchJob,
  type BatchJobOptions,
  type BatchJobSummary,
  type FileBatchJobOptions,
} from './job';
export {
  compareConfidences,
  logprobConfidence,
  type ConfidenceComparison,
  type ConfidencePair,
  type LogprobConfidence,
} from './logprobs';
export { exportRequests, importResults, type ExportSummary, type ImportSummary } from './offline';
export { asBatchEstimate, BATCH_PRICE_FACTOR, costOf, pricesFor, type RunMode, type TokenPrices } from './prices';
export {
  BatchApplier,
  customIdFor,
  messagesKey,
  recordRequests,
  taskAdapter,
  withLogprobConfidence,
  type ApplySummary,
  type BatchTaskAdapter,
} from './records';
export {
  batchFilesDir,
  batchJobStatus,
  listBatchJobs,
  batchJournalPath,
  BatchCancelledError,
  cancelBatchJob,
  retryable,
  runBatch,
  type BatchFailure,
  type BatchRunOptions,
  type BatchRunSummary,
  type OutcomeContext,
  type PartSummary,
} from './run';
