/**
 * `fanout redrive` against DynamoDB Local and its stream: real batches the fan-out gave up on
 * (the local stream poller delivers them to a fan-out whose moves of one group are throttled,
 * until the retries are used up and the poller writes the letter), replayed from the stream into
 * converged summaries, their letters deleted; a group failing again keeps its letter; ranges that
 * left the stream are reported with what to do and kept; the SQS queue of the cloud goes through
 * the same redrive.
 */
import { appendFile, readFile, writeFile } from "node:fs/promises";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fileFailureQueue, sqsFailureQueue } from "../../bin/lib/failure-queues";
import { fanoutProgram } from "../../bin/lib/fanout-commands";
import {
  appendDeadLetters,
  type DeadLetter,
  deadLetterFilePath,
  localStreamsClient,
  readDeadLetters,
} from "../../local/state";
import { messageGroupUuidFor } from "../../shared/ids";
import type { MessageItem } from "../../shared/items/message";
import type { UserProfile } from "../../shared/items/profile";
import { getMessageGroup } from "../../shared/messages";
import { type InvocationRecord, invocationRecordSchema } from "../../shared/on-failure";
import { readRange, redrive } from "../../shared/redrive";
import { seedConversation } from "../../shared/seed";
import { failingGroups, putMessage, startTestFanOut, type TestFanOut } from "../support/fan-out";
import { runOps, stateDirFor } from "../support/ops";
import { createTestTable, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

let table: TestTable;
let stateDir: string;
let letterFile: string;
let fanOut: TestFanOut;
const alice = makeUser("alice_rd", "Alice");
const bob = makeUser("bob_rd", "Bob");
const carol = makeUser("carol_rd", "Carol");
const ab = messageGroupUuidFor(alice.uuid, bob.uuid);
const ac = messageGroupUuidFor(alice.uuid, carol.uuid);
let clock = Date.UTC(2026, 5, 1, 9, 0, 0);

const deps = () => ({ ddb: table.ddb, tableName: table.tableName });
/** Both GRP rows of a group, as [owner uuid, sk, message]. */
async function summaries(groupUuid: string, members: UserProfile[]) {
  const rows = [];
  for (const m of members) {
    for (const r of await table.summariesOf(m.uuid)) {
      if (r.message_group_uuid === groupUuid) rows.push([m.uuid, r.sk, r.message]);
    }
  }
  return rows;
}
const post = (sender: UserProfile, groupUuid: string, text: string) => {
  clock += 60_000;
  return putMessage(table, sender, groupUuid, text, clock);
};
/** Waits until the fan-out has given up on everything of `groupUuid` it will (a letter naming `item`). */
async function letterFor(item: MessageItem): Promise<DeadLetter> {
  let found: DeadLetter | undefined;
  await vi.waitFor(
    async () => {
      found = (await readDeadLetters(letterFile)).find((l) =>
        l.local?.records.some((r) => r.pk === item.pk && r.sk === item.sk),
      );
      expect(found).toBeDefined();
    },
    { timeout: 10_000, interval: 50 },
  );
  return found as DeadLetter;
}
/** Waits until the fan-out moved `groupUuid` to `item`. */
async function movedTo(groupUuid: string, item: MessageItem) {
  await vi.waitFor(async () => expect((await getMessageGroup(deps(), groupUuid))?.last_message_sk).toBe(item.sk), {
    timeout: 10_000,
    interval: 50,
  });
}

beforeAll(async () => {
  table = await createTestTable();
  stateDir = await stateDirFor({ dynamodbEndpoint: table.endpoint, tableName: table.tableName });
  letterFile = deadLetterFilePath(stateDir);
  const seed = (a: UserProfile, b: UserProfile) =>
    seedConversation(table.ddb, table.tableName, {
      a,
      b,
      messages: [
        { from: "a", text: "hello" },
        { from: "b", text: "hi" },
      ],
      endAtMs: clock,
      stepMs: 1000,
    });
  await seed(alice, bob);
  await seed(alice, carol);
  fanOut = await startTestFanOut(table, letterFile);
});
afterAll(async () => {
  await fanOut?.stop();
});

describe("fanout redrive", () => {
  let newest: MessageItem;
  let before: unknown[][];

  it("the fan-out gives up on a throttled group: a letter in the cloud's pointer shape, the summaries behind", async () => {
    before = await summaries(ab, [alice, bob]);
    fanOut.broken.add(ab);
    await post(alice, ab, "one");
    newest = await post(bob, ab, "two");
    const other = await post(carol, ac, "carol is fine");
    const letter = await letterFor(newest);
    await movedTo(ac, other);
    // The file holds exactly the invocation record of the cloud (plus `local`), and nothing of the records' images.
    expect(invocationRecordSchema.safeParse(letter).success).toBe(true);
    expect(letter.requestContext.condition).toBe("RetryAttemptsExhausted");
    expect(letter.DDBStreamBatchInfo.streamArn).toContain(`:table/${table.tableName}/stream/`);
    expect(JSON.stringify(letter)).not.toContain("NewImage");
    expect(await summaries(ab, [alice, bob])).toEqual(before);
  });

  it("--dry-run reads the ranges and says which groups would move; writes and deletes nothing", async () => {
    const letters = await readFile(letterFile, "utf8");
    const scan = await table.scanAll();
    const result = await runOps(fanoutProgram, ["redrive", "--dry-run"], stateDir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `dry run: redriving the dead-letter file ${letterFile} into table ${table.tableName}`,
    );
    // A range runs from the first record that failed to the batch's end: it may hold records of groups that moved.
    expect(result.stdout).toMatch(/would replay {2}shardId-\S+ \d+\.\.\d+ {2}\d+ records, \d groups \(1 would move/);
    expect(result.lines.at(-1)).toMatch(
      /^would replay \d+, failed 0, expired 0, skipped 0 of \d+ letters; .*0 letters deleted$/,
    );
    expect(await readFile(letterFile, "utf8")).toBe(letters);
    expect(await table.scanAll()).toEqual(scan);
  });

  it("replays each range through the fan-out once the cause is gone, and deletes the letters", async () => {
    fanOut.broken.delete(ab);
    const count = (await readDeadLetters(letterFile)).length;
    const result = await runOps(fanoutProgram, ["redrive"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines.filter((l) => l.startsWith("replayed  "))).toHaveLength(count);
    expect(result.stdout).toContain("1 moved");
    expect(result.lines.at(-1)).toMatch(
      new RegExp(`^replayed ${count}, failed 0, expired 0, skipped 0 of ${count} letters; `),
    );
    expect(result.lines.at(-1)).toContain(`${count} letters deleted`);
    expect(await readDeadLetters(letterFile)).toEqual([]);
    // Converged: one row per member, on the newest message, as the fan-out makes it.
    const rows = await summaries(ab, [alice, bob]);
    expect(rows).toHaveLength(2);
    for (const [, sk, message] of rows) {
      expect(sk).toBe(`${newest.created_at}#${ab}`);
      expect(message).toBe("two");
    }
    // Nothing left: a second run finds no letter.
    const again = await runOps(fanoutProgram, ["redrive"], stateDir);
    expect(again.code).toBe(0);
    expect(again.lines).toEqual([
      "replayed 0, failed 0, expired 0, skipped 0 of 0 letters; 0 records read back, groups: 0 moved, 0 already current, 0 failed; 0 letters deleted",
    ]);
  });

  it("a letter whose summaries moved on since is replayed as already current and deleted", async () => {
    fanOut.broken.add(ab);
    const stuck = await post(alice, ab, "stuck");
    const letter = await letterFor(stuck);
    fanOut.broken.delete(ab);
    const later = await post(bob, ab, "later, delivered");
    await movedTo(ab, later);
    const report = await redrive({ ...deps(), streams: streamsClient(), queue: fileFailureQueue(letterFile) });
    expect(report).toMatchObject({ replayed: 1, deleted: 1, groups: { moved: 0, already_current: 1 } });
    expect((await getMessageGroup(deps(), ab))?.last_message_sk).toBe(later.sk);
    expect((await readDeadLetters(letterFile)).map((l) => l.requestContext.requestId)).not.toContain(
      letter.requestContext.requestId,
    );
  });

  it("a group failing again keeps its letter, with the error; a later run replays it", async () => {
    fanOut.broken.add(ab);
    const stuck = await post(alice, ab, "stuck again");
    await letterFor(stuck);
    const broken = new Set([ab]);
    const results: string[] = [];
    const report = await redrive(
      {
        ddb: failingGroups(table.ddb, broken),
        tableName: table.tableName,
        streams: streamsClient(),
        queue: fileFailureQueue(letterFile),
      },
      { onLetter: (r) => results.push(r.status === "failed" ? r.errors.join(";") : r.status) },
    );
    expect(report.failed).toBe(1);
    expect(report.deleted).toBe(0);
    expect(results).toEqual([expect.stringContaining(`group ${ab}: ThrottlingException`)]);
    expect(await readDeadLetters(letterFile)).toHaveLength(1);
    fanOut.broken.delete(ab);
    expect(await redrive({ ...deps(), streams: streamsClient(), queue: fileFailureQueue(letterFile) })).toMatchObject({
      replayed: 1,
      deleted: 1,
      groups: { moved: 1 },
    });
    expect((await getMessageGroup(deps(), ab))?.last_message_sk).toBe(stuck.sk);
  });

  it("a range that left the stream is reported expired, with what to do, and its letter kept", async () => {
    const real = await sampleRecord();
    const info = real.DDBStreamBatchInfo;
    const gone = (patch: Partial<InvocationRecord["DDBStreamBatchInfo"]>, requestId: string): InvocationRecord => ({
      ...real,
      requestContext: { ...real.requestContext, requestId },
      DDBStreamBatchInfo: { ...info, ...patch },
    });
    const letters = [
      gone({ shardId: "shardId-00000000000000000000-00000000" }, "no-such-shard"),
      gone({ streamArn: info.streamArn.replace(/stream\/.*$/, "stream/2020-01-01T00:00:00.000") }, "no-such-stream"),
      gone({ startSequenceNumber: "0".repeat(21), endSequenceNumber: "0".repeat(21) }, "trimmed"),
    ];
    await writeFile(letterFile, letters.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const result = await runOps(fanoutProgram, ["redrive"], stateDir);
    expect(result.code).toBe(1);
    expect(result.lines.filter((l) => l.startsWith("expired  "))).toHaveLength(3);
    expect(result.stdout).toContain("ResourceNotFoundException: Shard does not exist");
    expect(result.stdout).toContain("ResourceNotFoundException: Stream does not exist");
    expect(result.stdout).toContain("Invalid SequenceNumber");
    expect(result.lines.at(-1)).toMatch(/^replayed 0, failed 0, expired 3, skipped 0 of 3 letters; /);
    expect(result.stderr).toContain("3 letters point to records the stream no longer holds");
    expect(result.stderr).toContain("`npm run fanout -- repair` recomputes every summary from the table");
    expect(result.stderr).toContain("`npm run fanout -- redrive --delete-expired`");
    expect(await readDeadLetters(letterFile)).toHaveLength(3);

    const deleted = await runOps(fanoutProgram, ["redrive", "--delete-expired"], stateDir);
    expect(deleted.code).toBe(0);
    expect(deleted.lines.filter((l) => l.endsWith("  deleted"))).toHaveLength(3);
    expect(await readDeadLetters(letterFile)).toEqual([]);
  });

  it("reads a range exactly from its start to its end sequence number", async () => {
    const streams = streamsClient();
    const all = await readRange(streams, (await sampleRecord()).DDBStreamBatchInfo);
    expect(all.status).toBe("read");
    const records = all.status === "read" ? all.records : [];
    expect(records.length).toBeGreaterThanOrEqual(1);
    // A range past the stream's tip is not found: the shard ends before it.
    const info = (await sampleRecord()).DDBStreamBatchInfo;
    const beyond = (BigInt(info.endSequenceNumber) + 10_000n).toString().padStart(21, "0");
    const past = await readRange(
      streams,
      { ...info, startSequenceNumber: beyond, endSequenceNumber: beyond },
      { maxEmptyPages: 2 },
    );
    expect(past).toMatchObject({ status: "expired" });
  });

  it("leaves letters it cannot read or of another table, and says so", async () => {
    const real = await sampleRecord();
    const other = {
      ...real,
      DDBStreamBatchInfo: {
        ...real.DDBStreamBatchInfo,
        streamArn: real.DDBStreamBatchInfo.streamArn.replace(`table/${table.tableName}/`, "table/another-table/"),
      },
    };
    await writeFile(letterFile, `not json\n${JSON.stringify({ hello: 1 })}\n${JSON.stringify(other)}\n`);
    const result = await runOps(fanoutProgram, ["redrive"], stateDir);
    expect(result.code).toBe(1);
    expect(result.lines.slice(0, 3)).toEqual([
      "unreadable  letter line 1  not JSON  kept",
      expect.stringMatching(/^unreadable {2}letter line 2 {2}not a stream invocation record \(requestContext: /),
      expect.stringMatching(/^other table {2}shardId-\S+ \d+\.\.\d+ {2}the stream of table another-table {2}kept$/),
    ]);
    expect(result.stderr).toContain("3 letters are not pointers into this table's stream");
    expect((await readFile(letterFile, "utf8")).split("\n").filter(Boolean)).toHaveLength(3);
    await writeFile(letterFile, "");
  });

  it("the cloud's SQS on-failure queue goes through the same redrive: converged letters deleted, the rest given back", async () => {
    fanOut.broken.add(ab);
    const stuck = await post(bob, ab, "via SQS");
    const letter = await letterFor(stuck);
    fanOut.broken.delete(ab);
    await writeFile(letterFile, "");
    const body = JSON.stringify({ ...letter, local: undefined });
    const sqs = new SQSClient({ region: "us-east-1" });
    const mock = mockClient(sqs);
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: "m1", ReceiptHandle: "r1", Body: body },
          { MessageId: "m2", ReceiptHandle: "r2", Body: "garbage" },
        ],
      })
      .resolves({ Messages: [] });
    mock.on(DeleteMessageCommand).resolves({});
    mock.on(ChangeMessageVisibilityBatchCommand).resolves({});
    mock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "2" } });
    const queue = sqsFailureQueue(sqs, "https://sqs.us-east-1.amazonaws.com/1/q");
    expect(await queue.count()).toBe(2);
    const report = await redrive({ ...deps(), streams: streamsClient(), queue });
    await queue.close();
    expect(report).toMatchObject({ letters: 2, replayed: 1, skipped: 1, deleted: 1, groups: { moved: 1 } });
    expect(mock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(["r1"]);
    expect(mock.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: "0", ReceiptHandle: "r2", VisibilityTimeout: 0 },
    ]);
    expect(mock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({ VisibilityTimeout: 900 });
    expect((await getMessageGroup(deps(), ab))?.last_message_sk).toBe(stuck.sk);
  });

  it("--prod needs the queue: says which flag or variable names it", async () => {
    const result = await runOps(fanoutProgram, ["redrive", "--prod", "--region", "us-east-1"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("fanout redrive: no on-failure queue given");
    expect(result.stderr).toContain("FAN_OUT_FAILURE_QUEUE_URL (the stack output FanOutFailureQueueUrl)");
  });

  it("keeps a line the stream poller appends while a letter is removed", async () => {
    await writeFile(letterFile, "");
    const real = await sampleRecord();
    const a = JSON.stringify({ ...real, requestContext: { ...real.requestContext, requestId: "a" } });
    await appendFile(letterFile, `${a}\n`);
    const queue = fileFailureQueue(letterFile);
    const [letter] = await queue.receive();
    const b = { ...real, requestContext: { ...real.requestContext, requestId: "b" } };
    await Promise.all([queue.delete(letter as { id: string; body: string }), appendDeadLetters(letterFile, [b])]);
    expect((await readDeadLetters(letterFile)).map((l) => l.requestContext.requestId)).toEqual(["b"]);
    await writeFile(letterFile, "");
  });
});

let streams: ReturnType<typeof localStreamsClient> | undefined;
function streamsClient() {
  streams ??= localStreamsClient({ endpoint: table.endpoint });
  return streams;
}

/** A real letter: a batch of this table's stream given up on (made once, on demand). */
let sample: InvocationRecord | undefined;
async function sampleRecord(): Promise<InvocationRecord> {
  if (sample !== undefined) return sample;
  fanOut.broken.add(ac);
  const item = await post(alice, ac, "sample");
  const letter = await letterFor(item);
  fanOut.broken.delete(ac);
  const { local: _local, ...record } = letter;
  sample = record;
  return record;
}
