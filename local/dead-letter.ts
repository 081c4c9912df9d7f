/**
 * The local on-failure destination: records the fan-out gave up on, appended as JSON lines
 * (one per record) to a file, so nothing is dropped silently. Where the file of a stack is:
 * `deadLetterFilePath` of `local/state.ts`.
 */
import { appendFile, readFile } from "node:fs/promises";
import type { DynamoDBRecord } from "aws-lambda";

/** One line of the dead-letter file. */
export interface DeadLetter {
  /** When the record was given up, ISO 8601. */
  failed_at: string;
  /** Why: the last error, `batch_item_failures`, or `record_too_old`. */
  reason: string;
  /** Invocations made for the record (0 when it was too old to deliver). */
  invocations: number;
  shard_id: string;
  record: DynamoDBRecord;
}

/** Appends `letters` to `file` (created when missing). */
export async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await appendFile(file, letters.map((l) => `${JSON.stringify(l)}\n`).join(""));
}

/**
 * The letters of `file`, oldest first; empty when the file does not exist (nothing was given up).
 * @throws file-system errors other than ENOENT; SyntaxError when a line is not JSON.
 */
export async function readDeadLetters(file: string): Promise<DeadLetter[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as DeadLetter);
}
