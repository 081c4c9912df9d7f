/**
 * Redrive of the fan-out's on-failure destination: every letter there (an invocation record,
 * `shared/on-failure.ts`: a pointer to a batch in the stream) is replayed from the stream and
 * deleted once its whole range has converged.
 *
 * For each letter:
 * 1. Its range is read back from the stream while the stream retains it (DynamoDB Streams keeps
 *    records 24 hours): GetShardIterator `AT_SEQUENCE_NUMBER` of the start, then GetRecords page
 *    after page up to the end sequence number ({@link readRange}).
 * 2. The records that pass the fan-out filter go through the fan-out itself
 *    ({@link createBatchFanOut} of `shared/fan-out.ts`, what the Lambda function runs): per group
 *    the newest message, one conditional transaction, idempotent. So a replay of records whose
 *    summaries moved on since changes nothing (`already_current`).
 * 3. The letter is deleted only when every record of the range was handled (each group moved or
 *    already current). A group failing again keeps the letter, with the error.
 *
 * A range no longer in the stream (TrimmedDataAccessException, a shard or stream that is gone,
 * a start sequence number the shard does not hold) is reported as expired and its letter kept:
 * the records cannot be read any more, and `fanout repair` (`shared/repair.ts`) recomputes the
 * summaries from the table instead; after it, `--delete-expired` removes such letters.
 *
 * The queue is abstract ({@link FailureQueue}): the SQS on-failure queue in the cloud, the
 * dead-letter file locally; everything else is this one code path.
 */
import {
  type _Record,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { createBatchFanOut, type FanOutOutcome, InvalidRecordError, parseMessageRecord } from "./fan-out";
import { getMessageGroup } from "./messages";
import { type InvocationRecord, parseInvocationRecord, type StreamBatchInfo, tableOfStreamArn } from "./on-failure";
import { matchesFanOutFilter } from "./stream";
import { toLambdaRecord } from "./stream-records";

/** One message of the on-failure destination. */
export interface QueuedLetter {
  /** Unique in the queue (SQS MessageId; locally the request id). */
  id: string;
  /** The message body: an invocation record, as JSON. */
  body: string;
}

/** The on-failure destination, as the redrive uses it. */
export interface FailureQueue {
  /**
   * The next letters, not received before in this run; empty when none are left. (SQS: a
   * ReceiveMessage; the letters are invisible to others until released or deleted.)
   */
  receive(): Promise<QueuedLetter[]>;
  /** Deletes a letter. */
  delete(letter: QueuedLetter): Promise<void>;
  /** Gives back a letter that stays, visible at once to the next reader (SQS: visibility 0). */
  release(letter: QueuedLetter): Promise<void>;
}

/** What reading a letter's range from the stream found. */
export type RangeRead = { status: "read"; records: DynamoDBRecord[] } | { status: "expired"; reason: string };

export interface ReadRangeOptions {
  /** Empty GetRecords pages in a row after which the end is taken as not in the stream (default 25). */
  maxEmptyPages?: number;
}

/** The region in a stream ARN (`arn:aws:dynamodb:<region>:…`). */
const regionOfArn = (arn: string): string => arn.split(":")[3] ?? "";

/** True when a Streams API error means the position is not (or no longer) in the stream. */
function isGoneError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TrimmedDataAccessException" || error.name === "ResourceNotFoundException") return true;
  // DynamoDB Local answers a sequence number before the shard's first with this.
  return error.name === "ValidationException" && /sequence ?number/i.test(error.message);
}

/**
 * Reads the records from `info.startSequenceNumber` to `info.endSequenceNumber` (both included)
 * of shard `info.shardId` of stream `info.streamArn`, in Lambda event form.
 * @returns `read` with every record of the range (also those the fan-out filter drops), or
 *   `expired` with why it cannot be read: TrimmedDataAccessException (past the stream's 24-hour
 *   retention), the stream or shard does not exist (ResourceNotFoundException), the shard does not
 *   hold the start sequence number, or the end is not reached (shard closed, or
 *   `maxEmptyPages` empty pages at the tip).
 * @throws other AWS SDK errors (throttling after the SDK's retries, access denied...).
 */
export async function readRange(
  streams: DynamoDBStreamsClient,
  info: StreamBatchInfo,
  options: ReadRangeOptions = {},
): Promise<RangeRead> {
  const maxEmptyPages = options.maxEmptyPages ?? 25;
  const source = { streamArn: info.streamArn, region: regionOfArn(info.streamArn) };
  const start = BigInt(info.startSequenceNumber);
  const end = BigInt(info.endSequenceNumber);
  const where = `shard ${info.shardId} of ${info.streamArn}`;
  const expired = (reason: string): RangeRead => ({ status: "expired", reason });
  const iteratorAt = async (type: "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", sequenceNumber: string) =>
    (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: info.streamArn,
          ShardId: info.shardId,
          ShardIteratorType: type,
          SequenceNumber: sequenceNumber,
        }),
      )
    ).ShardIterator;

  let iterator: string | undefined;
  try {
    iterator = await iteratorAt("AT_SEQUENCE_NUMBER", info.startSequenceNumber);
  } catch (error) {
    if (!isGoneError(error)) throw error;
    return expired(`${(error as Error).name}: ${(error as Error).message} (${where})`);
  }
  const records: DynamoDBRecord[] = [];
  let last: string | undefined;
  let empty = 0;
  while (iterator !== undefined) {
    let page: { Records?: _Record[] | undefined; NextShardIterator?: string | undefined };
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    } catch (error) {
      if (error instanceof Error && error.name === "ExpiredIteratorException") {
        // Iterators live 15 minutes: get a new one where this one was.
        iterator = await (last === undefined
          ? iteratorAt("AT_SEQUENCE_NUMBER", info.startSequenceNumber)
          : iteratorAt("AFTER_SEQUENCE_NUMBER", last));
        continue;
      }
      if (!isGoneError(error)) throw error;
      return expired(`${(error as Error).name}: ${(error as Error).message} (${where})`);
    }
    const got = page.Records ?? [];
    for (const record of got) {
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? "";
      const at = BigInt(sequenceNumber || "0");
      if (last === undefined && at !== start) {
        return expired(
          `the shard no longer holds sequence number ${info.startSequenceNumber} (its oldest record from there is ${sequenceNumber}; ${where})`,
        );
      }
      if (at > end) return { status: "read", records };
      records.push(toLambdaRecord(record, source));
      last = sequenceNumber;
      if (at === end) return { status: "read", records };
    }
    empty = got.length === 0 ? empty + 1 : 0;
    if (empty >= maxEmptyPages) {
      return expired(`end sequence number ${info.endSequenceNumber} not found: the stream ends before it (${where})`);
    }
    iterator = page.NextShardIterator;
  }
  return expired(`the shard closed before end sequence number ${info.endSequenceNumber} (${where})`);
}

/** One group of a replayed range. */
export interface GroupReplay {
  messageGroupUuid: string;
  /** The newest message of the range in this group (what the fan-out applies). */
  messageUuid: string;
  records: number;
  /** Dry run: `would_move` when the group item shows an older message. */
  outcome?: FanOutOutcome | "would_move";
  error?: string;
}

/** What the redrive did with one letter. */
export type LetterResult = {
  id: string;
  /** The pointer, when the body is one. */
  record?: InvocationRecord;
} & (
  | { status: "replayed"; records: number; groups: GroupReplay[]; deleted: boolean }
  | { status: "failed"; records: number; groups: GroupReplay[]; errors: string[] }
  | { status: "expired"; reason: string; deleted: boolean }
  | { status: "unreadable"; reason: string }
  | { status: "other_table"; table: string | undefined }
);

/** Totals of a redrive. */
export interface RedriveReport {
  dryRun: boolean;
  letters: number;
  /** Ranges replayed to convergence (dry run: readable, would be replayed). */
  replayed: number;
  /** Ranges with a group still failing: kept. */
  failed: number;
  /** Ranges no longer in the stream (kept unless `deleteExpired`). */
  expired: number;
  /** Letters deleted. */
  deleted: number;
  /** Letters that are not a stream invocation record, or of another table: kept, untouched. */
  skipped: number;
  /** Stream records read back and passed to the fan-out. */
  records: number;
  /** Groups of the replayed ranges by outcome. */
  groups: { moved: number; already_current: number; would_move: number; failed: number };
}

export interface RedriveDeps {
  ddb: DynamoDBDocumentClient;
  /** The table the fan-out writes; letters of another table's stream are skipped. */
  tableName: string;
  streams: DynamoDBStreamsClient;
  queue: FailureQueue;
}

export interface RedriveOptions extends ReadRangeOptions {
  /** Read everything, write nothing, delete nothing. */
  dryRun?: boolean;
  /** Delete the letters whose range has expired (after `fanout repair` fixed what they pointed to). */
  deleteExpired?: boolean;
  /** Called with each letter's result as soon as it is known. */
  onLetter?: (result: LetterResult) => void;
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * The fan-out of one range: every record through one {@link createBatchFanOut}, as a Lambda
 * invocation of the whole range would (each record awaited, all of them, like Powertools'
 * BatchProcessor); dry run: only reads each group item to tell whether the group would move.
 */
async function replay(
  deps: RedriveDeps,
  records: DynamoDBRecord[],
  dryRun: boolean,
): Promise<{ groups: GroupReplay[]; errors: string[] }> {
  const matching = records.filter(matchesFanOutFilter);
  const groups = new Map<string, GroupReplay>();
  const errors: string[] = [];
  if (dryRun) {
    /** Per group: the newest message of the range and how many records it has. */
    const newest = new Map<string, { sk: string; messageUuid: string; records: number }>();
    for (const record of matching) {
      let message: ReturnType<typeof parseMessageRecord>;
      try {
        message = parseMessageRecord(record);
      } catch (error) {
        errors.push(`record ${record.dynamodb?.SequenceNumber}: ${errorText(error)}`);
        continue;
      }
      if (message === undefined) continue;
      const seen = newest.get(message.messageGroupUuid);
      const records = (seen?.records ?? 0) + 1;
      if (seen === undefined || seen.sk < message.item.sk) {
        newest.set(message.messageGroupUuid, { sk: message.item.sk, messageUuid: message.item.message_uuid, records });
      } else seen.records = records;
    }
    for (const [messageGroupUuid, { sk, messageUuid, records }] of newest) {
      const group = await getMessageGroup(deps, messageGroupUuid);
      const g: GroupReplay = { messageGroupUuid, messageUuid, records };
      if (group === undefined) {
        g.error = `no message group item for ${messageGroupUuid}`;
        errors.push(`group ${messageGroupUuid}: ${g.error}`);
      } else g.outcome = group.last_message_sk >= sk ? "already_current" : "would_move";
      groups.set(messageGroupUuid, g);
    }
    return { groups: [...groups.values()], errors };
  }
  const handle = createBatchFanOut(deps, matching, (done) => {
    groups.set(done.messageGroupUuid, {
      messageGroupUuid: done.messageGroupUuid,
      messageUuid: done.messageUuid,
      records: done.records,
      ...(done.error === undefined ? { outcome: done.outcome } : { error: errorText(done.error) }),
    });
  });
  const settled = await Promise.allSettled(matching.map((record) => handle(record)));
  settled.forEach((s, i) => {
    if (s.status === "rejected" && s.reason instanceof InvalidRecordError) {
      errors.push(`record ${matching[i]?.dynamodb?.SequenceNumber}: ${errorText(s.reason)}`);
    }
  });
  for (const g of groups.values()) if (g.error !== undefined) errors.push(`group ${g.messageGroupUuid}: ${g.error}`);
  return { groups: [...groups.values()], errors };
}

/**
 * Redrives every letter of `deps.queue` (see the module documentation), one after the other.
 * @returns the totals; each letter's result goes to `options.onLetter` as it is known.
 * @throws AWS SDK errors other than a range being gone (throttling, access denied, a missing
 *   table...) and the queue's errors; letters handled before stay handled.
 */
export async function redrive(deps: RedriveDeps, options: RedriveOptions = {}): Promise<RedriveReport> {
  const dryRun = options.dryRun ?? false;
  const report: RedriveReport = {
    dryRun,
    letters: 0,
    replayed: 0,
    failed: 0,
    expired: 0,
    deleted: 0,
    skipped: 0,
    records: 0,
    groups: { moved: 0, already_current: 0, would_move: 0, failed: 0 },
  };
  const keep = async (letter: QueuedLetter) => deps.queue.release(letter);
  const remove = async (letter: QueuedLetter) => {
    await deps.queue.delete(letter);
    report.deleted += 1;
  };

  for (let page = await deps.queue.receive(); page.length > 0; page = await deps.queue.receive()) {
    for (const letter of page) {
      report.letters += 1;
      const result = await redriveLetter(letter);
      options.onLetter?.(result);
    }
  }
  return report;

  async function redriveLetter(letter: QueuedLetter): Promise<LetterResult> {
    const parsed = parseInvocationRecord(letter.body);
    if ("error" in parsed) {
      report.skipped += 1;
      await keep(letter);
      return { id: letter.id, status: "unreadable", reason: parsed.error };
    }
    const { record } = parsed;
    const info = record.DDBStreamBatchInfo;
    const table = tableOfStreamArn(info.streamArn);
    if (table !== deps.tableName) {
      report.skipped += 1;
      await keep(letter);
      return { id: letter.id, record, status: "other_table", table };
    }
    const range = await readRange(deps.streams, info, options);
    if (range.status === "expired") {
      report.expired += 1;
      const deleted = options.deleteExpired === true && !dryRun;
      if (deleted) await remove(letter);
      else await keep(letter);
      return { id: letter.id, record, status: "expired", reason: range.reason, deleted };
    }
    report.records += range.records.length;
    const { groups, errors } = await replay(deps, range.records, dryRun);
    for (const g of groups) {
      if (g.error !== undefined) report.groups.failed += 1;
      else if (g.outcome !== undefined) report.groups[g.outcome] += 1;
    }
    if (errors.length > 0) {
      report.failed += 1;
      await keep(letter);
      return { id: letter.id, record, status: "failed", records: range.records.length, groups, errors };
    }
    report.replayed += 1;
    if (dryRun) await keep(letter);
    else await remove(letter);
    return { id: letter.id, record, status: "replayed", records: range.records.length, groups, deleted: !dryRun };
  }
}
