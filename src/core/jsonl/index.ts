export { JsonlDataset, ConflictError, LossyEditError, invertEdit, type Edit, type LineRef, type LineView, type OpenOptions } from './dataset';
export { checkLine, type LineCheck } from './check';
