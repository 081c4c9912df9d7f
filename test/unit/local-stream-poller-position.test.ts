/**
 * The local poller takes its starting position from the one definition the cloud mapping uses
 * (`FAN_OUT_DELIVERY.startingPosition`), not from a literal of its own: with the definition
 * changed (mocked to LATEST), the poller asks for a LATEST iterator.
 */
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, expect, it, vi } from "vitest";
import { StreamPoller } from "../../local/stream-poller";

vi.mock("../../shared/stream", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../shared/stream")>();
  return { ...original, FAN_OUT_DELIVERY: { ...original.FAN_OUT_DELIVERY, startingPosition: "LATEST" } };
});

const ddb = new DynamoDBClient({ region: "us-east-1" });
const streams = new DynamoDBStreamsClient({ region: "us-east-1" });
const ddbMock = mockClient(ddb);
const streamsMock = mockClient(streams);
let poller: StreamPoller | undefined;

afterEach(async () => {
  await poller?.stop();
  ddbMock.reset();
  streamsMock.reset();
});

it("opens a shard without checkpoint at FAN_OUT_DELIVERY.startingPosition", async () => {
  ddbMock.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: "arn:aws:dynamodb:x:0:table/t/stream/1" } });
  streamsMock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: "shard-1" }] } });
  streamsMock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it-0" });
  streamsMock.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: "it-1" });
  poller = new StreamPoller({
    ddb,
    streams,
    tableName: "t",
    region: "us-east-1",
    invoke: async () => undefined,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    deadLetterFile: "/nonexistent/dead-letter.jsonl",
    pollIntervalMs: 5,
  });
  await poller.start();
  await vi.waitFor(() => expect(streamsMock.commandCalls(GetShardIteratorCommand)).toHaveLength(1));
  expect(streamsMock.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toMatchObject({
    ShardId: "shard-1",
    ShardIteratorType: "LATEST",
  });
});
