/**
 * The API documents generated from the code (`shared/openapi.ts`): the committed copies are
 * current, every route of the route table is an operation with its auth, parameters, bodies and
 * every error code, the request schemas accept what the parsers accept, the answer schemas
 * accept what the builders build, and a new route is documented from data alone.
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { DEFAULT_PORTS, REPO_ROOT } from "../../local/settings";
import {
  COMMON_ERRORS,
  COMPONENT_SCHEMAS,
  ERROR_CODES,
  NO_ROUTE_ERROR,
  OPERATIONS,
  type OperationSpec,
  REALTIME_EVENTS,
} from "../../shared/api-schemas";
import { messageItem } from "../../shared/items/message";
import { toCreatedMessageView, toMessageGroupView, toMessageView } from "../../shared/model";
import {
  API_DOCUMENT_FILES,
  buildAsyncApiDocument,
  buildOpenApiDocument,
  documentText,
  LOCAL_EVENTS_PORT,
  pathParameterNames,
  routeKey,
  UNROUTED_RESPONSES_KEY,
} from "../../shared/openapi";
import { EVENTS_NAMESPACE, messageGroupReadEvent, messageNewEvent } from "../../shared/realtime";
import { ROUTES, type RouteDefinition } from "../../shared/routes";
import { parseCreateMessage, parseMarkRead, parseProfileChange } from "../../shared/validation";

const doc = buildOpenApiDocument();
const asyncDoc = buildAsyncApiDocument();

/** The value at `keys` of a JSON value (undefined where a key is missing). */
const at = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
const keysAt = (value: unknown, ...keys: (string | number)[]): string[] => Object.keys(at(value, ...keys) as object);
/** The codes an error answer's body schema allows (the array of codes, or its first `anyOf` branch). */
const codesOf = (schema: unknown): string[] =>
  at((at(schema, "anyOf", 0) ?? schema) as object, "items", "enum") as string[];

const operationOf = (route: Pick<RouteDefinition, "method" | "path">): unknown =>
  at(doc, "paths", route.path, route.method.toLowerCase());

/** A validator of the schema at `ref` (a JSON pointer into the OpenAPI document). */
function openApiValidator(ref: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  for (const key of Object.keys(doc)) ajv.addKeyword(key);
  ajv.addSchema({ ...doc, $id: "urn:test:openapi" });
  return ajv.compile({ $ref: `urn:test:openapi${ref}` });
}

const uuidA = "0b6e1a52-5d7e-4a55-9d0b-3c0c2b8e7a14";
const uuidB = "7d3f2c1b-0a9e-4b8d-8c7f-6e5d4c3b2a19";
const message = messageItem({
  messageGroupUuid: uuidB,
  messageUuid: uuidA,
  sender: { uuid: uuidB, handle: "bayko", display_name: "Bayko" },
  text: "Hello 😀",
  createdAt: "2026-11-21T14:05:09.123Z",
});

describe("the committed documents", () => {
  it.each([
    [API_DOCUMENT_FILES.openapi, doc],
    [API_DOCUMENT_FILES.asyncapi, asyncDoc],
  ])("%s is what the code generates (else: npm run openapi)", (file, built) => {
    expect(readFileSync(`${REPO_ROOT}${file}`, "utf8")).toBe(documentText(built));
  });

  it("is deterministic", () => {
    expect(documentText(buildOpenApiDocument())).toBe(documentText(doc));
    expect(documentText(buildAsyncApiDocument())).toBe(documentText(asyncDoc));
  });
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with one operation per route, unique operation ids", () => {
    expect(at(doc, "openapi")).toMatch(/^3\.1\./);
    const operations = Object.values(at(doc, "paths") as Record<string, object>).flatMap((p) => Object.values(p));
    expect(operations).toHaveLength(ROUTES.length);
    const ids = operations.map((o) => at(o, "operationId"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(ROUTES.map((r) => [routeKey(r), r] as const))("%s: auth, parameters and every status", (_key, route) => {
    const operation = operationOf(route);
    const spec = OPERATIONS[routeKey(route)] as OperationSpec;
    expect(at(operation, "security")).toEqual(route.auth ? [{ cognitoAccessToken: [] }] : []);
    const params = (at(operation, "parameters") ?? []) as { in: string; name: string }[];
    const pathParams = params.filter((p) => p.in === "path").map((p) => p.name);
    expect(pathParams).toEqual(pathParameterNames(route.path));
    const statuses = keysAt(operation, "responses").map(Number);
    const common = COMMON_ERRORS.filter((c) => c.routes === "all" || route.auth).map((c) => c.status);
    const expected = [...Object.keys(spec.responses).map(Number), ...Object.keys(spec.errors).map(Number), ...common];
    expect(statuses.sort()).toEqual([...new Set(expected)].sort());
    expect(statuses.includes(401)).toBe(route.auth);
    for (const status of statuses.filter((s) => s >= 400)) {
      const schema = at(operation, "responses", status, "content", "application/json", "schema");
      const codes = [...(spec.errors[status] ?? []), ...(COMMON_ERRORS.find((c) => c.status === status)?.codes ?? [])];
      expect(codesOf(schema).sort()).toEqual([...new Set(codes)].sort());
    }
  });

  it("names every error code somewhere, and no code it does not know", () => {
    const used = new Set<string>([
      ...Object.values(OPERATIONS).flatMap((o) => Object.values(o.errors).flat()),
      ...COMMON_ERRORS.flatMap((c) => c.codes),
      ...NO_ROUTE_ERROR.codes,
    ]);
    expect([...used].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("describes the answers of no operation: preflights and 404 route_not_found", () => {
    expect(keysAt(doc, UNROUTED_RESPONSES_KEY, "OPTIONS")).toEqual(["204"]);
    const notFound = at(doc, UNROUTED_RESPONSES_KEY, "default", "404", "content", "application/json", "schema");
    expect(codesOf(notFound)).toEqual(["route_not_found"]);
  });

  it("says what the refinements of the request schemas say: code-point lengths, the optional @, the page size", () => {
    expect(at(doc, "components", "schemas", "CreateMessageRequest", "properties", "message")).toMatchObject({
      type: "string",
      minLength: 1,
      maxLength: 1024,
    });
    const handle = openApiValidator("#/components/schemas/CreateMessageRequest/properties/handle");
    for (const ok of ["bayko", "@bayko", "A.b-c_9", null]) expect(handle(ok), String(ok)).toBe(true);
    for (const bad of ["", "@", "a b", "x".repeat(33), "ünï"]) expect(handle(bad), bad).toBe(false);
    const limit = at(operationOf({ method: "GET", path: "/api/message_groups" }), "parameters", 0);
    expect(limit).toMatchObject({ name: "limit", in: "query", required: false });
    expect(at(limit, "schema")).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 });
  });

  it("accepts every body the parsers accept (the schemas are no stricter than the code)", () => {
    const create = openApiValidator("#/components/schemas/CreateMessageRequest");
    const bodies = [
      { message: "hi", message_group_uuid: uuidA },
      { message: "😀".repeat(1024), handle: "@bayko" },
      { message: " x ", handle: "bayko", message_group_uuid: null, extra: [1] },
    ];
    for (const body of bodies) {
      expect(() => parseCreateMessage(JSON.stringify(body))).not.toThrow();
      expect(create(body), JSON.stringify(body).slice(0, 80)).toBe(true);
    }
    const change = openApiValidator("#/components/schemas/ProfileChangeRequest");
    for (const body of [{ handle: "new_name" }, { display_name: "Ana María" }, { handle: "@x", display_name: null }]) {
      expect(() => parseProfileChange(JSON.stringify(body))).not.toThrow();
      expect(change(body), JSON.stringify(body)).toBe(true);
    }
  });

  it("accepts exactly what the view builders build, and no other field", () => {
    const list = openApiValidator("#/components/schemas/MessageList");
    expect(list([toMessageView(message)])).toBe(true);
    expect(list([{ ...toMessageView(message), pk: "MSG#x" }])).toBe(false);
    const created = openApiValidator("#/components/schemas/CreatedMessageView");
    expect(created(toCreatedMessageView(uuidB, message))).toBe(true);
    const groups = openApiValidator("#/components/schemas/MessageGroupList");
    const summary = {
      pk: `GRP#${uuidA}`,
      sk: `2026-11-21T14:05:09.123Z#${uuidB}`,
      message_group_uuid: uuidB,
      user_uuid: uuidB,
      user_handle: "bayko",
      user_display_name: "Bayko",
      message: "Hello",
      last_message_at: "2026-11-21T14:05:09.123Z",
      last_message_uuid: uuidA,
    };
    const readState = { unread_count: 3, last_read_at: null, other_last_read_at: "2026-11-21T14:05:09.123Z" };
    expect(groups([{ ...toMessageGroupView(summary), ...readState }])).toBe(true);
    expect(groups([{ ...toMessageGroupView(summary), ...readState, unread_count: 101 }])).toBe(false);
    const { user_uuid: _dropped, ...withoutUser } = { ...toMessageGroupView(summary), ...readState };
    expect(groups([withoutUser])).toBe(false);
    const read = openApiValidator("#/components/schemas/MarkReadView");
    expect(read({ message_group_uuid: uuidB, last_read_at: "2026-11-21T14:05:09.123Z", unread_count: 0 })).toBe(true);
    const blocks = openApiValidator("#/components/schemas/BlockList");
    expect(blocks([{ uuid: uuidA, handle: "bayko", display_name: "B", blocked_at: "2026-11-21T14:05:09.123Z" }])).toBe(
      true,
    );
  });

  it("accepts every read body the parser accepts, and marks the body optional", () => {
    const markRead = openApiValidator("#/components/schemas/MarkReadRequest");
    for (const body of [{}, { message_uuid: uuidA }, { message_uuid: null }]) {
      expect(() => parseMarkRead(JSON.stringify(body))).not.toThrow();
      expect(markRead(body), JSON.stringify(body)).toBe(true);
    }
    expect(at(doc, "paths", "/api/message_groups/{message_group_uuid}/read", "post", "requestBody", "required")).toBe(
      false,
    );
    expect(at(doc, "paths", "/api/messages", "post", "requestBody", "required")).toBe(true);
  });

  it("documents the Idempotency-Key header and the send limits' fields of POST /api/messages", () => {
    const post = at(doc, "paths", "/api/messages", "post");
    expect(at(post, "parameters")).toEqual([
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }),
    ]);
    expect(at(post, "responses", "200", "headers", "ratelimit", "required")).toBe(true);
    expect(keysAt(post, "responses", "429", "headers")).toEqual([
      "cache-control",
      "x-content-type-options",
      "retry-after",
      "ratelimit-policy",
      "ratelimit",
    ]);
    expect(keysAt(post, "responses", "409", "headers")).toContain("retry-after");
    expect(at(doc, "info", "description")).toContain("methods GET,POST,PATCH,DELETE,OPTIONS");
  });

  it("uses every named schema", () => {
    const text = JSON.stringify({ ...doc, components: { ...(doc.components as object), schemas: undefined } });
    const schemas = JSON.stringify(at(doc, "components", "schemas"));
    for (const name of Object.keys(COMPONENT_SCHEMAS)) {
      const ref = `"#/components/schemas/${name}"`;
      expect(text.includes(ref) || schemas.includes(ref), name).toBe(true);
    }
  });
});

describe("the generator", () => {
  const route: RouteDefinition = {
    method: "DELETE" as RouteDefinition["method"],
    path: "/api/things/{thing_id}",
    fn: "delete-thing",
    pattern: "users",
    auth: true,
    permissions: { dynamodb: [], cognito: [] },
  };
  const spec: OperationSpec = {
    operationId: "deleteThing",
    summary: "Delete a thing",
    description: "Deletes it.",
    tags: ["users"],
    pathParameters: { thing_id: { schema: z.string().check(z.minLength(3)), description: "The thing." } },
    requestHeaders: {
      "Idempotency-Key": { schema: z.string().check(z.maxLength(255)), description: "A key.", required: false },
    },
    responses: { 204: { description: "Deleted." } },
    errors: { 404: ["handle_not_found"], 429: ["cannot_message_self"] },
    errorHeaders: { 404: ["retry-after"] },
  };

  it("documents a new route from the route table and its operation alone", () => {
    const built = buildOpenApiDocument({ routes: [route], operations: { [routeKey(route)]: spec } });
    const operation = at(built, "paths", "/api/things/{thing_id}", "delete");
    expect(at(operation, "parameters")).toEqual([
      {
        name: "thing_id",
        in: "path",
        required: true,
        description: "The thing.",
        schema: { type: "string", minLength: 3 },
      },
      {
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description: "A key.",
        schema: { type: "string", maxLength: 255 },
      },
    ]);
    expect(at(operation, "responses", "204", "content")).toBeUndefined();
    expect(keysAt(operation, "responses")).toEqual(["204", "401", "404", "413", "429", "500"]);
    expect(codesOf(at(operation, "responses", "429", "content", "application/json", "schema"))).toEqual([
      "cannot_message_self",
      "throttled",
    ]);
    expect(keysAt(operation, "responses", "404", "headers")).toEqual([
      "cache-control",
      "x-content-type-options",
      "retry-after",
    ]);
    expect(at(built, "info", "description")).toContain("methods DELETE,OPTIONS");
  });

  it("refuses a route without an operation, an operation without a route, and mismatched path parameters", () => {
    expect(() => buildOpenApiDocument({ routes: [route], operations: {} })).toThrow(
      /no operation for route\(s\) DELETE/,
    );
    expect(() => buildOpenApiDocument({ routes: [], operations: { [routeKey(route)]: spec } })).toThrow(/of no route/);
    const wrong = { ...spec, pathParameters: { id: { schema: z.string(), description: "x" } } };
    expect(() => buildOpenApiDocument({ routes: [route], operations: { [routeKey(route)]: wrong } })).toThrow(
      /path parameters/,
    );
  });

  it("refuses an unnamed body schema and an undescribed query parameter", () => {
    const unnamed = { ...spec, body: { schema: z.object({ a: z.string() }), description: "x" } };
    expect(() => buildOpenApiDocument({ routes: [route], operations: { [routeKey(route)]: unnamed } })).toThrow(
      /not in COMPONENT_SCHEMAS/,
    );
    const query = { ...spec, query: { schema: z.object({ q: z.string() }), descriptions: {} } };
    expect(() => buildOpenApiDocument({ routes: [route], operations: { [routeKey(route)]: query } })).toThrow(
      /query parameter q has no description/,
    );
  });
});

describe("the AsyncAPI document", () => {
  it("is AsyncAPI 3.0 with the users channel and one message per event", () => {
    expect(at(asyncDoc, "asyncapi")).toBe("3.0.0");
    expect(at(asyncDoc, "channels", "userChannel", "address")).toBe(`/${EVENTS_NAMESPACE}/{userUuid}`);
    const names = Object.values(at(asyncDoc, "components", "messages") as object).map((m) => at(m, "name"));
    expect(names).toEqual(REALTIME_EVENTS.map((e) => e.type));
    expect(at(asyncDoc, "servers", "local", "variables", "port", "default")).toBe(String(DEFAULT_PORTS.events));
    expect(LOCAL_EVENTS_PORT).toBe(String(DEFAULT_PORTS.events));
  });

  it("accepts the events the publisher builds, and no other field", () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const events = [
      ["MessageNewEvent", messageNewEvent(uuidB, message)],
      [
        "MessageGroupReadEvent",
        messageGroupReadEvent(uuidB, {
          user_uuid: uuidA,
          last_read_at: "2026-11-21T14:05:09.123Z",
          last_read_message_uuid: uuidA,
        }),
      ],
    ] as const;
    for (const [id, event] of events) {
      const validate = ajv.compile(at(asyncDoc, "components", "schemas", id) as object);
      expect(validate(JSON.parse(JSON.stringify(event))), id).toBe(true);
      expect(validate({ ...event, extra: 1 }), id).toBe(false);
    }
  });
});
