/**
 * The contract check of the e2e and reliability tiers (`test/support/contract.ts`): what it lets
 * through and what it reports, on answers made up here.
 */
import { describe, expect, it } from "vitest";
import type { AnsweredRequest } from "../../local/http-api";
import { API_DOCUMENT_PATHS, buildAsyncApiDocument, buildOpenApiDocument } from "../../shared/openapi";
import { ContractCheck, recordAnswer, takeContractViolations } from "../support/contract";

const check = new ContractCheck();
const uuid = "0b6e1a52-5d7e-4a55-9d0b-3c0c2b8e7a14";
const view = {
  uuid,
  user_uuid: uuid,
  display_name: "Bayko",
  handle: "bayko",
  message: "hi",
  created_at: "2026-11-21T14:05:09.123Z",
};
const HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

function answer(
  routeKey: string | undefined,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = HEADERS,
  method = routeKey?.split(" ")[0] ?? "GET",
): AnsweredRequest {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return { method, rawPath: "/api/x", rawQueryString: "", routeKey, statusCode, headers, body: Buffer.from(text) };
}

const LIST = "GET /api/messages/{message_group_uuid}";

describe("ContractCheck", () => {
  it("passes answers the document describes", () => {
    expect(check.problems(answer(LIST, 200, [view]))).toEqual([]);
    expect(check.problems(answer(LIST, 200, [view], { ...HEADERS, "x-next-cursor": "abc_-1" }))).toEqual([]);
    expect(check.problems(answer(LIST, 400, ["limit_invalid", "cursor_invalid"]))).toEqual([]);
    const limits = {
      "ratelimit-policy": '"messages";q=10;w=20, "new_groups";q=10;w=3600',
      ratelimit: '"messages";r=9;t=2',
    };
    const posted = { ...view, message_group_uuid: uuid };
    expect(check.problems(answer("POST /api/messages", 200, posted, { ...HEADERS, ...limits }))).toEqual([]);
    expect(check.problems(answer("POST /api/messages", 200, posted))).toEqual([
      expect.stringMatching(/header ratelimit-policy is required and absent/),
      expect.stringMatching(/header ratelimit is required and absent/),
    ]);
    expect(check.problems(answer("DELETE /api/users/{handle}/block", 204, undefined, {}))).toEqual([
      expect.stringMatching(/cache-control is required/),
      expect.stringMatching(/x-content-type-options is required/),
    ]);
    expect(
      check.problems(
        answer(
          "GET /api/users/{handle}/short",
          200,
          { uuid, handle: "b", display_name: "B" },
          {
            ...HEADERS,
            "cache-control": "public, max-age=30",
          },
        ),
      ),
    ).toEqual([]);
    // API Gateway's own answers in the cloud: a fixed text, no headers.
    expect(
      check.problems(answer(LIST, 401, { message: "Unauthorized" }, { "content-type": "application/json" })),
    ).toEqual([]);
    expect(check.problems(answer(LIST, 429, ["throttled"], { ...HEADERS, "retry-after": "1" }))).toEqual([]);
  });

  it("reports a field the document lacks, and a missing one", () => {
    const [extra] = check.problems(answer(LIST, 200, [{ ...view, pk: "MSG#x" }]));
    expect(extra).toMatch(/body\/0 must NOT have additional properties \(pk\)/);
    const { handle: _h, ...missing } = view;
    expect(check.problems(answer(LIST, 200, [missing]))[0]).toMatch(/must have required property 'handle'/);
  });

  it("reports a status the operation does not list, and a code its status does not list", () => {
    expect(check.problems(answer(LIST, 422, ["message_blank"]))[0]).toMatch(
      /status 422 is not in the document \(it lists 200, 400, 401, 404, 413, 429, 500\)/,
    );
    expect(check.problems(answer(LIST, 404, ["user_not_found"]))[0]).toMatch(
      /body\/0 must be equal to one of the allowed values/,
    );
    expect(check.problems(answer(LIST, 400, []))[0]).toMatch(/must NOT have fewer than 1 items/);
    expect(check.problems(answer("GET /api/users/{handle}/short", 401, ["unauthorized"]))[0]).toMatch(/status 401/);
  });

  it("reports headers: a required one absent, a value its schema refuses", () => {
    const problems = check.problems(
      answer(LIST, 200, [view], { "content-type": "application/json", "x-next-cursor": "a b" }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/header cache-control is required and absent/),
      expect.stringMatching(/header x-content-type-options is required and absent/),
      expect.stringMatching(/header x-next-cursor: "a b": x-next-cursor must match pattern/),
    ]);
  });

  it("reports a body that is not JSON, of another type, or where none is documented", () => {
    expect(check.problems(answer(LIST, 200, "[oops"))[0]).toMatch(/the body is not JSON/);
    expect(check.problems(answer(LIST, 200, "[]", { ...HEADERS, "content-type": "text/plain" }))[0]).toMatch(
      /content-type "text\/plain"/,
    );
    expect(check.problems(answer(undefined, 204, "x", {}, "OPTIONS"))[0]).toMatch(/a body where the document has none/);
  });

  it("checks the answers of no route: preflights, 404 route_not_found, the served documents", () => {
    expect(check.problems(answer(undefined, 204, undefined, { "access-control-max-age": "600" }, "OPTIONS"))).toEqual(
      [],
    );
    expect(check.problems(answer(undefined, 404, ["route_not_found"], HEADERS, "PUT"))).toEqual([]);
    expect(check.problems(answer(undefined, 404, ["message_group_not_found"], HEADERS, "PUT"))).toHaveLength(1);
    expect(check.problems(answer(undefined, 405, ["route_not_found"], HEADERS, "PUT"))[0]).toMatch(/status 405/);
    const served = (path: string, body: unknown) => ({ ...answer(undefined, 200, body), rawPath: path });
    expect(check.problems(served(API_DOCUMENT_PATHS.openapi, buildOpenApiDocument()))).toEqual([]);
    expect(check.problems(served(API_DOCUMENT_PATHS.asyncapi, buildAsyncApiDocument()))).toEqual([]);
    expect(check.problems(served(API_DOCUMENT_PATHS.openapi, { openapi: "3.1.1" }))[0]).toMatch(
      /not the generated document/,
    );
  });

  it("reports a route the document does not have", () => {
    expect(check.problems(answer("DELETE /api/users/me", 204, undefined))[0]).toMatch(
      /route DELETE \/api\/users\/me is not in the document/,
    );
    expect(check.problems(answer("DELETE /api/nowhere/{x}", 204, undefined))[0]).toMatch(/is not in the document/);
  });
});

describe("recordAnswer", () => {
  it("records what is wrong until taken, and never throws", () => {
    takeContractViolations();
    recordAnswer(answer(LIST, 200, [view]));
    expect(takeContractViolations()).toEqual([]);
    recordAnswer(answer(LIST, 418, ["x"]));
    recordAnswer({ ...answer(LIST, 200, [view]), headers: undefined as never });
    const taken = takeContractViolations();
    expect(taken).toEqual([expect.stringMatching(/status 418/), expect.stringMatching(/contract check failed on GET/)]);
    expect(takeContractViolations()).toEqual([]);
  });
});
