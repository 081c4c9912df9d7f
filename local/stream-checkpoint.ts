/**
 * The stream poller's checkpoint: the last processed sequence number of each shard of one
 * stream, kept in a JSON file so that a persisted stack resumes after it on restart.
 */
import { readFile, rename, writeFile } from "node:fs/promises";

export interface StreamCheckpoint {
  streamArn: string;
  /** Last processed sequence number by shard id. */
  shards: Record<string, string>;
}

/**
 * The checkpointed sequence numbers of `streamArn` in `file`: empty when the file is missing or
 * unreadable or belongs to another stream (the table was recreated).
 */
export async function readCheckpoint(file: string, streamArn: string): Promise<Record<string, string>> {
  try {
    const checkpoint = JSON.parse(await readFile(file, "utf8")) as Partial<StreamCheckpoint>;
    return checkpoint.streamArn === streamArn && typeof checkpoint.shards === "object" && checkpoint.shards !== null
      ? checkpoint.shards
      : {};
  } catch {
    return {};
  }
}

/** Writes `checkpoint` to `file`, atomically (write then rename). */
export async function writeCheckpoint(file: string, checkpoint: StreamCheckpoint): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, file);
}
