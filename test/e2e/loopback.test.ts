/**
 * Where the local stack listens: by default every server (the emulated HTTP API, DynamoDB Local,
 * cognito-local, the Lambda Invoke endpoint of the triggers) accepts connections on 127.0.0.1 and
 * refuses them on this machine's other addresses; HOST widens it, with a warning. Needs a
 * non-loopback address of this machine to try: without one, the reachability tests are skipped
 * (the reason is in their names).
 */
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalLogger } from "../../local/logger";
import type { SeededUser } from "../../local/seed";
import { localHostFrom } from "../../local/settings";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { nonLoopbackAddress, probeTcp } from "../support/network";
import { startTestStack } from "../support/stack";

const address = nonLoopbackAddress();
/** Whether a JDK is here to build DynamoDB Local's loopback launcher (local/dynamodb-local.ts). */
const HAS_JAVAC = spawnSync("javac", ["-version"]).status === 0;
const skipReason = address === undefined ? " (skipped: this machine has no non-loopback IPv4 address)" : "";

/** The port of every server of the stack, by name. */
const serverPorts = (stack: LocalStack): Record<string, number> => ({
  api: Number(new URL(stack.apiUrl).port),
  dynamodb: Number(new URL(stack.dynamodbEndpoint).port),
  cognito: Number(new URL(stack.cognitoEndpoint).port),
  lambda: Number(new URL(stack.lambdaEndpoint).port),
  events: Number(new URL(stack.events.httpUrl).port),
});

async function probeAll(host: string, ports: Record<string, number>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(ports).map(async ([name, port]) => [name, await probeTcp(host, port)]),
  );
  return Object.fromEntries(entries);
}

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
  stack = undefined;
});

describe.skipIf(address === undefined)(`where the local stack listens${skipReason}`, () => {
  it("by default: every server on 127.0.0.1, none on this machine's other address", async () => {
    stack = await startTestStack();
    expect(stack.host).toEqual({ listen: "127.0.0.1", connect: "127.0.0.1", widened: false });
    const ports = serverPorts(stack);
    const urls = [stack.apiUrl, stack.dynamodbEndpoint, stack.cognitoEndpoint, stack.lambdaEndpoint];
    for (const url of [...urls, stack.events.httpUrl, stack.events.realtimeUrl]) {
      expect(new URL(url).hostname).toBe("127.0.0.1");
    }
    const all = (outcome: string) => Object.fromEntries(Object.keys(ports).map((name) => [name, outcome]));
    expect(await probeAll("127.0.0.1", ports)).toEqual(all("accepted"));
    // Without a JDK the launcher cannot be built: DynamoDB Local then listens on every interface
    // (and the stack warns); with one, on 127.0.0.1 only like the others.
    const outside = { ...all("ECONNREFUSED"), ...(HAS_JAVAC ? {} : { dynamodb: "accepted" }) };
    expect(await probeAll(address as string, ports)).toEqual(outside);
    // And it works through 127.0.0.1: the public route answers.
    expect((await fetch(`${stack.apiUrl}/api/users/@bayko/short`)).status).toBe(200);
  });

  it("HOST=0.0.0.0: every server on every interface, with a warning", async () => {
    const warnings: string[] = [];
    const logger: LocalLogger = {
      debug() {},
      info() {},
      warn(message) {
        warnings.push(message);
      },
      error() {},
    };
    stack = await startTestStack({ host: localHostFrom("0.0.0.0"), logger });
    expect(stack.host).toEqual({ listen: "0.0.0.0", connect: "127.0.0.1", widened: true });
    expect(warnings.some((w) => w.startsWith("HOST=0.0.0.0: the local stack listens beyond this machine"))).toBe(true);
    const ports = serverPorts(stack);
    const accepted = Object.fromEntries(Object.keys(ports).map((name) => [name, "accepted"]));
    expect(await probeAll(address as string, ports)).toEqual(accepted);
    expect(await probeAll("127.0.0.1", ports)).toEqual(accepted);
    // Tokens still verify: the issuer is the address clients connect to, not 0.0.0.0.
    const user = stack.users[0] as SeededUser;
    const { accessToken } = await signIn(stack, user.username, user.password);
    const response = await fetch(`${stack.apiUrl}/api/message_groups`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(response.status).toBe(200);
  });
});
