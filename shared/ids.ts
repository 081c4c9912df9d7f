/**
 * Identifiers. A message_uuid is a random UUID v4. A message_group_uuid is a UUID v5 (RFC 9562)
 * derived from the two members' uuids, so the pair has exactly one group however many
 * "new conversation" requests (pattern D) race: they all compute the same id and only one
 * conditional create can win.
 */
import { randomUUID } from "node:crypto";
import { v5 as uuidv5 } from "uuid";

/** Namespace of message_group_uuid derivation (fixed forever: changing it orphans every group). */
export const MESSAGE_GROUP_NAMESPACE = "6f1f0a52-5d7e-4a55-9d0b-3c0c2b8e7a14";

/** Canonical lowercase UUID (any version), as the API accepts in paths and bodies. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new random message_uuid. */
export const newMessageUuid = (): string => randomUUID();

/**
 * The message_group_uuid of the conversation between two users; order of the arguments does
 * not matter. @param userUuidA @param userUuidB Cognito `sub`s of the two members (distinct).
 */
export function messageGroupUuidFor(userUuidA: string, userUuidB: string): string {
  const [lo, hi] = userUuidA < userUuidB ? [userUuidA, userUuidB] : [userUuidB, userUuidA];
  return uuidv5(`${lo}:${hi}`, MESSAGE_GROUP_NAMESPACE);
}
