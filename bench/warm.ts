/**
 * Warm overhead: each route handler, imported from its deployed bundle into this process (one
 * warm container), against the bare SDK calls it makes, with the functions' own clients
 * (`shared/clients.ts`, as the SDK builds by default) on the same DynamoDB Local and
 * cognito-local. Requests alternate handler/baseline (the order flips every round) so that noise
 * hits both alike.
 *
 * Each subject runs in a fresh process of its own (`bench/warm-runner.ts`), as a Lambda container
 * runs one function.
 *
 * Every authenticated route reads the caller's profile (a strongly consistent GetItem of
 * `USER#<sub>`/`PROFILE`), cached per container for USER_CACHE_TTL_MS; the users route reads the
 * handle item and the owner's profile (two strongly consistent GetItems), cached alike. Each route
 * that reads the directory is measured twice: with a user cache that outlives the run (warmed by
 * the warm-up requests, as in a warm container within the TTL) and with the cache off
 * (USER_CACHE_TTL_MS=0: every request reads the directory), each against the calls it then makes.
 *
 * The functions' logs are off (POWERTOOLS_LOG_LEVEL=SILENT): the figures exclude writing the one
 * JSON log line per request that INFO writes in the cloud.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  AdminUpdateUserAttributesCommand,
  type CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { lambdaContext } from "../local/lambda-context";
import { createCognitoClient, createDocumentClient } from "../shared/clients";
import { CONFIG_ENV, configEnv, loadConfig } from "../shared/config";
import type { HttpEvent, HttpHandler } from "../shared/http";
import { canonicalHandle } from "../shared/identity-rules";
import type { MessageGroupItem } from "../shared/items/message-group";
import type { ProfileItem } from "../shared/items/profile";
import type { ReadMarkerItem } from "../shared/items/read-marker";
import { countUnread } from "../shared/read-markers";
import {
  blockKey,
  grpPk,
  grpSk,
  handleKey,
  messageGroupKey,
  msgPk,
  profileKey,
  readMarkerKey,
  sendLimitsKey,
} from "../shared/table";
import { toTimestamp } from "../shared/time";
import { USER_ATTRIBUTES } from "../shared/user-pool";
import type { BundleFigures } from "./bundles";
import { httpEvent } from "./events";
import { type Fixture, type FixtureData, fixtureData, UNLIMITED_SEND_LIMITS } from "./fixture";
import { newMessageItem, nextRenamerName, seededPair, typicalEvent } from "./requests";
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

/** One subject: a handler variant and the bare calls it makes. */
interface Subject {
  name: string;
  fn: string;
  env: Record<string, string>;
  baseline: string;
  bare: (() => Promise<unknown>) | undefined;
  /** The request of one handler call (default: the function's typical request). */
  event?: () => Promise<Parameters<HttpHandler>[0]>;
  /** Share of the requests (and of the warm-up) this subject runs (default 1): for slow routes. */
  share?: number;
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

/** The subjects, in the report's order; each runs in a process of its own ({@link measureWarmOverhead}). */
export const WARM_SUBJECTS = [
  "list-message-groups (caller cached)",
  "list-message-groups (no user cache)",
  "list-messages (caller cached)",
  "list-messages (no user cache)",
  "create-message (C, caller cached)",
  "create-message (C, no user cache)",
  "get-user-short (user cached)",
  "get-user-short (no user cache)",
  "update-profile (display name, 1 conversation)",
] as const;

/** What the child process of one subject gets (`BENCH_WARM_JOB`, JSON). */
export interface WarmJob {
  fixture: FixtureData;
  subject: (typeof WARM_SUBJECTS)[number];
  /** The subject's function bundle (`index.mjs`). */
  file: string;
  requests: number;
}

/** Environment variable that carries a {@link WarmJob} to `bench/warm-runner.ts`. */
export const WARM_JOB_ENV = "BENCH_WARM_JOB";

/**
 * Measures every route handler `requests` times (and its baseline as many times); the rename
 * route, which makes a dozen calls and two transactions, a fifth as many. Each subject runs in a
 * fresh Node process of its own (`bench/warm-runner.ts`, with tsx): a Lambda container loads one
 * function, and in one shared process the subjects measured after others came out 5-12% slower
 * against the same bare calls (measured 2026-12-03: list-messages 1.05x alone, 1.13x after the
 * two list-message-groups subjects; get-user-short 1.04x alone, 1.16x last).
 * @throws Error when a child process fails or answers no figures.
 */
export async function measureWarmOverhead(
  fixture: Fixture,
  bundles: readonly BundleFigures[],
  requests: number,
): Promise<WarmFigures[]> {
  const figures: WarmFigures[] = [];
  for (const subject of WARM_SUBJECTS) {
    const fn = subject.slice(0, subject.indexOf(" "));
    const file = bundles.find((x) => x.name === fn)?.file;
    if (file === undefined) throw new Error(`no bundle for ${fn}`);
    figures.push(await measureInChild({ fixture: fixtureData(fixture), subject, file, requests }));
  }
  return figures;
}

/** Runs one {@link WarmJob} in `bench/warm-runner.ts` and answers the figures it prints. */
async function measureInChild(job: WarmJob): Promise<WarmFigures> {
  const script = fileURLToPath(new URL("./warm-runner.ts", import.meta.url));
  // From the repository root, where `--import tsx` resolves.
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, [WARM_JOB_ENV]: JSON.stringify(job) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`warm subject "${job.subject}" failed (exit ${code})`);
  const last = out.trim().split("\n").at(-1);
  if (last === undefined || last === "") throw new Error(`warm subject "${job.subject}" printed no figures`);
  return JSON.parse(last) as WarmFigures;
}

/**
 * One subject of {@link WARM_SUBJECTS} in this process (one warm container): imports its bundle
 * with the subject's environment, warms it up, then alternates handler and bare calls.
 * Sets the functions' environment in `process.env` (this process runs the one subject only).
 * @throws Error when a handler answers other than 200.
 */
export async function measureWarmSubject(fixture: Fixture, job: Omit<WarmJob, "fixture">): Promise<WarmFigures> {
  Object.assign(process.env, fixture.functionEnv);
  const config = loadConfig();
  const ddb = createDocumentClient(config);
  const cognito = createCognitoClient(config);
  try {
    const subjects = warmSubjects(fixture, ddb, cognito);
    const names = subjects.map((x) => x.name);
    if (names.join("|") !== WARM_SUBJECTS.join("|")) throw new Error(`WARM_SUBJECTS is not ${names.join(", ")}`);
    const subject = subjects.find((x) => x.name === job.subject);
    if (subject === undefined) throw new Error(`no warm subject "${job.subject}"`);
    return await measureSubject(subject, job.file, job.requests, config.region, fixture);
  } finally {
    ddb.destroy();
    cognito.destroy();
  }
}

/** The subjects with their bare calls, on the bench's own clients. */
function warmSubjects(
  fixture: Fixture,
  ddb: DynamoDBDocumentClient,
  cognito: CognitoIdentityProviderClient,
): Subject[] {
  const { a, b } = seededPair(fixture);
  const renamer = fixture.renamer;
  const table = fixture.tableName;
  const getItem = (Key: { pk: string; sk: string }) =>
    ddb.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
  /** The caller's profile as `users.caller` reads it on a cache miss (shared/directory.ts getProfile). */
  const readProfile = (uuid: string) => getItem(profileKey(uuid));
  const readGroup = () => getItem(messageGroupKey(fixture.groupUuid));
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
  // What pattern B adds per listed group: both read markers (one BatchGetItem for the page) and
  // the unread count's Query after the caller's marker, as `readStatesOf` does.
  const listGroupsBare = async () => {
    const out = await queryNewest(grpPk(a.uuid));
    const rows = (out.Items ?? []).slice(0, 20) as { message_group_uuid: string; user_uuid: string }[];
    if (rows.length === 0) return;
    const found = await ddb.send(
      new BatchGetCommand({
        RequestItems: {
          [table]: {
            Keys: rows.flatMap((r) => [
              readMarkerKey(r.message_group_uuid, a.uuid),
              readMarkerKey(r.message_group_uuid, r.user_uuid),
            ]),
          },
        },
      }),
    );
    // The unread count after the caller's marker, as the handler counts it (`countUnread`: a
    // COUNT Query, paged while fewer than UNREAD_COUNT_CAP of the other member's rows are counted).
    const markers = new Map(
      ((found.Responses?.[table] ?? []) as ReadMarkerItem[]).map((m) => [`${m.pk} ${m.sk}`, m.last_read_sk]),
    );
    await Promise.all(
      rows.map((r) => {
        const mine = readMarkerKey(r.message_group_uuid, a.uuid);
        return countUnread(
          { ddb, tableName: table },
          r.message_group_uuid,
          a.uuid,
          markers.get(`${mine.pk} ${mine.sk}`),
        );
      }),
    );
  };
  // What a post adds around pattern C's GetItem + PutItem: the blocks of both directions, the send
  // limits (read, then one conditional write) and the sender's read marker.
  const sendBare = async () => {
    await readGroup();
    await ddb.send(
      new BatchGetCommand({
        RequestItems: { [table]: { Keys: [blockKey(a.uuid, b.uuid), blockKey(b.uuid, a.uuid)], ConsistentRead: true } },
      }),
    );
    await ddb.send(new GetCommand({ TableName: table, Key: sendLimitsKey(a.uuid), ConsistentRead: true }));
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: sendLimitsKey(`${a.uuid}-bare`),
        UpdateExpression: "SET messages_tat = :m",
        ExpressionAttributeValues: { ":m": Date.now() },
      }),
    );
    const item = newMessageItem(fixture.groupUuid, a);
    await ddb.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: readMarkerKey(fixture.groupUuid, `${a.uuid}-bare`),
        UpdateExpression: "SET last_read_sk = :sk",
        ConditionExpression: "attribute_not_exists(last_read_sk) OR last_read_sk < :sk",
        ExpressionAttributeValues: { ":sk": item.sk },
      }),
    );
  };
  // A user cache that outlives the run: the caller and the looked-up user are cached after the
  // warm-up, as in a warm container within USER_CACHE_TTL_MS. No send limit is met.
  const unlimited = configEnv({ sendLimits: UNLIMITED_SEND_LIMITS });
  const cached = { [CONFIG_ENV.userCacheTtlMs]: String(3_600_000), ...unlimited };
  const noCache = { [CONFIG_ENV.userCacheTtlMs]: "0", ...unlimited };
  const subjects: Subject[] = [
    {
      name: "list-message-groups (caller cached)",
      fn: "list-message-groups",
      env: cached,
      baseline: "Query + BatchGetItem (markers) + a COUNT Query per group",
      bare: listGroupsBare,
    },
    {
      name: "list-message-groups (no user cache)",
      fn: "list-message-groups",
      env: noCache,
      baseline: "GetItem (caller) + Query + BatchGetItem (markers) + a COUNT Query per group",
      bare: async () => {
        await readProfile(a.uuid);
        await listGroupsBare();
      },
    },
    {
      name: "list-messages (caller cached)",
      fn: "list-messages",
      env: cached,
      baseline: "GetItem + Query",
      bare: async () => {
        await readGroup();
        await queryNewest(msgPk(fixture.groupUuid));
      },
    },
    {
      name: "list-messages (no user cache)",
      fn: "list-messages",
      env: noCache,
      baseline: "GetItem (caller) + GetItem + Query",
      bare: async () => {
        await readProfile(a.uuid);
        await readGroup();
        await queryNewest(msgPk(fixture.groupUuid));
      },
    },
    {
      name: "create-message (C, caller cached)",
      fn: "create-message",
      env: cached,
      baseline: "GetItem + BatchGetItem (blocks) + GetItem + UpdateItem (limits) + PutItem + UpdateItem (marker)",
      bare: sendBare,
    },
    {
      name: "create-message (C, no user cache)",
      fn: "create-message",
      env: noCache,
      baseline: "GetItem (caller) + the calls of the cached case",
      bare: async () => {
        await readProfile(a.uuid);
        await sendBare();
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
      name: "get-user-short (no user cache)",
      fn: "get-user-short",
      env: noCache,
      baseline: "GetItem (handle item) + GetItem (profile)",
      bare: async () => {
        await getItem(handleKey(canonicalHandle(b.handle)));
        await readProfile(b.uuid);
      },
    },
    {
      name: "update-profile (display name, 1 conversation)",
      fn: "update-profile",
      env: cached,
      baseline:
        "GetItem + TransactWriteItems (2) + Query + 2 × (3 GetItem) + TransactWriteItems (2) + AdminUpdateUserAttributes (cognito-local)",
      bare: () => bareRename(),
      event: async () => httpEvent("update-profile", renamer, { body: { display_name: nextRenamerName(fixture) } }),
      share: 0.2,
    },
  ];

  /**
   * The calls of PATCH /api/users/me `{display_name}` for the renamer, as shared/directory.ts
   * (renameUser) and shared/renames.ts (propagateRename: both passes over the one group) make
   * them, then the Cognito attributes; each call with the inputs the function gives it.
   */
  async function bareRename(): Promise<void> {
    const displayName = nextRenamerName(fixture);
    const before = (await readProfile(renamer.uuid)).Item as ProfileItem;
    const at = toTimestamp(Date.now());
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: profileKey(renamer.uuid),
              UpdateExpression: "SET handle = :h, display_name = :d, updated_at = :at",
              ConditionExpression: "handle = :oldHandle AND display_name = :oldName AND #status = :active",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: {
                ":h": before.handle,
                ":d": displayName,
                ":at": at,
                ":oldHandle": before.handle,
                ":oldName": before.display_name,
                ":active": "active",
              },
            },
          },
          {
            Update: {
              TableName: table,
              Key: handleKey(canonicalHandle(before.handle)),
              UpdateExpression: "SET handle = :h, updated_at = :at",
              ConditionExpression: "#state = :owned AND user_uuid = :me",
              ExpressionAttributeNames: { "#state": "state" },
              ExpressionAttributeValues: { ":h": before.handle, ":at": at, ":owned": "owned", ":me": renamer.uuid },
            },
          },
        ],
      }),
    );
    const groups = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": grpPk(renamer.uuid) },
        ProjectionExpression: "message_group_uuid",
      }),
    );
    const renamed = { uuid: renamer.uuid, handle: before.handle, display_name: displayName };
    for (const pass of [1, 2]) {
      for (const row of groups.Items ?? []) {
        const groupUuid = String(row.message_group_uuid);
        const group = (await getItem(messageGroupKey(groupUuid))).Item as MessageGroupItem;
        const sk = grpSk(group.last_message_at, groupUuid);
        for (const member of group.members) await getItem({ pk: grpPk(member.uuid), sk });
        // The second pass finds the group renamed and writes nothing.
        if (pass === 2) continue;
        const other = group.members.find((m) => m.uuid !== renamer.uuid) ?? renamed;
        await ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table,
                  Key: messageGroupKey(groupUuid),
                  UpdateExpression: "SET #m = :m",
                  ConditionExpression: "#lsk = :read",
                  ExpressionAttributeNames: { "#lsk": "last_message_sk", "#m": "members" },
                  ExpressionAttributeValues: {
                    ":read": group.last_message_sk,
                    ":m": group.members.map((m) => (m.uuid === renamer.uuid ? renamed : m)),
                  },
                },
              },
              {
                Update: {
                  TableName: table,
                  Key: { pk: grpPk(other.uuid), sk },
                  UpdateExpression: "SET #h = :h, #d = :d",
                  ConditionExpression: "attribute_exists(#pk) AND #u = :u",
                  ExpressionAttributeNames: {
                    "#pk": "pk",
                    "#u": "user_uuid",
                    "#h": "user_handle",
                    "#d": "user_display_name",
                  },
                  ExpressionAttributeValues: { ":u": renamer.uuid, ":h": renamed.handle, ":d": displayName },
                },
              },
            ],
          }),
        );
      }
    }
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: fixture.userPoolId,
        Username: renamer.username,
        UserAttributes: [
          { Name: USER_ATTRIBUTES.handle, Value: renamed.handle },
          { Name: USER_ATTRIBUTES.display_name, Value: displayName },
        ],
      }),
    );
  }

  return subjects;
}

/** Measures `subject` from bundle `file`: warm-up, then `requests` (times its share) alternating with its bare calls. */
async function measureSubject(
  subject: Subject,
  file: string,
  requests: number,
  region: string,
  fixture: Fixture,
): Promise<WarmFigures> {
  const handler = await importHandler(file, subject.env, `warm-${randomUUID()}`);
  const context = lambdaContext(subject.fn, randomUUID(), region);
  const runHandler = async () => {
    const event = await (subject.event?.() ?? (typicalEvent(subject.fn, fixture) as Promise<HttpEvent>));
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
  const share = subject.share ?? 1;
  const warmUp = Math.max(5, Math.round(WARM_UP * share));
  const count = Math.max(20, Math.round(requests * share));
  for (let i = 0; i < warmUp; i++) {
    await runHandler();
    if (subject.bare !== undefined) await runBare(subject.bare);
  }
  const handlerMs: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < count; i++) {
    if (subject.bare !== undefined && i % 2 === 1) bareMs.push(await runBare(subject.bare));
    handlerMs.push(await runHandler());
    if (subject.bare !== undefined && i % 2 === 0) bareMs.push(await runBare(subject.bare));
  }
  return {
    name: subject.name,
    baseline: subject.baseline,
    handler: summarize(handlerMs),
    bare: bareMs.length === 0 ? undefined : summarize(bareMs),
  };
}
