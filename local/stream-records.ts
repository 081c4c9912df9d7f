/**
 * Stream records of the local event source mapping: the Streams API to Lambda event conversion
 * (`shared/stream-records.ts`, which the fan-out redrive uses too), batching, and the records
 * the tests and the bench feed the stream functions without a stream. Pure: no I/O.
 */
import type { AttributeValue as SdkAttributeValue } from "@aws-sdk/client-dynamodb-streams";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from "aws-lambda";
import type { MessageItem } from "../shared/items/message";

export { type RecordSource, toLambdaAttributeValue, toLambdaImage, toLambdaRecord } from "../shared/stream-records";

/** `items` in consecutive groups of at most `size` (size >= 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size must be >= 1, got ${size}`);
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

let syntheticSequence = 1_000_000;

/**
 * A stream record of `item` as Lambda delivers it (NEW_IMAGE, table `test`), with a sequence
 * number above every earlier one of this process: what the tests and the bench feed the stream
 * functions without a stream.
 */
export function insertRecord(item: MessageItem | Record<string, unknown>, eventName = "INSERT"): DynamoDBRecord {
  syntheticSequence += 1;
  const image = marshall(item, { removeUndefinedValues: true }) as Record<string, SdkAttributeValue>;
  const keys = { pk: image.pk, sk: image.sk } as Record<string, SdkAttributeValue>;
  return {
    eventID: `event-${syntheticSequence}`,
    eventName: eventName as DynamoDBRecord["eventName"],
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "us-east-1",
    eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/test/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: keys as Record<string, LambdaAttributeValue>,
      NewImage: image as Record<string, LambdaAttributeValue>,
      SequenceNumber: String(syntheticSequence).padStart(21, "0"),
      SizeBytes: 256,
      StreamViewType: "NEW_IMAGE",
    },
  };
}
