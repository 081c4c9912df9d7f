/**
 * `ddb schema-load`, `ddb list-tables`, `ddb drop` on DynamoDB Local, and how every command
 * reports a missing stack, a stack that does not answer and a missing table.
 */
import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ddbProgram } from "../../bin/lib/ddb-commands";
import { freePort } from "../../local/free-port";
import { localDynamoDbClient } from "../../local/state";
import { createTableInput, GSI, STREAM_VIEW_TYPE, TTL_ATTRIBUTE } from "../../shared/table";
import { runOps, stateDirFor } from "../support/ops";
import { tempDir } from "../support/temp-dir";

const endpoint = inject("dynamodbEndpoint");
const ddb = localDynamoDbClient({ endpoint });
let stateDir: string;
const tableName = `ops-table-${randomUUID()}`;

beforeAll(async () => {
  stateDir = await stateDirFor({ dynamodbEndpoint: endpoint, tableName });
});
afterAll(() => ddb.destroy());

describe("ddb schema-load", () => {
  it("creates the table with the GSI, the stream and the TTL of the shared definition, then says it exists", async () => {
    const created = await runOps(ddbProgram, ["schema-load"], stateDir);
    expect(created.code).toBe(0);
    expect(created.lines).toEqual([
      `created table ${tableName} (GSI ${GSI.indexName}, stream ${STREAM_VIEW_TYPE}, TTL ${TTL_ATTRIBUTE}) on the local stack`,
    ]);
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: "ENABLED" });
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    const expected = createTableInput(tableName);
    expect(Table?.KeySchema).toEqual(expected.KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection?.ProjectionType])).toEqual(
      expected.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection?.ProjectionType]),
    );
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE });

    const again = await runOps(ddbProgram, ["schema-load"], stateDir);
    expect(again.code).toBe(0);
    expect(again.lines).toEqual([`table ${tableName} already exists on the local stack; nothing changed`]);
    expect(again.stderr).toBe("");
  });

  it("says how an existing table differs from the definition, with exit code 1", async () => {
    const other = `ops-plain-${randomUUID()}`;
    const { GlobalSecondaryIndexes: _gsi, StreamSpecification: _stream, ...plain } = createTableInput(other);
    await ddb.send(
      new CreateTableCommand({
        ...plain,
        AttributeDefinitions: plain.AttributeDefinitions?.filter((a) => a.AttributeName !== GSI.partitionKey),
      }),
    );
    const result = await runOps(ddbProgram, ["schema-load", "--table", other], stateDir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`table ${other} already exists`);
    expect(result.stderr).toContain(`GSI ${GSI.indexName} is missing`);
    expect(result.stderr).toContain(`stream is disabled, expected ${STREAM_VIEW_TYPE}`);
  });

  it("reports an existing table's TTL that is off, without changing it or failing for it", async () => {
    const noTtl = `ops-nottl-${randomUUID()}`;
    await ddb.send(new CreateTableCommand(createTableInput(noTtl)));
    const result = await runOps(ddbProgram, ["schema-load", "--table", noTtl], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([`table ${noTtl} already exists on the local stack; nothing changed`]);
    expect(result.stderr).toContain(`note: TTL is off, expected on ${TTL_ATTRIBUTE}`);
    expect(result.stderr).toContain(`aws dynamodb update-time-to-live --table-name ${noTtl}`);
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: noTtl }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe("DISABLED");
  });
});

describe("ddb list-tables and drop", () => {
  it("lists the tables one per line, drops one, and says so when it is gone", async () => {
    const victim = `ops-drop-${randomUUID()}`;
    expect((await runOps(ddbProgram, ["schema-load", "--table", victim], stateDir)).code).toBe(0);
    const listed = await runOps(ddbProgram, ["list-tables"], stateDir);
    expect(listed.code).toBe(0);
    expect(listed.lines).toContain(victim);
    expect(listed.lines).toContain(tableName);

    const dropped = await runOps(ddbProgram, ["drop", victim], stateDir);
    expect(dropped).toMatchObject({ code: 0, stdout: `deleted table ${victim} (local stack)\n` });
    expect((await runOps(ddbProgram, ["list-tables"], stateDir)).lines).not.toContain(victim);

    const twice = await runOps(ddbProgram, ["drop", victim], stateDir);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe(
      `ddb drop: table "${victim}" does not exist\n  hint: list the tables with \`npm run ddb -- list-tables\`\n`,
    );
  });

  it("refuses to drop a cloud table without --yes-delete-cloud-table, before contacting AWS", async () => {
    const result = await runOps(ddbProgram, ["drop", "cruddur-messages", "--prod"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('refusing to delete the AWS table "cruddur-messages" without confirmation');
    expect(result.stderr).toContain("--yes-delete-cloud-table");
  });
});

describe("errors say what is wrong and what to do", () => {
  it("no local stack: run npm start", async () => {
    const empty = await tempDir("cruddur-ops-empty-");
    const result = await runOps(ddbProgram, ["scan"], empty);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ddb scan: no local stack is running \(.*stack\.json not found\)\n/);
    expect(result.stderr).toContain("hint: start it with `npm start`");
  });

  it("a stack that does not answer: run npm start", async () => {
    const dead = await stateDirFor({ dynamodbEndpoint: `http://localhost:${await freePort()}`, tableName });
    const result = await runOps(ddbProgram, ["list-tables"], dead);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ddb list-tables: the local stack does not answer");
    expect(result.stderr).toContain("hint: start it with `npm start`");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("a missing table: run schema-load", async () => {
    const missing = `ops-missing-${randomUUID()}`;
    const result = await runOps(ddbProgram, ["scan", "--table", missing], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ddb scan: table "${missing}" does not exist in the local stack\n  hint: create it with \`npm run ddb -- schema-load\`\n`,
    );
  });

  it("a wrong command line: exit 2 with the usage", async () => {
    expect(await runOps(ddbProgram, ["nope"], stateDir)).toMatchObject({ code: 2 });
    const bad = await runOps(ddbProgram, ["scan", "--page-size", "zero"], stateDir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--page-size must be an integer from 1 to 1000000, got "zero"');
    const help = await runOps(ddbProgram, ["drop", "--help"], stateDir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: npm run ddb -- drop <table> [options]");
    expect(help.stdout).toContain("--yes-delete-cloud-table");
  });

  it("an item written by hand does not stop the scan", async () => {
    await ddb.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: "ODD" }, sk: { S: "1" }, n: { N: "5" } } }),
    );
    const result = await runOps(ddbProgram, ["scan", "--json"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines.map((l) => JSON.parse(l))).toContainEqual({ pk: "ODD", sk: "1", n: 5 });
  });
});
