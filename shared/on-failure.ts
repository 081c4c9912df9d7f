/**
 * The on-failure destination's message for a batch of stream records the fan-out gave up on: the
 * Lambda "invocation record" of a stream event source (AWS doc "Retain discarded records for a
 * DynamoDB event source in Lambda"). It is a **pointer**, not the records: the shard, the first
 * and last sequence numbers of the batch, the stream, the batch size and the approximate arrival
 * times of its first and last records. The records stay readable in the stream while it retains
 * them (24 hours); `shared/redrive.ts` reads them back from there.
 *
 * In the cloud the event-source mapping sends it to the SQS on-failure queue (the message body);
 * locally the stream poller writes the same shape, one per line, to the dead-letter file, so one
 * redrive serves both. Example (a body of the queue):
 *
 * ```json
 * {"requestContext":{"requestId":"…","functionArn":"arn:aws:lambda:…:function:…","condition":"RetryAttemptsExhausted","approximateInvokeCount":6},
 *  "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
 *  "version":"1.0","timestamp":"2026-11-21T14:35:12.206Z",
 *  "DDBStreamBatchInfo":{"shardId":"shardId-…","startSequenceNumber":"…","endSequenceNumber":"…",
 *   "approximateArrivalOfFirstRecord":"2026-11-21T14:35:10Z","approximateArrivalOfLastRecord":"2026-11-21T14:35:11Z",
 *   "batchSize":2,"streamArn":"arn:aws:dynamodb:…:table/cruddur-messages/stream/…"}}
 * ```
 */
import * as z from "zod/mini";

/**
 * Why the batch was given up: its retries were used up (`RetryAttemptsExhausted`), or its records
 * were older than the mapping's maximum record age and never delivered (`RecordAgeExceeded`).
 */
export const FAILURE_CONDITIONS = ["RetryAttemptsExhausted", "RecordAgeExceeded"] as const;
export type FailureCondition = (typeof FAILURE_CONDITIONS)[number];

/** Where the failed batch is in the stream (`DDBStreamBatchInfo`). */
export const streamBatchInfoSchema = /* @__PURE__ */ (() =>
  z.object({
    shardId: z.string().check(z.minLength(1)),
    /** Sequence number of the batch's first record (a decimal string). */
    startSequenceNumber: z.string().check(z.regex(/^\d+$/)),
    /** Sequence number of the batch's last record. */
    endSequenceNumber: z.string().check(z.regex(/^\d+$/)),
    /** ISO 8601, second precision in the cloud. */
    approximateArrivalOfFirstRecord: z.string(),
    approximateArrivalOfLastRecord: z.string(),
    /** Records in the batch. */
    batchSize: z.int().check(z.nonnegative()),
    streamArn: z.string().check(z.minLength(1)),
  }))();
export type StreamBatchInfo = z.infer<typeof streamBatchInfoSchema>;

/**
 * The invocation record. Fields of the cloud's message this project does not read are kept
 * (`loose`), so a record read and written back is unchanged.
 */
export const invocationRecordSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    requestContext: z.looseObject({
      requestId: z.string().check(z.minLength(1)),
      functionArn: z.string(),
      condition: z.string(),
      approximateInvokeCount: z.int().check(z.nonnegative()),
    }),
    responseContext: z.optional(
      z.looseObject({
        statusCode: z.optional(z.number()),
        executedVersion: z.optional(z.string()),
        functionError: z.optional(z.string()),
      }),
    ),
    version: z.string(),
    /** When the batch was given up, ISO 8601. */
    timestamp: z.string(),
    DDBStreamBatchInfo: streamBatchInfoSchema,
  }))();
export type InvocationRecord = z.infer<typeof invocationRecordSchema>;

/** A record's arrival time in the form of the invocation record: ISO 8601 to the second, `Z`. */
export const arrivalTime = (epochSeconds: number): string =>
  new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The invocation record of a failed batch.
 * @param input.records the batch given up, in stream order (at least one), each with its
 *   sequence number and `ApproximateCreationDateTime` in epoch seconds (Lambda event shape).
 * @param input.invocations invocations made for it (0 when too old to deliver).
 * @param input.functionError `Unhandled` when the last invocation threw; omitted when it answered
 *   a partial batch response or was never made.
 * @throws RangeError when `records` is empty or a record has no sequence number.
 */
export function invocationRecord(input: {
  requestId: string;
  functionArn: string;
  condition: FailureCondition;
  invocations: number;
  functionError?: string | undefined;
  shardId: string;
  streamArn: string;
  records: readonly { dynamodb?: { SequenceNumber?: string; ApproximateCreationDateTime?: number } }[];
  now: Date;
}): InvocationRecord {
  const first = input.records[0]?.dynamodb;
  const last = input.records.at(-1)?.dynamodb;
  if (first?.SequenceNumber === undefined || last?.SequenceNumber === undefined) {
    throw new RangeError("an invocation record needs at least one record with a sequence number");
  }
  const nowSeconds = input.now.getTime() / 1000;
  return {
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invocations,
    },
    ...(input.invocations === 0
      ? {}
      : {
          responseContext: {
            statusCode: 200,
            executedVersion: "$LATEST",
            ...(input.functionError === undefined ? {} : { functionError: input.functionError }),
          },
        }),
    version: "1.0",
    timestamp: input.now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.SequenceNumber,
      endSequenceNumber: last.SequenceNumber,
      approximateArrivalOfFirstRecord: arrivalTime(first.ApproximateCreationDateTime ?? nowSeconds),
      approximateArrivalOfLastRecord: arrivalTime(last.ApproximateCreationDateTime ?? nowSeconds),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}

/**
 * Reads a message of the on-failure destination.
 * @returns the invocation record, or an error text when the body is not one (not JSON, or not a
 *   stream invocation record, e.g. a message put there by hand).
 */
export function parseInvocationRecord(body: string): { record: InvocationRecord } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: "not JSON" };
  }
  const parsed = invocationRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // zod/mini carries no locale (its messages are all "Invalid input"): the issue's code says more.
    const what =
      issue === undefined ? "?" : "expected" in issue ? `${issue.code}, expected ${issue.expected}` : issue.code;
    return { error: `not a stream invocation record (${issue?.path.join(".") || "body"}: ${what})` };
  }
  return { record: parsed.data };
}

/** The table name in a stream ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`). */
export function tableOfStreamArn(streamArn: string): string | undefined {
  return /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
}
