/**
 * The API documents, generated from the code, never written by hand:
 * - {@link buildOpenApiDocument}: OpenAPI 3.1 of the HTTP API, from the route table
 *   (`shared/routes.ts`: methods, paths, auth) and the contract data of `shared/api-schemas.ts`
 *   (zod schemas of the bodies, turned into JSON Schema 2020-12 by zod's `toJSONSchema`; the
 *   parameters; every error code per status);
 * - {@link buildAsyncApiDocument}: AsyncAPI 3.0 of the real-time channels and events (AWS AppSync
 *   Events, `shared/realtime.ts`), a document of its own.
 *
 * `npm run openapi` writes both to docs/ (`bin/openapi.ts`; CI lints them with Redocly CLI and
 * fails when the committed copies are stale); the local stack serves them at
 * {@link API_DOCUMENT_PATHS}; the end-to-end and reliability suites check every answer of the
 * local API against the OpenAPI one (`test/support/contract.ts`). Both builders are pure and
 * deterministic: the same code gives the same bytes.
 */
import * as z from "zod/mini";
import { CORS } from "./api-contract";
import {
  API_VERSION,
  COMMON_ERRORS,
  COMPONENT_SCHEMAS,
  ERROR_CODES,
  type ErrorCode,
  EVERY_ANSWER_HEADERS,
  type JsonSchema,
  NO_ROUTE_ERROR,
  OPERATIONS,
  type OperationSpec,
  REALTIME_EVENTS,
  REQUEST_SCHEMA_RULES,
  RESPONSE_HEADERS,
  type ResponseHeaderName,
} from "./api-schemas";
import { EVENTS_NAMESPACE } from "./realtime";
import { ROUTES, type RouteDefinition } from "./routes";

/** Where the local stack serves the documents (`local/http-api.ts`); not routes of the cloud API. */
export const API_DOCUMENT_PATHS = { openapi: "/api/openapi.json", asyncapi: "/api/asyncapi.json" } as const;

/** The committed copies, relative to the repository root (`npm run openapi` writes them). */
export const API_DOCUMENT_FILES = { openapi: "docs/openapi.json", asyncapi: "docs/asyncapi.json" } as const;

/** Name of the security scheme of the Cognito access token, in both documents. */
export const SECURITY_SCHEME = "cognitoAccessToken";

/**
 * Root extension of the OpenAPI document naming the answers of requests no operation describes:
 * `OPTIONS` (a CORS preflight, any path) and `default` (any other method and path: 404).
 */
export const UNROUTED_RESPONSES_KEY = "x-unrouted-responses";

/** Default port of the local AppSync Events emulator in the AsyncAPI document (`DEFAULT_PORTS.events` of `local/settings.ts`). */
export const LOCAL_EVENTS_PORT = "4568";

/** `METHOD /path` of a route, as API Gateway and the local emulator name it. */
export const routeKey = (route: Pick<RouteDefinition, "method" | "path">): string => `${route.method} ${route.path}`;

/** The `{name}` parameters of a route path, in order. */
export const pathParameterNames = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Applies {@link REQUEST_SCHEMA_RULES} wherever a request schema appears. */
function applyRequestRules(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  const rule = REQUEST_SCHEMA_RULES.get(ctx.zodSchema as z.ZodMiniType);
  if (rule === undefined) return;
  const next = rule({ ...ctx.jsonSchema });
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, next);
}

/** Drops the keys zod adds to a root schema that a schema inside a document does not need. */
function bare(json: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = json;
  return rest;
}

/** JSON Schema of one schema (no named parts inside): a parameter. */
function jsonSchemaOf(schema: z.ZodMiniType, io: "input" | "output", target: "draft-2020-12" | "draft-07"): JsonSchema {
  return bare(z.toJSONSchema(schema, { io, target, override: applyRequestRules }) as JsonSchema);
}

/** `components.schemas`: the named schemas, each side converted with the others of its side as `$ref`s. */
function componentSchemas(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const io of ["input", "output"] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, named] of Object.entries(COMPONENT_SCHEMAS))
      if (named.io === io) registry.add(named.schema, { id });
    const { schemas } = z.toJSONSchema(registry, {
      io,
      target: "draft-2020-12",
      uri: (id) => schemaRef(id).$ref,
      override: applyRequestRules,
    }) as { schemas: Record<string, JsonSchema> };
    for (const [id, json] of Object.entries(schemas)) out[id] = bare(json);
  }
  return Object.fromEntries(Object.keys(COMPONENT_SCHEMAS).map((id) => [id, out[id] as JsonSchema]));
}

/** The name of a body schema in {@link COMPONENT_SCHEMAS}. @throws Error for an unnamed one. */
function componentName(schema: z.ZodMiniType, where: string): string {
  const entry = Object.entries(COMPONENT_SCHEMAS).find(([, named]) => named.schema === schema);
  if (entry === undefined) throw new Error(`openapi: the body of ${where} is not in COMPONENT_SCHEMAS`);
  return entry[0];
}

const jsonContent = (schema: JsonSchema) => ({ "application/json": { schema } });

function headerObjects(names: readonly ResponseHeaderName[], required: (name: ResponseHeaderName) => boolean) {
  return Object.fromEntries(
    names.map((name) => {
      const spec = RESPONSE_HEADERS[name];
      return [
        name,
        {
          description: spec.description,
          required: required(name),
          schema: jsonSchemaOf(spec.schema, "output", "draft-2020-12"),
        },
      ];
    }),
  );
}

/** The body schema of an error answer: a non-empty array of distinct codes among `codes`. */
export function errorBodySchema(codes: readonly string[]): JsonSchema {
  return { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", enum: [...codes] } };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Content too large",
  422: "Unprocessable content",
  429: "Too many requests",
  500: "Internal server error",
};

function errorDescription(status: number, codes: readonly ErrorCode[], gateway: boolean): string {
  const lines = codes.map((code) => `- \`${code}\`: ${ERROR_CODES[code]}`);
  const cloud = gateway ? ["", 'In the cloud API Gateway may answer this itself, with `{"message": "..."}`.'] : [];
  return [
    `${STATUS_TEXT[status] ?? `HTTP ${status}`}: the body is the array of the codes that apply.`,
    ...lines,
    ...cloud,
  ].join("\n");
}

/** An error answer: its codes, and whether API Gateway may give it itself (then without the headers). */
function errorResponse(
  status: number,
  codes: readonly ErrorCode[],
  gateway: boolean,
  extra: readonly ResponseHeaderName[],
) {
  const body = errorBodySchema(codes);
  return {
    description: errorDescription(status, codes, gateway),
    headers: {
      ...headerObjects(EVERY_ANSWER_HEADERS, () => !gateway),
      ...headerObjects(extra, () => false),
    },
    content: jsonContent(gateway ? { anyOf: [body, schemaRef("GatewayMessage")] } : body),
  };
}

function parameters(route: RouteDefinition, spec: OperationSpec): Record<string, unknown>[] {
  const key = routeKey(route);
  const names = pathParameterNames(route.path);
  const given = Object.keys(spec.pathParameters ?? {});
  if (names.length !== given.length || names.some((name) => !given.includes(name))) {
    throw new Error(
      `openapi: ${key}: path parameters ${JSON.stringify(given)} do not match the path's ${JSON.stringify(names)}`,
    );
  }
  const path = names.map((name) => {
    const param = spec.pathParameters?.[name] as NonNullable<OperationSpec["pathParameters"]>[string];
    return {
      name,
      in: "path",
      required: true,
      description: param.description,
      schema: jsonSchemaOf(param.schema, "input", "draft-2020-12"),
    };
  });
  const query: Record<string, unknown>[] = [];
  if (spec.query !== undefined) {
    const object = jsonSchemaOf(spec.query.schema, "input", "draft-2020-12") as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(object.properties ?? {})) {
      const description = spec.query.descriptions[name];
      if (description === undefined) throw new Error(`openapi: ${key}: query parameter ${name} has no description`);
      query.push({ name, in: "query", required: object.required?.includes(name) ?? false, description, schema });
    }
  }
  const headers = Object.entries(spec.requestHeaders ?? {}).map(([name, param]) => ({
    name,
    in: "header",
    required: param.required,
    description: param.description,
    schema: jsonSchemaOf(param.schema, "input", "draft-2020-12"),
  }));
  return [...path, ...query, ...headers];
}

/** The responses of one operation: its success answers, its errors and the common ones, by status. */
function responses(route: RouteDefinition, spec: OperationSpec): Record<string, unknown> {
  const key = routeKey(route);
  const out: Record<string, unknown> = {};
  for (const [status, success] of Object.entries(spec.responses)) {
    out[status] = {
      description: success.description,
      headers: {
        ...headerObjects(EVERY_ANSWER_HEADERS, () => true),
        ...headerObjects(success.requiredHeaders ?? [], () => true),
        ...headerObjects(success.headers ?? [], () => false),
      },
      ...(success.body === undefined
        ? {}
        : { content: jsonContent(schemaRef(componentName(success.body, `${key} ${status}`))) }),
    };
  }
  const statuses = new Set([
    ...Object.keys(spec.errors).map(Number),
    ...COMMON_ERRORS.filter((c) => c.routes === "all" || route.auth).map((c) => c.status),
  ]);
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const common = COMMON_ERRORS.find((c) => c.status === status && (c.routes === "all" || route.auth));
    const codes = [...new Set([...(spec.errors[status] ?? []), ...(common?.codes ?? [])])];
    const headers = [...new Set([...(common?.headers ?? []), ...(spec.errorHeaders?.[status] ?? [])])];
    out[String(status)] = errorResponse(status, codes, common?.gateway ?? false, headers);
  }
  return out;
}

function operation(route: RouteDefinition, spec: OperationSpec): Record<string, unknown> {
  const params = parameters(route, spec);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: [...spec.tags],
    security: route.auth ? [{ [SECURITY_SCHEME]: [] }] : [],
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(spec.body === undefined
      ? {}
      : {
          requestBody: {
            required: spec.body.required ?? true,
            description: spec.body.description,
            content: jsonContent(schemaRef(componentName(spec.body.schema, routeKey(route)))),
          },
        }),
    responses: responses(route, spec),
  };
}

/** What the document is built from: the route table and the operations (defaults: the project's). */
export interface OpenApiSources {
  routes?: readonly RouteDefinition[];
  operations?: Readonly<Record<string, OperationSpec>>;
}

/**
 * The OpenAPI 3.1 document of the HTTP API.
 * @throws Error when a route has no operation, an operation no route, path parameters do not
 *   match the path, a query parameter has no description, or a body schema is unnamed.
 */
export function buildOpenApiDocument(sources: OpenApiSources = {}): Record<string, unknown> {
  const routes = sources.routes ?? ROUTES;
  const operations = sources.operations ?? OPERATIONS;
  const keys = new Set(routes.map(routeKey));
  const missing = [...keys].filter((k) => operations[k] === undefined);
  const stale = Object.keys(operations).filter((k) => !keys.has(k));
  if (missing.length > 0)
    throw new Error(`openapi: no operation for route(s) ${missing.join(", ")} (shared/api-schemas.ts OPERATIONS)`);
  if (stale.length > 0) throw new Error(`openapi: operation(s) ${stale.join(", ")} of no route (shared/routes.ts)`);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(
      route,
      operations[routeKey(route)] as OperationSpec,
    );
  }
  const allowMethods = [...new Set(routes.map((r) => r.method)), "OPTIONS"].join(",");
  return {
    openapi: "3.1.1",
    info: {
      title: "cruddur-messages HTTP API",
      version: API_VERSION,
      summary: "Direct messages between two users: conversations, messages, public profiles, renames.",
      description: [
        "Generated from the code by `npm run openapi` (`shared/openapi.ts`): do not edit by hand.",
        "",
        "**Auth**: every operation needs `Authorization: Bearer <Cognito access token>` (an access token of the",
        "stack's user pool, not an ID token) unless its `security` is empty.",
        "",
        "**Errors**: the body of every non-2xx answer is a JSON array of snake_case codes, all that apply; each",
        "operation lists the codes each status can carry. In the cloud, answers API Gateway gives itself",
        "(its JWT authorizer's 401, its throttling's 429, 404 of no route, 413, a crashed function's 500) have",
        'the body `{"message": "..."}` instead, and none of the documented headers. Nothing is written on any error.',
        "",
        `**Paging**: the list operations take \`?limit=\` and \`?cursor=\`; the body stays the array, and the cursor of`,
        "the next older page comes in the `x-next-cursor` header (exposed by CORS).",
        "",
        `**CORS**: a preflight (\`OPTIONS\`, any path) is answered 204 by the API itself; methods ${allowMethods},`,
        `headers ${CORS.allowHeaders.join(", ")}; exposed: ${CORS.exposeHeaders.join(", ")}. A method and path of no`,
        `operation is answered 404 \`["route_not_found"]\` (an HTTP API has no 405). Both are in \`${UNROUTED_RESPONSES_KEY}\`.`,
        "",
        `**Real-time**: new messages are pushed over AWS AppSync Events, described by an AsyncAPI 3.0 document of`,
        `its own: \`${API_DOCUMENT_FILES.asyncapi}\`, served by the local stack at \`${API_DOCUMENT_PATHS.asyncapi}\`.`,
      ].join("\n"),
    },
    servers: [
      {
        url: "/",
        description: "Where this document is served: the local stack (`npm start`) at GET /api/openapi.json.",
      },
      {
        url: "https://{apiId}.execute-api.{region}.amazonaws.com",
        description: "A deployed stack (its `ApiUrl` output).",
        variables: {
          apiId: { default: "apiId", description: "The HTTP API's id." },
          region: { default: "us-east-1", description: "The AWS Region of the stack." },
        },
      },
    ],
    security: [{ [SECURITY_SCHEME]: [] }],
    tags: [
      { name: "messages", description: "Message groups (conversations) and their messages: patterns A to D." },
      { name: "users", description: "Public profiles and the caller's own profile." },
    ],
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A Cognito access token of the stack's user pool (`token_use: access`, the app client's `client_id`). " +
            "Locally: `npm run token -- <handle>`.",
        },
      },
      schemas: componentSchemas(),
    },
    [UNROUTED_RESPONSES_KEY]: {
      OPTIONS: {
        204: {
          description: "A CORS preflight, answered by the API itself for any path (no token needed).",
          headers: headerObjects(
            [
              "access-control-allow-origin",
              "access-control-allow-methods",
              "access-control-allow-headers",
              "access-control-max-age",
            ],
            () => false,
          ),
        },
      },
      default: {
        [NO_ROUTE_ERROR.status]: errorResponse(NO_ROUTE_ERROR.status, NO_ROUTE_ERROR.codes, true, []),
      },
    },
  };
}

/** The AsyncAPI 3.0 document of the real-time channels and events. */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const messageKey = (id: string) => id.charAt(0).toLowerCase() + id.slice(1);
  const security = [{ $ref: `#/components/securitySchemes/${SECURITY_SCHEME}` }];
  const messages = Object.fromEntries(
    REALTIME_EVENTS.map((event) => [
      messageKey(event.id),
      {
        name: event.type,
        title: event.type,
        summary: event.summary,
        description: event.description,
        contentType: "application/json",
        payload: schemaRef(event.id),
      },
    ]),
  );
  return {
    asyncapi: "3.0.0",
    info: {
      title: "cruddur-messages real-time events",
      version: API_VERSION,
      description: [
        "Generated from the code by `npm run openapi` (`shared/openapi.ts`): do not edit by hand.",
        "",
        "The events are pushed over AWS AppSync Events (locally, the emulator of `npm start`), WebSocket",
        "protocol `aws-appsync-event-ws`: `connection_init` / `connection_ack`, keep-alive `ka`, then one",
        '`subscribe` per channel; each event arrives in a `data` frame, `{"type":"data","id":<subscription',
        'id>,"event":"<the event as JSON text>"}`. Clients never publish: only the stack does, IAM-signed.',
        "After a reconnect, fill the gap from the HTTP API (docs/openapi.json) and drop events already seen by `id`.",
      ].join("\n"),
    },
    defaultContentType: "application/json",
    servers: {
      local: {
        host: "127.0.0.1:{port}",
        protocol: "ws",
        pathname: "/event/realtime",
        description: "The local stack's AppSync Events emulator (`events.realtimeUrl` of `.local/stack.json`).",
        variables: { port: { default: LOCAL_EVENTS_PORT, description: "The emulator's port (env EVENTS_PORT)." } },
        security,
      },
      cloud: {
        host: "{realtimeDomain}",
        protocol: "wss",
        pathname: "/event/realtime",
        description: "A deployed stack's Event API (its realtime endpoint output).",
        variables: {
          realtimeDomain: {
            default: "example.appsync-realtime-api.us-east-1.amazonaws.com",
            description: "The Event API's realtime DNS name.",
          },
        },
        security,
      },
    },
    channels: {
      userChannel: {
        address: `/${EVENTS_NAMESPACE}/{userUuid}`,
        title: "A user's channel",
        description:
          `Each user has exactly one channel, \`/${EVENTS_NAMESPACE}/<their uuid>\`, and may subscribe to it and to nothing ` +
          "else: no other user's, no wildcard, no deeper path (a refusal is a `subscribe_error` UnauthorizedException).",
        parameters: {
          userUuid: { description: "The user's uuid: the Cognito `sub`, `user_uuid` in the HTTP API's views." },
        },
        messages: Object.fromEntries(
          Object.keys(messages).map((key) => [key, { $ref: `#/components/messages/${key}` }]),
        ),
      },
    },
    operations: {
      receiveUserEvents: {
        action: "receive",
        channel: { $ref: "#/channels/userChannel" },
        summary: "The events of the caller's own channel.",
        messages: Object.keys(messages).map((key) => ({ $ref: `#/channels/userChannel/messages/${key}` })),
      },
    },
    components: {
      schemas: Object.fromEntries(REALTIME_EVENTS.map((e) => [e.id, jsonSchemaOf(e.schema, "output", "draft-07")])),
      messages,
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "httpApiKey",
          in: "header",
          name: "Authorization",
          description:
            "The user's Cognito access token (the one the HTTP API takes), as `Authorization` in the authorization " +
            'object `{"Authorization": "<token>", "host": "<http host>"}` of the connection (subprotocol ' +
            "`header-<base64url of that JSON>` next to `aws-appsync-event-ws`) and of each `subscribe`.",
        },
      },
    },
  };
}

/** A document as its committed file holds it: JSON, two-space indent, final newline. */
export function documentText(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
