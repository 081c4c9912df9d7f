import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { messageGroupUuidFor, UUID_PATTERN } from "../../shared/ids";
import {
  FAN_OUT_FILTER,
  lambdaFilterPattern,
  lambdaFilterPatterns,
  matchesFanOutFilter,
  matchesFilter,
  PUBLISH_FILTER,
} from "../../shared/stream";
import { createTableInput, grpSk, messageGroupUuidOfMsgPk, msgPk, msgSk, TABLE_NAME } from "../../shared/table";
import { isTimestamp, toTimestamp } from "../../shared/time";

describe("table definition", () => {
  it("describes cruddur-messages with pk/sk, the sparse GSI and a NEW_IMAGE stream", () => {
    const input = createTableInput();
    expect(input.TableName).toBe(TABLE_NAME);
    expect(input.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(input.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: "message-group-sk-index",
      KeySchema: [
        { AttributeName: "message_group_uuid", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    });
    expect(input.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: "NEW_IMAGE" });
  });

  it("keeps string order equal to time order for timestamps and timestamped sort keys", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253402300799999 }),
        fc.integer({ min: 0, max: 253402300799999 }),
        fc.uuid(),
        fc.uuid(),
        (a, b, ua, ub) => {
          const [ta, tb] = [toTimestamp(a), toTimestamp(b)];
          expect(isTimestamp(ta)).toBe(true);
          expect(ta.length).toBe(24);
          if (a < b) {
            expect(ta < tb).toBe(true);
            expect(msgSk(ta, ua) < msgSk(tb, ub)).toBe(true);
            expect(grpSk(ta, ua) < grpSk(tb, ub)).toBe(true);
          }
        },
      ),
    );
  });

  it("reads the group back from a MSG pk only", () => {
    expect(messageGroupUuidOfMsgPk(msgPk("g-1"))).toBe("g-1");
    expect(messageGroupUuidOfMsgPk("GRP#g-1")).toBeUndefined();
  });
});

describe("message group ids", () => {
  it("are one uuid per pair, whatever the order", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        const id = messageGroupUuidFor(a, b);
        expect(id).toBe(messageGroupUuidFor(b, a));
        expect(id).toMatch(UUID_PATTERN);
      }),
    );
    expect(messageGroupUuidFor("a", "b")).not.toBe(messageGroupUuidFor("a", "c"));
  });
});

describe("fan-out filter", () => {
  it("renders the Lambda filter pattern and applies the same rule locally", () => {
    expect(lambdaFilterPattern()).toEqual({
      eventName: ["INSERT"],
      dynamodb: { Keys: { pk: { S: [{ prefix: "MSG#" }] } } },
    });
    expect(matchesFanOutFilter({ eventName: "INSERT", dynamodb: { Keys: { pk: { S: "MSG#g" } } } })).toBe(true);
    expect(matchesFanOutFilter({ eventName: "MODIFY", dynamodb: { Keys: { pk: { S: "MSG#g" } } } })).toBe(false);
    expect(matchesFanOutFilter({ eventName: "INSERT", dynamodb: { Keys: { pk: { S: "GRP#u" } } } })).toBe(false);
    expect(matchesFanOutFilter({ eventName: "INSERT", dynamodb: { Keys: { pk: { S: "MG#g" } } } })).toBe(false);
    expect(matchesFanOutFilter({ eventName: "INSERT" })).toBe(false);
  });

  it("gives the publish function MSG row INSERTs and read-marker INSERTs and MODIFYs, nothing else", () => {
    const record = (eventName: string, pk: string, sk: string) => ({
      eventName,
      dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } },
    });
    expect(lambdaFilterPatterns(PUBLISH_FILTER)).toEqual([
      { eventName: ["INSERT"], dynamodb: { Keys: { pk: { S: [{ prefix: "MSG#" }] } } } },
      { eventName: ["INSERT", "MODIFY"], dynamodb: { Keys: { pk: { S: [{ prefix: "READ#" }] } } } },
    ]);
    expect(matchesFilter(PUBLISH_FILTER, record("INSERT", "MSG#g", "t#m"))).toBe(true);
    expect(matchesFilter(PUBLISH_FILTER, record("INSERT", "READ#g", "u"))).toBe(true);
    expect(matchesFilter(PUBLISH_FILTER, record("MODIFY", "READ#g", "u"))).toBe(true);
    expect(matchesFilter(PUBLISH_FILTER, record("REMOVE", "READ#g", "u"))).toBe(false);
    expect(matchesFilter(PUBLISH_FILTER, record("MODIFY", "MG#g", "MG"))).toBe(false);
    expect(matchesFilter(PUBLISH_FILTER, record("MODIFY", "MSG#g", "t#m"))).toBe(false);
    expect(matchesFilter(FAN_OUT_FILTER, record("INSERT", "READ#g", "u"))).toBe(false);
  });
});
