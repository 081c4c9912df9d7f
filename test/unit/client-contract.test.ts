/**
 * The typed client (`client/`) against the contract: its shapes are the zod schemas that generate
 * docs/openapi.json and docs/asyncapi.json (checked at compile time: a field added to the API and
 * not to the client fails the typecheck), its error codes are the API's, and its operation table
 * is the document's operations, method and path alike. Plus the pure parts: the backoff, the
 * error codes of a gateway answer, the auth subprotocol.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type * as z from "zod/mini";
import { backoffDelay } from "../../client/backoff";
import { errorCodesOf } from "../../client/errors";
import { OPERATIONS, operationPath } from "../../client/operations";
import { base64Url, headerSubprotocol } from "../../client/realtime";
import type * as Client from "../../client/types";
import { authorizationOfSubprotocols } from "../../local/events-protocol";
import { REPO_ROOT } from "../../local/settings";
import type {
  blockViewSchema,
  createdMessageViewSchema,
  ErrorCode,
  markReadViewSchema,
  messageGroupReadEventViewSchema,
  messageGroupViewSchema,
  messageNewEventViewSchema,
  messageViewSchema,
  userProfileSchema,
} from "../../shared/api-schemas";
import { ERROR_CODES } from "../../shared/api-schemas";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only when every client shape is exactly the contract's. */
const shapesMatchContract: [
  Same<Client.UserProfile, z.infer<typeof userProfileSchema>>,
  Same<Client.MessageView, z.infer<typeof messageViewSchema>>,
  Same<Client.MessageGroupView, z.infer<typeof messageGroupViewSchema>>,
  Same<Client.CreatedMessageView, z.infer<typeof createdMessageViewSchema>>,
  Same<Client.MarkReadView, z.infer<typeof markReadViewSchema>>,
  Same<Client.BlockView, z.infer<typeof blockViewSchema>>,
  Same<Client.MessageNewEvent, z.infer<typeof messageNewEventViewSchema>>,
  Same<Client.MessageGroupReadEvent, z.infer<typeof messageGroupReadEventViewSchema>>,
  Same<Client.ErrorCode, ErrorCode>,
] = [true, true, true, true, true, true, true, true, true];

interface OpenApiOperation {
  operationId?: string;
}
const openapi = JSON.parse(readFileSync(join(REPO_ROOT, "docs/openapi.json"), "utf8")) as {
  paths: Record<string, Record<string, OpenApiOperation>>;
};

describe("typed client against the contract", () => {
  it("has the shapes and error codes of the contract (compile time)", () => {
    expect(shapesMatchContract.every(Boolean)).toBe(true);
    const codes: Client.ErrorCode[] = Object.keys(ERROR_CODES) as ErrorCode[];
    expect(codes.length).toBeGreaterThan(0);
  });

  it("calls exactly the operations of docs/openapi.json, with their methods and paths", () => {
    const documented = Object.entries(openapi.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => typeof op === "object" && op !== null && typeof op.operationId === "string")
        .map(([method, op]) => [op.operationId as string, { method: method.toUpperCase(), path }] as const),
    );
    expect(Object.fromEntries(documented)).toEqual(OPERATIONS);
  });

  it("fills path templates, URI-encoded, and refuses a missing parameter", () => {
    expect(operationPath("blockUser", { handle: "@bay ko" })).toBe("/api/users/%40bay%20ko/block");
    expect(() => operationPath("listMessages")).toThrow(/message_group_uuid/);
  });

  it("gives a gateway answer without codes the code its status implies", () => {
    expect(errorCodesOf(422, ["message_blank"])).toEqual(["message_blank"]);
    expect(errorCodesOf(401, { message: "Unauthorized" })).toEqual(["unauthorized"]);
    expect(errorCodesOf(429, { message: "Too Many Requests" })).toEqual(["throttled"]);
    expect(errorCodesOf(503, undefined)).toEqual(["internal_error"]);
    expect(errorCodesOf(413, { message: "Request Entity Too Large" })).toEqual([]);
  });

  it("backs off with full jitter under a growing ceiling", () => {
    const at = (attempt: number, r: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 1000, random: () => r });
    expect([at(0, 0.999), at(1, 0.999), at(2, 0.999), at(5, 0.999)]).toEqual([99, 199, 399, 999]);
    expect(at(3, 0)).toBe(0);
  });

  it("builds the authorization subprotocol the emulator reads, in base64url without padding", () => {
    const authorization = { Authorization: "eyJ.a.b", host: "127.0.0.1:4568", note: "é✓" };
    expect(base64Url("??>")).toBe(Buffer.from("??>").toString("base64url"));
    expect(authorizationOfSubprotocols(["aws-appsync-event-ws", headerSubprotocol(authorization)])).toEqual(
      authorization,
    );
  });
});
