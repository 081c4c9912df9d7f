/**
 * Stream records of the local event source mapping: the Streams API to Lambda event conversion
 * (`shared/stream-records.ts`, which the fan-out redrive uses too) and batching. Pure: no I/O.
 */
export { type RecordSource, toLambdaAttributeValue, toLambdaImage, toLambdaRecord } from "../shared/stream-records";

/** `items` in consecutive groups of at most `size` (size >= 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size must be >= 1, got ${size}`);
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
