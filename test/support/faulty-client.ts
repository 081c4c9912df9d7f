/**
 * A DocumentClient for fault injection (aws-sdk-client-mock): every command the fan-out and the
 * renames send is passed to the real test table's client, through `around`, which may throw
 * before or after the real call, or run something else first (a racing move).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";

/** The step of a summary move (shared/fan-out.ts) a call is, or the plain command name. */
export type CallKind = "start" | "finish" | "cleanup" | "put" | "delete" | "get" | "query" | "batch_get" | "transact";

/** One call: its kind, its input (DocumentClient shape) and the message group it is about. */
export interface DdbCall {
  kind: CallKind;
  input: Record<string, unknown>;
  /** The message_group_uuid the call reads or writes, when it names one. */
  groupUuid: string | undefined;
}

const groupOfKey = (key: unknown): string | undefined => {
  const k = key as { pk?: string; sk?: string } | undefined;
  if (k?.pk?.startsWith("MG#") === true) return k.pk.slice(3);
  if (k?.pk?.startsWith("GRP#") === true) return k.sk?.split("#")[1];
  return undefined;
};

function describeCall(kind: CallKind, input: Record<string, unknown>): DdbCall {
  if (kind === "start") {
    const expr = String(input.UpdateExpression);
    kind = expr.startsWith("SET") ? "start" : expr.startsWith("REMOVE") ? "finish" : "cleanup";
    return { kind, input, groupUuid: groupOfKey(input.Key) };
  }
  if (kind === "put") {
    return { kind, input, groupUuid: (input.Item as { message_group_uuid?: string }).message_group_uuid };
  }
  if (kind === "delete") {
    const requests = Object.values(input.RequestItems as Record<string, { DeleteRequest?: { Key: unknown } }[]>)[0];
    return { kind, input, groupUuid: groupOfKey(requests?.[0]?.DeleteRequest?.Key) };
  }
  return { kind, input, groupUuid: groupOfKey(input.Key) };
}

/**
 * @param real the test table's DocumentClient.
 * @param around called for each call with the real call; returns (or throws) what the client answers.
 * @returns the faulty DocumentClient, the mock (for `commandCalls`) and every call made, in order.
 */
export function faultyClient(
  real: DynamoDBDocumentClient,
  around: (call: DdbCall, send: () => Promise<unknown>) => Promise<unknown> = (_call, send) => send(),
) {
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
  const mock = mockClient(ddb);
  const calls: DdbCall[] = [];
  const pass = (kind: CallKind, send: (input: never) => Promise<unknown>) => (input: Record<string, unknown>) => {
    const call = describeCall(kind, input);
    calls.push(call);
    return around(call, () => send(input as never));
  };
  mock.on(UpdateCommand).callsFake(pass("start", (i) => real.send(new UpdateCommand(i))));
  mock.on(PutCommand).callsFake(pass("put", (i) => real.send(new PutCommand(i))));
  mock.on(BatchWriteCommand).callsFake(pass("delete", (i) => real.send(new BatchWriteCommand(i))));
  mock.on(GetCommand).callsFake(pass("get", (i) => real.send(new GetCommand(i))));
  mock.on(QueryCommand).callsFake(pass("query", (i) => real.send(new QueryCommand(i))));
  mock.on(BatchGetCommand).callsFake(pass("batch_get", (i) => real.send(new BatchGetCommand(i))));
  mock.on(TransactWriteCommand).callsFake(pass("transact", (i) => real.send(new TransactWriteCommand(i))));
  return { ddb, mock, calls };
}
