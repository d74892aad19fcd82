// The dataset store: every view, command and job reads and writes datasets through it.
export {
  JsonlDataset,
  invertEdit,
  refBytes,
  type Edit,
  type LineInput,
  type LineView,
  type OpenOptions,
  type SaveOptions,
  type ScanProgress,
  type Segment,
} from './dataset';
export type { Eol, LineRef } from './pieces';
export { ConflictError, EditError, LockedError, LossyEditError, NotADatasetError, SaveError } from './errors';
export {
  checkLineBytes,
  checkLineText,
  lossyReason,
  lossyNumber,
  firstInvalidUtf8,
  nestedDeeperThan,
  printable,
  tooDeep,
  DEFAULT_MAX_LINE_BYTES,
  MAX_RECORD_DEPTH,
  type LineCheck,
} from './check';
export { assertDatasetFile, cleanStaleTemps } from './files';
export { LineTracker, remapIndices } from './remap';
export { computeStats, finishStats, type DatasetStats, type StatsOptions } from './stats';
export { statsOperation, StatsOperationOptions } from './stats-operation';
