/**
 * The cloud's channel rule is the one of `shared/realtime.ts`: the Event API namespace's
 * onSubscribe handler (APPSYNC_JS, generated in infra/constructs/realtime.ts) is run here, with a
 * stand-in for `util` from `@aws-appsync/utils`, against a table of cases and generated ones, and
 * must allow exactly what `maySubscribe` allows, for access tokens only.
 */
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SUBSCRIBE_HANDLER_CODE } from "../../infra/constructs/realtime";
import { EVENTS_NAMESPACE, maySubscribe, userChannel } from "../../shared/realtime";

class Unauthorized extends Error {}

/** The handler as AppSync runs it: the module's `onSubscribe(ctx)`, `util.unauthorized()` throwing. */
function loadHandler(): (ctx: unknown) => unknown {
  const importLine = "import { util } from '@aws-appsync/utils';";
  expect(SUBSCRIBE_HANDLER_CODE.startsWith(importLine)).toBe(true);
  const body = SUBSCRIBE_HANDLER_CODE.slice(importLine.length).replace(
    "export function onSubscribe",
    "function onSubscribe",
  );
  const util = {
    unauthorized: () => {
      throw new Unauthorized();
    },
  };
  return runInNewContext(`${body}\nonSubscribe;`, { util }) as (ctx: unknown) => unknown;
}

const onSubscribe = loadHandler();

/** True when the handler lets a caller with `sub` (and a token of `tokenUse`) subscribe to `channel`. */
function handlerAllows(channel: string, sub: unknown, tokenUse: unknown = "access"): boolean {
  const segments = channel.split("/").filter((s) => s !== "");
  const ctx = {
    identity: { sub, claims: { sub, token_use: tokenUse } },
    info: { channel: { path: channel, segments } },
  };
  try {
    onSubscribe(ctx);
    return true;
  } catch (error) {
    if (error instanceof Unauthorized) return false;
    throw error;
  }
}

const alice = "9e821e92-134a-45f0-bbc2-4f6fde79682d";
const bob = "5b54819b-3b5e-514b-8173-6e2e471317e3";

describe("the onSubscribe handler agrees with maySubscribe", () => {
  const cases: [string, string][] = [
    [userChannel(alice), alice],
    [userChannel(bob), alice],
    [`/${EVENTS_NAMESPACE}/*`, alice],
    [`/${EVENTS_NAMESPACE}/${alice}/`, alice],
    [`/${EVENTS_NAMESPACE}/${alice}/extra`, alice],
    [`/${EVENTS_NAMESPACE}/${alice.toUpperCase()}`, alice],
    [`/${EVENTS_NAMESPACE}`, alice],
    [`/${EVENTS_NAMESPACE}/`, ""],
    [`/default/${alice}`, alice],
    [`${EVENTS_NAMESPACE}/${alice}`, alice],
    [`/${EVENTS_NAMESPACE}/a/b`, "a/b"],
    [`/${EVENTS_NAMESPACE}/*`, "*"],
    [`/${EVENTS_NAMESPACE}/${alice} `, alice],
  ];

  it.each(cases)("%s for sub %s", (channel, sub) => {
    expect(handlerAllows(channel, sub)).toBe(maySubscribe(channel, sub));
  });

  it("allows exactly the caller's own channel", () => {
    expect(handlerAllows(userChannel(alice), alice)).toBe(true);
    expect(cases.filter(([c, s]) => handlerAllows(c, s))).toEqual([[userChannel(alice), alice]]);
  });

  it("on generated channels and subs", () => {
    const segment = fc.oneof(fc.constantFrom(alice, bob, "*", "", EVENTS_NAMESPACE), fc.string({ maxLength: 6 }));
    const channel = fc.oneof(
      fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join("/")}`),
      segment.map((s) => userChannel(s)),
    );
    fc.assert(
      fc.property(channel, segment, (c, s) => {
        expect(handlerAllows(c, s)).toBe(maySubscribe(c, s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("tokens the Cognito mode takes but the handler refuses", () => {
  it("refuses an ID token, a token without token_use, and a caller without sub, on their own channel", () => {
    expect(handlerAllows(userChannel(alice), alice, { token_use: "id" })).toBe(false);
    expect(handlerAllows(userChannel(alice), alice, {})).toBe(false);
    expect(handlerAllows(`/${EVENTS_NAMESPACE}/undefined`, undefined)).toBe(false);
    expect(() => onSubscribe({ identity: null, info: { channel: { path: userChannel(alice) } } })).toThrow(
      Unauthorized,
    );
  });
});
