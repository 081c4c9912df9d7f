/**
 * DynamoDB Streams records as the Lambda event source delivers them. The Streams API (SDK v3)
 * and the Lambda event differ in two ways: ApproximateCreationDateTime is a Date in the SDK and
 * epoch seconds in the event, and binary attributes are bytes in the SDK and base64 text in the
 * event. Pure: no I/O.
 */
import type { _Record, AttributeValue as SdkAttributeValue } from "@aws-sdk/client-dynamodb-streams";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from "aws-lambda";
import type { MessageItem } from "../shared/items/message";

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/**
 * An attribute value of the Streams API as a Lambda event carries it.
 * @throws Error for a value of no known type.
 */
export function toLambdaAttributeValue(value: SdkAttributeValue): LambdaAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(",")}`);
}

/** An item image (Keys, NewImage, OldImage) in Lambda event form. */
export function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]));
}

/** Where a record comes from, as the event source mapping reports it. */
export interface RecordSource {
  streamArn: string;
  region: string;
}

/**
 * A Streams API record as a Lambda `DynamoDBRecord`: `eventSource` `aws:dynamodb`,
 * `eventVersion` `1.1`, `awsRegion` and `eventSourceARN` from `source`,
 * `dynamodb.ApproximateCreationDateTime` in epoch seconds.
 */
export function toLambdaRecord(record: _Record, source: RecordSource): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
    dynamodb: {
      ...(created === undefined ? {} : { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
      ...(stream.Keys === undefined ? {} : { Keys: toLambdaImage(stream.Keys) }),
      ...(stream.NewImage === undefined ? {} : { NewImage: toLambdaImage(stream.NewImage) }),
      ...(stream.OldImage === undefined ? {} : { OldImage: toLambdaImage(stream.OldImage) }),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    ...(record.userIdentity === undefined ? {} : { userIdentity: record.userIdentity }),
  };
}

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
