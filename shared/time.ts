/**
 * The one timestamp format of the table and the API: ISO 8601 in UTC with millisecond
 * precision, always 24 characters (`2026-11-21T14:05:09.123Z`), so that string order is time
 * order (DESIGN.md "Table"). `Date.prototype.toISOString` produces exactly this for years
 * 0000-9999.
 */
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Formats epoch milliseconds as a table timestamp. @throws RangeError for an invalid time. */
export function toTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** A clock returning epoch milliseconds; injectable so tests can pin time. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** True when `value` is a timestamp in the table format. */
export function isTimestamp(value: string): boolean {
  return TIMESTAMP_PATTERN.test(value) && !Number.isNaN(Date.parse(value));
}
