/** Helpers of the end-to-end tests: a local stack on free ports, and an HTTP client of its API. */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { freeStackPorts } from "../../local/free-port";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack";
import { NEXT_CURSOR_HEADER } from "../../shared/api-contract";
import type { SendLimitSettings } from "../../shared/config";
import type { MessageView } from "../../shared/model";
import { userChannel } from "../../shared/realtime";
import { MAX_PAGE_SIZE } from "../../shared/validation";
import { recordAnswer } from "./contract";
import { RawEventsClient, subscribeFrame } from "./events-client";
import { tempDir } from "./temp-dir";

/** A fresh state directory under the OS temp dir. */
export const tempStateDir = (): Promise<string> => tempDir("cruddur-e2e-");

/**
 * Send limits high enough that no suite but the send limits' own meets them: the suites post
 * hundreds of messages from a few users in seconds.
 */
export const UNLIMITED_SENDS: SendLimitSettings = {
  messagesPerMinute: 1_000_000,
  messageBurst: 1_000_000,
  newGroupsPerHour: 1_000_000,
};

/**
 * Starts a quiet local stack on free ports (and a temp state dir unless one is given; up to 3
 * tries when a port was taken between its choice and its bind), with
 * {@link UNLIMITED_SENDS} unless `options.sendLimits` says otherwise. Every answer of its API is
 * checked against the OpenAPI document (`recordAnswer` of `test/support/contract.ts`, reported by
 * `contract-setup.ts`) unless `contract` is false, as the load run sets so as not to measure the check.
 */
export async function startTestStack(options: LocalStackOptions & { contract?: boolean } = {}): Promise<LocalStack> {
  const { contract = true, ...rest } = options;
  const stateDir = rest.stateDir ?? (await tempStateDir());
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalStack({
        ...(await freeStackPorts()),
        stateDir,
        quiet: true,
        sendLimits: UNLIMITED_SENDS,
        ...(contract ? { onApiAnswer: recordAnswer } : {}),
        ...rest,
      });
    } catch (error) {
      // A port free a moment ago can be taken before the stack binds it: by another stack of a
      // parallel test file, or as the ephemeral port of any outgoing connection (the OS picks
      // both from one range). Start again on fresh ports, unless the caller chose the ports.
      const taken =
        error instanceof Error && /EADDRINUSE|address already in use/i.test(String(error.stack ?? error.message));
      const portsGiven = Object.keys(rest).some((k) => k.endsWith("Port"));
      if (!taken || portsGiven || attempt >= 3) throw error;
    }
  }
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Calls the stack's API as the frontend does; `token` goes in `Authorization: Bearer`. */
export async function callApi(
  stack: LocalStack,
  method: "GET" | "POST" | "OPTIONS" | "PUT" | "PATCH" | "DELETE",
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) };
}

/**
 * Every message of a group through the API, oldest first: pages of the largest size, following
 * the `x-next-cursor` header back to the oldest.
 * @throws Error when a page is not answered 200.
 */
export async function listAllMessages(stack: LocalStack, token: string, group: string): Promise<MessageView[]> {
  let all: MessageView[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${MAX_PAGE_SIZE}${cursor === null ? "" : `&cursor=${cursor}`}`;
    const page = await callApi(stack, "GET", `/api/messages/${group}${query}`, { token });
    if (page.status !== 200) throw new Error(`listing ${group}: HTTP ${page.status} ${JSON.stringify(page.body)}`);
    all = [...(page.body as MessageView[]), ...all];
    cursor = page.headers.get(NEXT_CURSOR_HEADER);
  } while (cursor !== null);
  return all;
}

/**
 * Calls `probe` every 50 ms until it returns a value other than `undefined`.
 * @returns that value and the time it took, ms.
 * @throws Error after `timeoutMs`.
 */
export async function pollUntil<T>(
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<{ value: T; elapsedMs: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    const elapsedMs = performance.now() - started;
    if (value !== undefined) return { value, elapsedMs };
    if (elapsedMs > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Pids of the processes of process group `pgid` that still run (zombies excluded; Linux /proc). */
export function runningGroupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return state !== "Z" && Number(pgrp) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Waits until the stack's real-time publish consumer has caught up with the stream: posts a
 * message from the user of `accessToken` (uuid `userUuid`) to their newest conversation and waits
 * for its event on their channel. The consumer reads the stream from its start, so the seeded
 * conversation's events come first; once the sentinel's event arrives they have all been
 * published. Subscribe after this to see only the events of the test.
 * @throws Error when the user has no conversation or the event does not come within 20 s.
 */
export async function settleRealtime(stack: LocalStack, accessToken: string, userUuid: string): Promise<void> {
  const groups = await callApi(stack, "GET", "/api/message_groups", { token: accessToken });
  const group = (groups.body as { uuid: string }[])[0]?.uuid;
  if (group === undefined) throw new Error("settleRealtime: the user has no conversation");
  const client = await RawEventsClient.connect(stack.events.realtimeUrl, accessToken);
  try {
    client.send(subscribeFrame("settle", userChannel(userUuid), accessToken));
    const ack = await client.next();
    if (ack.type !== "subscribe_success") throw new Error(`settleRealtime: ${JSON.stringify(ack)}`);
    const posted = await callApi(stack, "POST", "/api/messages", {
      token: accessToken,
      body: { message: "(real-time sentinel)", message_group_uuid: group },
    });
    const id = (posted.body as { uuid: string }).uuid;
    for (;;) {
      const frame = await client.next(20_000);
      if (frame.type === "data" && (JSON.parse(frame.event as string) as { id?: string }).id === id) return;
    }
  } finally {
    await client.close();
  }
}
