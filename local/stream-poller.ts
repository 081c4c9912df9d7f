/**
 * A local event source mapping of one stream consumer (the fan-out, or the real-time publish
 * function): polls the table's DynamoDB Streams shards on DynamoDB Local, keeps the records that
 * pass the consumers' filter (`shared/stream.ts`), and delivers them in batches of at most the
 * consumer's `batchSize` (`FAN_OUT_DELIVERY` by default, `PUBLISH_DELIVERY` for the publish
 * function) with Lambda's partial-batch retry semantics (`batch-delivery.ts`). Records still
 * failing after the retries, and records older than `maxRecordAgeSeconds`, go to the consumer's
 * dead-letter file: one invocation record per batch, as the cloud's mapping sends to its
 * on-failure queue (`dead-letter.ts`). Each consumer has its own poller, checkpoint and
 * dead-letter file, as each mapping in the cloud reads the stream on its own.
 *
 * Shards are read from the delivery's `startingPosition` (TRIM_HORIZON for both consumers, as
 * their cloud mappings), or after the checkpointed sequence number when a checkpoint file is
 * given; a child shard is read once its parent is finished. Unlike Lambda, a batch is
 * delivered as soon as it is read (no batching window), which keeps the local stack snappy.
 */
import { randomUUID } from "node:crypto";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";
import { invocationRecord } from "../shared/on-failure";
import { FAN_OUT_FUNCTION } from "../shared/routes";
import { FAN_OUT_DELIVERY, matchesFilter, type StreamDelivery } from "../shared/stream";
import { defaultBackoffMs, deliverBatch, type StreamInvoker } from "./batch-delivery";
import { appendDeadLetters, type DeadLetter } from "./dead-letter";
import { localFunctionArn } from "./lambda-context";
import type { LocalLogger } from "./logger";
import { readCheckpoint, writeCheckpoint } from "./stream-checkpoint";
import { chunk, toLambdaRecord } from "./stream-records";

export interface StreamPollerOptions {
  ddb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  /** Region reported in the records (`awsRegion`). */
  region: string;
  /** Invokes the consumer's handler. */
  invoke: StreamInvoker;
  /** Name of the consumer in the log lines, and its function in dead letters (default `fan-out`, function `fan-out-messages`). */
  consumer?: string;
  logger: LocalLogger;
  /** JSON-lines file of the records given up. */
  deadLetterFile: string;
  /** Checkpoint file; without one, every start reads the shards from the delivery's `startingPosition`. */
  checkpointFile?: string | undefined;
  /** Pause between two polls, ms (default 100). */
  pollIntervalMs?: number;
  /** How often the shard list is refreshed, ms (default 1000). */
  shardRefreshMs?: number;
  /** Delivery settings (default FAN_OUT_DELIVERY). */
  delivery?: Pick<StreamDelivery, "batchSize" | "retryAttempts" | "maxRecordAgeSeconds"> &
    /** Where a shard with no checkpoint is opened, and which records are delivered (default FAN_OUT_DELIVERY's). */
    Partial<Pick<StreamDelivery, "startingPosition" | "filter">>;
  /** Pause before retry `n`, ms (default {@link defaultBackoffMs}). */
  backoffMs?: (retry: number) => number;
}

interface ShardState {
  iterator: string | undefined;
  /** Last processed sequence number. */
  last: string | undefined;
}

/** Longest pause between two polls after consecutive failures, ms. */
const MAX_FAILURE_BACKOFF_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls the table's stream and delivers the fan-out batches; see the module comment. */
export class StreamPoller {
  private readonly options: StreamPollerOptions;
  private readonly delivery: NonNullable<StreamPollerOptions["delivery"]>;
  private streamArn = "";
  private checkpoint: Record<string, string> = {};
  /** Shards being read. */
  private readonly active = new Map<string, ShardState>();
  /** Shards read to their end. */
  private readonly finished = new Set<string>();
  private lastShardRefresh = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: StreamPollerOptions) {
    this.options = options;
    this.delivery = options.delivery ?? FAN_OUT_DELIVERY;
  }

  /**
   * Finds the table's stream, reads the checkpoint and starts polling in the background.
   * @throws Error when the table has no stream; AWS SDK errors of DescribeTable.
   */
  async start(): Promise<void> {
    const table = await this.options.ddb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (arn === undefined) throw new Error(`stream poller: table ${this.options.tableName} has no stream`);
    this.streamArn = arn;
    if (this.options.checkpointFile !== undefined) {
      this.checkpoint = await readCheckpoint(this.options.checkpointFile, arn);
    }
    this.loop = this.run();
  }

  /** Stops polling; resolves once the batch in flight (if any) is delivered and checkpointed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const intervalMs = this.options.pollIntervalMs ?? 100;
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.pollOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.logger.warn("stream poll failed", {
          consumer: this.options.consumer ?? "fan-out",
          consecutive_failures: failures,
          error,
        });
      }
      if (this.stopping) break;
      // After failures, back off (doubling, at most MAX_FAILURE_BACKOFF_MS) instead of spinning.
      const pauseMs = failures === 0 ? intervalMs : Math.min(MAX_FAILURE_BACKOFF_MS, intervalMs * 2 ** failures);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, pauseMs);
      });
    }
  }

  private async pollOnce(): Promise<void> {
    if (Date.now() - this.lastShardRefresh >= (this.options.shardRefreshMs ?? 1000)) await this.refreshShards();
    for (const [shardId, state] of this.active) {
      if (this.stopping) return;
      await this.pollShard(shardId, state);
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const out = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    return shards;
  }

  /** Starts reading every new shard whose parent is finished (or gone from the stream). */
  private async refreshShards(): Promise<void> {
    const shards = await this.listShards();
    this.lastShardRefresh = Date.now();
    const listed = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      const id = shard.ShardId;
      if (id === undefined || this.active.has(id) || this.finished.has(id)) continue;
      const parent = shard.ParentShardId;
      if (parent !== undefined && listed.has(parent) && !this.finished.has(parent)) continue;
      const last = this.checkpoint[id];
      this.active.set(id, { iterator: await this.iterator(id, last), last });
    }
  }

  private async iterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const out = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(after === undefined
          ? { ShardIteratorType: this.delivery.startingPosition ?? FAN_OUT_DELIVERY.startingPosition }
          : { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after }),
      }),
    );
    return out.ShardIterator;
  }

  private async pollShard(shardId: string, state: ShardState): Promise<void> {
    if (state.iterator === undefined) {
      this.active.delete(shardId);
      this.finished.add(shardId);
      this.lastShardRefresh = 0;
      return;
    }
    let out: { Records?: _Record[] | undefined; NextShardIterator?: string | undefined };
    try {
      out = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      state.iterator = await this.iterator(shardId, state.last);
      return;
    }
    const records = out.Records ?? [];
    if (records.length > 0) await this.process(shardId, state, records);
    state.iterator = out.NextShardIterator;
  }

  /** Filters, batches and delivers one page of records, then checkpoints after its last record. */
  private async process(shardId: string, state: ShardState, page: _Record[]): Promise<void> {
    const source = { streamArn: this.streamArn, region: this.options.region };
    const matching = page
      .map((r) => toLambdaRecord(r, source))
      .filter((r) => matchesFilter(this.delivery.filter ?? FAN_OUT_DELIVERY.filter, r));
    const oldestAllowed = Date.now() / 1000 - this.delivery.maxRecordAgeSeconds;
    const tooOld = matching.filter((r) => (r.dynamodb?.ApproximateCreationDateTime ?? Infinity) < oldestAllowed);
    await this.deadLetter(shardId, tooOld, "record_too_old", 0);
    const fresh = matching.filter((r) => !tooOld.includes(r));
    for (const batch of chunk(fresh, this.delivery.batchSize)) {
      // Stopping: leave the rest of the page unprocessed and unrecorded (read again next start).
      if (this.stopping) return;
      const started = performance.now();
      const outcome = await deliverBatch(batch, this.options.invoke, {
        retryAttempts: this.delivery.retryAttempts,
        backoffMs: this.options.backoffMs ?? defaultBackoffMs,
        sleep,
      });
      await this.deadLetter(shardId, outcome.failed, outcome.reason ?? "", outcome.invocations);
      this.options.logger.info("stream batch", {
        consumer: this.options.consumer ?? "fan-out",
        shard_id: shardId,
        records: batch.length,
        failures: outcome.failed.length,
        invocations: outcome.invocations,
        duration_ms: Math.round(performance.now() - started),
      });
      await this.saveCheckpoint(shardId, state, batch.at(-1)?.dynamodb?.SequenceNumber);
    }
    await this.saveCheckpoint(shardId, state, page.at(-1)?.dynamodb?.SequenceNumber);
  }

  /**
   * Sends a batch given up on to the on-failure destination: one invocation record (the pointer
   * the cloud's mapping sends to its SQS queue, `shared/on-failure.ts`), with the local details.
   */
  private async deadLetter(shardId: string, records: DynamoDBRecord[], reason: string, invocations: number) {
    if (records.length === 0) return;
    const letter: DeadLetter = {
      ...invocationRecord({
        requestId: randomUUID(),
        functionArn: localFunctionArn(this.options.region, this.options.consumer ?? FAN_OUT_FUNCTION.fn),
        condition: invocations === 0 ? "RecordAgeExceeded" : "RetryAttemptsExhausted",
        invocations,
        functionError: reason === "batch_item_failures" || invocations === 0 ? undefined : "Unhandled",
        shardId,
        streamArn: this.streamArn,
        records,
        now: new Date(),
      }),
      local: {
        reason,
        records: records.map((r) => ({
          sequence_number: r.dynamodb?.SequenceNumber ?? "",
          pk: r.dynamodb?.Keys?.pk?.S,
          sk: r.dynamodb?.Keys?.sk?.S,
        })),
      },
    };
    await appendDeadLetters(this.options.deadLetterFile, [letter]);
    this.options.logger.error("stream records dead-lettered", {
      consumer: this.options.consumer ?? "fan-out",
      shard_id: shardId,
      records: records.length,
      reason,
      start_sequence_number: letter.DDBStreamBatchInfo.startSequenceNumber,
      end_sequence_number: letter.DDBStreamBatchInfo.endSequenceNumber,
      file: this.options.deadLetterFile,
    });
  }

  private async saveCheckpoint(shardId: string, state: ShardState, sequenceNumber: string | undefined) {
    if (sequenceNumber === undefined) return;
    state.last = sequenceNumber;
    this.checkpoint[shardId] = sequenceNumber;
    if (this.options.checkpointFile === undefined) return;
    await writeCheckpoint(this.options.checkpointFile, { streamArn: this.streamArn, shards: this.checkpoint });
  }
}
