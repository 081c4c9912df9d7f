import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readCheckpoint, writeCheckpoint } from "../../local/stream-checkpoint";

describe("stream checkpoint file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "checkpoint-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips the sequence numbers of its stream", async () => {
    const file = join(dir, "cp.json");
    await writeCheckpoint(file, { streamArn: "arn:1", shards: { "shard-a": "0042" } });
    expect(await readCheckpoint(file, "arn:1")).toEqual({ "shard-a": "0042" });
  });

  it("is empty for another stream, a missing file or a corrupt one", async () => {
    const file = join(dir, "cp.json");
    expect(await readCheckpoint(file, "arn:1")).toEqual({});
    await writeCheckpoint(file, { streamArn: "arn:1", shards: { "shard-a": "1" } });
    expect(await readCheckpoint(file, "arn:2")).toEqual({});
    await writeFile(file, "{not json");
    expect(await readCheckpoint(file, "arn:1")).toEqual({});
  });
});
