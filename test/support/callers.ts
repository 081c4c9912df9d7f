/**
 * Callers of a running local stack (seeded users signed in, new users signed up the real way),
 * a full scan of its table, the checks every error answer must pass, and a logger that counts
 * what the stream poller delivered.
 */
import { type DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import type { LocalLogger } from "../../local/logger";
import type { SeededUser } from "../../local/seed";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { localCognitoClient, localDocumentClient } from "../../local/state";
import { SEED_USERS } from "../../shared/seed-data";
import { confirmSignUp, signUp } from "./sign-up";
import type { ApiResponse } from "./stack";

/** A signed-in user of the stack. */
export interface Caller extends SeededUser {
  accessToken: string;
  idToken: string;
}

/** Signs a seeded user in by handle. */
export async function seededCaller(stack: LocalStack, handle: string): Promise<Caller> {
  const user = stack.users.find((u) => u.handle === handle);
  if (user === undefined) throw new Error(`no seeded user ${handle}`);
  const tokens = await signIn(stack, user.username, user.password);
  return { ...user, accessToken: tokens.accessToken, idToken: tokens.idToken };
}

/** A DocumentClient of the stack's DynamoDB Local; destroy it after use. */
export function stackDocumentClient(stack: LocalStack): DynamoDBDocumentClient {
  return localDocumentClient({ endpoint: stack.dynamodbEndpoint, region: stack.region });
}

/**
 * Signs one more user up in the stack's pool (a "stranger" with no conversation yet), with the
 * password rules of the seeded ones, confirms it and signs it in. It goes the way of a real
 * sign-up (SignUp, then AdminConfirmSignUp), so the stack's triggers claim its handle and write
 * its directory profile, without which every route answers it 401.
 * @throws Error when the sign-up is refused or the confirmation left it without a profile.
 */
export async function newCaller(stack: LocalStack, handle: string): Promise<Caller> {
  const cognito = localCognitoClient({ endpoint: stack.cognitoEndpoint, region: stack.region });
  const template = SEED_USERS[0];
  const user = {
    handle,
    display_name: `Display ${handle}`,
    email: `${handle}@example.com`,
    password: `${template.password}-${handle}`,
  };
  try {
    const { uuid } = await signUp(cognito, stack, {
      handle,
      displayName: user.display_name,
      email: user.email,
      password: user.password,
    });
    // cognito-local logs a failing post-confirmation trigger and confirms anyway: check the profile.
    await confirmSignUp(cognito, stack, handle);
    const profile = await fetch(`${stack.apiUrl}/api/users/@${handle}/short`);
    if (profile.status !== 200) throw new Error(`${handle} has no active profile after sign-up (${profile.status})`);
    const tokens = await signIn(stack, handle, user.password);
    return {
      username: handle,
      handle,
      display_name: user.display_name,
      password: user.password,
      uuid,
      accessToken: tokens.accessToken,
      idToken: tokens.idToken,
    };
  } finally {
    cognito.destroy();
  }
}

/** Every item of the stack's table (a full, strongly consistent scan). */
export async function scanStackTable(stack: LocalStack): Promise<Record<string, unknown>[]> {
  const ddb = stackDocumentClient(stack);
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  } finally {
    ddb.destroy();
  }
}

/** The table's items as sorted `pk|sk|json` lines, to compare two scans. */
export function scanFingerprint(items: readonly Record<string, unknown>[]): string[] {
  return items.map((i) => `${String(i.pk)}|${String(i.sk)}|${JSON.stringify(i)}`).sort();
}

/** Asserts the error contract: a 4xx whose body is a non-empty JSON array of snake_case codes. */
export function expectClientError(response: ApiResponse, context: string): void {
  expect(response.status, context).toBeGreaterThanOrEqual(400);
  expect(response.status, context).toBeLessThan(500);
  expect(Array.isArray(response.body), context).toBe(true);
  const codes = response.body as unknown[];
  expect(codes.length, context).toBeGreaterThan(0);
  for (const code of codes) expect(code, context).toMatch(/^[a-z][a-z_]*$/);
}

/** A silent stack logger that counts what the stream poller delivered and records errors. */
export interface CountingLogger extends LocalLogger {
  /** Records delivered to the fan-out so far (sum of the "stream batch" sizes). */
  deliveredRecords(): number;
  /** Messages of the error lines logged so far (e.g. "stream records dead-lettered"). */
  errors: string[];
  /** The size of each batch delivered to the fan-out so far, in order (empty it to start again). */
  batches: number[];
  /** The attributes of every info line logged so far with `message`, in order. */
  infos(message: string): Record<string, unknown>[];
}

/** A {@link CountingLogger}. */
export function countingLogger(): CountingLogger {
  let delivered = 0;
  const errors: string[] = [];
  const batches: number[] = [];
  const infos: { message: string; attributes: Record<string, unknown> }[] = [];
  return {
    debug() {},
    warn() {},
    error(message) {
      errors.push(message);
    },
    info(message, ...attributes) {
      infos.push({ message, attributes: attributes[0] ?? {} });
      // The fan-out's batches only: the publish consumer logs its own.
      if (message === "stream batch" && attributes[0]?.consumer === "fan-out") {
        delivered += Number(attributes[0]?.records ?? 0);
        batches.push(Number(attributes[0]?.records ?? 0));
      }
    },
    deliveredRecords: () => delivered,
    errors,
    batches,
    infos: (message) => infos.filter((i) => i.message === message).map((i) => i.attributes),
  };
}
