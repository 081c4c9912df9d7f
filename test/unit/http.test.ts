import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { NEXT_CURSOR_HEADER, PUBLIC_CACHE_SECONDS, responseHeaders } from "../../shared/api-contract";
import { AppError } from "../../shared/errors";
import { callerClaims, type HttpEvent, httpHandler, json, pageResponse } from "../../shared/http";

const logger = new Logger({ logLevel: "SILENT" });
const context = { awsRequestId: "r1", functionName: "f" } as Context;

function event(claims: Record<string, string> | undefined): HttpEvent {
  return {
    routeKey: "GET /x",
    requestContext: { requestId: "q1", authorizer: claims === undefined ? undefined : { jwt: { claims, scopes: [] } } },
  } as unknown as HttpEvent;
}

const access = { sub: "u-1", username: "bayko", token_use: "access" };

describe("httpHandler", () => {
  it("answers an AppError with its status and codes", async () => {
    const h = httpHandler(logger, async () => {
      throw new AppError(422, ["message_blank", "handle_invalid"]);
    });
    const result = await h(event(access), context);
    expect(result.statusCode).toBe(422);
    expect(JSON.parse(result.body ?? "")).toEqual(["message_blank", "handle_invalid"]);
  });

  it("answers throttling with 429 and a retry-after", async () => {
    const h = httpHandler(logger, async () => {
      throw Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" });
    });
    const result = await h(event(access), context);
    expect([result.statusCode, JSON.parse(result.body ?? ""), result.headers?.["retry-after"]]).toEqual([
      429,
      ["throttled"],
      "1",
    ]);
  });

  it("answers anything else with 500 and nothing of the error", async () => {
    const secret = "ResourceNotFoundException: arn:aws:dynamodb:eu-west-1:123456789012:table/x at Object.send";
    const h = httpHandler(logger, async () => {
      throw new Error(secret);
    });
    const result = await h(event(access), context);
    expect(result.statusCode).toBe(500);
    expect(result.body).toBe('["internal_error"]');
  });

  it("passes a route's answer through, with the headers of every answer", async () => {
    const h = httpHandler(logger, async () => json(200, { ok: true }));
    expect(await h(event(access), context)).toEqual({
      statusCode: 200,
      headers: { "content-type": "application/json", "x-content-type-options": "nosniff", "cache-control": "no-store" },
      body: '{"ok":true}',
    });
  });
});

describe("httpHandler's log keys", () => {
  it("drops the request's keys after answering and keeps the service and the Lambda context", async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const logged = new Logger({ serviceName: "svc", logLevel: "INFO" });
      const h = httpHandler(logged, async () => {
        logged.appendKeys({ message_group_uuid: "g1" });
        return json(200, {});
      });
      await h(event(access), context);
      logged.info("after");
    } finally {
      write.mockRestore();
    }
    const records = lines.flatMap((l) => l.split("\n")).filter((l) => l.startsWith("{"));
    const logs = records.map((l) => JSON.parse(l) as Record<string, unknown>);
    const lambda = { service: "svc", function_request_id: "r1", function_name: "f" };
    expect(logs.find((l) => l.message === "request")).toMatchObject({
      ...lambda,
      api_request_id: "q1",
      route: "GET /x",
      message_group_uuid: "g1",
    });
    const after = logs.find((l) => l.message === "after");
    expect(after).toMatchObject(lambda);
    for (const key of ["api_request_id", "route", "message_group_uuid"]) expect(after).not.toHaveProperty(key);
  });
});

describe("callerClaims", () => {
  it("reads sub and username of an access token", () => {
    expect(callerClaims(event(access))).toEqual({ sub: "u-1", username: "bayko" });
  });

  it.each([
    ["no authorizer", undefined],
    ["an ID token", { ...access, token_use: "id" }],
    ["no sub", { username: "bayko", token_use: "access" }],
  ])("refuses %s with 401", (_, claims) => {
    expect(() => callerClaims(event(claims))).toThrow(AppError);
  });
});

describe("pageResponse", () => {
  it("keeps the body an array and puts the cursor in a header", () => {
    expect(pageResponse({ items: [1, 2], cursor: "c" })).toMatchObject({
      body: "[1,2]",
      headers: { [NEXT_CURSOR_HEADER]: "c" },
    });
    expect(pageResponse({ items: [], cursor: undefined }).headers).not.toHaveProperty(NEXT_CURSOR_HEADER);
  });
});

describe("responseHeaders", () => {
  it("turns content sniffing off on every answer", () => {
    for (const statusCode of [200, 204, 400, 401, 404, 413, 429, 500]) {
      for (const publicRoute of [true, false]) {
        expect(responseHeaders({ statusCode, publicRoute })["x-content-type-options"]).toBe("nosniff");
      }
    }
  });

  it("lets only a 2xx of a public route be cached, for PUBLIC_CACHE_SECONDS", () => {
    expect(PUBLIC_CACHE_SECONDS).toBe(30);
    expect(responseHeaders({ statusCode: 200, publicRoute: true })["cache-control"]).toBe("public, max-age=30");
    for (const statusCode of [301, 304, 400, 404, 429, 500]) {
      expect(responseHeaders({ statusCode, publicRoute: true })["cache-control"], String(statusCode)).toBe("no-store");
    }
    for (const statusCode of [200, 201, 204, 401, 404, 500]) {
      expect(responseHeaders({ statusCode, publicRoute: false })["cache-control"], String(statusCode)).toBe("no-store");
    }
  });
});

describe("httpHandler's headers", () => {
  const answers: [string, () => Promise<ReturnType<typeof json>>][] = [
    ["a 200", async () => json(200, [], { "cache-control": "public, max-age=3600", "x-next-cursor": "c" })],
    [
      "an AppError",
      async () => {
        throw new AppError(404, ["message_group_not_found"]);
      },
    ],
    [
      "throttling",
      async () => {
        throw Object.assign(new Error("slow"), { name: "ThrottlingException" });
      },
    ],
    [
      "a crash",
      async () => {
        throw new Error("boom");
      },
    ],
  ];

  it.each(answers)(
    "an authenticated route answers %s with nosniff and no-store, over any cache-control it set",
    async (_, route) => {
      const result = await httpHandler(logger, route)(event(access), context);
      expect(result.headers?.["x-content-type-options"]).toBe("nosniff");
      expect(result.headers?.["cache-control"]).toBe("no-store");
    },
  );

  it("a public route's 200 is cacheable for a short time, its errors are not", async () => {
    const found = await httpHandler(logger, async () => json(200, {}), { publicRoute: true })(
      event(undefined),
      context,
    );
    expect(found.headers).toMatchObject({ "x-content-type-options": "nosniff", "cache-control": "public, max-age=30" });
    const missing = await httpHandler(
      logger,
      async () => {
        throw new AppError(404, ["user_not_found"]);
      },
      { publicRoute: true },
    )(event(undefined), context);
    expect(missing.headers).toMatchObject({ "x-content-type-options": "nosniff", "cache-control": "no-store" });
  });

  it("keeps the route's other headers", async () => {
    const result = await httpHandler(logger, async () => json(200, [], { "x-next-cursor": "c" }))(
      event(access),
      context,
    );
    expect(result.headers).toMatchObject({ "content-type": "application/json", "x-next-cursor": "c" });
  });
});
