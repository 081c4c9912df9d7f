/** Stream records as Lambda delivers them (DynamoDB Streams, NEW_IMAGE), built from MSG rows. */
import type { AttributeValue as SdkAttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue, DynamoDBRecord } from "aws-lambda";
import type { MessageItem } from "../../shared/items/message";

let sequence = 1_000_000;

/** An INSERT record of `item`, with an increasing sequence number. */
export function insertRecord(item: MessageItem | Record<string, unknown>, eventName = "INSERT"): DynamoDBRecord {
  sequence += 1;
  const image = marshall(item, { removeUndefinedValues: true }) as Record<string, SdkAttributeValue>;
  const keys = { pk: image.pk, sk: image.sk } as Record<string, SdkAttributeValue>;
  return {
    eventID: `event-${sequence}`,
    eventName: eventName as DynamoDBRecord["eventName"],
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "us-east-1",
    eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/test/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: keys as Record<string, AttributeValue>,
      NewImage: image as Record<string, AttributeValue>,
      SequenceNumber: String(sequence).padStart(21, "0"),
      SizeBytes: 256,
      StreamViewType: "NEW_IMAGE",
    },
  };
}
