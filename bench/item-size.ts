/**
 * DynamoDB item size by the rules of the developer guide ("Item sizes and formats"): attribute
 * names plus values; strings as UTF-8 bytes; numbers about 1 byte per 2 significant digits + 1;
 * booleans and null 1 byte; lists and maps 3 bytes plus 1 byte per element plus the elements.
 * An estimate, to work out the least capacity a read can cost; the bench measures the real one.
 */

/** Size of one attribute value, bytes. */
function valueBytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  if (typeof value === "number") return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, "").length / 2) + 1;
  if (typeof value === "boolean" || value === null || value === undefined) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === "object") {
    return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k, "utf8") + valueBytes(v), 0);
  }
  return 0;
}

/** Size of an item (unmarshalled, as the DocumentClient returns it), bytes. */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k, "utf8") + valueBytes(v), 0);
}

/** Read units of an eventually consistent read of `bytes` (0.5 per 4 KB started; at least 0.5). */
export function eventuallyConsistentReadUnits(bytes: number): number {
  return 0.5 * Math.max(1, Math.ceil(bytes / 4096));
}
