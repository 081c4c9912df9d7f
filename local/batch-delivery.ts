/**
 * Delivering one batch of stream records to the fan-out handler with the retry semantics of a
 * Lambda event source mapping that has `ReportBatchItemFailures` (AWS doc "Using AWS Lambda
 * with Amazon DynamoDB", "Configuring partial batch response"):
 *
 * - a response with no or an empty `batchItemFailures` is a complete success;
 * - otherwise the batch is retried from the failed record with the lowest sequence number (that
 *   record and every later one of the batch);
 * - a handler that throws, or a failure whose `itemIdentifier` is empty or not a sequence number
 *   of the batch, fails the whole batch;
 * - after `retryAttempts` retries, the records still failing are given up (the caller sends them
 *   to the dead-letter file, like an on-failure destination).
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

/** Invokes the stream handler with one event. */
export type StreamInvoker = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;

export interface RetryPolicy {
  /** Retries after the first invocation (Lambda's MaximumRetryAttempts). */
  retryAttempts: number;
  /** Pause before retry `n` (1-based), ms. */
  backoffMs: (retry: number) => number;
  /** Waits `ms` (tests pass a fake). */
  sleep: (ms: number) => Promise<void>;
}

/** Default backoff: 100 ms doubling per retry, at most 1000 ms. */
export const defaultBackoffMs = (retry: number): number => Math.min(1000, 100 * 2 ** (retry - 1));

export interface DeliveryOutcome {
  /** Invocations made: 1 + retries. */
  invocations: number;
  /** Records still failing after the last retry, in stream order; empty when delivered. */
  failed: DynamoDBRecord[];
  /** Why the last failed invocation failed (`undefined` when delivered). */
  reason: string | undefined;
}

/**
 * Index in `records` of the first record to retry, `-1` when `response` reports success.
 * Records of one shard batch are in sequence-number order, so the lowest failed sequence number
 * is the smallest index.
 */
export function firstFailedIndex(
  records: readonly DynamoDBRecord[],
  response: DynamoDBBatchResponse | undefined,
): number {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return -1;
  let first = records.length;
  for (const failure of failures) {
    const index = records.findIndex(
      (r) => failure.itemIdentifier !== "" && r.dynamodb?.SequenceNumber === failure.itemIdentifier,
    );
    if (index === -1) return 0;
    first = Math.min(first, index);
  }
  return first;
}

/**
 * The partial batch response that reports `itemIdentifiers` (sequence numbers) as failed, e.g. for
 * {@link firstFailedIndex} of a handler run outside {@link deliverBatch}; empty means success.
 */
export function failedIdentifiersResponse(itemIdentifiers: readonly string[]): DynamoDBBatchResponse {
  return { batchItemFailures: itemIdentifiers.map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Delivers `records` (one batch, in stream order) per the module's rules. Never throws. */
export async function deliverBatch(
  records: readonly DynamoDBRecord[],
  invoke: StreamInvoker,
  policy: RetryPolicy,
): Promise<DeliveryOutcome> {
  let pending = [...records];
  for (let retry = 0; ; retry++) {
    let failedFrom: number;
    let reason: string;
    try {
      const response = await invoke({ Records: pending });
      failedFrom = firstFailedIndex(pending, response);
      reason = "batch_item_failures";
    } catch (error) {
      failedFrom = 0;
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (failedFrom === -1) return { invocations: retry + 1, failed: [], reason: undefined };
    pending = pending.slice(failedFrom);
    if (retry >= policy.retryAttempts) return { invocations: retry + 1, failed: pending, reason };
    await policy.sleep(policy.backoffMs(retry + 1));
  }
}
