/** The AppSync Events protocol of the local emulator: frames, channels, the authorization subprotocol, publish bodies. */
import { describe, expect, it } from "vitest";
import {
  authorizationOfSubprotocols,
  eventProblem,
  headerSubprotocol,
  MAX_EVENT_BYTES,
  parseChannel,
  parseClientFrame,
  parsePublishBody,
  tokenOfAuthorization,
} from "../../local/events-protocol";

const error = (errorType: string) => ({
  ok: false,
  reply: { type: "error", errors: [{ errorType, message: expect.any(String) }] },
});

describe("parseClientFrame", () => {
  it("takes the client frames of the guide", () => {
    expect(parseClientFrame('{"type":"connection_init"}')).toEqual({ ok: true, frame: { type: "connection_init" } });
    const auth = { Authorization: "t", host: "h" };
    expect(
      parseClientFrame(
        JSON.stringify({ type: "subscribe", id: "1", channel: "/users/a", authorization: auth, extra: 1 }),
      ),
    ).toEqual({ ok: true, frame: { type: "subscribe", id: "1", channel: "/users/a", authorization: auth } });
    expect(parseClientFrame('{"type":"unsubscribe","id":"1"}')).toEqual({
      ok: true,
      frame: { type: "unsubscribe", id: "1" },
    });
    expect(parseClientFrame('{"type":"publish","id":"p","channel":"/users/a","events":["{}"]}')).toEqual({
      ok: true,
      frame: { type: "publish", id: "p" },
    });
  });

  it.each(["", "{", "null", "[]", '"subscribe"', "{}", '{"type":1}', '{"type":null}'])(
    "%j: error BadRequestException",
    (text) => {
      expect(parseClientFrame(text)).toEqual(error("BadRequestException"));
    },
  );

  it.each([
    { type: "subscribe", channel: "/users/a" },
    { type: "subscribe", id: "", channel: "/users/a" },
    { type: "unsubscribe", id: 7 },
    { type: "unsubscribe", id: "a b" },
    { type: "publish", id: "x".repeat(129) },
  ])("an operation without a valid id (%j): error BadRequestException", (frame) => {
    expect(parseClientFrame(JSON.stringify(frame))).toEqual(error("BadRequestException"));
  });

  it.each(["ka", "data", "connection_ack", "start", "stop", "SUBSCRIBE", "x".repeat(10_000)])(
    "type %s: error UnsupportedOperation, the type clipped in the message",
    (type) => {
      const parsed = parseClientFrame(JSON.stringify({ type, id: "1" }));
      expect(parsed).toEqual(error("UnsupportedOperation"));
      const message = !parsed.ok && parsed.reply.type === "error" ? (parsed.reply.errors[0]?.message ?? "") : "";
      expect(message.length).toBeLessThan(120);
    },
  );
});

describe("parseChannel", () => {
  const sub = { allowWildcard: true };
  const pub = { allowWildcard: false };

  it("splits a channel path into namespace and segments", () => {
    expect(parseChannel("/users/9e821e92-134a-45f0-bbc2-4f6fde79682d", pub)).toEqual({
      path: "/users/9e821e92-134a-45f0-bbc2-4f6fde79682d",
      namespace: "users",
      segments: ["9e821e92-134a-45f0-bbc2-4f6fde79682d"],
      wildcard: false,
    });
    expect(parseChannel("/users", pub)).toMatchObject({ namespace: "users", segments: [] });
    expect(parseChannel("/a/b/c/d/e", pub)).toMatchObject({ segments: ["b", "c", "d", "e"] });
  });

  it("a wildcard only as the last segment after the namespace, and only when allowed", () => {
    expect(parseChannel("/users/*", sub)).toMatchObject({ wildcard: true });
    expect(parseChannel("/users/a/*", sub)).toMatchObject({ wildcard: true, segments: ["a", "*"] });
    expect(parseChannel("/users/*", pub)).toBeUndefined();
    expect(parseChannel("/*", sub)).toBeUndefined();
    expect(parseChannel("/users/*/a", sub)).toBeUndefined();
  });

  it("the leading slash may be left out only where allowed (the HTTP publish body)", () => {
    expect(parseChannel("users/a", pub)).toBeUndefined();
    expect(parseChannel("users/a", { ...pub, leadingSlashOptional: true })).toMatchObject({ path: "/users/a" });
  });

  it.each([
    "",
    "/",
    "//",
    "/users/",
    "/users//a",
    "/users/a b",
    "/users/a_b",
    "/users/é",
    "/a/b/c/d/e/f",
    `/users/${"a".repeat(51)}`,
    42,
    null,
    undefined,
    ["/users/a"],
  ])("%j is not a channel", (channel) => {
    expect(parseChannel(channel, sub)).toBeUndefined();
  });
});

describe("the authorization subprotocol", () => {
  it("round-trips the header object as base64url JSON", () => {
    const authorization = { Authorization: "eyJ.x.y", host: "127.0.0.1:4568" };
    const protocol = headerSubprotocol(authorization);
    expect(protocol).toMatch(/^header-[A-Za-z0-9_-]+$/);
    expect(authorizationOfSubprotocols(["aws-appsync-event-ws", protocol])).toEqual(authorization);
  });

  it("missing, or malformed (not base64url, not JSON, not an object)", () => {
    expect(authorizationOfSubprotocols(["aws-appsync-event-ws"])).toBe("missing");
    expect(authorizationOfSubprotocols(["header-%%%"])).toBe("malformed");
    expect(authorizationOfSubprotocols([`header-${Buffer.from("not json").toString("base64url")}`])).toBe("malformed");
    expect(authorizationOfSubprotocols([`header-${Buffer.from("[1]").toString("base64url")}`])).toBe("malformed");
    expect(authorizationOfSubprotocols(["header-"])).toBe("malformed");
  });

  it("the token is the Authorization member, any case, a Bearer prefix dropped", () => {
    expect(tokenOfAuthorization({ Authorization: "abc", host: "h" })).toBe("abc");
    expect(tokenOfAuthorization({ authorization: "Bearer abc" })).toBe("abc");
    expect(tokenOfAuthorization({ Authorization: "" })).toBeUndefined();
    expect(tokenOfAuthorization({ Authorization: 5 })).toBeUndefined();
    expect(tokenOfAuthorization({ "x-api-key": "k" })).toBeUndefined();
    expect(tokenOfAuthorization("abc")).toBeUndefined();
    expect(tokenOfAuthorization(undefined)).toBeUndefined();
  });
});

describe("parsePublishBody and eventProblem", () => {
  const bad = { ok: false, answer: { errors: [{ errorType: "BadRequestException", message: expect.any(String) }] } };

  it("takes {channel, events} of 1 to 5 events, the channel with or without its leading slash", () => {
    expect(parsePublishBody('{"channel":"/users/a","events":["{}"]}')).toEqual({
      ok: true,
      request: { channel: "/users/a", events: ["{}"] },
    });
    expect(parsePublishBody('{"channel":"users/a","events":["1","2","3","4","5"]}')).toMatchObject({
      ok: true,
      request: { channel: "/users/a" },
    });
  });

  it.each([
    "",
    "[]",
    "{}",
    '{"channel":"/users/a"}',
    '{"channel":"/users/a","events":[]}',
    '{"channel":"/users/a","events":["1","2","3","4","5","6"]}',
    '{"channel":"/users/a","events":"{}"}',
    '{"channel":"/users/*","events":["{}"]}',
    '{"channel":"/default/a","events":["{}"]}',
    '{"channel":7,"events":["{}"]}',
  ])("%j: 400 BadRequestException", (text) => {
    expect(parsePublishBody(text)).toEqual(bad);
  });

  it("an event must be a string of JSON of at most 240 KB", () => {
    expect(eventProblem('{"a":1}')).toBeUndefined();
    expect(eventProblem('"x"')).toBeUndefined();
    expect(eventProblem(JSON.stringify("x".repeat(MAX_EVENT_BYTES - 2)))).toBeUndefined();
    expect(eventProblem(JSON.stringify("x".repeat(MAX_EVENT_BYTES - 1)))).toMatch(/over/);
    expect(eventProblem(JSON.stringify("é".repeat(MAX_EVENT_BYTES / 2)))).toMatch(/over/);
    expect(eventProblem("{")).toMatch(/not valid JSON/);
    expect(eventProblem({ a: 1 })).toMatch(/not a string/);
    expect(eventProblem(7)).toMatch(/not a string/);
  });
});
