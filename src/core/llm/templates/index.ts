export * from './label';
export * from './rationale';
export * from './judge';
export * from './consistency';
export * from './critique';
