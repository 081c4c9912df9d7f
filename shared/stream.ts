/**
 * The one definition of which stream records reach the table's two stream consumers and how they
 * are delivered: the fan-out (pattern E, {@link FAN_OUT_DELIVERY}) and the real-time publish
 * function ({@link PUBLISH_DELIVERY}), each on its own event-source mapping, so that neither can
 * delay, fail or duplicate the other's work (a DynamoDB stream allows two consumers). The fan-out
 * takes MSG row INSERTs ({@link FAN_OUT_FILTER}); the publish function those and the moves of read
 * markers ({@link PUBLISH_FILTER}). The CDK event-source mappings render a filter as Lambda filter
 * patterns ({@link lambdaFilterPatterns}); the local stream pollers apply it with {@link matchesFilter}.
 */
import { MSG_PREFIX, READ_MARKER_PREFIX } from "./table";

/** One rule of a filter: the record's event name is one of `eventNames` and its keys start so. */
export interface StreamFilterRule {
  readonly eventNames: readonly ("INSERT" | "MODIFY" | "REMOVE")[];
  readonly pkPrefix: string;
  /** When given, the sort key must start with it too. */
  readonly skPrefix?: string;
}

/** A filter: a record is delivered when it matches any rule (Lambda allows up to 5 filters per mapping). */
export type StreamFilter = readonly StreamFilterRule[];

/** The fan-out's records: INSERTs of MSG rows (a message is written once and never updated). */
export const FAN_OUT_FILTER: StreamFilter = [{ eventNames: ["INSERT"], pkPrefix: MSG_PREFIX }];

/**
 * The publish function's records: MSG row INSERTs (`message.new`) and every write of a read
 * marker (`message_group.read`; a marker is created, then only moved forward).
 */
export const PUBLISH_FILTER: StreamFilter = [
  ...FAN_OUT_FILTER,
  { eventNames: ["INSERT", "MODIFY"], pkPrefix: READ_MARKER_PREFIX },
];

/**
 * How one consumer's event-source mapping delivers the stream (the cloud mapping and the local
 * poller read the same definition): records per batch, the batching window and the maximum
 * record age in seconds, retries of a failed batch, bisection, partial batch responses, and where
 * a new mapping starts reading.
 */
export interface StreamDelivery {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly bisectBatchOnError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition: "TRIM_HORIZON" | "LATEST";
  /** The records this consumer is given (the mapping's filter criteria). */
  readonly filter: StreamFilter;
}

/**
 * Timeout of the fan-out function (seconds): the longest a fan-out invocation, and so a summary
 * move it started, can be alive. `shared/fan-out.ts` derives from it how long a move left
 * unfinished may still be writing (`MOVE_DEADLINE_MS`); the stack sets the function's timeout to it.
 */
export const FAN_OUT_TIMEOUT_SECONDS = 60;

/**
 * Delivery settings of the event-source mapping, shared with the local poller.
 * AWS doc "Using AWS Lambda with Amazon DynamoDB": the defaults (infinite retries and record
 * age, no bisect) would block a shard forever on one poison record, so every bound is set.
 */
export const FAN_OUT_DELIVERY = {
  /** Records per invocation (Lambda allows 1 to 10,000 for DynamoDB Streams). */
  batchSize: 100,
  /** Seconds Lambda may wait to fill a batch. */
  maxBatchingWindowSeconds: 1,
  /** Retries of a failed batch before its records go to the on-failure destination. */
  retryAttempts: 5,
  /** Records older than this (seconds) are sent to the on-failure destination unprocessed. */
  maxRecordAgeSeconds: 6 * 60 * 60,
  /** Split a failing batch in two to isolate a poison record. */
  bisectBatchOnError: true,
  /** Partial batch response: Lambda resumes from the lowest failed sequence number. */
  reportBatchItemFailures: true,
  /**
   * Where a new mapping (or the local poller without a checkpoint) starts reading a shard: the
   * oldest record the stream still holds (24 hours), so that records written while no mapping
   * existed (deleted and re-created, first deploy onto a table already written to) are fanned out.
   * LATEST would skip them for good. A replay is harmless: the fan-out is idempotent (pattern E,
   * invariant 3). Records older than `maxRecordAgeSeconds` go to the on-failure destination
   * instead (and raise its alarm; see docs/operations.md).
   */
  startingPosition: "TRIM_HORIZON",
  filter: FAN_OUT_FILTER,
} as const satisfies StreamDelivery;

/**
 * Delivery settings of the publish function's event-source mapping (real-time push, AppSync
 * Events), shared with its local poller. A push is worth something only while it is fresh: the
 * record age is short and the retries few; a record given up is not replayed (the client reads
 * the message with pattern A or B anyway), it is counted (metric `EventsNotDelivered`) and logged.
 * Lambda bounds (AWS doc "Using AWS Lambda with Amazon DynamoDB"): batch size 1 to 10,000,
 * maximum record age 60 to 604,800 s, retries 0 to 10,000.
 */
export const PUBLISH_DELIVERY = {
  /** Records per invocation: each becomes one event per member, published 5 to a request. */
  batchSize: 100,
  /** No batching window: a record is delivered as soon as it is read (push within a second). */
  maxBatchingWindowSeconds: 0,
  /** Retries of a failed batch; the function itself retries throttling and 5xx first. */
  retryAttempts: 2,
  /** A push older than this (seconds) is useless: Lambda discards the record unprocessed. */
  maxRecordAgeSeconds: 120,
  /** Split a failing batch in two to isolate a poison record. */
  bisectBatchOnError: true,
  /** Partial batch response: Lambda resumes from the lowest failed sequence number. */
  reportBatchItemFailures: true,
  /**
   * Like the fan-out's mapping: a mapping re-created by a deploy skips nothing, and
   * `maxRecordAgeSeconds` drops what is too old to push.
   */
  startingPosition: "TRIM_HORIZON",
  filter: PUBLISH_FILTER,
} as const satisfies StreamDelivery;

/**
 * The Lambda event filter patterns (AWS doc "Lambda event filtering", DynamoDB section) of a
 * filter, one per rule: e.g. `{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"MSG#"}]}}}}`.
 */
export function lambdaFilterPatterns(filter: StreamFilter): Record<string, unknown>[] {
  return filter.map((rule) => ({
    eventName: [...rule.eventNames],
    dynamodb: {
      Keys: {
        pk: { S: [{ prefix: rule.pkPrefix }] },
        ...(rule.skPrefix === undefined ? {} : { sk: { S: [{ prefix: rule.skPrefix }] } }),
      },
    },
  }));
}

/** The fan-out's one filter pattern ({@link FAN_OUT_FILTER}). */
export function lambdaFilterPattern(): Record<string, unknown> {
  return lambdaFilterPatterns(FAN_OUT_FILTER)[0] as Record<string, unknown>;
}

/** The parts of a stream record the filter looks at (Lambda event or Streams API shape). */
export interface FilterableRecord {
  eventName?: string | undefined;
  dynamodb?: { Keys?: Record<string, { S?: string | undefined } | undefined> | undefined } | undefined;
}

/** True when Lambda would deliver this record under {@link lambdaFilterPatterns} of `filter`. */
export function matchesFilter(filter: StreamFilter, record: FilterableRecord): boolean {
  const pk = record.dynamodb?.Keys?.pk?.S;
  const sk = record.dynamodb?.Keys?.sk?.S;
  return filter.some((rule) => {
    const names: readonly string[] = rule.eventNames;
    if (record.eventName === undefined || !names.includes(record.eventName)) return false;
    if (typeof pk !== "string" || !pk.startsWith(rule.pkPrefix)) return false;
    return rule.skPrefix === undefined || (typeof sk === "string" && sk.startsWith(rule.skPrefix));
  });
}

/** True when the fan-out is given this record ({@link FAN_OUT_FILTER}). */
export function matchesFanOutFilter(record: FilterableRecord): boolean {
  return matchesFilter(FAN_OUT_FILTER, record);
}
