/**
 * Reliability suite 9 (docs/reliability.md): identity under races and generated bad input,
 * through cognito-local's real API (SignUp runs our triggers) and the local HTTP API.
 * - Generated races of 20 sign-ups and renames for 5 handles: exactly one owner per handle, and
 *   every profile's handle item points back to it.
 * - Generated bad handles and display names, by sign-up and by PATCH /api/users/me: every one
 *   refused with its code, nothing written (the table and the pool are unchanged).
 */
import { randomUUID } from "node:crypto";
import { type CognitoIdentityProviderClient, ListUsersCommand } from "@aws-sdk/client-cognito-identity-provider";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/stack";
import { localCognitoClient } from "../../local/state";
import { MAX_DISPLAY_NAME_CHARS } from "../../shared/identity-rules";
import type { HandleItem } from "../../shared/items/handle";
import type { ProfileItem } from "../../shared/items/profile";
import { HANDLE_PREFIX, USER_PREFIX } from "../../shared/table";
import { type Caller, newCaller, scanFingerprint, scanStackTable } from "../support/callers";
import { signUpRefusal } from "../support/sign-up";
import { callApi, startTestStack } from "../support/stack";

const PASSWORD = "Correct-Horse-9-battery";
let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;

beforeAll(async () => {
  stack = await startTestStack();
  cognito = localCognitoClient({ endpoint: stack.cognitoEndpoint, region: stack.region });
});

afterAll(async () => {
  cognito?.destroy();
  await stack?.stop();
});

/** SignUp (+ AdminConfirmSignUp); resolves to the refusal's message, or undefined when accepted. */
const signUp = (handle: string, displayName: string, confirm: boolean): Promise<string | undefined> =>
  signUpRefusal(
    cognito,
    stack,
    { username: `race-${randomUUID().slice(0, 8)}`, handle, displayName, password: PASSWORD },
    { confirm },
  );

async function directory() {
  const items = await scanStackTable(stack);
  const profiles = items.filter((i) => String(i.pk).startsWith(USER_PREFIX)) as unknown as ProfileItem[];
  const handles = items.filter((i) => String(i.pk).startsWith(HANDLE_PREFIX)) as unknown as HandleItem[];
  return { profiles, handles };
}

async function poolSize(): Promise<number> {
  return (await cognito.send(new ListUsersCommand({ UserPoolId: stack.userPoolId }))).Users?.length ?? 0;
}

/** Figures of this suite, printed at the end for docs/reliability.md. */
const figures = { races: 0, signUps: 0, signUpsAccepted: 0, renames: 0, renamesAccepted: 0, badInputs: 0 };

describe("races of sign-ups and renames", () => {
  it("ends every generated race of 20 sign-ups and renames for 5 handles with exactly one owner per handle", async () => {
    const renamers: Caller[] = [];
    for (let i = 0; i < 3; i++) renamers.push(await newCaller(stack, `renamer${i}`));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ handle: fc.nat(4), upper: fc.boolean(), signUp: fc.boolean(), who: fc.nat(2) }), {
          minLength: 20,
          maxLength: 20,
        }),
        async (plan) => {
          figures.races += 1;
          const base = Array.from({ length: 5 }, () => `h${randomUUID().slice(0, 6)}`);
          const outcomes = await Promise.all(
            plan.map(async (step) => {
              const name = base[step.handle] as string;
              const handle = step.upper ? name.toUpperCase() : name;
              if (step.signUp) {
                figures.signUps += 1;
                const refusal = await signUp(handle, "Racer", true);
                if (refusal === undefined) figures.signUpsAccepted += 1;
                else expect(refusal).toContain("handle_taken");
                return;
              }
              figures.renames += 1;
              const caller = renamers[step.who] as Caller;
              const answer = await callApi(stack, "PATCH", "/api/users/me", {
                token: caller.accessToken,
                body: { handle },
              });
              expect([200, 409]).toContain(answer.status);
              if (answer.status === 200) figures.renamesAccepted += 1;
            }),
          );
          expect(outcomes).toHaveLength(20);

          const { profiles, handles } = await directory();
          const byUuid = new Map(profiles.map((p) => [p.uuid, p]));
          for (const name of base) {
            const owned = handles.filter((h) => h.pk === `${HANDLE_PREFIX}${name}` && h.state === "owned");
            expect(owned.length).toBeLessThanOrEqual(1);
            // A renamer that won a handle and moved on leaves it reserved: then nobody owns it.
            if (owned.length === 1) expect(byUuid.get(owned[0]?.user_uuid as string)?.handle.toLowerCase()).toBe(name);
          }
          for (const profile of profiles) {
            const item = handles.find((h) => h.pk === `${HANDLE_PREFIX}${profile.handle.toLowerCase()}`);
            expect(item).toMatchObject({ state: "owned", user_uuid: profile.uuid });
          }
          const canonical = profiles.map((p) => p.handle.toLowerCase());
          expect(new Set(canonical).size).toBe(canonical.length);
        },
      ),
      { numRuns: 3 },
    );
  });
});

/** One character of each refused kind (see shared/identity-rules.ts). */
const REFUSED_CHARS = [
  "\u0000",
  "\u0007",
  "\n",
  "\u007F",
  "\u0085",
  "\u200B",
  "\u200C",
  "\u200D",
  "\u200E",
  "\u202A",
  "\u202E",
  "\u2066",
  "\u2069",
  "\uFEFF",
  "\u00AD",
  "\uE000",
  "\u0378",
  "\u2028",
  "\u2029",
  "\u00A0",
  "\u2003",
  "\u3000",
  "\u3164",
  "\u2800",
  "<",
  ">",
];

const badDisplayName = fc.oneof(
  fc
    .tuple(
      fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom(..."abcXYZ 09") }),
      fc.constantFrom(...REFUSED_CHARS),
      fc.nat(20),
    )
    .map(([text, bad, at]) => `A${text.slice(0, at)}${bad}${text.slice(at)}`),
  fc.constantFrom("", " ", "   "),
  fc.integer({ min: MAX_DISPLAY_NAME_CHARS + 1, max: 200 }).map((n) => "n".repeat(n)),
  fc.constantFrom("Z\u0334\u0335\u0336\u0337", "\u0301abc"),
);

const badHandle = fc.oneof(
  fc.constant(""),
  fc.integer({ min: 33, max: 80 }).map((n) => "h".repeat(n)),
  fc
    .tuple(
      fc.constantFrom("bob", "andrew", "x"),
      fc.constantFrom(" ", "!", "#", "\u0430", "\u00E9", "\u200B", "ｂ", "@@", "/"),
      fc.nat(3),
    )
    .map(([text, bad, at]) => `${text.slice(0, at)}${bad}${text.slice(at)}`),
);

describe("generated bad handles and display names", () => {
  it("refuses every one by PATCH /api/users/me with its code, writing nothing", async () => {
    const caller = await newCaller(stack, "patcher");
    const before = scanFingerprint(await scanStackTable(stack));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badHandle.map((handle) => ({ body: { handle }, codes: ["handle_invalid"] })),
          badDisplayName.map((display_name) => ({ body: { display_name }, codes: ["display_name_invalid"] })),
          fc.tuple(badHandle, badDisplayName).map(([handle, display_name]) => ({
            body: { handle, display_name },
            codes: ["handle_invalid", "display_name_invalid"],
          })),
        ),
        async ({ body, codes }) => {
          figures.badInputs += 1;
          const answer = await callApi(stack, "PATCH", "/api/users/me", { token: caller.accessToken, body });
          expect(answer).toMatchObject({ status: 422, body: codes });
        },
      ),
      { numRuns: 300 },
    );
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
  });

  it("refuses every one at sign-up with its code, creating no directory item and no user", async () => {
    const before = scanFingerprint(await scanStackTable(stack));
    const users = await poolSize();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badHandle.map((handle) => ({ handle, name: "Fine Name", code: "handle_invalid" })),
          badDisplayName.map((name) => ({
            handle: `ok${randomUUID().slice(0, 6)}`,
            name,
            code: "display_name_invalid",
          })),
        ),
        async ({ handle, name, code }) => {
          figures.badInputs += 1;
          const refusal = await signUp(handle, name, false);
          expect(refusal).toContain(code);
        },
      ),
      { numRuns: 100 },
    );
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    expect(await poolSize()).toBe(users);
    // The figures of this file, for docs/reliability.md.
    console.log(`identity suite: ${JSON.stringify(figures)}`);
  });
});
