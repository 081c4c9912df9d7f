import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { defaultBackoffMs, deliverBatch, firstFailedIndex, type RetryPolicy } from "../../local/batch-delivery";

const record = (n: number): DynamoDBRecord => ({
  eventName: "INSERT",
  dynamodb: { SequenceNumber: String(n).padStart(21, "0"), Keys: { pk: { S: `MSG#${n}` } } },
});
const seq = (r: DynamoDBRecord) => r.dynamodb?.SequenceNumber ?? "";
const batch = [1, 2, 3, 4, 5].map(record);
const failures = (...ns: number[]): DynamoDBBatchResponse => ({
  batchItemFailures: ns.map((n) => ({ itemIdentifier: seq(record(n)) })),
});

function policy(retryAttempts = 5): RetryPolicy & { sleep: ReturnType<typeof vi.fn> } {
  return { retryAttempts, backoffMs: defaultBackoffMs, sleep: vi.fn(async () => {}) };
}

/** A fake handler answering the given responses in turn (an Error is thrown); records what it was sent. */
function fakeHandler(...answers: (DynamoDBBatchResponse | Error | undefined)[]) {
  const calls: number[][] = [];
  const invoke = async (event: DynamoDBStreamEvent) => {
    calls.push(event.Records.map((r) => Number(seq(r))));
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { invoke, calls };
}

describe("firstFailedIndex", () => {
  it.each([
    ["no response", undefined, -1],
    ["an empty failure list", { batchItemFailures: [] }, -1],
    ["one failure", failures(3), 2],
    ["several failures: the lowest sequence number", failures(4, 2, 5), 1],
    ["an identifier not in the batch: the whole batch", failures(9), 0],
    ["an empty identifier: the whole batch", { batchItemFailures: [{ itemIdentifier: "" }] }, 0],
  ])("%s", (_, response, index) => {
    expect(firstFailedIndex(batch, response as DynamoDBBatchResponse | undefined)).toBe(index);
  });
});

describe("deliverBatch (Lambda partial batch response semantics)", () => {
  it("delivers once when the handler reports no failure", async () => {
    const { invoke, calls } = fakeHandler({ batchItemFailures: [] });
    const p = policy();
    expect(await deliverBatch(batch, invoke, p)).toEqual({ invocations: 1, failed: [], reason: undefined });
    expect(calls).toEqual([[1, 2, 3, 4, 5]]);
    expect(p.sleep).not.toHaveBeenCalled();
  });

  it("retries from the lowest failed sequence number with the rest of the batch", async () => {
    const { invoke, calls } = fakeHandler(failures(4, 2), failures(3), undefined);
    const outcome = await deliverBatch(batch, invoke, policy());
    expect(outcome).toEqual({ invocations: 3, failed: [], reason: undefined });
    expect(calls).toEqual([
      [1, 2, 3, 4, 5],
      [2, 3, 4, 5],
      [3, 4, 5],
    ]);
  });

  it("retries the whole batch when the handler throws", async () => {
    const { invoke, calls } = fakeHandler(new Error("boom"), { batchItemFailures: [] });
    expect((await deliverBatch(batch, invoke, policy())).failed).toEqual([]);
    expect(calls).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
    ]);
  });

  it("gives up after retryAttempts retries, returning the records from the lowest failure on", async () => {
    const { invoke, calls } = fakeHandler(failures(4));
    const p = policy(5);
    const outcome = await deliverBatch(batch, invoke, p);
    expect(outcome.invocations).toBe(6);
    expect(outcome.failed.map((r) => Number(seq(r)))).toEqual([4, 5]);
    expect(outcome.reason).toBe("batch_item_failures");
    expect(calls).toHaveLength(6);
    expect(p.sleep.mock.calls.map(([ms]) => ms)).toEqual([100, 200, 400, 800, 1000]);
  });

  it("reports the last error of a handler that always throws", async () => {
    const { invoke } = fakeHandler(new TypeError("bad record"));
    const outcome = await deliverBatch(batch, invoke, policy(2));
    expect(outcome).toMatchObject({ invocations: 3, reason: "TypeError: bad record" });
    expect(outcome.failed).toHaveLength(5);
  });
});
