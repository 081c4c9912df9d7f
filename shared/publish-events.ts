/**
 * Real-time push (AWS AppSync Events): for a batch of stream records, every MSG row INSERT becomes
 * one `message.new` event on the channel of each member of its group, and every write of a read
 * marker one `message_group.read` event on the other member's channel (`shared/realtime.ts`; the
 * marker names that member, so no read is needed).
 *
 * - The event is built only from the row ({@link messageNewEvent}), so a replayed or retried
 *   record publishes the same event, byte for byte; duplicates are allowed (clients drop them by
 *   `id`). The channels come from the group's members, read from the message group item with the
 *   fan-out's own lookup (strongly consistent; the two members of a group never change).
 * - Events are grouped per channel and published in requests of at most
 *   {@link MAX_EVENTS_PER_PUBLISH} events to one channel (the HTTP publish API's limits), a
 *   channel's requests in order, channels side by side.
 * - A request that is throttled, answered 5xx or not answered, and the events a request reports
 *   as failed, are retried a bounded number of times with full-jitter exponential backoff.
 * - A record fails (partial batch response) only when one of its events was not accepted, when it
 *   cannot be parsed, or when its group cannot be read; every other record of the batch succeeds.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import pLimit from "p-limit";
import type { EventsPublisher } from "./events-publisher";
import { InvalidRecordError, MessageGroupMissingError, type NewMessage, parseMessageRecord } from "./fan-out";
import type { MessageGroupItem } from "./items/message-group";
import { type ReadMarkerItem, readMarkerItemSchema } from "./items/read-marker";
import { getMessageGroup } from "./messages";
import { MAX_EVENTS_PER_PUBLISH, messageGroupReadEvent, messageNewEvent, userChannel } from "./realtime";
import { matchesFilter, PUBLISH_FILTER } from "./stream";
import { READ_MARKER_PREFIX } from "./table";

/** CloudWatch metrics of the publish function (embedded metric format, Powertools Metrics). */
export const PUBLISH_METRICS = {
  namespace: "CruddurMessages",
  /** Events the function gave up on in an invocation (after its own retries). */
  eventsNotDelivered: "EventsNotDelivered",
  /** Events the service accepted. */
  eventsPublished: "EventsPublished",
  /** Dimension naming the function (one stack's alarm never sees another stack's). */
  functionDimension: "function_name",
} as const;

/** Members of a message group: a conversation is between two users (DESIGN.md). */
export const MEMBERS_PER_GROUP = 2;

export interface PublishEventsDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  publisher: EventsPublisher;
  /** Attempts per publish request, the first included (default 3). */
  maxAttempts?: number;
  /** Backoff before retry n: random in [0, min(maxMs, baseMs * 2^(n-1))), ms (defaults 50 and 1000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Requests and group reads in flight at once (default 16). */
  concurrency?: number;
  /** Waits `ms` (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1) (tests pass a seeded one). */
  random?: () => number;
}

/** Why an event was not delivered. */
export interface UndeliveredEvent {
  channel: string;
  message_uuid: string;
  message_group_uuid: string;
  /** The last answer: a failed entry's code, the HTTP status, or the error. */
  reason: string;
}

/** What one batch did, for the function's log line and metrics. */
export interface PublishReport {
  records: number;
  /** MSG row inserts of the batch (duplicates included). */
  messages: number;
  /** Distinct events to publish (one per message and member). */
  events: number;
  requests: number;
  eventsPublished: number;
  undelivered: UndeliveredEvent[];
  /** MSG row inserts whose group was missing or could not be read: none of their events went out. */
  unplannedMessages: number;
  /**
   * Events not delivered: {@link undelivered} plus {@link MEMBERS_PER_GROUP} for each unplanned
   * message (the metric `EventsNotDelivered`).
   */
  eventsNotDelivered: number;
  /** Records that failed (their sequence numbers), for any reason. */
  failedRecords: number;
}

/** One event to publish: where, what, and for which messages. */
interface PlannedEvent {
  channel: string;
  json: string;
  messageUuid: string;
  messageGroupUuid: string;
  /** Set once published (accepted) or given up. */
  outcome?: { ok: true } | { ok: false; reason: string };
}

/** A record whose events could not even be planned. */
class GroupReadError extends Error {
  override name = "GroupReadError";
}

/** A record some of whose events were not accepted. */
export class EventsNotDeliveredError extends Error {
  override name = "EventsNotDeliveredError";
}

/** A read marker's write, from its stream record. */
interface ReadMove {
  messageGroupUuid: string;
  marker: ReadMarkerItem;
}

/**
 * Reads a read marker's stream record (INSERT or MODIFY of pk `READ#<group>`, sk `<user>`).
 * @returns `undefined` for any other record.
 * @throws InvalidRecordError when its NEW_IMAGE is missing or malformed.
 */
export function parseReadMarkerRecord(record: DynamoDBRecord): ReadMove | undefined {
  const pk = record.dynamodb?.Keys?.pk?.S;
  if (!matchesFilter(PUBLISH_FILTER, record) || pk === undefined || !pk.startsWith(READ_MARKER_PREFIX)) {
    return undefined;
  }
  const image = record.dynamodb?.NewImage;
  if (image === undefined) throw new InvalidRecordError("read marker write without NewImage");
  const parsed = readMarkerItemSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
  if (!parsed.success) throw new InvalidRecordError(`malformed read marker: ${parsed.error.issues[0]?.path.join(".")}`);
  const marker = parsed.data;
  return { messageGroupUuid: marker.pk.slice(READ_MARKER_PREFIX.length), marker };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full-jitter backoff before retry `retry` (1-based), ms. */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (retry - 1)));
}

/** Splits `items` into runs of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Publishes `events` (all on one channel, in order) in requests of at most
 * {@link MAX_EVENTS_PER_PUBLISH}, retrying as the module comment says; sets each event's outcome.
 * @returns the number of requests made.
 */
async function publishChannel(deps: PublishEventsDeps, channel: string, events: PlannedEvent[]): Promise<number> {
  const maxAttempts = deps.maxAttempts ?? 3;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  let requests = 0;
  for (const chunk of chunks(events, MAX_EVENTS_PER_PUBLISH)) {
    let pending = chunk;
    let reasons = new Map<PlannedEvent, string>();
    for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1, deps.backoffBaseMs ?? 50, deps.backoffMaxMs ?? 1000, random));
      requests += 1;
      let response: Awaited<ReturnType<EventsPublisher["publish"]>>;
      try {
        response = await deps.publisher.publish(
          channel,
          pending.map((e) => e.json),
        );
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        reasons = new Map(pending.map((e) => [e, reason]));
        const retryable = (error as { retryable?: unknown }).retryable === true;
        if (!retryable) break;
        continue;
      }
      const accepted = new Set(response.successful.map((s) => s.index));
      const failedCodes = new Map(response.failed.map((f) => [f.index, f.code ?? f.message ?? "failed"]));
      const next: PlannedEvent[] = [];
      reasons = new Map();
      pending.forEach((event, index) => {
        if (accepted.has(index) && !failedCodes.has(index)) {
          event.outcome = { ok: true };
        } else {
          next.push(event);
          reasons.set(event, failedCodes.get(index) ?? "not_in_response");
        }
      });
      pending = next;
    }
    for (const event of pending) event.outcome = { ok: false, reason: reasons.get(event) ?? "not_published" };
  }
  return requests;
}

/**
 * Plans a batch and returns the record handler for Powertools' BatchProcessor plus the batch's
 * report. The first record handled starts the whole batch's work (group reads, then every
 * channel's requests); each record then awaits it and fails when one of its own events was not
 * accepted ({@link EventsNotDeliveredError}), when it is not a valid MSG row insert
 * (InvalidRecordError), or when its group is missing or could not be read. Records that are not
 * MSG row inserts or read marker writes succeed without doing anything (the mapping's filter keeps them away anyway).
 */
export function createBatchPublish(
  deps: PublishEventsDeps,
  records: readonly DynamoDBRecord[],
): { handler: (record: DynamoDBRecord) => Promise<void>; report: () => PublishReport } {
  const parsed = new Map<DynamoDBRecord, NewMessage | undefined | InvalidRecordError>();
  const reads = new Map<DynamoDBRecord, ReadMove | InvalidRecordError>();
  for (const record of records) {
    try {
      const read = parseReadMarkerRecord(record);
      if (read !== undefined) reads.set(record, read);
      else parsed.set(record, parseMessageRecord(record));
    } catch (error) {
      const invalid = error instanceof InvalidRecordError ? error : new InvalidRecordError(String(error));
      if (record.dynamodb?.Keys?.pk?.S?.startsWith(READ_MARKER_PREFIX) === true) reads.set(record, invalid);
      else parsed.set(record, invalid);
    }
  }
  const messages = [...parsed.values()].filter((m): m is NewMessage => m !== undefined && !(m instanceof Error));
  const groupUuids = [...new Set(messages.map((m) => m.messageGroupUuid))];

  const groupErrors = new Map<string, Error>();
  /** Events by `<channel>\n<json>` (a duplicate record publishes nothing more), per message. */
  const planned = new Map<string, PlannedEvent>();
  const eventsOf = new Map<NewMessage, PlannedEvent[]>();
  const readEventOf = new Map<ReadMove, PlannedEvent>();
  let requests = 0;
  let run: Promise<void> | undefined;

  const work = async (): Promise<void> => {
    const limit = pLimit(deps.concurrency ?? 16);
    const groups = new Map<string, MessageGroupItem>();
    await Promise.all(
      groupUuids.map((g) =>
        limit(async () => {
          try {
            const group = await getMessageGroup(deps, g);
            if (group === undefined) groupErrors.set(g, new MessageGroupMissingError(`no message group item for ${g}`));
            else groups.set(g, group);
          } catch (error) {
            const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            groupErrors.set(g, new GroupReadError(`message group ${g} could not be read (${reason})`));
          }
        }),
      ),
    );
    // In stream order, so each channel's events go out in the order of the records.
    /** The one planned event for (channel, json): a duplicate record publishes nothing more. */
    const plan = (channel: string, json: string, messageUuid: string, messageGroupUuid: string): PlannedEvent => {
      const key = `${channel}\n${json}`;
      let event = planned.get(key);
      if (event === undefined) {
        event = { channel, json, messageUuid, messageGroupUuid };
        planned.set(key, event);
      }
      return event;
    };
    for (const message of messages) {
      const group = groups.get(message.messageGroupUuid);
      if (group === undefined) continue;
      const json = JSON.stringify(messageNewEvent(message.messageGroupUuid, message.item));
      eventsOf.set(
        message,
        group.members.map((member) =>
          plan(userChannel(member.uuid), json, message.item.message_uuid, message.messageGroupUuid),
        ),
      );
    }
    // Read receipts: the other member's channel, named by the marker itself.
    for (const read of reads.values()) {
      if (read instanceof Error) continue;
      const json = JSON.stringify(messageGroupReadEvent(read.messageGroupUuid, read.marker));
      readEventOf.set(
        read,
        plan(userChannel(read.marker.other_user_uuid), json, read.marker.last_read_message_uuid, read.messageGroupUuid),
      );
    }
    const byChannel = new Map<string, PlannedEvent[]>();
    for (const event of planned.values()) {
      const list = byChannel.get(event.channel) ?? [];
      list.push(event);
      byChannel.set(event.channel, list);
    }
    const counts = await Promise.all(
      [...byChannel].map(([channel, events]) => limit(() => publishChannel(deps, channel, events))),
    );
    requests = counts.reduce((a, b) => a + b, 0);
  };

  const failedRecords = new Set<DynamoDBRecord>();
  const handler = async (record: DynamoDBRecord): Promise<void> => {
    try {
      const read = reads.get(record);
      if (read !== undefined) {
        if (read instanceof Error) throw read;
        run ??= work();
        await run;
        if (readEventOf.get(read)?.outcome?.ok !== true) {
          throw new EventsNotDeliveredError(
            `read receipt of ${read.marker.user_uuid} in ${read.messageGroupUuid} not delivered`,
          );
        }
        return;
      }
      const message = parsed.has(record) ? parsed.get(record) : parseMessageRecord(record);
      if (message instanceof Error) throw message;
      if (message === undefined) return;
      run ??= work();
      await run;
      const groupError = groupErrors.get(message.messageGroupUuid);
      if (groupError !== undefined) throw groupError;
      const events = eventsOf.get(message) ?? [];
      const lost = events.filter((e) => e.outcome?.ok !== true);
      if (lost.length > 0) {
        throw new EventsNotDeliveredError(
          `${lost.length} of ${events.length} events of message ${message.item.message_uuid} not delivered`,
        );
      }
    } catch (error) {
      failedRecords.add(record);
      throw error;
    }
  };

  const report = (): PublishReport => {
    const events = [...planned.values()];
    const unplannedMessages = new Set(
      messages.filter((m) => groupErrors.has(m.messageGroupUuid)).map((m) => m.item.message_uuid),
    ).size;
    const undelivered = events.flatMap((e) =>
      e.outcome?.ok === false
        ? [
            {
              channel: e.channel,
              message_uuid: e.messageUuid,
              message_group_uuid: e.messageGroupUuid,
              reason: e.outcome.reason,
            },
          ]
        : [],
    );
    return {
      records: records.length,
      messages: messages.length,
      events: events.length,
      requests,
      eventsPublished: events.filter((e) => e.outcome?.ok === true).length,
      undelivered,
      unplannedMessages,
      eventsNotDelivered: undelivered.length + unplannedMessages * MEMBERS_PER_GROUP,
      failedRecords: failedRecords.size,
    };
  };
  return { handler, report };
}
