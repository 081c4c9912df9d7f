/**
 * The fan-out's on-failure destination as `fanout redrive` reads it (`FailureQueue` of
 * `shared/redrive.ts`): the SQS on-failure queue of the stack in the cloud, the dead-letter file
 * of the local stack. Both hold the same invocation records; this module only moves messages.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { readDeadLetterLines, removeDeadLetterLines } from "../../local/state";
import type { FailureQueue, QueuedLetter } from "../../shared/redrive";

/** A failure queue the command can count and must close (give back what it kept). */
export interface OperatorQueue extends FailureQueue {
  /** Letters in the queue now (SQS: approximate), for the progress bar; undefined when unknown. */
  count(): Promise<number | undefined>;
  /** Gives back the letters released during the run. Call once, at the end. */
  close(): Promise<void>;
}

export interface SqsQueueOptions {
  /**
   * How long a received message stays invisible to other readers, s (default 900). The letters
   * kept are made visible again at the end ({@link OperatorQueue.close}), so one run never
   * receives a letter twice; a run longer than this could.
   */
  visibilityTimeoutSeconds?: number;
  /** Long polling of each receive, s (default 2): a receive that finds nothing ends the run. */
  waitTimeSeconds?: number;
}

/**
 * The SQS on-failure queue at `queueUrl` (the stack output `FanOutFailureQueueUrl`).
 * Uses sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, sqs:GetQueueAttributes.
 */
export function sqsFailureQueue(sqs: SQSClient, queueUrl: string, options: SqsQueueOptions = {}): OperatorQueue {
  const receipts = new Map<string, string>();
  const released: string[] = [];
  return {
    async receive(): Promise<QueuedLetter[]> {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 900,
          WaitTimeSeconds: options.waitTimeSeconds ?? 2,
        }),
      );
      const letters: QueuedLetter[] = [];
      for (const m of out.Messages ?? []) {
        if (m.MessageId === undefined || m.ReceiptHandle === undefined) continue;
        const seen = receipts.has(m.MessageId);
        receipts.set(m.MessageId, m.ReceiptHandle);
        if (!seen) letters.push({ id: m.MessageId, body: m.Body ?? "" });
      }
      return letters;
    },
    async delete(letter) {
      const receipt = receipts.get(letter.id);
      if (receipt === undefined) throw new Error(`SQS message ${letter.id} was not received in this run`);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    },
    async release(letter) {
      released.push(letter.id);
    },
    async count() {
      const out = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      const n = Number(out.Attributes?.ApproximateNumberOfMessages);
      return Number.isFinite(n) ? n : undefined;
    },
    async close() {
      for (let i = 0; i < released.length; i += 10) {
        const ids = released.slice(i, i + 10);
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: ids.map((id, n) => ({ Id: String(n), ReceiptHandle: receipts.get(id), VisibilityTimeout: 0 })),
          }),
        );
      }
      released.length = 0;
    },
  };
}

/** The request id of a letter line, else the line's number. */
function letterId(line: string, index: number): string {
  try {
    const id = (JSON.parse(line) as { requestContext?: { requestId?: unknown } }).requestContext?.requestId;
    if (typeof id === "string" && id !== "") return id;
  } catch {
    // Not JSON: the redrive reports it; it keeps an id of its own.
  }
  return `line ${index + 1}`;
}

/**
 * The local stack's dead-letter file (`local/dead-letter.ts`). Each receive returns the lines not
 * returned before (also lines the stream poller appended meanwhile); a delete removes its line
 * under the file's lock, so the poller's appends are never lost.
 */
export function fileFailureQueue(file: string): OperatorQueue {
  const seen = new Set<string>();
  return {
    async receive() {
      const lines = await readDeadLetterLines(file);
      const letters: QueuedLetter[] = [];
      lines.forEach((line, index) => {
        if (seen.has(line)) return;
        seen.add(line);
        letters.push({ id: letterId(line, index), body: line });
      });
      return letters;
    },
    async delete(letter) {
      await removeDeadLetterLines(file, [letter.body]);
    },
    async release() {},
    async count() {
      return (await readDeadLetterLines(file)).length;
    },
    async close() {},
  };
}
