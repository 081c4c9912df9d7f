/**
 * The emulated HTTP API's own documents and its answer observer (`documents`, `onAnswer` of
 * `local/http-api.ts`), with one fake route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnsweredRequest, type HttpApi, startHttpApi } from "../../local/http-api";
import type { HttpHandler } from "../../shared/http";
import type { RouteDefinition } from "../../shared/routes";

const ROUTE: RouteDefinition = {
  method: "GET",
  path: "/api/things",
  fn: "list-things",
  pattern: "users",
  auth: false,
  permissions: { dynamodb: [], cognito: [] },
};
const handler: HttpHandler = async () => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: "[1]",
});

describe("emulated HTTP API: documents and the answer observer", () => {
  const answers: AnsweredRequest[] = [];
  const errors: string[] = [];
  let observerThrows = false;
  let api: HttpApi;

  beforeAll(async () => {
    api = await startHttpApi({
      port: 0,
      routes: [ROUTE],
      handlers: new Map([[ROUTE.fn, handler]]),
      verifyAccessToken: async () => {
        throw new Error("no tokens here");
      },
      frontendOrigin: "http://localhost:3000",
      region: "us-east-1",
      logger: {
        debug() {},
        info() {},
        warn() {},
        error(message) {
          errors.push(message);
        },
      },
      documents: { "/api/doc.json": { openapi: "3.1.1", info: { title: "t" } } },
      onAnswer: (answer) => {
        answers.push(answer);
        if (observerThrows) throw new Error("observer bug");
      },
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it("serves a document on GET with no token, with the headers of its own answers", async () => {
    const response = await fetch(`${api.url}/api/doc.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ openapi: "3.1.1", info: { title: "t" } });
    expect((await fetch(`${api.url}/api/doc.json`, { method: "POST" })).status).toBe(404);
  });

  it("shows the observer every answer as written, before the client reads it", async () => {
    answers.length = 0;
    const response = await fetch(`${api.url}/api/things?x=1`);
    expect(await response.text()).toBe("[1]");
    await fetch(`${api.url}/api/nope`, { method: "PUT" });
    expect(answers.map((a) => [a.method, a.rawPath, a.rawQueryString, a.routeKey, a.statusCode])).toEqual([
      ["GET", "/api/things", "x=1", "GET /api/things", 200],
      ["PUT", "/api/nope", "", undefined, 404],
    ]);
    const [first] = answers as [AnsweredRequest];
    expect(first.body.toString()).toBe("[1]");
    expect(first.headers).toMatchObject({
      "content-type": "application/json",
      "access-control-allow-origin": "http://localhost:3000",
    });
    expect(first.headers["apigw-requestid"]).toBe(response.headers.get("apigw-requestid"));
  });

  it("answers all the same when the observer throws, and logs it", async () => {
    observerThrows = true;
    try {
      const response = await fetch(`${api.url}/api/things`);
      expect([response.status, await response.text()]).toEqual([200, "[1]"]);
      expect(errors).toContain("http api answer observer failed");
    } finally {
      observerThrows = false;
    }
  });
});
