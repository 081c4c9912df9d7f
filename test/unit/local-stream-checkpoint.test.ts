import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCheckpoint, writeCheckpoint } from "../../local/stream-checkpoint";
import { useTempDir } from "../support/temp-dir";

describe("stream checkpoint file", () => {
  const tempDir = useTempDir("checkpoint-", "each");

  it("round-trips the sequence numbers of its stream", async () => {
    const file = join(tempDir(), "cp.json");
    await writeCheckpoint(file, { streamArn: "arn:1", shards: { "shard-a": "0042" } });
    expect(await readCheckpoint(file, "arn:1")).toEqual({ "shard-a": "0042" });
  });

  it("is empty for another stream, a missing file or a corrupt one", async () => {
    const file = join(tempDir(), "cp.json");
    expect(await readCheckpoint(file, "arn:1")).toEqual({});
    await writeCheckpoint(file, { streamArn: "arn:1", shards: { "shard-a": "1" } });
    expect(await readCheckpoint(file, "arn:2")).toEqual({});
    await writeFile(file, "{not json");
    expect(await readCheckpoint(file, "arn:1")).toEqual({});
  });
});
