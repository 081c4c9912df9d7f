/**
 * The local AppSync Events emulator driven by a client nobody here wrote: Amplify's `events` API
 * (`aws-amplify/data`, the AWS client of Event APIs), in Node, configured as a web app would be
 * (`API.Events.endpoint` = the stack's `events.httpUrl`).
 *
 * Two things are given to Amplify that a browser has on its own:
 * - a token provider (the signed-in user's cognito-local tokens; in the browser Amplify Auth signs
 *   in against Cognito) and a credentials provider (the local IAM credentials, standing in for the
 *   publish function's role: only the publisher signs with IAM);
 * - `globalThis.WebSocket`: Node 20 has none, so the `ws` package's, which also connects
 *   `wss://127.0.0.1…` as `ws://` — Amplify derives the real-time URL from the endpoint by adding
 *   `/realtime` and **always** makes it `wss://` (it rewrites `http://` too), and the emulator
 *   speaks plain `ws://` on loopback (README, "Real-time").
 */
import { rm } from "node:fs/promises";
import { Amplify } from "aws-amplify";
import { decodeJWT } from "aws-amplify/auth";
import { events } from "aws-amplify/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import type { LocalStack } from "../../local/stack";
import { LOCAL_CREDENTIALS } from "../../local/state";
import { userChannel } from "../../shared/realtime";
import { type Caller, seededCaller } from "../support/callers";
import { pollUntil, settleRealtime, startTestStack } from "../support/stack";

/** `ws`'s WebSocket, connecting a `wss://` URL of the loopback address as `ws://`. */
class LoopbackWebSocket extends WsWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(String(url).replace(/^wss:\/\/(127\.0\.0\.1|localhost)([:/])/, "ws://$1$2"), protocols);
  }
}

let stack: LocalStack;
let alice: Caller;
let bob: Caller;
/** Whose tokens the token provider hands to Amplify. */
let signedIn: Caller;
const previousWebSocket = globalThis.WebSocket;

beforeAll(async () => {
  stack = await startTestStack();
  alice = await seededCaller(stack, "andrewbrown");
  bob = await seededCaller(stack, "bayko");
  // The seeded conversation's events are published first: let them through before subscribing.
  await settleRealtime(stack, alice.accessToken, alice.uuid);
  signedIn = bob;
  (globalThis as { WebSocket?: unknown }).WebSocket = LoopbackWebSocket;
  Amplify.configure(
    { API: { Events: { endpoint: stack.events.httpUrl, region: stack.region, defaultAuthMode: "userPool" } } },
    {
      Auth: {
        tokenProvider: {
          getTokens: async () => ({
            accessToken: decodeJWT(signedIn.accessToken),
            idToken: decodeJWT(signedIn.idToken),
          }),
        },
        credentialsProvider: {
          getCredentialsAndIdentityId: async () => ({ credentials: { ...LOCAL_CREDENTIALS } }),
          clearCredentialsAndIdentityId: () => {},
        },
      },
    },
  );
});

afterAll(async () => {
  await events.closeAll().catch(() => {});
  (globalThis as { WebSocket?: unknown }).WebSocket = previousWebSocket;
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

describe("Amplify events against the local emulator", () => {
  it("events.connect + subscribe on one's own channel receives what events.post (IAM) publishes", async () => {
    const channel = await events.connect(userChannel(bob.uuid));
    const received: unknown[] = [];
    const errors: unknown[] = [];
    const subscription = channel.subscribe({ next: (data) => received.push(data), error: (e) => errors.push(e) });
    await subscription.ready;

    const event = { type: "message.new", id: "m-amplify", text: "hello from Amplify" };
    await expect(events.post(userChannel(bob.uuid), event, { authMode: "iam" })).resolves.toBeUndefined();
    await pollUntil(5000, async () => (received.length > 0 ? true : undefined));
    expect(received).toEqual([{ id: expect.any(String), type: "data", event }]);

    await events.post(userChannel(bob.uuid), [{ n: 1 }, { n: 2 }], { authMode: "iam" });
    await pollUntil(5000, async () => (received.length >= 3 ? true : undefined));
    expect(received.slice(1).map((d) => (d as { event: unknown }).event)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors).toEqual([]);
    subscription.unsubscribe();
    await channel.close();
  });

  it("subscribing to another user's channel is refused: ready rejects, the error observer is told", async () => {
    const channel = await events.connect(userChannel(alice.uuid));
    const errors: unknown[] = [];
    const received: unknown[] = [];
    const subscription = channel.subscribe({ next: (data) => received.push(data), error: (e) => errors.push(e) });
    await expect(subscription.ready).rejects.toBeDefined();
    await events.post(userChannel(alice.uuid), { secret: true }, { authMode: "iam" });
    await pollUntil(5000, async () => (errors.length > 0 ? true : undefined));
    expect(JSON.stringify(errors)).toContain("UnauthorizedException");
    expect(received).toEqual([]);
    await channel.close();
  });

  it("a client cannot publish: events.post with the user's token and channel.publish over the socket both fail", async () => {
    await expect(events.post(userChannel(bob.uuid), { forged: true })).rejects.toThrow();
    const channel = await events.connect(userChannel(bob.uuid));
    await expect(channel.publish({ forged: true })).rejects.toBeDefined();
    await channel.close();
  });
});
