/**
 * The operator commands' plumbing without any service: argument errors and help, error
 * explanations, progress rendering and terminal formatting.
 */

import { setTimeout } from "node:timers/promises";
import { CognitoIdentityProviderClient, ListUsersCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { type CliEnv, commandHelp, programHelp, runCli } from "../../bin/lib/cli";
import { cognitoProgram } from "../../bin/lib/cognito-commands";
import { findPoolUserBySub, listPoolUsers } from "../../bin/lib/cognito-users";
import { ddbProgram } from "../../bin/lib/ddb-commands";
import { explainError, isConnectionError } from "../../bin/lib/errors";
import { fanoutProgram } from "../../bin/lib/fanout-commands";
import { columns, inlineValue, jsonLine, localDateTime, preview, visible } from "../../bin/lib/format";
import { runLimited } from "../../bin/lib/limited";
import { OpsError } from "../../bin/lib/ops-errors";
import { Progress } from "../../bin/lib/progress";
import { listTables, waitUntilActive } from "../../bin/lib/table-admin";
import type { Target } from "../../bin/lib/target";
import { usersProgram } from "../../bin/lib/users-commands";

function sink(isTTY = false) {
  const out = {
    text: "",
    isTTY,
    columns: 100,
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

async function run(argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const env: CliEnv = { stdout, stderr, stateDir: "/nonexistent-state-dir", env: {} };
  const code = await runCli(ddbProgram, argv, env);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const local: Target = {
  kind: "local",
  region: "us-east-1",
  tableName: "cruddur-messages",
  userPoolId: "local_abc",
  dynamodbEndpoint: "http://localhost:8000",
  cognitoEndpoint: "http://localhost:9229",
  deadLetterFile: "/state/dead-letter.jsonl",
  failureQueueUrl: undefined,
};
const cloud: Target = {
  ...local,
  kind: "cloud",
  dynamodbEndpoint: undefined,
  cognitoEndpoint: undefined,
  deadLetterFile: undefined,
};

describe("command line", () => {
  it("prints the program help with --help (exit 0) and without a command (exit 2, on stderr)", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ddbProgram.commands) expect(help.stdout).toContain(`  ${c.name}`);
    const none = await run([]);
    expect(none).toMatchObject({ code: 2, stdout: "" });
    expect(none.stderr).toBe(programHelp(ddbProgram));
  });

  it("prints each command's help with its arguments, options and examples", async () => {
    for (const program of [ddbProgram, cognitoProgram, usersProgram, fanoutProgram]) {
      for (const command of program.commands) {
        const help = commandHelp(program, command);
        expect(help).toContain(`Usage: npm run ${program.name} -- ${command.name}`);
        expect(help).toContain("--prod");
        expect(help).toContain("Examples:");
      }
    }
    const scan = await run(["scan", "-h"]);
    expect(scan.stdout).toContain("--json");
    expect(scan.stdout).toContain("--table <name>");
    expect(scan.stdout).not.toContain("--user-pool-id");
  });

  it("answers wrong command lines with exit 2, what is wrong and the usage", async () => {
    expect(await run(["frobnicate"])).toMatchObject({ code: 2 });
    const unknown = await run(["scan", "--bogus"]);
    expect(unknown.stderr).toBe(
      "ddb scan: Unknown option '--bogus'\nUsage: npm run ddb -- scan [options] (see --help)\n",
    );
    const missing = await run(["drop"]);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain("ddb drop: missing <table>");
    const extra = await run(["list-tables", "x"]);
    expect(extra.stderr).toContain('unexpected argument "x"');
    const options = await run(["scan", "--user-pool-id", "p"]);
    expect(options.code).toBe(2);
  });

  it("accepts the target options before the command", async () => {
    const result = await run(["--prod", "drop", "t"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refusing to delete the AWS table "t"');
  });
});

describe("error explanations", () => {
  it("connection refused: locally run npm start; in the cloud check the network", () => {
    const refused = Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), {});
    expect(isConnectionError(refused)).toBe(true);
    expect(explainError(refused, local).hint).toContain("npm start");
    expect(explainError(refused, cloud).message).toContain("AWS did not answer");
  });

  it("a missing table or pool, missing credentials, and anything else", () => {
    const notFound = Object.assign(new Error("Cannot do operations on a non-existent table"), {
      name: "ResourceNotFoundException",
    });
    expect(explainError(notFound, local)).toEqual({
      message: 'table "cruddur-messages" does not exist in the local stack',
      hint: "create it with `npm run ddb -- schema-load`",
    });
    expect(explainError(notFound, cloud).hint).toContain("npm run ddb -- schema-load --prod");
    const pool = Object.assign(new Error("User pool local_abc does not exist."), { name: "ResourceNotFoundException" });
    expect(explainError(pool, local).message).toBe("the user pool local_abc does not exist on cognito-local");
    const credentials = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
    });
    expect(explainError(credentials, cloud).message).toBe("no AWS credentials found");
    expect(explainError(new OpsError("m", "h"), local)).toEqual({ message: "m", hint: "h" });
    expect(explainError(new TypeError("boom"), local)).toEqual({
      message: "unexpected error: TypeError: boom",
      hint: "run again with --debug for details",
    });
  });
});

describe("progress", () => {
  it("draws nothing when stderr is not a terminal and not forced", () => {
    const stream = sink(false);
    const progress = new Progress({ stream, force: false });
    progress.start("scanning", { total: 10 });
    progress.tick(5);
    progress.done();
    expect(stream.text).toBe("");
    expect(progress.active).toBe(false);
  });

  it("renders a bar with the count and total, '~' when approximate", () => {
    const progress = new Progress({ stream: sink(true), force: false });
    progress.start("scanning", { total: 200, approximate: true, unit: "items" });
    progress.tick(50);
    expect(progress.render()).toBe("scanning [######------------------]  25% 50/~200 items");
    progress.tick(300);
    expect(progress.render()).toBe("scanning [########################] 100% 350/~350 items");
    progress.start("listing", { unit: "users" });
    progress.tick(3);
    expect(progress.render()).toBe("listing 3 users");
  });

  it("redraws one terminal line, throttled, and steps aside for output", () => {
    let now = 0;
    const stream = sink(true);
    const progress = new Progress({ stream, force: false, now: () => now });
    progress.start("groups", { total: 4 });
    progress.tick();
    now += 10;
    progress.tick();
    expect(stream.text.match(/\r/g)).toHaveLength(1);
    now += 100;
    progress.tick();
    expect(stream.text.endsWith("\rgroups [##################------]  75% 3/4\x1b[K")).toBe(true);
    progress.around(() => stream.write("output\n"));
    expect(stream.text).toContain("\r\x1b[Koutput\n");
    progress.done();
    expect(stream.text.endsWith("\r\x1b[Koutput\n\rgroups [##################------]  75% 3/4\x1b[K\n")).toBe(true);
  });

  it("writes plain lines at most once a second when forced on a file", () => {
    let now = 0;
    const stream = sink(false);
    const progress = new Progress({ stream, force: true, now: () => now });
    progress.start("scanning", { unit: "items" });
    progress.tick(10);
    now += 1500;
    progress.tick(10);
    progress.done();
    expect(stream.text).toBe("scanning 0 items\nscanning 20 items\n");
  });
});

describe("formatting", () => {
  it("local date-time in a given zone, and the input back when it is not a date", () => {
    expect(localDateTime("2026-11-21T14:05:09.123Z", "UTC")).toBe("2026-11-21 14:05:09");
    expect(localDateTime("2026-11-21T23:30:00.000Z", "Asia/Tokyo")).toBe("2026-11-22 08:30:00");
    expect(localDateTime("nope")).toBe("nope");
  });

  it("previews on one line, cut by code points", () => {
    expect(preview("a\n\n b\tc")).toBe("a b c");
    expect(preview("🍕".repeat(10), 5)).toBe("🍕🍕🍕🍕…");
    expect(preview("short", 5)).toBe("short");
  });

  it("aligns columns, JSON-encodes sets, and quotes strings inline", () => {
    expect(
      columns(
        [
          ["a", "bbb", "x"],
          ["cc", "d", "y"],
        ],
        ["H1", "H2", "H3"],
      ),
    ).toEqual(["H1  H2   H3", "a   bbb  x", "cc  d    y"]);
    expect(jsonLine({ s: new Set(["x"]), n: 1 })).toBe('{"s":["x"],"n":1}');
    expect(inlineValue("hi")).toBe('"hi"');
    expect(inlineValue([{ a: 1 }])).toBe('[{"a":1}]');
  });

  it("makes control, bidi and zero-width characters visible instead of letting them act", () => {
    expect(visible("Eve\u202Elive")).toBe("Eve\\u{202E}live");
    expect(visible("a\u200Bb\nc")).toBe("a\\u{200B}b\\u{000A}c");
    expect(visible("Zoë 🍕")).toBe("Zoë 🍕");
  });
});

describe("listing the users of a pool", () => {
  const user = (sub: string, handle: string) => ({
    Username: handle,
    Enabled: true,
    UserStatus: "CONFIRMED" as const,
    Attributes: [
      { Name: "sub", Value: sub },
      { Name: "preferred_username", Value: handle },
      { Name: "name", Value: handle.toUpperCase() },
    ],
  });

  it("follows PaginationToken until Cognito gives none (cognito-local answers everything at once)", async () => {
    const cognito = new CognitoIdentityProviderClient({ region: "us-east-1" });
    const mock = mockClient(cognito);
    mock
      .on(ListUsersCommand, { PaginationToken: undefined })
      .resolves({ Users: [user("1", "a"), user("2", "b")], PaginationToken: "t1" })
      .on(ListUsersCommand, { PaginationToken: "t1" })
      .resolves({ Users: [user("3", "c")] });
    const pages: number[] = [];
    const users = await listPoolUsers(cognito, "pool", { onPage: (n) => pages.push(n) });
    expect(users.map((u) => [u.handle, u.uuid, u.display_name])).toEqual([
      ["a", "1", "A"],
      ["b", "2", "B"],
      ["c", "3", "C"],
    ]);
    expect(pages).toEqual([2, 3]);
    expect(mock.commandCalls(ListUsersCommand).map((c) => c.args[0].input.Limit)).toEqual([60, 60]);
  });

  it("finds a user by sub with a ListUsers filter, and never builds a filter from a non-uuid", async () => {
    const cognito = new CognitoIdentityProviderClient({ region: "us-east-1" });
    const mock = mockClient(cognito);
    const sub = "0f8fad5b-d9cb-469f-a165-70867728950e";
    mock.on(ListUsersCommand).resolves({ Users: [{ ...user(sub, "londo"), Username: "7d1e-londo" }] });
    expect((await findPoolUserBySub(cognito, "pool", sub))?.username).toBe("7d1e-londo");
    expect(mock.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBe(`sub = "${sub}"`);
    expect(await findPoolUserBySub(cognito, "pool", '" or name = "x')).toBeUndefined();
    expect(mock.commandCalls(ListUsersCommand)).toHaveLength(1);
  });

  it("stops on a token answered twice, and de-duplicates users", async () => {
    const cognito = new CognitoIdentityProviderClient({ region: "us-east-1" });
    const mock = mockClient(cognito);
    mock.on(ListUsersCommand).resolves({ Users: [user("1", "a")], PaginationToken: "same" });
    const users = await listPoolUsers(cognito, "pool");
    expect(users).toHaveLength(1);
    expect(mock.commandCalls(ListUsersCommand)).toHaveLength(2);
  });
});

describe("waiting for a table", () => {
  it("returns the description once the table and its index are ACTIVE", async () => {
    const ddb = new DynamoDBClient({ region: "us-east-1" });
    const mock = mockClient(ddb);
    const index = (IndexStatus: "CREATING" | "ACTIVE") => [{ IndexName: "gsi", IndexStatus }];
    mock
      .on(DescribeTableCommand)
      .resolvesOnce({ Table: { TableName: "t", TableStatus: "CREATING", GlobalSecondaryIndexes: index("CREATING") } })
      .resolvesOnce({ Table: { TableName: "t", TableStatus: "ACTIVE", GlobalSecondaryIndexes: index("CREATING") } })
      .resolvesOnce({ Table: { TableName: "t", TableStatus: "ACTIVE", GlobalSecondaryIndexes: index("CREATING") } })
      .resolves({ Table: { TableName: "t", TableStatus: "ACTIVE", GlobalSecondaryIndexes: index("ACTIVE") } });
    const table = await waitUntilActive(ddb, "t", { intervalMs: 10, timeoutMs: 5000 });
    expect(table.GlobalSecondaryIndexes?.[0]?.IndexStatus).toBe("ACTIVE");
  });

  it("gives up after the timeout with what to do, not as a network error", async () => {
    const ddb = new DynamoDBClient({ region: "us-east-1" });
    mockClient(ddb)
      .on(DescribeTableCommand)
      .resolves({ Table: { TableName: "t", TableStatus: "CREATING" } });
    const error = await waitUntilActive(ddb, "t", { intervalMs: 50, timeoutMs: 1200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsError);
    expect(explainError(error, local)).toEqual({
      message: "table t is still not ACTIVE after 1 s",
      hint: "check it in the DynamoDB console, then run the command again",
    });
  });
});

describe("listing tables", () => {
  it("follows LastEvaluatedTableName until DynamoDB gives none", async () => {
    const ddb = new DynamoDBClient({ region: "us-east-1" });
    const mock = mockClient(ddb);
    mock
      .on(ListTablesCommand)
      .resolvesOnce({ TableNames: ["a", "b"], LastEvaluatedTableName: "b" })
      .resolvesOnce({ TableNames: ["c"] });
    expect(await listTables(ddb)).toEqual(["a", "b", "c"]);
    // (The paginator reuses one input object, so the calls cannot be told apart by their input.)
    expect(mock.commandCalls(ListTablesCommand)).toHaveLength(2);
  });
});

describe("bounded concurrency", () => {
  it("keeps at most the limit in flight, starts nothing after a failure, rethrows it once all settled", async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const task = (n: number) => async () => {
      started.push(n);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await setTimeout(5);
      inFlight -= 1;
      if (n === 2) throw new Error(`task ${n} failed`);
    };
    await expect(runLimited(2, [1, 2, 3, 4, 5, 6].map(task))).rejects.toThrow("task 2 failed");
    expect(most).toBe(2);
    expect(inFlight).toBe(0);
    expect(started).toEqual([1, 2, 3, 4]);
  });
});
