/**
 * The one description of the `cruddur-messages` table: names, key formats, index, stream.
 * The CDK stack, the local stack, the operator commands and the tests all read this module;
 * nothing else spells a key format or an attribute name of the key schema.
 *
 * Items (see README "Data model"):
 * | item                  | pk                           | sk                                         |
 * |-----------------------|------------------------------|--------------------------------------------|
 * | MSG row (a message)   | `MSG#<message_group_uuid>`   | `<created_at>#<message_uuid>`              |
 * | GRP row (summary)     | `GRP#<owner user uuid>`      | `<last_message_at>#<message_group_uuid>`   |
 * | message group item    | `MG#<message_group_uuid>`    | `MG`                                       |
 * | profile item (a user) | `USER#<user uuid>`           | `PROFILE`                                  |
 * | handle item           | `HANDLE#<lower-case handle>` | `HANDLE`                                   |
 * | read marker           | `READ#<message_group_uuid>`  | `<member user uuid>`                       |
 * | block                 | `USER#<blocker uuid>`        | `BLOCK#<blocked user uuid>`                |
 * | send limits           | `USER#<sender uuid>`         | `LIMITS`                                   |
 * | idempotency record    | `IDEMPOTENCY#create-message` | `<hash of caller + Idempotency-Key>` (Powertools) |
 *
 * Each item's attributes are described once, in `shared/items/<kind>.ts` (a zod schema, the type
 * inferred from it and the item's builder), built on the key builders below.
 *
 * The sort keys start with an ISO 8601 timestamp (see `shared/time.ts`), so string order is
 * time order; the uuid suffix keeps two rows written in the same millisecond apart.
 * Only GRP rows carry `message_group_uuid`, so the GSI `message-group-sk-index` is sparse.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { isTimestamp } from "./time";

/** Default physical table name (overridable by config / CDK context). */
export const TABLE_NAME = "cruddur-messages";

export const PARTITION_KEY = "pk";
export const SORT_KEY = "sk";

/** GSI over GRP rows: all summaries of one message group, by sort key. Projection ALL. */
export const GSI = {
  indexName: "message-group-sk-index",
  partitionKey: "message_group_uuid",
  sortKey: SORT_KEY,
  projection: "ALL",
} as const;

/** DynamoDB Streams view type: the fan-out needs only the new image of an inserted MSG row. */
export const STREAM_VIEW_TYPE = "NEW_IMAGE" as const;

export const MSG_PREFIX = "MSG#";
export const GRP_PREFIX = "GRP#";
export const MESSAGE_GROUP_PREFIX = "MG#";
/** Sort key of the message group item (one per group). */
export const MESSAGE_GROUP_SK = "MG";
export const USER_PREFIX = "USER#";
/** Sort key of a user's profile item (one per user). */
export const PROFILE_SK = "PROFILE";
export const HANDLE_PREFIX = "HANDLE#";
/** Sort key of a handle item (one per canonical handle). */
export const HANDLE_SK = "HANDLE";

/**
 * pk prefix of the read markers of a group (`READ#<message_group_uuid>`, one item per member, sk
 * the member's uuid). Not under `MG#`: that partition is the group item's alone, as the operator
 * commands and the repair read it.
 */
export const READ_MARKER_PREFIX = "READ#";
/** Sort key prefix of a block, under the blocker's pk (`USER#<uuid>`). */
export const BLOCK_SK_PREFIX = "BLOCK#";
/** Sort key of a sender's send-limit state, under the sender's pk (`USER#<uuid>`). */
export const SEND_LIMITS_SK = "LIMITS";
/**
 * pk of the idempotency records of POST /api/messages (Powertools Idempotency's DynamoDB layer
 * with `keyAttr: pk`, `sortKeyAttr: sk` and this static pk; the sk is its hash of the key).
 */
export const IDEMPOTENCY_PK = "IDEMPOTENCY#create-message";

/**
 * The table's TTL attribute (epoch seconds). Only items that are meant to go away carry it: the
 * idempotency records of POST /api/messages (24 h), a sender's send-limit state once it is idle,
 * and in the directory the claim of a sign-up never confirmed, and a handle its owner left (reserved to
 * them until then). DynamoDB deletes expired items lazily (within days), so the code treats an
 * item whose `expires_at` is past as absent and never relies on the deletion.
 */
export const TTL_ATTRIBUTE = "expires_at";

/** pk of the MSG rows of a message group: `MSG#<message_group_uuid>`. */
export const msgPk = (messageGroupUuid: string): string => `${MSG_PREFIX}${messageGroupUuid}`;
/** sk of a MSG row: `<created_at>#<message_uuid>` (time order, unique per message). */
export const msgSk = (createdAt: string, messageUuid: string): string => `${createdAt}#${messageUuid}`;
/** pk of a user's GRP rows: `GRP#<user uuid>`. */
export const grpPk = (ownerUuid: string): string => `${GRP_PREFIX}${ownerUuid}`;
/** sk of a GRP row: `<last_message_at>#<message_group_uuid>` (time order, unique per group). */
export const grpSk = (lastMessageAt: string, messageGroupUuid: string): string =>
  `${lastMessageAt}#${messageGroupUuid}`;
/** Key of the message group item of a group. */
export const messageGroupKey = (messageGroupUuid: string): { pk: string; sk: string } => ({
  pk: `${MESSAGE_GROUP_PREFIX}${messageGroupUuid}`,
  sk: MESSAGE_GROUP_SK,
});

/** Key of `userUuid`'s read marker in a group: pk `READ#<message_group_uuid>`, sk `<user uuid>`. */
export const readMarkerKey = (messageGroupUuid: string, userUuid: string): { pk: string; sk: string } => ({
  pk: `${READ_MARKER_PREFIX}${messageGroupUuid}`,
  sk: userUuid,
});

/** pk of a user's own items (profile, blocks, send limits): `USER#<uuid>`. */
export const userPk = (userUuid: string): string => `${USER_PREFIX}${userUuid}`;

/** Key of the block of `blockedUuid` by `blockerUuid`: pk `USER#<blocker>`, sk `BLOCK#<blocked>`. */
export const blockKey = (blockerUuid: string, blockedUuid: string): { pk: string; sk: string } => ({
  pk: `${USER_PREFIX}${blockerUuid}`,
  sk: `${BLOCK_SK_PREFIX}${blockedUuid}`,
});

/** Key of a sender's send-limit state: pk `USER#<uuid>`, sk `LIMITS`. */
export const sendLimitsKey = (userUuid: string): { pk: string; sk: string } => ({
  pk: `${USER_PREFIX}${userUuid}`,
  sk: SEND_LIMITS_SK,
});

/** Key of a user's profile item: pk `USER#<uuid>`, sk `PROFILE`. */
export const profileKey = (userUuid: string): { pk: string; sk: string } => ({
  pk: `${USER_PREFIX}${userUuid}`,
  sk: PROFILE_SK,
});
/**
 * Key of a handle item: pk `HANDLE#<canonical handle>`, sk `HANDLE`.
 * @param canonical the handle's canonical form (`canonicalHandle` of `shared/identity-rules.ts`).
 */
export const handleKey = (canonical: string): { pk: string; sk: string } => ({
  pk: `${HANDLE_PREFIX}${canonical}`,
  sk: HANDLE_SK,
});

/**
 * True when `sk` has the form of a MSG or GRP row's sort key: `<timestamp>#<uuid>`, a table
 * timestamp (24 characters, `shared/time.ts`), `#`, then an id of at most 36 characters (a uuid).
 * Cursors of patterns A and B carry such a sort key (`shared/cursor.ts`).
 */
export function isTimestampedSk(sk: string): boolean {
  const hash = sk.indexOf("#");
  return hash === 24 && isTimestamp(sk.slice(0, hash)) && sk.length <= 24 + 1 + 36;
}

/**
 * Reads the message_group_uuid back out of a MSG row's pk.
 * @returns the uuid, or `undefined` when `pk` is not a MSG row key.
 */
export function messageGroupUuidOfMsgPk(pk: string): string | undefined {
  return pk.startsWith(MSG_PREFIX) ? pk.slice(MSG_PREFIX.length) : undefined;
}

/**
 * The CreateTable request for the table, used by the local stack, the `ddb schema-load`
 * command and the integration tests. The CDK stack builds the same shape from the constants
 * above. On-demand billing; the stream is enabled with {@link STREAM_VIEW_TYPE}.
 * @param tableName physical name, 3 to 255 characters (DynamoDB rule).
 */
export function createTableInput(tableName: string = TABLE_NAME): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: "S" },
      { AttributeName: SORT_KEY, AttributeType: "S" },
      { AttributeName: GSI.partitionKey, AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: "HASH" },
      { AttributeName: SORT_KEY, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI.indexName,
        KeySchema: [
          { AttributeName: GSI.partitionKey, KeyType: "HASH" },
          { AttributeName: GSI.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: GSI.projection },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
  };
}
