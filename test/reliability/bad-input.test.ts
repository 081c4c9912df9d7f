/**
 * Suite 1, bad input, generated: over a thousand malformed requests (bodies of every JSON type
 * and none, messages up to and past 1,024 code points and bodies up to and past the 1 MiB limit,
 * any Unicode, bad path and query parameters, forged and malformed cursors, unknown routes and
 * methods, junk headers) sent by fast-check to the local HTTP API with a valid access token.
 * Every one must be answered 4xx with a JSON array of error codes, none 5xx, and a scan of the
 * table afterwards must show exactly what it showed before: nothing written.
 */
import { rm } from "node:fs/promises";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES } from "../../local/http-api";
import type { LocalStack } from "../../local/stack";
import { encodeCursor, MAX_CURSOR_LENGTH } from "../../shared/cursor";
import { UUID_PATTERN } from "../../shared/ids";
import type { MessageGroupView } from "../../shared/model";
import { ROUTES } from "../../shared/routes";
import { SEED_CONVERSATION, SEED_CONVERSATION_MEMBERS, SEED_USERS } from "../../shared/seed-data";
import { grpSk, msgSk } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import { HANDLE_PATTERN } from "../../shared/user-pool";
import { MAX_MESSAGE_CHARS, MAX_PAGE_SIZE } from "../../shared/validation";
import {
  type Caller,
  countingLogger,
  expectClientError,
  scanFingerprint,
  scanStackTable,
  seededCaller,
} from "../support/callers";
import { type ApiResponse, pollUntil, startTestStack } from "../support/stack";

/** Runs per generator; the suite sends at least 1,000 generated requests in all. */
const RUNS = { bodies: 500, fields: 250, paths: 200, routes: 100 } as const;

interface BadRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

let stack: LocalStack;
let caller: Caller;
let groupUuid: string;
let before: string[];
const statuses = new Map<number, number>();
let sent = 0;

beforeAll(async () => {
  const logger = countingLogger();
  stack = await startTestStack({ logger });
  caller = await seededCaller(stack, SEED_CONVERSATION_MEMBERS.a);
  const groups = await fetch(`${stack.apiUrl}/api/message_groups`, {
    headers: { authorization: `Bearer ${caller.accessToken}` },
  });
  groupUuid = ((await groups.json()) as MessageGroupView[])[0]?.uuid ?? "";
  expect(groupUuid).toMatch(UUID_PATTERN);
  // The seeded messages' stream records are fanned out before the snapshot is taken.
  await pollUntil(30_000, async () => (logger.deliveredRecords() >= SEED_CONVERSATION.length ? true : undefined));
  before = scanFingerprint(await scanStackTable(stack));
});

// Every test, run alone or with the others: no 5xx, and the table scans exactly as before.
afterEach(async () => {
  expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
  expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
});

/** Counts the requests sent from now on: the returned function answers how many so far. */
const countSends = (): (() => number) => {
  const start = sent;
  return () => sent - start;
};

afterAll(async () => {
  if (process.env.RELIABILITY_REPORT === "1") {
    console.info(`bad input: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

/** Sends one request with the caller's token (unless the request sets its own authorization). */
async function send(request: BadRequest): Promise<ApiResponse> {
  const response = await fetch(`${stack.apiUrl}${request.path}`, {
    method: request.method,
    headers: { authorization: `Bearer ${caller.accessToken}`, ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: expectClientError fails on it
  }
  sent += 1;
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  return { status: response.status, headers: response.headers, body };
}

async function expectRejected(request: BadRequest): Promise<void> {
  const response = await send(request);
  const shown = typeof request.body === "string" ? request.body.slice(0, 200) : String(request.body?.length ?? "");
  expectClientError(response, `${request.method} ${request.path.slice(0, 200)} ${shown}`);
}

// ---------------------------------------------------------------------------------------------
// Generators

const seededHandles = SEED_USERS.map((u) => u.handle.toLowerCase());
const isSeededHandle = (h: string) => seededHandles.includes((h.startsWith("@") ? h.slice(1) : h).toLowerCase());

/** Any text, including astral-plane characters, combining marks and lone surrogates. */
const anyText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ unit: "binary", maxLength }),
  );

const whitespace = fc.string({
  unit: fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\ufeff"),
  maxLength: 20,
});

/** Text of exactly `n` code points, mixing ASCII, 2-byte, 3-byte and astral characters. */
const codePoints = (min: number, max: number) =>
  fc
    .array(fc.constantFrom("x", "é", "語", "😀", "\u{10FFFF}", "a\u0301".slice(1)), { minLength: min, maxLength: max })
    .map((units) => `m${units.join("")}`);

/** Messages that break the rules: missing, blank, not a string, or too long. */
const badMessage = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  whitespace,
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.array(anyText(5), { maxLength: 3 }), fc.object({ maxDepth: 1 })),
  codePoints(MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS + 60), // with the leading "m": 1,025 code points or more
);

/** Messages that pass the rules, up to exactly the limit. */
const goodMessage = fc.oneof(
  anyText(60).filter((s) => s.trim().length > 0),
  codePoints(MAX_MESSAGE_CHARS - 1, MAX_MESSAGE_CHARS - 1), // exactly 1,024 code points
);

const notUuid = fc
  .oneof(
    anyText(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.uuid().map((u) => `${u} `),
    fc.uuid().map((u) => u.replaceAll("-", "")),
    fc.integer(),
    fc.array(fc.uuid(), { maxLength: 2 }),
  )
  .filter((v) => typeof v !== "string" || !UUID_PATTERN.test(v));

const notHandle = fc
  .oneof(anyText(), fc.string({ minLength: 33, maxLength: 60 }), fc.integer(), fc.boolean(), fc.constant(""))
  .filter((v) => typeof v !== "string" || !HANDLE_PATTERN.test(v.startsWith("@") ? v.slice(1) : v));

const unknownHandle = fc.stringMatching(HANDLE_PATTERN).filter((h) => !isSeededHandle(h));

/** Targets that are valid for the caller (a group it is in, another user's handle). */
const goodTarget = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.constantFrom(
    { message_group_uuid: groupUuid },
    { handle: SEED_CONVERSATION_MEMBERS.b },
    { handle: `@${SEED_CONVERSATION_MEMBERS.b}`, message_group_uuid: null },
  );

/** Targets that are not: none, both, malformed, unknown, not a member, oneself. */
const badTarget = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.constant({}),
    fc.constant({ message_group_uuid: null, handle: null }),
    fc.constant({ message_group_uuid: groupUuid, handle: SEED_CONVERSATION_MEMBERS.b }),
    notUuid.map((v) => ({ message_group_uuid: v })),
    notHandle.map((v) => ({ handle: v })),
    unknownHandle.map((h) => ({ handle: h })),
    fc.uuid().map((u) => ({ message_group_uuid: u })), // a group that does not exist
    fc.constant({ handle: SEED_CONVERSATION_MEMBERS.a }), // oneself
  );

const extraFields = fc.dictionary(
  fc.oneof(anyText(10), fc.constantFrom("__proto__", "constructor", "pk", "sk", "user_uuid", "created_at")),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

/** A JSON object body that fails validation somewhere. */
const badObjectBody = (): fc.Arbitrary<string> =>
  fc
    .oneof(fc.tuple(badMessage, fc.oneof(goodTarget(), badTarget())), fc.tuple(goodMessage, badTarget()))
    .chain(([message, target]) =>
      extraFields.map((extra) => {
        const body: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(extra)) {
          if (!["message", "handle", "message_group_uuid"].includes(k))
            Object.defineProperty(body, k, { value: v, enumerable: true });
        }
        if (message !== undefined) body.message = message;
        Object.assign(body, target);
        return JSON.stringify(body);
      }),
    );

/** A body that is not a JSON object: not JSON at all, another JSON type, empty, or random bytes. */
const notObjectBody: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  anyText(80).filter((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v !== "object" || v === null || Array.isArray(v);
    } catch {
      return true;
    }
  }),
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
    .map((v) => JSON.stringify(v)),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }).filter((bytes) => {
    try {
      const v: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"));
      return typeof v !== "object" || v === null || Array.isArray(v);
    } catch {
      return true;
    }
  }),
);

const junkHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }).map((v) => v.replace(/[^\x20-\x7e]/g, "").trim()),
  { maxKeys: 4 },
);

const contentType = fc.constantFrom(
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "",
);

const badLimit = fc.oneof(
  fc.constantFrom("0", "-1", "101", "1000", "1.5", "1e2", "", " 5", "0x10", "abc", "20,20", "٣"),
  fc.integer({ min: MAX_PAGE_SIZE + 1, max: 10 ** 9 }).map(String),
  anyText(8).filter((s) => !/^[0-9]{1,3}$/.test(s) || Number(s) < 1 || Number(s) > MAX_PAGE_SIZE),
);

/** Cursors that must be refused: malformed, too long, of another scope, or of a wrong-format sort key. */
const badCursor = (scope: () => string): fc.Arbitrary<string> =>
  fc.oneof(
    anyText(60).filter((s) => s !== ""),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/),
    fc.constant("A".repeat(MAX_CURSOR_LENGTH + 1)),
    fc.uuid().map((u) => encodeCursor(`messages:${u}`, msgSk(toTimestamp(Date.now()), u))),
    fc.uuid().map((u) => encodeCursor(`message_groups:${u}`, grpSk(toTimestamp(Date.now()), u))),
    anyText(30).map((sk) => encodeCursor(scope(), sk)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString("base64url")),
  );

const query = (params: Record<string, string>) => {
  const text = new URLSearchParams(params).toString();
  return text === "" ? "" : `?${text}`;
};

/** A bad path or query: of pattern A, pattern B or the users route. */
const badPathRequest = (): fc.Arbitrary<BadRequest> =>
  fc.oneof(
    notUuid.map((seg) => ({ method: "GET", path: `/api/messages/${encodeURIComponent(String(seg))}` })),
    fc.uuid().map((u) => ({ method: "GET", path: `/api/messages/${u}` })),
    fc
      .record({
        limit: badLimit,
        cursor: fc.option(
          badCursor(() => `messages:${groupUuid}`),
          { nil: undefined },
        ),
      })
      .map(({ limit, cursor }) => ({
        method: "GET",
        path: `/api/messages/${groupUuid}${query({ limit, ...(cursor === undefined ? {} : { cursor }) })}`,
      })),
    badCursor(() => `messages:${groupUuid}`).map((cursor) => ({
      method: "GET",
      path: `/api/messages/${groupUuid}${query({ cursor })}`,
    })),
    fc
      .oneof(
        badLimit.map((limit) => ({ limit })),
        badCursor(() => `message_groups:${caller.uuid}`).map((cursor) => ({ cursor })),
      )
      .map((params) => ({ method: "GET", path: `/api/message_groups${query(params)}` })),
    fc
      .oneof(
        anyText(),
        unknownHandle,
        unknownHandle.map((h) => `@${h}`),
      )
      .filter((h) => h !== "" && !isSeededHandle(h))
      .map((h) => ({ method: "GET", path: `/api/users/${encodeURIComponent(h)}/short` })),
    fc.constantFrom("%", "%E0%A4%A", "%ZZ", "%C0%AF").map((seg) => ({ method: "GET", path: `/api/messages/${seg}` })),
  );

/** A path or method no route serves. */
const noRouteRequest: fc.Arbitrary<BadRequest> = fc.oneof(
  fc
    .tuple(fc.constantFrom("PUT", "DELETE", "PATCH", "POST", "GET"), fc.constantFrom(...ROUTES.map((r) => r.path)))
    .filter(([method, path]) => !ROUTES.some((r) => r.method === method && r.path === path) && !path.includes("{"))
    .map(([method, path]) => ({ method, path })),
  fc
    .array(anyText(12), { minLength: 1, maxLength: 4 })
    .map((segments) => ({ method: "GET", path: `/api/${segments.map((s) => encodeURIComponent(s)).join("/")}x` })),
  fc.constantFrom("/", "/api", "/api/", "/api/messages/", "/api/users/@bayko", "/api//message_groups").map((path) => ({
    method: "GET",
    path,
  })),
);

// ---------------------------------------------------------------------------------------------

describe("bad input, generated, against the local HTTP API", () => {
  it(`answers ${RUNS.bodies} malformed POST bodies with 4xx and an error array`, async () => {
    const sends = countSends();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: badObjectBody() }, { weight: 1, arbitrary: notObjectBody }),
        junkHeaders,
        contentType,
        async (body, headers, type) => {
          await expectRejected({
            method: "POST",
            path: "/api/messages",
            headers: { ...headers, ...(type === "" ? {} : { "content-type": type }) },
            ...(body === undefined ? {} : { body }),
          });
        },
      ),
      { numRuns: RUNS.bodies },
    );
    expect(sends()).toBeGreaterThanOrEqual(RUNS.bodies);
  });

  it(`answers ${RUNS.fields} bodies with one bad field each among valid ones with 4xx`, async () => {
    const sends = countSends();
    await fc.assert(
      fc.asyncProperty(badTarget(), goodMessage, async (target, message) => {
        await expectRejected({
          method: "POST",
          path: "/api/messages",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message, ...target }),
        });
      }),
      { numRuns: RUNS.fields },
    );
    expect(sends()).toBeGreaterThanOrEqual(RUNS.fields);
  });

  it(`answers ${RUNS.paths} bad path and query parameters and cursors with 4xx`, async () => {
    const sends = countSends();
    await fc.assert(
      fc.asyncProperty(badPathRequest(), junkHeaders, async (request, headers) => {
        await expectRejected({ ...request, headers });
      }),
      { numRuns: RUNS.paths },
    );
    expect(sends()).toBeGreaterThanOrEqual(RUNS.paths);
  });

  it(`answers ${RUNS.routes} requests of no route with 404 route_not_found`, async () => {
    const sends = countSends();
    await fc.assert(
      fc.asyncProperty(noRouteRequest, async (request) => {
        const response = await send(request);
        expect([response.status, response.body], request.path).toEqual([404, ["route_not_found"]]);
      }),
      { numRuns: RUNS.routes },
    );
    expect(sends()).toBeGreaterThanOrEqual(RUNS.routes);
  });

  it("answers bodies at and past the size limit: 4xx, 413 past it", async () => {
    const limit = DEFAULT_MAX_BODY_BYTES;
    const blankOfSize = (bytes: number) => {
      const shell = JSON.stringify({ message: "", message_group_uuid: groupUuid });
      return shell.replace('"message":""', `"message":"${" ".repeat(bytes - shell.length)}"`);
    };
    for (const bytes of [limit - 1, limit]) {
      const body = blankOfSize(bytes);
      expect(Buffer.byteLength(body)).toBe(bytes);
      const response = await send({ method: "POST", path: "/api/messages", body });
      expectClientError(response, `${bytes} bytes`);
      expect(response.status).toBe(422);
    }
    for (const bytes of [limit + 1, limit * 2]) {
      const response = await send({ method: "POST", path: "/api/messages", body: blankOfSize(bytes) });
      expect([response.status, response.body]).toEqual([413, ["payload_too_large"]]);
    }
  });

  it("generates 1,000+ requests over the suite, each test checked to write nothing (afterEach)", () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1000);
  });
});
