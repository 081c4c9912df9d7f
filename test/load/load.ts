/**
 * Suite 6, load (`npm run load`; not part of `npm test`): the local stack on free ports under
 * sustained concurrent reads and writes from autocannon (default 50 connections for 30 s, to
 * 127.0.0.1 only), across three conversations and three signed-in users. Then it checks:
 * no 5xx, no 4xx and no socket error; no lost message (every post answered 200 is readable
 * through pattern A, and the new MSG rows number the posts answered 200 plus at most one post cut
 * off per connection when the load stopped); the fan-out caught up (every member's summary shows its group's newest message)
 * within FAN_OUT_CATCH_UP_MS after the load stops. Prints requests/s and latency percentiles as
 * JSON, exits 1 when a check fails.
 *
 * Settings (env): LOAD_CONNECTIONS, LOAD_DURATION_S. The load generator runs in the same process
 * as the emulated API (which is single-threaded, as one Node process), on the same 2 cores as
 * DynamoDB Local and cognito-local: the figures describe this machine's local stack, not AWS.
 */
import "../../local/sdk-warning";
import { rm } from "node:fs/promises";
import autocannon from "autocannon";
import { signIn } from "../../local/sign-in";
import { deadLetterFilePath, readDeadLetters } from "../../local/state";
import type { CreatedMessageView, MessageGroupView, MessageView } from "../../shared/model";
import { callApi, listAllMessages, pollUntil, startTestStack } from "../support/stack";

const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 30);
/** How soon after the load every summary must show its group's newest message, ms. */
const FAN_OUT_CATCH_UP_MS = 10_000;

interface User {
  handle: string;
  uuid: string;
  token: string;
}

async function main(): Promise<boolean> {
  // No contract check here (the e2e and reliability tiers run it): the figures are the API's alone.
  const stack = await startTestStack({ contract: false });
  try {
    const users: User[] = [];
    for (const u of stack.users) {
      users.push({ handle: u.handle, uuid: u.uuid, token: (await signIn(stack, u.username, u.password)).accessToken });
    }
    // Three conversations: the seeded one and one per other pair (pattern D).
    const groups: { uuid: string; members: [User, User] }[] = [];
    for (let i = 0; i < users.length; i++) {
      for (let j = i + 1; j < users.length; j++) {
        const [x, y] = [users[i] as User, users[j] as User];
        const created = await callApi(stack, "POST", "/api/messages", {
          token: x.token,
          body: { message: `load test: hello ${y.handle}`, handle: y.handle },
        });
        if (created.status !== 200) throw new Error(`pattern D: HTTP ${created.status}`);
        groups.push({ uuid: (created.body as CreatedMessageView).message_group_uuid, members: [x, y] });
      }
    }
    const before = new Map<string, number>();
    for (const g of groups) before.set(g.uuid, (await listAllMessages(stack, g.members[0].token, g.uuid)).length);

    // The mix: 40% posts (pattern C), 30% reads of a group (A), 30% reads of one's groups (B).
    const acknowledged = new Set<string>();
    const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;
    const started = performance.now();
    const result = await autocannon({
      url: stack.apiUrl.replace("localhost", "127.0.0.1"),
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [
        {
          setupRequest: (request, context) => {
            const ctx = context as { kind?: string; group?: string };
            const group = pick(groups);
            const user = pick(group.members);
            const r = Math.random();
            ctx.kind = r < 0.4 ? "post" : r < 0.7 ? "read_group" : "read_groups";
            ctx.group = group.uuid;
            const headers = { authorization: `Bearer ${user.token}`, "content-type": "application/json" };
            if (ctx.kind === "post") {
              return {
                ...request,
                method: "POST",
                path: "/api/messages",
                headers,
                body: JSON.stringify({ message: `load ${Math.random()}`, message_group_uuid: group.uuid }),
              };
            }
            const path = ctx.kind === "read_group" ? `/api/messages/${group.uuid}` : "/api/message_groups";
            return { ...request, method: "GET", path, headers, body: undefined as never };
          },
          onResponse: (status, body, context) => {
            const ctx = context as { kind?: string };
            if (ctx.kind === "post" && status === 200) acknowledged.add((JSON.parse(body) as CreatedMessageView).uuid);
          },
        },
      ],
    });
    const loadEnded = performance.now();
    // autocannon hangs up on the requests still in flight when time is up, but their handlers run
    // on: wait for them, or a post landing after the reads below would be newer than the newest
    // message they saw, and the catch-up check would wait for a summary that has moved past it.
    await stack.idle();
    const drainedMs = Math.round(performance.now() - loadEnded);

    // No lost message: every post answered 200 is a readable MSG row. A post still in flight when
    // autocannon stopped may be written without its answer being counted: at most one per connection.
    let readable = 0;
    const readableUuids = new Set<string>();
    const newest = new Map<string, MessageView>();
    for (const g of groups) {
      const messages = await listAllMessages(stack, g.members[1].token, g.uuid);
      readable += messages.length - (before.get(g.uuid) ?? 0);
      for (const m of messages) readableUuids.add(m.uuid);
      newest.set(g.uuid, messages.at(-1) as MessageView);
    }
    const lost = [...acknowledged].filter((uuid) => !readableUuids.has(uuid)).length;
    const posted = acknowledged.size;
    // The fan-out catches up: both summaries of every group show its newest message. `summaries`
    // lists what each member's summary shows now, next to the group's newest message.
    const summaries = async () => {
      const seen: { message_group_uuid: string; member: string; shows: string | null; newest: string | null }[] = [];
      for (const g of groups) {
        for (const member of g.members) {
          const rows = (await callApi(stack, "GET", "/api/message_groups", { token: member.token }))
            .body as MessageGroupView[];
          const row = rows.find((r) => r.uuid === g.uuid);
          seen.push({
            message_group_uuid: g.uuid,
            member: member.handle,
            shows: row?.created_at ?? null,
            newest: newest.get(g.uuid)?.created_at ?? null,
          });
        }
      }
      return seen;
    };
    let catchUpMs: number | undefined;
    let behind: Awaited<ReturnType<typeof summaries>> = [];
    try {
      await pollUntil(FAN_OUT_CATCH_UP_MS, async () => {
        behind = (await summaries()).filter((s) => s.shows !== s.newest);
        return behind.length === 0 ? true : undefined;
      });
      catchUpMs = Math.round(performance.now() - loadEnded);
    } catch {
      catchUpMs = undefined;
    }

    const figures = {
      connections: CONNECTIONS,
      duration_s: DURATION_S,
      elapsed_s: Math.round((loadEnded - started) / 100) / 10,
      requests: result.requests.total,
      requests_per_s: result.requests.average,
      latency_ms: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      status: { "2xx": result["2xx"], "4xx": result["4xx"], "5xx": result["5xx"] },
      errors: result.errors,
      timeouts: result.timeouts,
      posts_answered_200: posted,
      new_messages_readable: readable,
      acknowledged_but_not_readable: lost,
      requests_cut_off_drained_ms_after_load: drainedMs,
      fan_out_caught_up_ms_after_load: catchUpMs ?? null,
      // Only when the fan-out did not catch up: the summaries still behind, and what the poller gave up.
      ...(catchUpMs === undefined
        ? {
            summaries_behind: behind,
            // Records in the batches given up (each letter points to one batch).
            dead_lettered: (await readDeadLetters(deadLetterFilePath(stack.stateDir))).reduce(
              (n, letter) => n + letter.DDBStreamBatchInfo.batchSize,
              0,
            ),
          }
        : {}),
    };
    console.log(JSON.stringify(figures, null, 2));
    const failures = [
      ...(result["5xx"] > 0 ? [`${result["5xx"]} answers 5xx`] : []),
      ...(result.errors + result.timeouts > 0 ? [`${result.errors} errors, ${result.timeouts} timeouts`] : []),
      ...(result["4xx"] > 0 ? [`${result["4xx"]} answers 4xx to valid requests`] : []),
      ...(lost > 0 ? [`${lost} posts answered 200 are not readable`] : []),
      ...(readable < posted || readable > posted + CONNECTIONS
        ? [`${posted} posts answered 200 but ${readable} new messages readable`]
        : []),
      ...(catchUpMs === undefined ? [`fan-out not caught up within ${FAN_OUT_CATCH_UP_MS} ms`] : []),
    ];
    for (const failure of failures) console.error(`FAIL: ${failure}`);
    if (failures.length === 0) console.error("load: all checks held");
    return failures.length === 0;
  } finally {
    await stack.stop();
    await rm(stack.stateDir, { recursive: true, force: true });
  }
}

process.exitCode = (await main()) ? 0 : 1;
