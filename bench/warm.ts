/**
 * Warm overhead: each route handler, imported from its deployed bundle into this process (one
 * warm container), against the bare SDK calls it needs, made with the functions' own client
 * (`shared/clients.ts`) on the same DynamoDB Local and cognito-local. Requests alternate
 * handler/baseline (the order flips every round) so that noise hits both alike.
 *
 * The functions' logs are off (POWERTOOLS_LOG_LEVEL=SILENT): the figures exclude writing the one
 * JSON log line per request that INFO writes in the cloud.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { lambdaContext } from "../local/lambda-context";
import { createDocumentClient } from "../shared/clients";
import { CONFIG_ENV, loadConfig } from "../shared/config";
import type { HttpHandler } from "../shared/http";
import { grpPk, handleKey, messageGroupKey, msgPk, profileKey } from "../shared/table";
import type { BundleFigures } from "./bundles";
import type { Fixture } from "./fixture";
import { newMessageItem, seededPair, typicalEvent } from "./requests";
import { type Summary, summarize } from "./stats";

/** One handler against its baseline, latencies in ms. */
export interface WarmFigures {
  name: string;
  /** What the baseline does. */
  baseline: string;
  handler: Summary;
  /** `undefined` when the handler makes no call (served from its cache). */
  bare: Summary | undefined;
}

/** Requests made before measuring (connections, JIT, caches), not counted. */
const WARM_UP = 50;

/** One subject: a handler variant and the bare calls it needs. */
interface Subject {
  name: string;
  fn: string;
  env: Record<string, string>;
  baseline: string;
  bare: (() => Promise<unknown>) | undefined;
}

/**
 * Imports bundle `file` with `env` set (the functions read it at load); a new `tag` imports a
 * fresh copy (another container).
 */
async function importHandler(file: string, env: Record<string, string>, tag: string): Promise<HttpHandler> {
  Object.assign(process.env, env);
  const module = (await import(`${pathToFileURL(file).href}?${tag}`)) as { handler: HttpHandler };
  return module.handler;
}

/**
 * Measures every route handler `requests` times (and its baseline as many times).
 * Sets the functions' environment in `process.env` (this process is the bench only).
 */
export async function measureWarmOverhead(
  fixture: Fixture,
  bundles: readonly BundleFigures[],
  requests: number,
): Promise<WarmFigures[]> {
  Object.assign(process.env, fixture.functionEnv);
  const config = loadConfig();
  const ddb = createDocumentClient(config);
  const { a, b } = seededPair(fixture);
  const table = fixture.tableName;
  const readGroup = () =>
    ddb.send(new GetCommand({ TableName: table, Key: messageGroupKey(fixture.groupUuid), ConsistentRead: true }));
  const queryNewest = (pk: string) =>
    ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ScanIndexForward: false,
        Limit: 21,
      }),
    );
  // A user cache that outlives the run: the caller and the looked-up user are cached after the
  // warm-up, as in a warm container within USER_CACHE_TTL_MS.
  const cached = { [CONFIG_ENV.userCacheTtlMs]: String(3_600_000) };
  const subjects: Subject[] = [
    {
      name: "list-message-groups",
      fn: "list-message-groups",
      env: cached,
      baseline: "Query",
      bare: () => queryNewest(grpPk(a.uuid)),
    },
    {
      name: "list-messages",
      fn: "list-messages",
      env: cached,
      baseline: "GetItem + Query",
      bare: async () => {
        await readGroup();
        await queryNewest(msgPk(fixture.groupUuid));
      },
    },
    {
      name: "create-message (C, user cached)",
      fn: "create-message",
      env: cached,
      baseline: "GetItem + PutItem",
      bare: async () => {
        await readGroup();
        const item = newMessageItem(fixture.groupUuid, a);
        await ddb.send(
          new PutCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
        );
      },
    },
    {
      name: "get-user-short (user cached)",
      fn: "get-user-short",
      env: cached,
      baseline: "none (no call)",
      bare: undefined,
    },
    {
      name: "get-user-short (no cache)",
      fn: "get-user-short",
      env: { [CONFIG_ENV.userCacheTtlMs]: "0" },
      baseline: "GetItem handle + GetItem profile",
      bare: async () => {
        await ddb.send(
          new GetCommand({ TableName: table, Key: handleKey(b.handle.toLowerCase()), ConsistentRead: true }),
        );
        await ddb.send(new GetCommand({ TableName: table, Key: profileKey(b.uuid), ConsistentRead: true }));
      },
    },
  ];

  const figures: WarmFigures[] = [];
  for (const subject of subjects) {
    const file = bundles.find((x) => x.name === subject.fn)?.file;
    if (file === undefined) throw new Error(`no bundle for ${subject.fn}`);
    const handler = await importHandler(file, subject.env, `warm-${randomUUID()}`);
    const context = lambdaContext(subject.fn, randomUUID(), config.region);
    const runHandler = async () => {
      const event = typicalEvent(subject.fn, fixture) as Parameters<HttpHandler>[0];
      const started = performance.now();
      const result = await handler(event, context);
      const took = performance.now() - started;
      if (typeof result === "object" && result.statusCode !== 200) {
        throw new Error(`${subject.name} answered ${result.statusCode}: ${result.body}`);
      }
      return took;
    };
    const runBare = async (bare: () => Promise<unknown>) => {
      const started = performance.now();
      await bare();
      return performance.now() - started;
    };
    for (let i = 0; i < WARM_UP; i++) {
      await runHandler();
      if (subject.bare !== undefined) await runBare(subject.bare);
    }
    const handlerMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < requests; i++) {
      if (subject.bare !== undefined && i % 2 === 1) bareMs.push(await runBare(subject.bare));
      handlerMs.push(await runHandler());
      if (subject.bare !== undefined && i % 2 === 0) bareMs.push(await runBare(subject.bare));
    }
    figures.push({
      name: subject.name,
      baseline: subject.baseline,
      handler: summarize(handlerMs),
      bare: bareMs.length === 0 ? undefined : summarize(bareMs),
    });
  }
  ddb.destroy();
  return figures;
}
