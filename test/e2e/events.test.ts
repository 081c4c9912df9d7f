/**
 * The local AppSync Events emulator of `npm start`, driven with the raw protocol of the AWS guide
 * ("Understanding the Event API WebSocket protocol", "Publish events via HTTP") over the `ws`
 * client and IAM-signed fetches: the happy path, then every bad input and abuse case of the
 * real-time issue, each answered with its documented error and nothing else (checked by a
 * sentinel frame answered after it), the server staying up throughout.
 */
import { rm } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cognitoLocalIssuer } from "../../local/jwt";
import type { LocalStack } from "../../local/stack";
import { LOCAL_CREDENTIALS } from "../../local/state";
import { MAX_EVENTS_PER_PUBLISH, userChannel } from "../../shared/realtime";
import { type Caller, seededCaller } from "../support/callers";
import {
  type Frame,
  postEvents,
  RawEventsClient,
  type SigningOptions,
  signedHeaders,
  signedPublish,
  subscribeFrame,
} from "../support/events-client";
import { cognitoLocalSigningKey, jwtPayload, mintJwt } from "../support/jwt";
import { settleRealtime, startTestStack } from "../support/stack";

let stack: LocalStack;
let alice: Caller; // andrewbrown
let bob: Caller; // bayko
let signing: SigningOptions;
/** Clients of the file (opened in `beforeAll`), closed after it. */
const kept: RawEventsClient[] = [];
/** Clients of the running test, closed after it (a user may hold 10 connections). */
let open: RawEventsClient[] = [];

/** A connected client of `caller`, closed after the test (after the file when `keep`). */
async function connect(caller: Caller, keep = false): Promise<RawEventsClient> {
  const client = await RawEventsClient.connect(stack.events.realtimeUrl, caller.accessToken);
  (keep ? kept : open).push(client);
  return client;
}

/** A client of `caller` subscribed to its own channel with subscription `id`. */
async function subscribed(caller: Caller, id: string, keep = false): Promise<RawEventsClient> {
  const client = await connect(caller, keep);
  client.send(subscribeFrame(id, userChannel(caller.uuid), caller.accessToken));
  expect(await client.next()).toEqual({ type: "subscribe_success", id });
  return client;
}

const unauthorized = [{ errorType: "UnauthorizedException", message: expect.any(String) }];
const errorsOf = (errorType: string) => [{ errorType, message: expect.any(String) }];

/** A token like `caller`'s access token, re-signed with cognito-local's key after `change`. */
function reminted(token: string, change: (payload: Record<string, unknown>) => Record<string, unknown>): string {
  const key = cognitoLocalSigningKey();
  return mintJwt({ alg: "RS256", kid: key.kid, typ: "JWT" }, change(jwtPayload(token)), key.key);
}

beforeAll(async () => {
  stack = await startTestStack();
  alice = await seededCaller(stack, "andrewbrown");
  bob = await seededCaller(stack, "bayko");
  // The seeded conversation's events are published first: let them through before subscribing.
  await settleRealtime(stack, alice.accessToken, alice.uuid);
  signing = { credentials: LOCAL_CREDENTIALS, region: stack.region };
});

afterEach(async () => {
  for (const client of open) await client.close().catch(() => {});
  open = [];
});

afterAll(async () => {
  for (const client of kept) await client.close().catch(() => {});
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

describe("the documented protocol", () => {
  it("serves both endpoints on loopback: POST /event and the WebSocket /event/realtime", () => {
    const http = new URL(stack.events.httpUrl);
    const realtime = new URL(stack.events.realtimeUrl);
    expect(http.protocol).toBe("http:");
    expect(http.hostname).toBe("127.0.0.1");
    expect(http.pathname).toBe("/event");
    expect(realtime.protocol).toBe("ws:");
    expect(realtime.host).toBe(http.host);
    expect(realtime.pathname).toBe("/event/realtime");
  });

  it("connect, connection_init -> connection_ack and ka, subscribe, a signed publish delivered as data, unsubscribe", async () => {
    const client = await RawEventsClient.open(stack.events.realtimeUrl, {
      Authorization: alice.accessToken,
      host: new URL(stack.events.httpUrl).host,
    });
    open.push(client);
    expect(client.ws.protocol).toBe("aws-appsync-event-ws");
    client.send({ type: "connection_init" });
    expect(await client.next()).toEqual({ type: "connection_ack", connectionTimeoutMs: 300_000 });
    client.send(subscribeFrame("sub-1", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({ type: "subscribe_success", id: "sub-1" });
    expect(client.keepAlives()).toBeGreaterThanOrEqual(1);

    const events = [JSON.stringify({ type: "message.new", id: "m-1", text: "hé 🚀" }), JSON.stringify([1, 2])];
    const published = await signedPublish(stack.events.httpUrl, userChannel(alice.uuid), events, signing);
    expect(published).toEqual({
      status: 200,
      body: {
        successful: [
          { identifier: expect.any(String), index: 0 },
          { identifier: expect.any(String), index: 1 },
        ],
        failed: [],
      },
    });
    expect(await client.next()).toEqual({ type: "data", id: "sub-1", event: events[0] });
    expect(await client.next()).toEqual({ type: "data", id: "sub-1", event: events[1] });

    client.send({ type: "unsubscribe", id: "sub-1" });
    expect(await client.next()).toEqual({ type: "unsubscribe_success", id: "sub-1" });
    expect((await signedPublish(stack.events.httpUrl, userChannel(alice.uuid), ["{}"], signing)).status).toBe(200);
    expect(await client.drainWithSentinel()).toEqual([]);
  });

  it("the HTTP API also takes the channel without its leading slash", async () => {
    const client = await subscribed(alice, "no-slash");
    const published = await signedPublish(stack.events.httpUrl, userChannel(alice.uuid).slice(1), ['"x"'], signing);
    expect(published.status).toBe(200);
    expect(await client.next()).toEqual({ type: "data", id: "no-slash", event: '"x"' });
  });

  it("delivers to every subscription of the channel, and only to them", async () => {
    const a1 = await subscribed(alice, "a1");
    const a2 = await subscribed(alice, "a2");
    const b = await subscribed(bob, "b");
    await signedPublish(stack.events.httpUrl, userChannel(alice.uuid), ['{"n":1}'], signing);
    expect(await a1.next()).toEqual({ type: "data", id: "a1", event: '{"n":1}' });
    expect(await a2.next()).toEqual({ type: "data", id: "a2", event: '{"n":1}' });
    expect(await b.drainWithSentinel()).toEqual([]);
  });
});

describe("subscribing: only one's own channel", () => {
  let client: RawEventsClient;
  beforeAll(async () => {
    client = await connect(bob, true);
  });

  it.each([
    ["another user's channel", () => userChannel(alice.uuid)],
    ["the namespace wildcard", () => "/users/*"],
    ["a wildcard under one's own channel", () => `${userChannel(bob.uuid)}/*`],
    ["the namespace itself", () => "/users"],
    ["a deeper channel", () => `${userChannel(bob.uuid)}/x`],
    ["another namespace", () => `/default/${bob.uuid}`],
  ])("%s: subscribe_error UnauthorizedException and nothing else", async (_name, channel) => {
    client.send(subscribeFrame("s", channel(), bob.accessToken));
    expect(await client.next()).toEqual({ type: "subscribe_error", id: "s", errors: unauthorized });
    expect(await client.drainWithSentinel()).toEqual([]);
  });

  it.each([
    ["no leading slash", () => `users/${bob.uuid}`],
    ["a space", () => "/users/a b"],
    ["an empty segment", () => "/users//x"],
    ["six segments", () => "/users/a/b/c/d/e"],
    ["not a string", () => 42],
    ["missing", () => undefined],
  ])("a malformed channel (%s): subscribe_error BadRequestException", async (_name, channel) => {
    client.send({
      type: "subscribe",
      id: "bad-channel",
      channel: channel(),
      authorization: { Authorization: bob.accessToken },
    });
    expect(await client.next()).toEqual({
      type: "subscribe_error",
      id: "bad-channel",
      errors: errorsOf("BadRequestException"),
    });
    expect(await client.drainWithSentinel()).toEqual([]);
  });

  it("another user's channel receives none of that user's events", async () => {
    client.send(subscribeFrame("peek", userChannel(alice.uuid), bob.accessToken));
    expect((await client.next()).type).toBe("subscribe_error");
    await signedPublish(stack.events.httpUrl, userChannel(alice.uuid), ['"secret"'], signing);
    expect(await client.drainWithSentinel()).toEqual([]);
  });
});

describe("tokens: access tokens only, verified", () => {
  const badTokens: [string, () => string][] = [
    ["an ID token", () => bob.idToken],
    [
      "an expired access token",
      () => reminted(bob.accessToken, (p) => ({ ...p, exp: Math.floor(Date.now() / 1000) - 60 })),
    ],
    [
      "a tampered access token (another sub, old signature)",
      () => {
        const [h, , s] = bob.accessToken.split(".");
        const payload = Buffer.from(JSON.stringify({ ...jwtPayload(bob.accessToken), sub: alice.uuid })).toString(
          "base64url",
        );
        return `${h}.${payload}.${s}`;
      },
    ],
    [
      "a token of another issuer",
      () => reminted(bob.accessToken, (p) => ({ ...p, iss: cognitoLocalIssuer(1, "local_other") })),
    ],
    ["not a JWT", () => "not-a-token"],
  ];

  it.each(badTokens)(
    "connecting with %s: connection_error UnauthorizedException, then closed",
    async (_name, token) => {
      const client = await RawEventsClient.open(stack.events.realtimeUrl, {
        Authorization: token(),
        host: "127.0.0.1",
      });
      open.push(client);
      client.send({ type: "connection_init" });
      expect(await client.next()).toEqual({ type: "connection_error", errors: unauthorized });
      expect((await client.waitClosed()).code).toBe(4401);
    },
  );

  it("connecting with no authorization subprotocol, or a malformed one: connection_error UnauthorizedException", async () => {
    for (const protocols of [
      ["aws-appsync-event-ws"],
      ["aws-appsync-event-ws", "header-%%%"],
      ["aws-appsync-event-ws", "header-bm90LWpzb24"],
    ]) {
      const client = await RawEventsClient.open(stack.events.realtimeUrl, null, protocols);
      open.push(client);
      expect(await client.next()).toEqual({ type: "connection_error", errors: unauthorized });
      expect((await client.waitClosed()).code).toBe(4401);
    }
  });

  it.each(badTokens)("subscribing with %s: subscribe_error UnauthorizedException", async (_name, token) => {
    const client = await connect(bob);
    client.send(subscribeFrame("t", userChannel(bob.uuid), token()));
    expect(await client.next()).toEqual({ type: "subscribe_error", id: "t", errors: unauthorized });
    expect(await client.drainWithSentinel()).toEqual([]);
  });

  it("subscribing with no authorization: subscribe_error UnauthorizedException", async () => {
    const client = await connect(bob);
    client.send({ type: "subscribe", id: "none", channel: userChannel(bob.uuid) });
    expect(await client.next()).toEqual({ type: "subscribe_error", id: "none", errors: unauthorized });
  });

  it("a token minted like a real one is accepted (the control of the cases above)", async () => {
    const client = await connect(bob);
    client.send(
      subscribeFrame(
        "control",
        userChannel(bob.uuid),
        reminted(bob.accessToken, (p) => p),
      ),
    );
    expect(await client.next()).toEqual({ type: "subscribe_success", id: "control" });
  });

  it("the handshake needs the aws-appsync-event-ws subprotocol and the realtime path", async () => {
    await expect(
      RawEventsClient.open(stack.events.realtimeUrl, { Authorization: bob.accessToken }, ["graphql-ws"]),
    ).rejects.toThrow(/HTTP 400/);
    const elsewhere = stack.events.realtimeUrl.replace("/event/realtime", "/graphql/realtime");
    await expect(RawEventsClient.open(elsewhere, { Authorization: bob.accessToken })).rejects.toThrow(/HTTP 404/);
  });
});

describe("frames a client must not send", () => {
  let client: RawEventsClient;
  let watcher: RawEventsClient;
  beforeAll(async () => {
    client = await connect(alice, true);
    watcher = await subscribed(alice, "watch", true);
  });

  it("a client publish: publish_error UnauthorizedException, and nothing is delivered", async () => {
    client.send({
      type: "publish",
      id: "p1",
      channel: userChannel(alice.uuid),
      events: [JSON.stringify({ forged: true })],
      authorization: { Authorization: alice.accessToken, host: "127.0.0.1" },
    });
    expect(await client.next()).toEqual({ type: "publish_error", id: "p1", errors: unauthorized });
    expect(await client.drainWithSentinel()).toEqual([]);
    expect(await watcher.drainWithSentinel()).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ["not JSON", "{not json", "BadRequestException"],
    ["a JSON array", "[]", "BadRequestException"],
    ["an object without a type", "{}", "BadRequestException"],
    ["a type that is not a string", '{"type":5}', "BadRequestException"],
    ["a binary frame", Buffer.from([0, 1, 2]), "BadRequestException"],
    ["a subscribe without an id", { type: "subscribe", channel: "/users/x" }, "BadRequestException"],
    ["an unsubscribe with an id too long", { type: "unsubscribe", id: "x".repeat(129) }, "BadRequestException"],
    ["an unknown type", { type: "start", id: "1" }, "UnsupportedOperation"],
    ["a server frame (ka)", { type: "ka" }, "UnsupportedOperation"],
    ["a server frame (data)", { type: "data", id: "watch", event: "{}" }, "UnsupportedOperation"],
  ])("%s: error %s and nothing else", async (_name, frame, errorType) => {
    client.send(frame);
    expect(await client.next()).toEqual({ type: "error", errors: errorsOf(errorType) });
    expect(await client.drainWithSentinel()).toEqual([]);
  });

  it("unsubscribing an unknown id: unsubscribe_error UnknownOperationError", async () => {
    client.send({ type: "unsubscribe", id: "never" });
    expect(await client.next()).toEqual({
      type: "unsubscribe_error",
      id: "never",
      errors: errorsOf("UnknownOperationError"),
    });
  });

  it("subscribing twice with one id: subscribe_error DuplicatedOperationError", async () => {
    client.send(subscribeFrame("dup", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({ type: "subscribe_success", id: "dup" });
    client.send(subscribeFrame("dup", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({
      type: "subscribe_error",
      id: "dup",
      errors: errorsOf("DuplicatedOperationError"),
    });
    client.send({ type: "unsubscribe", id: "dup" });
    expect(await client.next()).toEqual({ type: "unsubscribe_success", id: "dup" });
  });

  it("thousands of subscribe/unsubscribe frames on one connection: each answered in order, none left", async () => {
    const flood = await connect(bob);
    const pairs = 2500;
    for (let i = 0; i < pairs; i++) {
      flood.send(subscribeFrame(`f${i}`, userChannel(bob.uuid), bob.accessToken));
      flood.send({ type: "unsubscribe", id: `f${i}` });
    }
    const frames: Frame[] = [];
    for (let i = 0; i < 2 * pairs; i++) frames.push(await flood.next(30_000));
    const expected = Array.from({ length: pairs }, (_, i) => [
      { type: "subscribe_success", id: `f${i}` },
      { type: "unsubscribe_success", id: `f${i}` },
    ]).flat();
    expect(frames).toEqual(expected);
    expect(await flood.drainWithSentinel()).toEqual([]);
    // None of them is left: the whole allowance of subscriptions is still there.
    for (let i = 0; i < 100; i++) flood.send(subscribeFrame(`left${i}`, userChannel(bob.uuid), bob.accessToken));
    const answers = await Promise.all(Array.from({ length: 100 }, () => flood.next()));
    expect(answers.every((f) => f.type === "subscribe_success")).toBe(true);
  });
});

describe("limits", () => {
  it("100 subscriptions per connection; the 101st: subscribe_error MaxSubscriptionsReachedError", async () => {
    const client = await connect(alice);
    for (let i = 0; i < 100; i++) client.send(subscribeFrame(`m${i}`, userChannel(alice.uuid), alice.accessToken));
    for (let i = 0; i < 100; i++) expect(await client.next()).toEqual({ type: "subscribe_success", id: `m${i}` });
    client.send(subscribeFrame("m100", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({
      type: "subscribe_error",
      id: "m100",
      errors: errorsOf("MaxSubscriptionsReachedError"),
    });
    client.send({ type: "unsubscribe", id: "m0" });
    expect(await client.next()).toEqual({ type: "unsubscribe_success", id: "m0" });
    client.send(subscribeFrame("m100", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({ type: "subscribe_success", id: "m100" });
    await client.close();
  });

  it("10 connections per user; the 11th: connection_error LimitExceededError; one closed, one more allowed", async () => {
    const londo = await seededCaller(stack, "londo");
    const clients: RawEventsClient[] = [];
    for (let i = 0; i < 10; i++) clients.push(await connect(londo));
    const over = await RawEventsClient.open(stack.events.realtimeUrl, { Authorization: londo.accessToken });
    open.push(over);
    over.send({ type: "connection_init" });
    expect(await over.next()).toEqual({ type: "connection_error", errors: errorsOf("LimitExceededError") });
    expect((await over.waitClosed()).code).toBe(4429);
    await clients[0]?.close();
    // The server forgets a connection when its close arrives; retry briefly until it has.
    let again: RawEventsClient | undefined;
    for (let attempt = 0; again === undefined && attempt < 50; attempt++) {
      const candidate = await RawEventsClient.open(stack.events.realtimeUrl, { Authorization: londo.accessToken });
      open.push(candidate);
      candidate.send({ type: "connection_init" });
      if ((await candidate.next()).type === "connection_ack") again = candidate;
    }
    expect(again).toBeDefined();
  });
});

describe("HTTP publish: IAM-signed with the stack's credentials only", () => {
  let watcher: RawEventsClient;
  beforeAll(async () => {
    watcher = await subscribed(bob, "http-watch", true);
  });
  const channel = () => userChannel(bob.uuid);
  const body = () => JSON.stringify({ channel: channel(), events: ['{"x":1}'] });

  it.each<[string, () => Promise<Record<string, string>>]>([
    ["unsigned", async () => ({})],
    ["with a Cognito access token", async () => ({ authorization: bob.accessToken })],
    ["with a Cognito token as Bearer", async () => ({ authorization: `Bearer ${bob.accessToken}` })],
    [
      "signed with another secret",
      () =>
        signedHeaders(stack.events.httpUrl, body(), {
          ...signing,
          credentials: { accessKeyId: "local", secretAccessKey: "wrong" },
        }),
    ],
    [
      "signed with another access key",
      () =>
        signedHeaders(stack.events.httpUrl, body(), {
          ...signing,
          credentials: { accessKeyId: "other", secretAccessKey: "local" },
        }),
    ],
    [
      "signed for another service",
      () => signedHeaders(stack.events.httpUrl, body(), { ...signing, service: "execute-api" }),
    ],
    [
      "signed for another region",
      () => signedHeaders(stack.events.httpUrl, body(), { ...signing, region: "eu-west-1" }),
    ],
    [
      "signed 20 minutes ago",
      () =>
        signedHeaders(stack.events.httpUrl, body(), { ...signing, signingDate: new Date(Date.now() - 20 * 60_000) }),
    ],
    [
      "with a signature of another body",
      () => signedHeaders(stack.events.httpUrl, JSON.stringify({ channel: channel(), events: ['{"x":2}'] }), signing),
    ],
    [
      "with a broken signature",
      async () => {
        const headers = await signedHeaders(stack.events.httpUrl, body(), signing);
        return {
          ...headers,
          authorization: (headers.authorization ?? "").replace(/.$/, (c) => (c === "0" ? "1" : "0")),
        };
      },
    ],
  ])("%s: 401 UnauthorizedException, nothing delivered", async (_name, headers) => {
    const response = await postEvents(stack.events.httpUrl, body(), await headers());
    expect(response).toEqual({ status: 401, body: { errors: unauthorized } });
    expect(await watcher.drainWithSentinel()).toEqual([]);
  });

  it.each<[string, unknown, number]>([
    ["more than 5 events", { events: Array.from({ length: MAX_EVENTS_PER_PUBLISH + 1 }, () => "{}") }, 400],
    ["no events", { events: [] }, 400],
    ["events not an array", { events: "{}" }, 400],
    ["a wildcard channel", { channel: "/users/*" }, 400],
    ["another namespace", { channel: "/default/x" }, 400],
    ["a body that is not JSON", "{", 400],
  ])("%s: %i BadRequestException, nothing delivered", async (_name, change, status) => {
    const text =
      typeof change === "string"
        ? change
        : JSON.stringify({ channel: channel(), events: ["{}"], ...(change as object) });
    const response = await postEvents(
      stack.events.httpUrl,
      text,
      await signedHeaders(stack.events.httpUrl, text, signing),
    );
    expect(response).toEqual({ status, body: { errors: errorsOf("BadRequestException") } });
    expect(await watcher.drainWithSentinel()).toEqual([]);
  });

  it("a body over the limit: 413", async () => {
    const text = JSON.stringify({ channel: channel(), events: ["x".repeat(2 * 1024 * 1024)] });
    const response = await postEvents(
      stack.events.httpUrl,
      text,
      await signedHeaders(stack.events.httpUrl, text, signing),
    );
    expect(response).toEqual({ status: 413, body: { errors: errorsOf("BadRequestException") } });
  });

  it("events that are not JSON or over 240 KB fail one by one; the others are delivered", async () => {
    const big = JSON.stringify("x".repeat(240 * 1024));
    const events = ['{"ok":1}', "{not json", big, 7, '{"ok":2}'];
    const response = await signedPublish(stack.events.httpUrl, channel(), events, signing);
    expect(response.status).toBe(200);
    const answer = response.body as { successful: { index: number }[]; failed: { index: number; code: number }[] };
    expect(answer.successful.map((e) => e.index)).toEqual([0, 4]);
    expect(answer.failed.map((e) => [e.index, e.code])).toEqual([
      [1, 400],
      [2, 400],
      [3, 400],
    ]);
    expect(await watcher.next()).toEqual({ type: "data", id: "http-watch", event: '{"ok":1}' });
    expect(await watcher.next()).toEqual({ type: "data", id: "http-watch", event: '{"ok":2}' });
    expect(await watcher.drainWithSentinel()).toEqual([]);
  });

  it("other methods and paths: 405 and 404", async () => {
    expect((await fetch(stack.events.httpUrl)).status).toBe(405);
    expect((await fetch(stack.events.httpUrl.replace("/event", "/graphql"), { method: "POST" })).status).toBe(404);
  });
});

describe("after all of the above", () => {
  it("the server is still up: a new subscriber gets a signed publish", async () => {
    const client = await subscribed(alice, "last");
    await signedPublish(stack.events.httpUrl, userChannel(alice.uuid), ['"still here"'], signing);
    expect(await client.next()).toEqual({ type: "data", id: "last", event: '"still here"' });
  });
});
