import { setImmediate } from "node:timers/promises";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerOfResult, type HttpApi, matchPath, resolveRoute, startHttpApi } from "../../local/http-api";
import type { HttpEvent, HttpHandler } from "../../shared/http";
import { ROUTES } from "../../shared/routes";

const GROUP = "3f1c0d0e-8a5b-4c1e-9f6a-2b7d4e5f6a7b";

describe("matchPath", () => {
  it("matches whole-segment parameters and decodes them", () => {
    expect(matchPath("/api/users/{handle}/short", "/api/users/%40bayko/short")).toEqual({ handle: "@bayko" });
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/abc")).toEqual({ message_group_uuid: "abc" });
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/")).toBeUndefined();
    expect(matchPath("/api/messages/{message_group_uuid}", "/api/messages/a/b")).toBeUndefined();
    expect(matchPath("/api/users/{handle}/short", "/api/users/%E0%A4%A/short")).toBeUndefined();
    expect(matchPath("/api/message_groups", "/api/message_groups")).toEqual({});
  });
});

describe("resolveRoute", () => {
  it.each([
    ["GET", "/api/message_groups", "GET /api/message_groups", {}],
    ["GET", `/api/messages/${GROUP}`, "GET /api/messages/{message_group_uuid}", { message_group_uuid: GROUP }],
    ["POST", "/api/messages", "POST /api/messages", {}],
    ["GET", "/api/users/%40bayko/short", "GET /api/users/{handle}/short", { handle: "@bayko" }],
    ["PATCH", "/api/users/me", "PATCH /api/users/me", {}],
  ])("%s %s -> %s", (method, path, routeKey, pathParameters) => {
    expect(resolveRoute(ROUTES, method, path)).toMatchObject({ routeKey, pathParameters });
  });

  it.each([
    ["POST", "/api/message_groups"],
    ["GET", "/api/messages"],
    ["GET", "/api/nope"],
    ["GET", "/api/messages/"],
    ["POST", "/api/users/me"],
  ])("%s %s -> no route", (method, path) => {
    expect(resolveRoute(ROUTES, method, path)).toBeUndefined();
  });
});

describe("answerOfResult", () => {
  it("writes a structured result as is, with cookies and a base64 body decoded", () => {
    const answer = answerOfResult({
      statusCode: 201,
      headers: { "X-Next-Cursor": "c" },
      cookies: ["a=1"],
      body: Buffer.from("hi").toString("base64"),
      isBase64Encoded: true,
    });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers).toEqual({ "x-next-cursor": "c", "set-cookie": ["a=1"] });
    expect(answer.body.toString()).toBe("hi");
  });

  it("infers a 200 JSON answer for a result without statusCode, as API Gateway does", () => {
    expect(answerOfResult("plain")).toMatchObject({ statusCode: 200, body: Buffer.from("plain") });
    const inferred = answerOfResult({ body: "x" });
    expect(inferred.statusCode).toBe(200);
    expect(JSON.parse(inferred.body.toString())).toEqual({ body: "x" });
  });
});

describe("emulated HTTP API with fake handlers", () => {
  const ORIGIN = "http://localhost:3000";
  const events: HttpEvent[] = [];
  const echo: HttpHandler = async (event) => {
    events.push(event);
    return { statusCode: 200, headers: { "content-type": "application/json", "x-next-cursor": "next" }, body: "[]" };
  };
  /** Echoes, except for the body `boom`, on which it throws. */
  const echoOrThrow: HttpHandler = async (event) => {
    if (event.body === "boom") throw new Error("secret internal detail");
    return echo(event, {} as never);
  };
  const verified: string[] = [];
  const verify = async (token: string): Promise<JwtPayload> => {
    verified.push(token);
    if (token !== "good") throw new Error("bad token");
    return { sub: "u-1", username: "andrewbrown", token_use: "access", exp: 2_000_000_000 };
  };
  let api: HttpApi;

  beforeAll(async () => {
    api = await startHttpApi({
      port: 0,
      routes: ROUTES,
      handlers: new Map<string, HttpHandler>([
        ["list-message-groups", echo],
        ["list-messages", echo],
        ["create-message", echo],
        ["get-user-short", echo],
        ["update-profile", echoOrThrow],
        ["mark-read", echo],
        ["block-user", echo],
        ["unblock-user", echo],
        ["list-blocks", echo],
      ]),
      verifyAccessToken: verify,
      frontendOrigin: ORIGIN,
      region: "us-east-1",
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      maxBodyBytes: 1024,
    });
  });
  afterAll(async () => {
    await api.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${api.url}${path}`, init);
  const auth = { authorization: "Bearer good" };

  it("invokes the route's handler with a payload 2.0 event and adds the CORS headers", async () => {
    const response = await call(`/api/messages/${GROUP}?limit=3`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-expose-headers")).toBe(
      "x-next-cursor,RateLimit,RateLimit-Policy,Retry-After",
    );
    expect(response.headers.get("x-next-cursor")).toBe("next");
    const event = events.at(-1) as HttpEvent;
    expect(event.routeKey).toBe("GET /api/messages/{message_group_uuid}");
    expect(event.pathParameters).toEqual({ message_group_uuid: GROUP });
    expect(event.queryStringParameters).toEqual({ limit: "3" });
    expect(event.requestContext.authorizer.jwt.claims).toMatchObject({ sub: "u-1", exp: "2000000000" });
  });

  it("passes a POST body as text", async () => {
    await call("/api/messages", { method: "POST", headers: auth, body: '{"message":"hi"}' });
    expect(events.at(-1)?.body).toBe('{"message":"hi"}');
  });

  it.each([
    ["no token", {}],
    ["a rejected token", { authorization: "Bearer bad" }],
    ["another scheme", { authorization: "Basic good" }],
  ])("answers 401 unauthorized for %s", async (_, headers) => {
    const response = await call("/api/message_groups", { headers });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(["unauthorized"]);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  it.each([
    ["an unknown path", "GET", "/api/nope"],
    ["a known path with another method", "POST", "/api/message_groups"],
  ])("answers 404 route_not_found for %s, before authorization", async (_, method, path) => {
    const response = await call(path, { method });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(["route_not_found"]);
  });

  it("answers 413 payload_too_large for a body over the limit", async () => {
    const response = await call("/api/messages", { method: "POST", headers: auth, body: "x".repeat(1025) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual(["payload_too_large"]);
  });

  it("serves a route with auth: false with no token, and its event has no authorizer", async () => {
    verified.length = 0;
    const response = await call("/api/users/@bayko/short");
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const event = events.at(-1) as HttpEvent;
    expect(event.routeKey).toBe("GET /api/users/{handle}/short");
    expect(event.pathParameters).toEqual({ handle: "@bayko" });
    expect(event.requestContext).not.toHaveProperty("authorizer");
    expect(verified).toEqual([]);
  });

  it("passes on, unverified, a token sent to a route with auth: false (no authorizer reads it)", async () => {
    verified.length = 0;
    const response = await call("/api/users/@bayko/short", { headers: { authorization: "Bearer bad" } });
    expect(response.status).toBe(200);
    const event = events.at(-1) as HttpEvent;
    expect(event.headers.authorization).toBe("Bearer bad");
    expect(event.requestContext).not.toHaveProperty("authorizer");
    expect(verified).toEqual([]);
  });

  it("keeps verifying the token of every route with auth: true", async () => {
    for (const route of ROUTES.filter((r) => r.auth)) {
      const path = route.path.replace("{message_group_uuid}", GROUP);
      const response = await call(path, { method: route.method });
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
    }
  });

  it("serves PATCH with its body and the authorizer's claims", async () => {
    const body = '{"display_name":"Andrew"}';
    const response = await call("/api/users/me", { method: "PATCH", headers: auth, body });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const event = events.at(-1) as HttpEvent;
    expect(event.routeKey).toBe("PATCH /api/users/me");
    expect(event.requestContext.http.method).toBe("PATCH");
    expect(event.body).toBe(body);
    expect(event.requestContext.authorizer.jwt.claims).toMatchObject({ sub: "u-1", username: "andrewbrown" });
  });

  it("answers 500 internal_error without the error when a handler throws", async () => {
    const response = await call("/api/users/me", { method: "PATCH", headers: auth, body: "boom" });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual(["internal_error"]);
    expect(text).not.toContain("secret");
  });

  it("answers a preflight of PATCH, as the frontend's browser sends it before PATCH /api/users/me", async () => {
    const response = await call("/api/users/me", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "PATCH" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-methods")?.split(",")).toContain("PATCH");
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  it("answers CORS preflights with 204 and no authorization", async () => {
    const response = await call("/api/messages", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-methods")).toBe("GET,POST,PATCH,DELETE,OPTIONS");
    expect(response.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type,Idempotency-Key");
    expect(response.headers.get("access-control-max-age")).toMatch(/^\d+$/);
  });
});

describe("emulated HTTP API: headers of its own answers", () => {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  let api: HttpApi;
  beforeAll(async () => {
    const handler: HttpHandler = async (event) => {
      if (event.body === "boom") throw new Error("boom");
      return { statusCode: 200, headers: { "cache-control": "public, max-age=30" }, body: "{}" };
    };
    api = await startHttpApi({
      port: 0,
      routes: ROUTES,
      handlers: new Map(ROUTES.map((r) => [r.fn, handler])),
      verifyAccessToken: async (token) => {
        if (token !== "good") throw new Error("bad token");
        return { sub: "u-1", username: "andrewbrown", token_use: "access", exp: 2_000_000_000 };
      },
      frontendOrigin: "http://localhost:3000",
      region: "us-east-1",
      logger,
      maxBodyBytes: 16,
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it.each<[string, string, string, RequestInit, number]>([
    ["401 of a route with auth", "GET", "/api/message_groups", {}, 401],
    ["404 of no route", "GET", "/nowhere", {}, 404],
    ["404 of a known path with another method (an HTTP API has no 405)", "PUT", "/api/message_groups", {}, 404],
    ["413 of a body over the limit", "POST", "/api/messages", { body: "x".repeat(17) }, 413],
    [
      "500 of a handler that throws",
      "PATCH",
      "/api/users/me",
      { headers: { authorization: "Bearer good" }, body: "boom" },
      500,
    ],
    [
      "204 of a CORS preflight",
      "OPTIONS",
      "/api/messages",
      { headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" } },
      204,
    ],
  ])("%s: nosniff and no-store", async (_, method, path, init, status) => {
    const response = await fetch(`${api.url}${path}`, { method, ...init });
    expect(response.status).toBe(status);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("passes a handler's own headers on, as API Gateway does with a Lambda's", async () => {
    const response = await fetch(`${api.url}/api/users/@x/short`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=30");
  });
});

describe("startHttpApi", () => {
  it("refuses to start when a route has no handler", async () => {
    await expect(
      startHttpApi({
        port: 0,
        routes: ROUTES,
        handlers: new Map(),
        verifyAccessToken: async () => ({}),
        frontendOrigin: "http://localhost:3000",
        region: "us-east-1",
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }),
    ).rejects.toThrow(/no handler for list-message-groups/);
  });
});

describe("requests in flight", () => {
  /** An API whose create-message handler waits for `release()`, then records that it ran. */
  async function gatedApi() {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const written: string[] = [];
    const started: string[] = [];
    const gated: HttpHandler = async (event) => {
      started.push(event.requestContext.requestId);
      await gate;
      written.push(event.body ?? "");
      return { statusCode: 200, body: "{}" };
    };
    const api = await startHttpApi({
      port: 0,
      routes: ROUTES,
      handlers: new Map<string, HttpHandler>(ROUTES.map((r) => [r.fn, gated])),
      verifyAccessToken: async () => ({ sub: "u-1", token_use: "access" }),
      frontendOrigin: "http://localhost:3000",
      region: "us-east-1",
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const post = (signal?: AbortSignal) =>
      fetch(`${api.url}/api/messages`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: '{"message":"hi"}',
        ...(signal === undefined ? {} : { signal }),
      });
    const handlerStarted = async () => {
      while (started.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    return { api, release, written, post, handlerStarted };
  }

  it("idle() waits for a handler whose client hung up, so its write is seen", async () => {
    const { api, release, written, post, handlerStarted } = await gatedApi();
    try {
      const abort = new AbortController();
      const answer = post(abort.signal).catch(() => "aborted");
      await handlerStarted();
      abort.abort();
      expect(await answer).toBe("aborted");
      expect(api.inFlight).toBe(1);
      let idle = false;
      const idled = api.idle().then(() => (idle = true));
      // Nothing but release() can settle the handler: once the event loop has turned, idle() must still wait.
      await setImmediate();
      expect(idle).toBe(false);
      release();
      await idled;
      expect(written).toEqual(['{"message":"hi"}']);
      expect(api.inFlight).toBe(0);
    } finally {
      release();
      await api.close();
    }
  });

  it("close() lets the answer in flight finish, then refuses new connections", async () => {
    const { api, release, post, handlerStarted } = await gatedApi();
    const answer = post();
    await handlerStarted();
    const closed = api.close();
    release();
    expect((await answer).status).toBe(200);
    await closed;
    await expect(post()).rejects.toThrow();
  });
});
