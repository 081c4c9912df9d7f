import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StreamInvoker } from "../../local/batch-delivery";
import { readDeadLetters } from "../../local/state";
import { StreamPoller, type StreamPollerOptions } from "../../local/stream-poller";
import { FAN_OUT_DELIVERY } from "../../shared/stream";

const STREAM_ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/1";
const seq = (n: number) => String(n).padStart(21, "0");
const record = (n: number, pk = `MSG#g${n}`, eventName: "INSERT" | "MODIFY" = "INSERT"): _Record => ({
  eventID: `e${n}`,
  eventName,
  dynamodb: {
    ApproximateCreationDateTime: new Date(),
    Keys: { pk: { S: pk }, sk: { S: "s" } },
    NewImage: { pk: { S: pk }, sk: { S: "s" } },
    SequenceNumber: seq(n),
    StreamViewType: "NEW_IMAGE",
  },
});
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe("StreamPoller", () => {
  const ddb = new DynamoDBClient({ region: "us-east-1" });
  const streams = new DynamoDBStreamsClient({ region: "us-east-1" });
  const ddbMock = mockClient(ddb);
  const streamsMock = mockClient(streams);
  let dir: string;
  let poller: StreamPoller | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "poller-"));
    ddbMock.reset();
    streamsMock.reset();
    ddbMock.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: STREAM_ARN } });
    streamsMock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: "shard-1" }] } });
    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it-0" });
    streamsMock.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: "it-idle" });
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function start(invoke: StreamInvoker, overrides: Partial<StreamPollerOptions> = {}) {
    poller = new StreamPoller({
      ddb,
      streams,
      tableName: "t",
      region: "us-east-1",
      invoke,
      logger: silent,
      deadLetterFile: join(dir, "dead-letter.jsonl"),
      pollIntervalMs: 5,
      backoffMs: () => 0,
      ...overrides,
    });
    return poller.start();
  }

  it("delivers only MSG inserts, from the mapping's starting position (TRIM_HORIZON), in batches of at most the batch size", async () => {
    const page = [
      record(1, "GRP#u1"),
      record(2, "MSG#g", "MODIFY"),
      ...Array.from({ length: 150 }, (_, i) => record(10 + i)),
    ];
    streamsMock.on(GetRecordsCommand, { ShardIterator: "it-0" }).resolves({ Records: page, NextShardIterator: "it-1" });
    const batches: string[][] = [];
    await start(async (event: DynamoDBStreamEvent) => {
      batches.push(event.Records.map((r) => r.dynamodb?.SequenceNumber ?? ""));
      return { batchItemFailures: [] };
    });
    await vi.waitFor(() => expect(batches.flat()).toHaveLength(150));
    expect(batches.map((b) => b.length)).toEqual([100, 50]);
    expect(batches.flat()[0]).toBe(seq(10));
    expect(streamsMock.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toMatchObject({
      ShardId: "shard-1",
      ShardIteratorType: FAN_OUT_DELIVERY.startingPosition,
    });
    expect(FAN_OUT_DELIVERY.startingPosition).toBe("TRIM_HORIZON");
    expect(await readDeadLetters(join(dir, "dead-letter.jsonl"))).toEqual([]); // no file: nothing given up
  });

  it("dead-letters the records still failing after the retries and moves on", async () => {
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-0" })
      .resolves({ Records: [record(1), record(2), record(3)], NextShardIterator: "it-1" });
    const calls: number[] = [];
    await start(
      async (event): Promise<DynamoDBBatchResponse> => {
        calls.push(event.Records.length);
        return { batchItemFailures: [{ itemIdentifier: seq(2) }] };
      },
      { delivery: { batchSize: 100, retryAttempts: 2, maxRecordAgeSeconds: 3600 } },
    );
    const file = join(dir, "dead-letter.jsonl");
    await vi.waitFor(async () => expect(await readDeadLetters(file)).toHaveLength(1));
    expect(calls).toEqual([3, 2, 2]);
    const letters = await readDeadLetters(file);
    // One letter for the batch given up: the cloud's invocation record (a pointer), plus the local details.
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      requestContext: {
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:fan-out-messages",
        condition: "RetryAttemptsExhausted",
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      version: "1.0",
      DDBStreamBatchInfo: {
        shardId: "shard-1",
        startSequenceNumber: seq(2),
        endSequenceNumber: seq(3),
        batchSize: 2,
        streamArn: STREAM_ARN,
      },
      local: {
        reason: "batch_item_failures",
        records: [
          { sequence_number: seq(2), pk: "MSG#g2", sk: "s" },
          { sequence_number: seq(3), pk: "MSG#g3", sk: "s" },
        ],
      },
    });
    expect(letters[0]?.responseContext?.functionError).toBeUndefined();
    expect(letters[0]?.DDBStreamBatchInfo.approximateArrivalOfFirstRecord).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("a handler that keeps throwing: the letter says Unhandled and the error", async () => {
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-0" })
      .resolves({ Records: [record(1)], NextShardIterator: "it-1" });
    await start(
      async () => {
        throw new TypeError("boom");
      },
      { delivery: { batchSize: 100, retryAttempts: 1, maxRecordAgeSeconds: 3600 } },
    );
    const file = join(dir, "dead-letter.jsonl");
    await vi.waitFor(async () => expect(await readDeadLetters(file)).toHaveLength(1));
    expect((await readDeadLetters(file))[0]).toMatchObject({
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 2 },
      responseContext: { functionError: "Unhandled" },
      local: { reason: "TypeError: boom" },
    });
  });

  it("dead-letters records older than the maximum record age without delivering them", async () => {
    const old = record(1);
    old.dynamodb = { ...old.dynamodb, ApproximateCreationDateTime: new Date(Date.now() - 7200_000) };
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-0" })
      .resolves({ Records: [old], NextShardIterator: "it-1" });
    const invoke = vi.fn(async () => undefined);
    await start(invoke, { delivery: { batchSize: 100, retryAttempts: 2, maxRecordAgeSeconds: 3600 } });
    const file = join(dir, "dead-letter.jsonl");
    await vi.waitFor(async () => expect(await readFile(file, "utf8")).toContain("record_too_old"));
    expect(invoke).not.toHaveBeenCalled();
    const [letter] = await readDeadLetters(file);
    expect(letter?.requestContext).toMatchObject({ condition: "RecordAgeExceeded", approximateInvokeCount: 0 });
    expect(letter?.responseContext).toBeUndefined();
  });

  it("checkpoints and resumes after the last processed sequence number", async () => {
    const checkpointFile = join(dir, "checkpoint.json");
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-0" })
      .resolves({ Records: [record(1), record(2, "GRP#u")], NextShardIterator: "it-1" });
    const delivered: string[] = [];
    const invoke = async (event: DynamoDBStreamEvent) => {
      delivered.push(...event.Records.map((r) => r.dynamodb?.SequenceNumber ?? ""));
      return undefined;
    };
    await start(invoke, { checkpointFile });
    await vi.waitFor(async () =>
      expect(JSON.parse(await readFile(checkpointFile, "utf8"))).toEqual({
        streamArn: STREAM_ARN,
        shards: { "shard-1": seq(2) },
      }),
    );
    await poller?.stop();

    streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it-after" });
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-after" })
      .resolves({ Records: [record(3)], NextShardIterator: "it-4" });
    await start(invoke, { checkpointFile });
    await vi.waitFor(() => expect(delivered).toEqual([seq(1), seq(3)]));
    expect(streamsMock.commandCalls(GetShardIteratorCommand).at(-1)?.args[0].input).toMatchObject({
      ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
      SequenceNumber: seq(2),
    });
  });

  it("reads a child shard once its parent is read to the end", async () => {
    streamsMock.on(DescribeStreamCommand).resolves({
      StreamDescription: { Shards: [{ ShardId: "shard-1" }, { ShardId: "shard-2", ParentShardId: "shard-1" }] },
    });
    streamsMock.on(GetShardIteratorCommand, { ShardId: "shard-1" }).resolves({ ShardIterator: "it-p" });
    streamsMock.on(GetShardIteratorCommand, { ShardId: "shard-2" }).resolves({ ShardIterator: "it-c" });
    // The parent shard is closed: its last page has no next iterator.
    streamsMock.on(GetRecordsCommand, { ShardIterator: "it-p" }).resolves({ Records: [record(1)] });
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-c" })
      .resolves({ Records: [record(2)], NextShardIterator: "x" });
    const delivered: string[] = [];
    await start(
      async (event) => {
        delivered.push(...event.Records.map((r) => r.dynamodb?.SequenceNumber ?? ""));
        return undefined;
      },
      { shardRefreshMs: 10 },
    );
    await vi.waitFor(() => expect(delivered).toEqual([seq(1), seq(2)]));
    const iteratorShards = streamsMock.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.ShardId);
    expect(iteratorShards).toEqual(["shard-1", "shard-2"]);
  });

  it("stop() waits for the batch in flight", async () => {
    streamsMock
      .on(GetRecordsCommand, { ShardIterator: "it-0" })
      .resolves({ Records: [record(1)], NextShardIterator: "it-1" });
    let release: () => void = () => {};
    let inFlight = false;
    let finished = false;
    await start(async () => {
      inFlight = true;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      finished = true;
      return undefined;
    });
    await vi.waitFor(() => expect(inFlight).toBe(true));
    const stopped = poller?.stop().then(() => finished);
    setTimeout(() => release(), 50);
    expect(await stopped).toBe(true);
  });
});
