/**
 * Real-time delivery on the whole local stack: a message posted through the HTTP API reaches both
 * members on their channels as exactly one `message.new` event (the stream poller drives the
 * publish function with real stream records, which publishes IAM-signed to the events emulator),
 * and a non-member's channel receives nothing. The publish consumer reads the stream from its
 * start, as a new mapping does, so the seeded conversation's messages come first: they are
 * checked to be just those.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/stack";
import type { MessageGroupView, MessageView } from "../../shared/model";
import { messageNewEventSchema, userChannel } from "../../shared/realtime";
import { type Caller, seededCaller } from "../support/callers";
import { RawEventsClient, subscribeFrame } from "../support/events-client";
import { callApi, startTestStack } from "../support/stack";

let stack: LocalStack;
let alice: Caller;
let bob: Caller;
let londo: Caller;
const clients: RawEventsClient[] = [];

async function subscribe(caller: Caller): Promise<RawEventsClient> {
  const client = await RawEventsClient.connect(stack.events.realtimeUrl, caller.accessToken);
  clients.push(client);
  client.send(subscribeFrame("messages", userChannel(caller.uuid), caller.accessToken));
  expect(await client.next()).toEqual({ type: "subscribe_success", id: "messages" });
  return client;
}

/**
 * The next `message.new` event of `client`'s `data` frames. Read receipts (`message_group.read`:
 * posting marks the sender's side read, so every post moves a marker) are skipped; they have
 * suites of their own (test/e2e/conversation-controls.test.ts).
 */
async function nextMessageEvent(client: RawEventsClient, timeoutMs: number): Promise<unknown> {
  for (;;) {
    const frame = await client.next(timeoutMs);
    expect(frame).toMatchObject({ type: "data", id: "messages" });
    const event = JSON.parse(frame.event as string) as { type?: string };
    if (event.type !== "message_group.read") return event;
  }
}

/**
 * The message.new events of `client` up to and including the one with `id`; every event before
 * it must be a message.new event of the seeded conversation (older than `before`).
 */
async function eventsUntil(client: RawEventsClient, id: string, before: string): Promise<unknown[]> {
  const events: unknown[] = [];
  for (;;) {
    const event = messageNewEventSchema.parse(await nextMessageEvent(client, 15_000));
    events.push(event);
    if (event.id === id) return events;
    expect(event.message.created_at < before).toBe(true);
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  [alice, bob, londo] = (await Promise.all(["andrewbrown", "bayko", "londo"].map((h) => seededCaller(stack, h)))) as [
    Caller,
    Caller,
    Caller,
  ];
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

describe("a posted message pushed to both members", () => {
  it("both members receive exactly the message.new event; the third user nothing", async () => {
    const [aliceClient, bobClient, londoClient] = [
      await subscribe(alice),
      await subscribe(bob),
      await subscribe(londo),
    ];
    const groups = await callApi(stack, "GET", "/api/message_groups", { token: alice.accessToken });
    const group = (groups.body as MessageGroupView[]).find((g) => g.handle === "bayko");
    if (group === undefined) throw new Error("no seeded conversation");

    const posted = await callApi(stack, "POST", "/api/messages", {
      token: alice.accessToken,
      body: { message: "Pushed in real time", message_group_uuid: group.uuid },
    });
    expect(posted.status).toBe(200);
    const view = posted.body as MessageView & { message_group_uuid: string };
    const expected = {
      type: "message.new",
      id: view.uuid,
      message_group_uuid: group.uuid,
      message: {
        uuid: view.uuid,
        user_uuid: alice.uuid,
        display_name: view.display_name,
        handle: "andrewbrown",
        message: "Pushed in real time",
        created_at: view.created_at,
      },
    };
    for (const client of [aliceClient, bobClient]) {
      const events = await eventsUntil(client, view.uuid, view.created_at);
      expect(events.at(-1)).toEqual(expected);
    }

    // A second message, so that its arrival proves nothing else came before it.
    const next = await callApi(stack, "POST", "/api/messages", {
      token: bob.accessToken,
      body: { message: "Got it", message_group_uuid: group.uuid },
    });
    expect(next.status).toBe(200);
    for (const client of [aliceClient, bobClient]) {
      // The next message event is the second message: the first was delivered once.
      expect(await nextMessageEvent(client, 10_000)).toMatchObject({ id: (next.body as MessageView).uuid });
    }
    expect(await londoClient.drainWithSentinel()).toEqual([]);
  });
});
