/**
 * BatchGetItem of any number of keys of one table: requests of at most 100 keys (the
 * BatchGetItem limit, DynamoDB API reference), each one's `UnprocessedKeys` sent again with
 * jittered exponential backoff, as the AWS docs ask ("Batch operations", DynamoDB developer guide).
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** Keys per BatchGetItem request (DynamoDB's limit). */
export const BATCH_GET_MAX_KEYS = 100;

/** Retries of the unprocessed keys of one request before giving up. */
const MAX_RETRIES = 8;

/**
 * Every item found among `keys` (key objects, e.g. `{ pk, sk }`), in no particular order; keys
 * with no item are left out. Duplicate keys must be removed by the caller (DynamoDB refuses them).
 * @param options.consistentRead strongly consistent reads (2x the read units).
 * @throws Error when keys stay unprocessed after {@link MAX_RETRIES} retries (backoff up to 1 s
 *   each); AWS SDK errors after the SDK's own retries.
 */
export async function batchGetAll<T>(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: { consistentRead?: boolean } = {},
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_MAX_KEYS);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_RETRIES)
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${MAX_RETRIES} retries`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt * Math.random())));
      const out = await ddb.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: { Keys: pending, ...(options.consistentRead === true ? { ConsistentRead: true } : {}) },
          },
        }),
      );
      found.push(...((out.Responses?.[tableName] ?? []) as T[]));
      pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return found;
}
