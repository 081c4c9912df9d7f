/**
 * The stream side of the redrive where DynamoDB Local cannot produce it (aws-sdk-client-mock):
 * an iterator that expires mid-range, data trimmed while reading, a shard that closes before the
 * end, a start the shard no longer holds; and the invocation record's builder and parser.
 */
import {
  type _Record,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { invocationRecord, parseInvocationRecord, tableOfStreamArn } from "../../shared/on-failure";
import { readRange } from "../../shared/redrive";

const STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/cruddur-messages/stream/2026-01-01T00:00:00.000";
const seq = (n: number) => String(n).padStart(21, "0");
const record = (n: number): _Record => ({
  eventID: `e${n}`,
  eventName: "INSERT",
  dynamodb: { Keys: { pk: { S: `MSG#g${n}` }, sk: { S: "s" } }, SequenceNumber: seq(n), StreamViewType: "NEW_IMAGE" },
});
const info = (start: number, end: number) => ({
  shardId: "shard-1",
  startSequenceNumber: seq(start),
  endSequenceNumber: seq(end),
  approximateArrivalOfFirstRecord: "2026-01-01T00:00:00Z",
  approximateArrivalOfLastRecord: "2026-01-01T00:00:01Z",
  batchSize: end - start + 1,
  streamArn: STREAM_ARN,
});
const sequenceNumbers = (read: Awaited<ReturnType<typeof readRange>>) =>
  read.status === "read" ? read.records.map((r) => r.dynamodb?.SequenceNumber) : read.reason;

describe("readRange", () => {
  const streams = new DynamoDBStreamsClient({ region: "eu-west-1" });
  const mock = mockClient(streams);
  beforeEach(() => {
    mock.reset();
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it-0" });
  });

  it("reads across pages to the end sequence number, in Lambda event form, region from the ARN", async () => {
    mock.on(GetRecordsCommand, { ShardIterator: "it-0" }).resolves({ Records: [record(1)], NextShardIterator: "it-1" });
    mock.on(GetRecordsCommand, { ShardIterator: "it-1" }).resolves({ Records: [], NextShardIterator: "it-2" });
    mock
      .on(GetRecordsCommand, { ShardIterator: "it-2" })
      .resolves({ Records: [record(2), record(3), record(4)], NextShardIterator: "it-3" });
    const read = await readRange(streams, info(1, 3));
    expect(sequenceNumbers(read)).toEqual([seq(1), seq(2), seq(3)]);
    expect(read.status === "read" && read.records[0]).toMatchObject({
      awsRegion: "eu-west-1",
      eventSourceARN: STREAM_ARN,
    });
    expect(mock.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamArn: STREAM_ARN,
      ShardId: "shard-1",
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: seq(1),
    });
  });

  it("gets a new iterator after the last record read when one expires", async () => {
    mock.on(GetRecordsCommand, { ShardIterator: "it-0" }).resolves({ Records: [record(1)], NextShardIterator: "it-1" });
    mock
      .on(GetRecordsCommand, { ShardIterator: "it-1" })
      .rejects(new ExpiredIteratorException({ message: "expired", $metadata: {} }));
    mock
      .on(GetShardIteratorCommand, { ShardIteratorType: "AFTER_SEQUENCE_NUMBER" })
      .resolves({ ShardIterator: "it-9" });
    mock
      .on(GetRecordsCommand, { ShardIterator: "it-9" })
      .resolves({ Records: [record(2)], NextShardIterator: "it-10" });
    expect(sequenceNumbers(await readRange(streams, info(1, 2)))).toEqual([seq(1), seq(2)]);
    expect(mock.commandCalls(GetShardIteratorCommand)[1]?.args[0].input).toMatchObject({
      ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
      SequenceNumber: seq(1),
    });
  });

  it("is expired when the data is trimmed, at the iterator or while reading", async () => {
    const trimmed = new TrimmedDataAccessException({ message: "trimmed", $metadata: {} });
    mock.on(GetShardIteratorCommand).rejects(trimmed);
    expect(await readRange(streams, info(1, 2))).toEqual({
      status: "expired",
      reason: `TrimmedDataAccessException: trimmed (shard shard-1 of ${STREAM_ARN})`,
    });
    mock.reset();
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it-0" });
    mock.on(GetRecordsCommand).rejects(trimmed);
    expect(await readRange(streams, info(1, 2))).toMatchObject({ status: "expired" });
  });

  it("is expired when the shard no longer holds the start", async () => {
    mock.on(GetRecordsCommand).resolves({ Records: [record(5)], NextShardIterator: "x" });
    expect(sequenceNumbers(await readRange(streams, info(1, 6)))).toContain(
      `the shard no longer holds sequence number ${seq(1)} (its oldest record from there is ${seq(5)}`,
    );
  });

  it("is expired when the shard closes before the end", async () => {
    mock.on(GetRecordsCommand).resolves({ Records: [record(1)] });
    expect(sequenceNumbers(await readRange(streams, info(1, 2)))).toContain(
      "the shard closed before end sequence number",
    );
  });

  it("is expired when the tip is reached before the end", async () => {
    mock.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: "it-0" });
    expect(sequenceNumbers(await readRange(streams, info(1, 2), { maxEmptyPages: 3 }))).toContain("not found");
    expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(3);
  });

  it("passes other errors on", async () => {
    mock.on(GetShardIteratorCommand).rejects(Object.assign(new Error("no"), { name: "AccessDeniedException" }));
    await expect(readRange(streams, info(1, 2))).rejects.toThrow("no");
  });
});

describe("the invocation record", () => {
  it("is built from the batch's first and last records, and parses back", () => {
    const built = invocationRecord({
      requestId: "r",
      functionArn: "arn:aws:lambda:eu-west-1:1:function:f",
      condition: "RetryAttemptsExhausted",
      invocations: 6,
      functionError: "Unhandled",
      shardId: "shard-1",
      streamArn: STREAM_ARN,
      records: [
        { dynamodb: { SequenceNumber: seq(1), ApproximateCreationDateTime: 1_767_225_600 } },
        { dynamodb: { SequenceNumber: seq(2), ApproximateCreationDateTime: 1_767_225_601 } },
      ],
      now: new Date("2026-01-01T00:00:05.000Z"),
    });
    expect(built.DDBStreamBatchInfo).toEqual({
      ...info(1, 2),
      approximateArrivalOfFirstRecord: "2026-01-01T00:00:00Z",
    });
    expect(parseInvocationRecord(JSON.stringify(built))).toEqual({ record: built });
    expect(tableOfStreamArn(STREAM_ARN)).toBe("cruddur-messages");
    expect(tableOfStreamArn("arn:nothing")).toBeUndefined();
    expect(() => invocationRecord({ ...{ records: [] }, now: new Date() } as never)).toThrow(RangeError);
  });
});
