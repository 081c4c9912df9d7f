/**
 * The key attributes every item has, for the item schemas of this folder: the names are those
 * of `shared/table.ts` ({@link PARTITION_KEY}, {@link SORT_KEY}), so no schema spells them again.
 * Built inside a `@__PURE__` call (see `shared/items/profile.ts`).
 */
import * as z from "zod/mini";
import { PARTITION_KEY, SORT_KEY } from "../table";

/** The shape of an item's key, to spread into its `z.object`: `pk` and `sk`, both strings. */
export const itemKeyShape = /* @__PURE__ */ (() => ({ [PARTITION_KEY]: z.string(), [SORT_KEY]: z.string() }))();
