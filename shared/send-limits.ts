/**
 * Send limits per sender (issue "Conversation controls"): messages per minute with a burst, and
 * new conversations per hour, with the generic cell rate algorithm (GCRA, the token bucket
 * written as one timestamp per limit: the "theoretical arrival time", TAT). The state of a sender
 * is one item (pk `USER#<uuid>`, sk `LIMITS`), shared by every Lambda container: a post reads it
 * (strongly consistent) and, when allowed, spends with one conditional UpdateItem. The update is
 * arithmetic, not a compare-and-swap of the value read: while a sender is busy (TAT ahead of now)
 * it adds one interval to the stored TAT on condition that the TAT is still within the burst, so
 * concurrent posts of one sender commute and none of them loses a race; while the sender is idle
 * it sets the TAT to now + one interval on condition that it is still idle. A condition that fails
 * (the sender changed regime, or ran out of quota, between the read and the write) returns the
 * item as it is now (`ReturnValuesOnConditionCheckFailure`), and the post decides again from that,
 * with no second read. A refused post writes nothing. So a post costs one write at most.
 *
 * The answers carry the `RateLimit-Policy` and `RateLimit` fields of the IETF httpapi draft
 * "RateLimit header fields for HTTP" (structured fields: `"<policy>";q=<quota>;w=<window s>` and
 * `"<policy>";r=<remaining>;t=<seconds until the quota is whole again>`), and a refusal 429
 * `["rate_limited"]` with `Retry-After` (RFC 9110, seconds).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { SendLimitSettings } from "./config";
import { AppError } from "./errors";
import { sendLimitsKey, TTL_ATTRIBUTE } from "./table";
import { type Clock, systemClock } from "./time";

export interface SendLimitDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  sendLimits: SendLimitSettings;
  clock?: Clock;
}

/** One limit as GCRA sees it. */
interface Policy {
  /** Name in the RateLimit fields and the TAT attribute (`<name>_tat`). */
  name: "messages" | "new_groups";
  /** Emission interval: the time one unit of quota takes to come back, ms. */
  intervalMs: number;
  /** Units that may be spent at once. */
  burst: number;
}

/** The policies of `settings`: messages (always) and new conversations (pattern D creating a group). */
function policies(settings: SendLimitSettings): { messages: Policy; newGroups: Policy } {
  return {
    messages: { name: "messages", intervalMs: 60_000 / settings.messagesPerMinute, burst: settings.messageBurst },
    newGroups: {
      name: "new_groups",
      intervalMs: 3_600_000 / settings.newGroupsPerHour,
      burst: settings.newGroupsPerHour,
    },
  };
}

/** What a post did to one limit: the TAT after it, and whether it was allowed. */
interface Decision {
  policy: Policy;
  allowed: boolean;
  /** TAT after the post when allowed; the stored one when refused (epoch ms). */
  tat: number;
  /** When refused: ms until one unit is back. */
  retryAfterMs: number;
}

/** GCRA: a post at `now` is allowed when the TAT is at most (burst - 1) intervals ahead. */
function decide(policy: Policy, storedTat: number | undefined, now: number, spend: boolean): Decision {
  const tat = Math.max(storedTat ?? now, now);
  const tolerance = (policy.burst - 1) * policy.intervalMs;
  if (!spend) return { policy, allowed: true, tat, retryAfterMs: 0 };
  if (tat - now > tolerance) return { policy, allowed: false, tat, retryAfterMs: tat - now - tolerance };
  return { policy, allowed: true, tat: tat + policy.intervalMs, retryAfterMs: 0 };
}

/** `RateLimit-Policy` for `settings`: each policy's quota (its burst) and the window that refills it, s. */
export function rateLimitPolicyHeader(settings: SendLimitSettings): string {
  const { messages, newGroups } = policies(settings);
  return [messages, newGroups]
    .map((p) => `"${p.name}";q=${p.burst};w=${Math.ceil((p.burst * p.intervalMs) / 1000)}`)
    .join(", ");
}

/** `RateLimit`: what is left of each quota after the post, and seconds until it is whole again. */
function rateLimitHeader(decisions: readonly Decision[], now: number): string {
  return decisions
    .map((d) => {
      const ahead = Math.max(0, d.tat - now);
      const remaining = Math.max(0, Math.floor((d.policy.burst * d.policy.intervalMs - ahead) / d.policy.intervalMs));
      return `"${d.policy.name}";r=${remaining};t=${Math.ceil(ahead / 1000)}`;
    })
    .join(", ");
}

/** The stored state of a sender. */
interface SendLimitsItem {
  messages_tat?: number;
  new_groups_tat?: number;
}

/**
 * Most decisions of one post. Only a change of regime between the decision and the write (idle to
 * busy, busy back to idle as time passes) makes a spend's condition fail while quota is left, and
 * the failure returns the state to decide from: two or three decisions in practice.
 */
const MAX_ATTEMPTS = 10;

/** The TAT attribute of a policy. */
function tatAttribute(policy: Policy): "messages_tat" | "new_groups_tat" {
  return policy.name === "messages" ? "messages_tat" : "new_groups_tat";
}

/**
 * The SET clause and condition that spend one unit of `policy` in the regime `stored` shows at
 * `now`: busy (TAT ahead of now) adds one interval if the TAT is still ahead and within the burst;
 * idle sets now + one interval if it is still idle.
 */
function spendClause(
  policy: Policy,
  storedTat: number | undefined,
  now: number,
  values: Record<string, number>,
): { set: string; condition: string } {
  const attr = tatAttribute(policy);
  const p = policy.name === "messages" ? "m" : "g";
  values[`:${p}_now`] = now;
  if (storedTat !== undefined && storedTat > now) {
    values[`:${p}_interval`] = policy.intervalMs;
    values[`:${p}_limit`] = now + (policy.burst - 1) * policy.intervalMs;
    return {
      set: `${attr} = ${attr} + :${p}_interval`,
      condition: `(${attr} > :${p}_now AND ${attr} <= :${p}_limit)`,
    };
  }
  values[`:${p}_next`] = now + policy.intervalMs;
  return { set: `${attr} = :${p}_next`, condition: `(attribute_not_exists(${attr}) OR ${attr} <= :${p}_now)` };
}

/** The item a failed condition returned (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), if any. */
function itemOfConditionFailure(error: unknown): SendLimitsItem | undefined {
  const item = (error as { Item?: Record<string, unknown> }).Item;
  if (item === undefined) return undefined;
  const number = (value: unknown) => {
    const n = (value as { N?: string } | undefined)?.N;
    return n === undefined ? undefined : Number(n);
  };
  const state: SendLimitsItem = {};
  const m = number(item.messages_tat);
  const g = number(item.new_groups_tat);
  if (m !== undefined) state.messages_tat = m;
  if (g !== undefined) state.new_groups_tat = g;
  return state;
}

/** The send-limits item of a sender as {@link readSendLimits} read it (`item` absent: none, idle). */
export interface SendLimitsRead {
  item: SendLimitsItem | undefined;
}

/**
 * Reads `senderUuid`'s send-limits item: one strongly consistent GetItem (1 RCU). A post reads it
 * side by side with the blocks check (`shared/send.ts`) and hands it to {@link spendSendLimit}.
 * @throws AWS SDK errors after the SDK's retries.
 */
export async function readSendLimits(deps: SendLimitDeps, senderUuid: string): Promise<SendLimitsRead> {
  const out = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: sendLimitsKey(senderUuid), ConsistentRead: true }),
  );
  return { item: out.Item as SendLimitsItem | undefined };
}

/**
 * Spends one message (and, when `newGroup`, one new conversation) of `senderUuid`'s limits.
 * Costs one strongly consistent GetItem (none when `options.read` gives the item as
 * {@link readSendLimits} read it) and, when allowed, one conditional UpdateItem (plus one
 * more per change of regime met on the way, see {@link MAX_ATTEMPTS}). A `read` that is stale by
 * the time of the update costs at most one more UpdateItem: a change of regime fails the update's
 * condition, and the decision is made again from the item the failure returns.
 * @returns the headers every POST /api/messages answer carries (`ratelimit-policy`, `ratelimit`).
 * @throws AppError 429 `["rate_limited"]` with `retry-after` (whole seconds, at least 1) and the
 *   same headers, having written nothing; AWS SDK errors after the SDK's retries; Error when
 *   {@link MAX_ATTEMPTS} decisions all met a change of regime.
 */
export async function spendSendLimit(
  deps: SendLimitDeps,
  senderUuid: string,
  options: { newGroup: boolean; read?: SendLimitsRead },
): Promise<Record<string, string>> {
  const { messages, newGroups } = policies(deps.sendLimits);
  const policyHeader = rateLimitPolicyHeader(deps.sendLimits);
  const key = sendLimitsKey(senderUuid);
  // Gone (TTL) once every limit is whole again: an idle sender keeps no item. A TAT is never more
  // than burst x interval ahead of the post that wrote it, so this bound, written by every post,
  // outlives every TAT whichever post writes last.
  const wholeAgainMs = Math.max(messages.burst * messages.intervalMs, newGroups.burst * newGroups.intervalMs);
  let stored = (options.read ?? (await readSendLimits(deps, senderUuid))).item;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = (deps.clock ?? systemClock)();
    const decisions = [
      decide(messages, stored?.messages_tat, now, true),
      decide(newGroups, stored?.new_groups_tat, now, options.newGroup),
    ];
    const refused = decisions.filter((d) => !d.allowed);
    if (refused.length > 0) {
      const wait = Math.max(...refused.map((d) => d.retryAfterMs));
      throw new AppError(429, ["rate_limited"], {
        "ratelimit-policy": policyHeader,
        ratelimit: rateLimitHeader(decisions, now),
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    const values: Record<string, number> = { ":ttl": Math.ceil((now + wholeAgainMs) / 1000) + 60 };
    const clauses = [
      spendClause(messages, stored?.messages_tat, now, values),
      ...(options.newGroup ? [spendClause(newGroups, stored?.new_groups_tat, now, values)] : []),
    ];
    try {
      const updated = await deps.ddb.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: key,
          UpdateExpression: `SET ${clauses.map((c) => c.set).join(", ")}, #ttl = :ttl`,
          ConditionExpression: clauses.map((c) => c.condition).join(" AND "),
          ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const after = updated.Attributes as SendLimitsItem | undefined;
      // The headers from the TATs as written (a concurrent post may have spent in between).
      const spent = [
        { policy: messages, allowed: true, tat: after?.messages_tat ?? now, retryAfterMs: 0 },
        { policy: newGroups, allowed: true, tat: after?.new_groups_tat ?? now, retryAfterMs: 0 },
      ];
      return { "ratelimit-policy": policyHeader, ratelimit: rateLimitHeader(spent, now) };
    } catch (error) {
      if (!(error instanceof Error && error.name === "ConditionalCheckFailedException")) throw error;
      // Decide again from the item as the failed condition saw it (absent: no item, idle).
      stored = itemOfConditionFailure(error) ?? {};
    }
  }
  throw new Error(`send limits of ${senderUuid}: ${MAX_ATTEMPTS} decisions met a change of regime`);
}
