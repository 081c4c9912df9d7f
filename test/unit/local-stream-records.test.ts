import type { _Record } from "@aws-sdk/client-dynamodb-streams";
import { describe, expect, it } from "vitest";
import { chunk, toLambdaAttributeValue, toLambdaRecord } from "../../local/stream-records";
import { FAN_OUT_DELIVERY, matchesFanOutFilter } from "../../shared/stream";

const source = { streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x", region: "us-east-1" };

const sdkRecord = (pk: string, eventName: "INSERT" | "MODIFY" | "REMOVE" = "INSERT"): _Record => ({
  eventID: "e-1",
  eventName,
  eventVersion: "1.1",
  eventSource: "aws:dynamodb",
  awsRegion: "ddblocal",
  dynamodb: {
    ApproximateCreationDateTime: new Date("2026-11-21T14:27:00.500Z"),
    Keys: { pk: { S: pk }, sk: { S: "2026-11-21T14:27:00.000Z#m" } },
    NewImage: { pk: { S: pk }, sk: { S: "2026-11-21T14:27:00.000Z#m" }, message: { S: "hi" } },
    SequenceNumber: "000000000000000000042",
    SizeBytes: 99,
    StreamViewType: "NEW_IMAGE",
  },
});

describe("toLambdaRecord", () => {
  it("gives the Lambda event shape: epoch seconds, event source, region and stream ARN", () => {
    const record = toLambdaRecord(sdkRecord("MSG#g"), source);
    expect(record).toEqual({
      eventID: "e-1",
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      eventSourceARN: source.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse("2026-11-21T14:27:00Z") / 1000,
        Keys: { pk: { S: "MSG#g" }, sk: { S: "2026-11-21T14:27:00.000Z#m" } },
        NewImage: { pk: { S: "MSG#g" }, sk: { S: "2026-11-21T14:27:00.000Z#m" }, message: { S: "hi" } },
        SequenceNumber: "000000000000000000042",
        SizeBytes: 99,
        StreamViewType: "NEW_IMAGE",
      },
    });
  });

  it("passes the fan-out filter for MSG inserts only", () => {
    expect(matchesFanOutFilter(toLambdaRecord(sdkRecord("MSG#g"), source))).toBe(true);
    expect(matchesFanOutFilter(toLambdaRecord(sdkRecord("GRP#u"), source))).toBe(false);
    expect(matchesFanOutFilter(toLambdaRecord(sdkRecord("MG#g"), source))).toBe(false);
    expect(matchesFanOutFilter(toLambdaRecord(sdkRecord("MSG#g", "MODIFY"), source))).toBe(false);
    expect(matchesFanOutFilter(toLambdaRecord(sdkRecord("MSG#g", "REMOVE"), source))).toBe(false);
  });
});

describe("toLambdaAttributeValue", () => {
  it("base64-encodes binaries and converts nested maps and lists", () => {
    expect(
      toLambdaAttributeValue({
        M: {
          b: { B: new Uint8Array([1, 2, 255]) },
          bs: { BS: [new Uint8Array([0])] },
          l: { L: [{ N: "1" }, { BOOL: true }, { NULL: true }, { SS: ["a"] }, { NS: ["2"] }] },
        },
      }),
    ).toEqual({
      M: {
        b: { B: "AQL/" },
        bs: { BS: ["AA=="] },
        l: { L: [{ N: "1" }, { BOOL: true }, { NULL: true }, { SS: ["a"] }, { NS: ["2"] }] },
      },
    });
  });
});

describe("chunk", () => {
  it("splits into batches of at most the batch size, in order", () => {
    const items = Array.from({ length: 2 * FAN_OUT_DELIVERY.batchSize + 1 }, (_, i) => i);
    const batches = chunk(items, FAN_OUT_DELIVERY.batchSize);
    expect(batches.map((b) => b.length)).toEqual([FAN_OUT_DELIVERY.batchSize, FAN_OUT_DELIVERY.batchSize, 1]);
    expect(batches.flat()).toEqual(items);
    expect(chunk([], 3)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});
