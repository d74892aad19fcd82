// The share of machine-generated records (annotations.origin) and the warning every face gives
// above half: models trained mostly on generated data degrade over generations (model collapse,
// Shumailov et al., "AI models collapse when trained on recursively generated data", Nature 2024).

/** Above this share of machine-generated records, the faces warn. */
export const MODEL_COLLAPSE_SHARE = 0.5;

/** The warning for a dataset's generated share, or undefined at or below MODEL_COLLAPSE_SHARE. */
export function modelCollapseWarning(generated: number, records: number): string | undefined {
  if (records <= 0) return undefined;
  const share = generated / records;
  if (!(share > MODEL_COLLAPSE_SHARE)) return undefined;
  return (
    `${(share * 100).toFixed(1)}% of the records are machine-generated (${generated} of ${records}): ` +
    'models trained mostly on generated data can degrade (model collapse); keep human-written data in the mix'
  );
}
