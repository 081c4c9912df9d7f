/**
 * Reading every item of the table (Scan, paginated). Data only: `format.ts` shows an item on a
 * line (`itemLine`).
 */
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";

/** An item as the DocumentClient returns it. */
export type Item = Record<string, unknown>;

export interface ScanOptions {
  /** Items per Scan request (DynamoDB `Limit`); default: DynamoDB's 1 MB pages. */
  pageSize?: number | undefined;
  /** Only these attributes (ProjectionExpression over `#a0, #a1, ...`). */
  attributes?: readonly string[] | undefined;
  /** Called after each page with the number of items read so far. */
  onPage?: (itemsSoFar: number) => void;
}

/**
 * Every page of the table (the SDK's `paginateScan`: Scan with ExclusiveStartKey until DynamoDB
 * returns no LastEvaluatedKey), as arrays of items. Eventually consistent reads; a full table
 * read in read capacity.
 * @throws AWS SDK errors (ResourceNotFoundException for a missing table, ...).
 */
export async function* scanPages(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: ScanOptions = {},
): AsyncGenerator<Item[]> {
  const projection =
    options.attributes === undefined
      ? {}
      : {
          ProjectionExpression: options.attributes.map((_, i) => `#a${i}`).join(", "),
          ExpressionAttributeNames: Object.fromEntries(options.attributes.map((a, i) => [`#a${i}`, a])),
        };
  const pages = paginateScan(
    { client: doc, ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) },
    { TableName: tableName, ...projection },
  );
  let count = 0;
  for await (const page of pages) {
    const items = page.Items ?? [];
    count += items.length;
    options.onPage?.(count);
    yield items;
  }
}

/**
 * Every item of the table, page after page ({@link scanPages}, one item at a time).
 * @throws AWS SDK errors (ResourceNotFoundException for a missing table, ...).
 */
export async function* scanItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: ScanOptions = {},
): AsyncGenerator<Item> {
  for await (const page of scanPages(doc, tableName, options)) yield* page;
}

/**
 * DynamoDB's item count of the table (DescribeTable `ItemCount`): exact locally, refreshed about
 * every six hours in the cloud, so only an estimate for a progress bar.
 * @returns undefined when unknown.
 */
export async function approximateItemCount(ddb: DynamoDBClient, tableName: string): Promise<number | undefined> {
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  return Table?.ItemCount;
}
