/**
 * A reference implementation of the seed's fan-out (the original Cruddur stream Lambda, Python
 * and boto3), written in TypeScript from DESIGN.md's description of it, for the bench only: it
 * is what pattern E is measured against (`bench/seed-comparison.ts`), never deployed.
 *
 * Per invocation it reads the batch's first record only, as the seed did; with the seed's
 * BatchSize 1 that is every record. For an INSERT of a MSG row it queries the GSI
 * `message-group-sk-index` for the group's GRP rows, then, row by row, deletes the row and puts
 * it again under the new sort key (`<created_at>#<message_group_uuid>`) with the message's text:
 * one Query, then a DeleteItem and a PutItem per member, one call after the other. Unlike the
 * seed it also sets `last_message_at` and `last_message_uuid` (our GRP row schema has them; the
 * same two calls either way), so pattern B can still read the rows. It keeps no group item, has
 * no ordering guard and trusts the eventually consistent index: a replayed or older record moves
 * a summary backwards, and a stale index read leaves a duplicate row (DESIGN.md pattern E,
 * invariants 2-4: the reasons pattern E exists).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { GSI, grpSk, MSG_PREFIX, messageGroupUuidOfMsgPk } from "../shared/table";

/** Where the reference writes. */
export interface SeedReferenceDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
}

/** What one invocation did: the GRP rows it moved (0 for a record it does not handle). */
export interface SeedInvocation {
  rowsMoved: number;
}

/**
 * One invocation of the seed's handler: handles `event.Records[0]` and ignores the rest.
 * @returns the GRP rows moved.
 * @throws AWS SDK errors as they come (the seed caught nothing: Lambda retries the batch).
 */
export async function seedReferenceHandler(
  deps: SeedReferenceDeps,
  event: DynamoDBStreamEvent,
): Promise<SeedInvocation> {
  const record: DynamoDBRecord | undefined = event.Records[0];
  const image = record?.dynamodb?.NewImage;
  if (record?.eventName !== "INSERT" || image === undefined) return { rowsMoved: 0 };
  const item = unmarshall(image as Record<string, AttributeValue>);
  const pk = String(item.pk ?? "");
  if (!pk.startsWith(MSG_PREFIX)) return { rowsMoved: 0 };
  const messageGroupUuid = messageGroupUuidOfMsgPk(pk);
  if (messageGroupUuid === undefined) return { rowsMoved: 0 };
  const createdAt = String(item.created_at);
  const rows = await deps.ddb.send(
    new QueryCommand({
      TableName: deps.tableName,
      IndexName: GSI.indexName,
      KeyConditionExpression: "#g = :g",
      ExpressionAttributeNames: { "#g": GSI.partitionKey },
      ExpressionAttributeValues: { ":g": messageGroupUuid },
    }),
  );
  let rowsMoved = 0;
  for (const row of rows.Items ?? []) {
    await deps.ddb.send(new DeleteCommand({ TableName: deps.tableName, Key: { pk: row.pk, sk: row.sk } }));
    await deps.ddb.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...row,
          sk: grpSk(createdAt, messageGroupUuid),
          message: item.message,
          last_message_at: createdAt,
          last_message_uuid: item.message_uuid,
        },
      }),
    );
    rowsMoved += 1;
  }
  return { rowsMoved };
}

/**
 * Feeds `records` to {@link seedReferenceHandler} as the seed's event source mapping did:
 * BatchSize 1, one invocation per record, one after the other in stream order.
 * @returns the GRP rows moved in all.
 */
export async function runSeedReference(deps: SeedReferenceDeps, records: readonly DynamoDBRecord[]): Promise<number> {
  let moved = 0;
  for (const record of records) moved += (await seedReferenceHandler(deps, { Records: [record] })).rowsMoved;
  return moved;
}
