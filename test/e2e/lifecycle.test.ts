/**
 * The local stack's lifecycle: stop() leaves no child process, a second start in the same
 * process works (the functions are loaded again with the new configuration), and `persist`
 * keeps users, messages and the stream position across restarts, also from a copy of the state
 * directory taken while stopped (the local backup, docs/deploy.md "Restoring the table").
 */
import { cp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isRunning } from "../../local/child-process";
import { freePort, isPortFree } from "../../local/free-port";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { localCognitoClient } from "../../local/state";
import type { MessageGroupView } from "../../shared/model";
import { SEED_CONVERSATION } from "../../shared/seed-data";
import { countingLogger } from "../support/callers";
import { signUp } from "../support/sign-up";
import {
  callApi,
  listAllMessages,
  pollUntil,
  runningGroupMembers,
  startTestStack,
  tempStateDir,
} from "../support/stack";

const portsOf = (stack: LocalStack) =>
  [stack.apiUrl, stack.dynamodbEndpoint, stack.cognitoEndpoint, stack.lambdaEndpoint, stack.events.httpUrl].map((url) =>
    Number(new URL(url).port),
  );

async function tokenOf(stack: LocalStack, handle: string): Promise<string> {
  const user = stack.users.find((u) => u.handle === handle);
  if (user === undefined) throw new Error(`no seeded user ${handle}`);
  return (await signIn(stack, user.username, user.password)).accessToken;
}

describe("local stack lifecycle", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("stop() leaves no child process or open port, and a second start in the same process works", async () => {
    const stateDir = await tempStateDir();
    dirs.push(stateDir);
    const first = await startTestStack({ stateDir });
    expect(first.pids).toHaveLength(2);
    for (const pid of first.pids) expect(isRunning(pid)).toBe(true);
    await first.stop();
    for (const pid of first.pids) {
      expect(isRunning(pid)).toBe(false);
      expect(runningGroupMembers(pid)).toEqual([]);
    }
    for (const port of portsOf(first)) expect(await isPortFree(port)).toBe(true);
    await first.stop(); // a second stop does nothing

    const second = await startTestStack({ stateDir });
    try {
      expect(second.userPoolId).not.toBe(first.userPoolId);
      const token = await tokenOf(second, "londo");
      // get-user-short reads USER_POOL_ID: it must see the second stack's pool.
      const user = await callApi(second, "GET", "/api/users/@andrewbrown/short", { token });
      expect(user.status).toBe(200);
      expect(user.body).toMatchObject({ handle: "andrewbrown", uuid: second.users[0]?.uuid });
      const groups = await callApi(second, "GET", "/api/message_groups", { token: await tokenOf(second, "bayko") });
      expect((groups.body as MessageGroupView[]).map((g) => g.handle)).toEqual(["andrewbrown"]);
    } finally {
      await second.stop();
    }
    for (const pid of second.pids) expect(isRunning(pid)).toBe(false);
  });

  it("refuses a second stack while one runs in this process", async () => {
    const stack = await startTestStack();
    dirs.push(stack.stateDir);
    try {
      await expect(startTestStack()).rejects.toThrow(/already runs/);
    } finally {
      await stack.stop();
    }
  });

  it("with persist, keeps users, messages and the stream checkpoint across a restart", async () => {
    const stateDir = await tempStateDir();
    dirs.push(stateDir);
    const logger = countingLogger();
    const { batches } = logger;
    const profiles = () => logger.infos("seeded").map((a) => a.profiles);

    const first = await startTestStack({ stateDir, persist: true, logger });
    let groupUuid: string;
    try {
      const token = await tokenOf(first, "andrewbrown");
      const groups = await callApi(first, "GET", "/api/message_groups", { token });
      groupUuid = (groups.body as MessageGroupView[])[0]?.uuid ?? "";
      const posted = await callApi(first, "POST", "/api/messages", {
        token,
        body: { message: "Persist me", message_group_uuid: groupUuid },
      });
      expect(posted.status).toBe(200);
      // B shows the new summary once the fan-out has put it, a step before its move (and its
      // batch, which the log counts) is finished: wait for both.
      const handled = () => batches.reduce((a, b) => a + b, 0);
      await pollUntil(2000, async () => {
        const now = await callApi(first, "GET", "/api/message_groups", { token });
        const shown = (now.body as MessageGroupView[])[0]?.message === "Persist me";
        return shown && handled() >= SEED_CONVERSATION.length + 1 ? true : undefined;
      });
      expect(handled()).toBe(SEED_CONVERSATION.length + 1);
    } finally {
      await first.stop();
    }
    const checkpoint = JSON.parse(await readFile(join(stateDir, "stream-checkpoint.json"), "utf8"));
    expect(Object.values(checkpoint.shards)).toHaveLength(1);

    batches.length = 0;
    // Another port for the trigger endpoint: cognito-local's config must follow it.
    let lambdaPort = await freePort();
    while (lambdaPort === Number(new URL(first.lambdaEndpoint).port)) lambdaPort = await freePort();
    const second = await startTestStack({ stateDir, persist: true, logger, lambdaPort });
    try {
      expect(second.userPoolId).toBe(first.userPoolId);
      expect(second.userPoolClientId).toBe(first.userPoolClientId);
      expect(second.users.map((u) => u.uuid)).toEqual(first.users.map((u) => u.uuid));
      // The seed wrote the directory once: the restart found every profile and wrote none.
      const n = first.users.length;
      expect(profiles()).toEqual([
        { created: n, exists: 0, handle_taken: 0, invalid: 0 },
        { created: 0, exists: n, handle_taken: 0, invalid: 0 },
      ]);
      const token = await tokenOf(second, "bayko");
      const groups = await callApi(second, "GET", "/api/message_groups", { token });
      expect(groups.body).toMatchObject([{ uuid: groupUuid, message: "Persist me" }]);
      const page = await callApi(second, "GET", `/api/messages/${groupUuid}?limit=100`, { token });
      const older = await callApi(
        second,
        "GET",
        `/api/messages/${groupUuid}?limit=100&cursor=${page.headers.get("x-next-cursor")}`,
        { token },
      );
      // Seeded once (not again on restart) plus the posted message.
      expect((page.body as unknown[]).length + (older.body as unknown[]).length).toBe(SEED_CONVERSATION.length + 1);
      // The poller resumed after its checkpoint: nothing already processed was delivered again.
      // A sentinel (the first message of another conversation) is delivered after anything the
      // poller could still repeat: once it is, the one record delivered must be the sentinel.
      const sentinel = await callApi(second, "POST", "/api/messages", {
        token,
        body: { message: "lifecycle sentinel", handle: "londo" },
      });
      expect(sentinel.status).toBe(200);
      await pollUntil(5000, async () => (batches.length > 0 ? true : undefined));
      expect(batches).toEqual([1]);
      // cognito-local was pointed at this start's trigger endpoint (on another port), and the
      // seeded directory persisted: a sign-up for a seeded handle, in another case, is refused.
      const cognito = localCognitoClient({ endpoint: second.cognitoEndpoint, region: second.region, maxAttempts: 1 });
      try {
        const squat = signUp(cognito, second, {
          username: "squatter",
          handle: "Bayko",
          displayName: "Not Bayko",
          password: "Squatter-local-pass-7",
        });
        await expect(squat).rejects.toThrow(/handle_taken/);
      } finally {
        cognito.destroy();
      }
    } finally {
      await second.stop();
    }
  });

  it("a copy of a stopped persisted state directory restores the same data", async () => {
    const stateDir = await tempStateDir();
    const copyDir = await tempStateDir();
    dirs.push(stateDir, copyDir);
    const logger = countingLogger();
    const { batches } = logger;
    /** What a client sees: each user's message groups, and every message of each group. */
    const snapshot = async (stack: LocalStack) => {
      const seen: Record<string, unknown> = {};
      for (const user of stack.users) {
        const token = await tokenOf(stack, user.handle);
        const groups = (await callApi(stack, "GET", "/api/message_groups", { token })).body as MessageGroupView[];
        seen[user.handle] = groups;
        for (const group of groups) seen[group.uuid] = await listAllMessages(stack, token, group.uuid);
      }
      return seen;
    };

    const original = await startTestStack({ stateDir, persist: true, logger });
    let before: Record<string, unknown>;
    try {
      const token = await tokenOf(original, "andrewbrown");
      const groups = await callApi(original, "GET", "/api/message_groups", { token });
      const groupUuid = (groups.body as MessageGroupView[])[0]?.uuid ?? "";
      for (const body of [
        { message: "Back me up", message_group_uuid: groupUuid },
        { message: "Hello Londo, from the backup", handle: "londo" },
      ]) {
        expect((await callApi(original, "POST", "/api/messages", { token, body })).status).toBe(200);
      }
      await pollUntil(5000, async () => {
        const now = (await callApi(original, "GET", "/api/message_groups", { token })).body as MessageGroupView[];
        return now.length === 2 && now.some((g) => g.message === "Back me up") ? true : undefined;
      });
      before = await snapshot(original);
    } finally {
      await original.stop();
    }
    // The backup: a plain copy of the stopped stack's state directory; the original is gone after it.
    await cp(stateDir, copyDir, { recursive: true });
    await rm(stateDir, { recursive: true, force: true });

    batches.length = 0;
    const restored = await startTestStack({ stateDir: copyDir, persist: true, logger });
    try {
      expect(restored.userPoolId).toBe(original.userPoolId);
      expect(restored.users.map((u) => u.uuid)).toEqual(original.users.map((u) => u.uuid));
      expect(await snapshot(restored)).toEqual(before);
      // The stream checkpoint came along: nothing already fanned out is delivered again. Sentinel:
      // a new message, whose one-record batch must be the only one.
      const token = await tokenOf(restored, "bayko");
      const group = ((before.bayko as MessageGroupView[])[0] as MessageGroupView).uuid;
      const body = { message: "After the restore", message_group_uuid: group };
      expect((await callApi(restored, "POST", "/api/messages", { token, body })).status).toBe(200);
      await pollUntil(5000, async () => (batches.length > 0 ? true : undefined));
      expect(batches).toEqual([1]);
    } finally {
      await restored.stop();
    }
  });
});
