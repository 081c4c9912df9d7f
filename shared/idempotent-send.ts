/**
 * Idempotent POST /api/messages (issue "Conversation controls"), with Powertools' Idempotency
 * utility and its DynamoDB persistence layer on the table itself (pk `IDEMPOTENCY#create-message`,
 * sk the utility's hash of the caller and the key, TTL attribute `expires_at`):
 *
 * - the `Idempotency-Key` header (IETF httpapi draft "The Idempotency-Key HTTP Header Field") is
 *   scoped to the caller: the record's key hashes `[caller uuid, key]`, so two users' keys never
 *   meet;
 * - a retry within {@link IDEMPOTENCY_TTL_SECONDS} answers exactly the first answer (the stored
 *   status, headers and body) and writes nothing else;
 * - the same key with another request (the parsed body: text and target) is refused 422
 *   `["idempotency_key_reused"]` (the utility's payload validation);
 * - while the first request with a key is still running, another with it is answered 409
 *   `["idempotency_request_in_progress"]` with `retry-after: 1`, so concurrent duplicates end with
 *   one message; the in-progress lock lasts at most the first invocation's remaining time;
 * - a request that fails keeps no record (the utility deletes it), so its retry runs again.
 */

import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { AppError } from "./errors";
import type { HttpResult } from "./http";
import { IDEMPOTENCY_PK, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from "./table";
import type { CreateMessageRequest } from "./validation";

/** How long an answer is kept for its retries: 24 hours (the issue; the draft leaves it to the server). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** What identifies an idempotent send: the caller, their key, and the request it must match. */
export interface IdempotentSendInput {
  /** The caller's uuid (access token `sub`). */
  caller: string;
  /** The `Idempotency-Key` header. */
  key: string;
  /** The parsed body: a retry must send the same. */
  request: CreateMessageRequest;
}

/** 409 for a duplicate of a request that is still running. */
const inProgress = (): AppError => new AppError(409, ["idempotency_request_in_progress"], { "retry-after": "1" });

/**
 * Wraps `send` (which answers one post) so that calls with the same caller and key run it once.
 * Only `caller`, `key` and `request` of the input identify a call; more fields (the sender's
 * profile) are passed through.
 * @param client a DynamoDB client (the persistence layer sends raw DynamoDB commands).
 * @returns `run(input, context)`: the first answer for this caller and key, or the answer of a
 *   new run of `send`.
 * @throws (from `run`) AppError 422 `["idempotency_key_reused"]` for the same key with another
 *   request, 409 `["idempotency_request_in_progress"]` while the first is running; whatever `send`
 *   throws (nothing is then kept); the utility's persistence errors (answered 500).
 */
export function createIdempotentSend<T extends IdempotentSendInput>(
  client: DynamoDBClient,
  tableName: string,
  send: (input: T) => Promise<HttpResult>,
): (input: T, context: Context) => Promise<HttpResult> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName,
    awsSdkV3Client: client,
    keyAttr: PARTITION_KEY,
    sortKeyAttr: SORT_KEY,
    staticPkValue: IDEMPOTENCY_PK,
    expiryAttr: TTL_ATTRIBUTE,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "[caller, key]",
    payloadValidationJmesPath: "request",
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const idempotent = makeIdempotent(send, { persistenceStore, config });
  return async (input, context) => {
    config.registerLambdaContext(context);
    try {
      return await idempotent(input);
    } catch (error) {
      if (error instanceof Error && error.name === "IdempotencyValidationError") {
        throw new AppError(422, ["idempotency_key_reused"]);
      }
      if (error instanceof Error && error.name === "IdempotencyAlreadyInProgressError") throw inProgress();
      throw error;
    }
  };
}
