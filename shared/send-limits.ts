/**
 * Send limits per sender (issue "Conversation controls"): messages per minute with a burst, and
 * new conversations per hour, with the generic cell rate algorithm (GCRA, the token bucket
 * written as one timestamp per limit: the "theoretical arrival time", TAT). The state of a sender
 * is one item (pk `USER#<uuid>`, sk `LIMITS`), shared by every Lambda container: a post reads it
 * (strongly consistent) and, when allowed, writes it back with one conditional UpdateItem on the
 * TAT it read (optimistic lock; a lost race reads again). A refused post writes nothing. So a
 * post costs one write at most.
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
 * Most optimistic-lock attempts of one post: concurrent posts of one sender race on the item, one
 * winning per round, so a burst of n concurrent posts needs up to n rounds.
 */
const MAX_ATTEMPTS = 25;

/**
 * Spends one message (and, when `newGroup`, one new conversation) of `senderUuid`'s limits.
 * @returns the headers every POST /api/messages answer carries (`ratelimit-policy`, `ratelimit`).
 * @throws AppError 429 `["rate_limited"]` with `retry-after` (whole seconds, at least 1) and the
 *   same headers, having written nothing; AWS SDK errors after the SDK's retries.
 */
export async function spendSendLimit(
  deps: SendLimitDeps,
  senderUuid: string,
  options: { newGroup: boolean },
): Promise<Record<string, string>> {
  const { messages, newGroups } = policies(deps.sendLimits);
  const policyHeader = rateLimitPolicyHeader(deps.sendLimits);
  const key = sendLimitsKey(senderUuid);
  for (let attempt = 1; ; attempt++) {
    const out = await deps.ddb.send(new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true }));
    const stored = out.Item as SendLimitsItem | undefined;
    const now = (deps.clock ?? systemClock)();
    const decisions = [
      decide(messages, stored?.messages_tat, now, true),
      decide(newGroups, stored?.new_groups_tat, now, options.newGroup),
    ];
    const headers = { "ratelimit-policy": policyHeader, ratelimit: rateLimitHeader(decisions, now) };
    const refused = decisions.filter((d) => !d.allowed);
    if (refused.length > 0) {
      const wait = Math.max(...refused.map((d) => d.retryAfterMs));
      throw new AppError(429, ["rate_limited"], {
        ...headers,
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    const [m, g] = decisions as [Decision, Decision];
    // Gone (TTL) once both limits are whole again: an idle sender keeps no item.
    const expiresAt = Math.ceil(Math.max(m.tat, g.tat) / 1000) + 60;
    try {
      await deps.ddb.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: key,
          UpdateExpression: `SET messages_tat = :m${options.newGroup ? ", new_groups_tat = :g" : ""}, #ttl = :ttl`,
          ConditionExpression:
            stored?.messages_tat === undefined ? "attribute_not_exists(messages_tat)" : "messages_tat = :read",
          ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ":m": m.tat,
            ":ttl": expiresAt,
            ...(options.newGroup ? { ":g": g.tat } : {}),
            ...(stored?.messages_tat === undefined ? {} : { ":read": stored.messages_tat }),
          },
        }),
      );
      return headers;
    } catch (error) {
      const lost = error instanceof Error && error.name === "ConditionalCheckFailedException";
      if (!lost || attempt >= MAX_ATTEMPTS) throw error;
      // Full jitter, so the losers of one round do not meet again in the next.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * attempt)));
    }
  }
}
