import { describe, expect, it } from "vitest";
import {
  authorizerClaims,
  bearerToken,
  buildHttpApiEvent,
  formatRequestTime,
  type HttpApiRequest,
} from "../../local/api-event";

const request = (overrides: Partial<HttpApiRequest> = {}): HttpApiRequest => ({
  method: "GET",
  rawPath: "/api/messages/3f1c0d0e-8a5b-4c1e-9f6a-2b7d4e5f6a7b",
  rawQueryString: "limit=5&cursor=abc",
  headers: {
    host: ["localhost:4567"],
    "user-agent": ["curl/8.0"],
    authorization: ["Bearer t"],
    accept: ["text/plain", "application/json"],
    cookie: ["a=1; b=2"],
  },
  body: undefined,
  sourceIp: "127.0.0.1",
  protocol: "HTTP/1.1",
  port: 4567,
  ...overrides,
});

const context = {
  routeKey: "GET /api/messages/{message_group_uuid}",
  pathParameters: { message_group_uuid: "3f1c0d0e-8a5b-4c1e-9f6a-2b7d4e5f6a7b" },
  claims: {
    sub: "u-1",
    username: "andrewbrown",
    token_use: "access",
    client_id: "c-1",
    scope: "aws.cognito.signin.user.admin",
    exp: 1_800_000_000,
    iat: 1_799_996_400,
  },
  requestId: "8c2b6f1e-1d2c-4b3a-9e8f-7a6b5c4d3e2f",
  timeEpochMs: Date.UTC(2026, 10, 21, 14, 5, 9, 123),
};

describe("buildHttpApiEvent (payload format 2.0)", () => {
  const event = buildHttpApiEvent(request(), context);

  it("carries the route, raw path and query like API Gateway", () => {
    expect(event.version).toBe("2.0");
    expect(event.routeKey).toBe("GET /api/messages/{message_group_uuid}");
    expect(event.rawPath).toBe("/api/messages/3f1c0d0e-8a5b-4c1e-9f6a-2b7d4e5f6a7b");
    expect(event.rawQueryString).toBe("limit=5&cursor=abc");
    expect(event.queryStringParameters).toEqual({ limit: "5", cursor: "abc" });
    expect(event.pathParameters).toEqual(context.pathParameters);
    expect(event.isBase64Encoded).toBe(false);
    expect(event).not.toHaveProperty("body");
  });

  it("joins repeated headers with commas and moves cookies out of the headers", () => {
    expect(event.headers.accept).toBe("text/plain,application/json");
    expect(event.headers).not.toHaveProperty("cookie");
    expect(event.cookies).toEqual(["a=1", "b=2"]);
    expect(event.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(event.headers["x-forwarded-port"]).toBe("4567");
  });

  it("fills the request context, with the JWT claims as strings", () => {
    const rc = event.requestContext;
    expect(rc).toMatchObject({
      domainName: "localhost:4567",
      domainPrefix: "localhost",
      http: { method: "GET", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl/8.0" },
      requestId: context.requestId,
      routeKey: context.routeKey,
      stage: "$default",
      time: "21/Nov/2026:14:05:09 +0000",
      timeEpoch: context.timeEpochMs,
    });
    expect(rc.http.path).toBe(event.rawPath);
    expect(rc.authorizer.jwt.claims).toMatchObject({ sub: "u-1", exp: "1800000000", token_use: "access" });
    expect(rc.authorizer.jwt.scopes).toEqual(["aws.cognito.signin.user.admin"]);
  });

  it("omits the query and path parameters when there are none and keeps a body as text", () => {
    const post = buildHttpApiEvent(
      request({ method: "POST", rawPath: "/api/messages", rawQueryString: "", body: '{"message":"hi"}' }),
      { ...context, routeKey: "POST /api/messages", pathParameters: {} },
    );
    expect(post).not.toHaveProperty("queryStringParameters");
    expect(post).not.toHaveProperty("pathParameters");
    expect(post.body).toBe('{"message":"hi"}');
  });

  it("has no requestContext.authorizer for a route without one (no claims), as API Gateway sends it", () => {
    const { claims: _, ...publicContext } = context;
    const e = buildHttpApiEvent(request({ rawPath: "/api/users/%40bayko/short", rawQueryString: "" }), {
      ...publicContext,
      routeKey: "GET /api/users/{handle}/short",
      pathParameters: { handle: "@bayko" },
    });
    expect(e.requestContext).not.toHaveProperty("authorizer");
    expect(e.requestContext).toMatchObject({ routeKey: "GET /api/users/{handle}/short", stage: "$default" });
    expect(e.pathParameters).toEqual({ handle: "@bayko" });
    // The header is passed on as is: nothing reads it without an authorizer.
    expect(e.headers.authorization).toBe("Bearer t");
  });

  it("joins repeated query parameters with commas", () => {
    const e = buildHttpApiEvent(request({ rawQueryString: "a=1&a=2&b=x%20y" }), context);
    expect(e.queryStringParameters).toEqual({ a: "1,2", b: "x y" });
  });
});

describe("authorizerClaims", () => {
  it("turns numbers, booleans, arrays and objects into strings", () => {
    expect(authorizerClaims({ n: 1, t: true, groups: ["a", "b"], o: { k: 1 }, s: "x" })).toEqual({
      n: "1",
      t: "true",
      groups: "[a b]",
      o: '{"k":1}',
      s: "x",
    });
  });
});

describe("bearerToken", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc", "abc"],
    ["Basic abc", undefined],
    ["Bearer", undefined],
    ["Bearer a b", undefined],
    [undefined, undefined],
  ])("%s -> %s", (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe("formatRequestTime", () => {
  it("pads day, hour, minute and second", () => {
    expect(formatRequestTime(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe("02/Jan/2026:03:04:05 +0000");
  });
});
