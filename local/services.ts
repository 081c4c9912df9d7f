/**
 * Starting the local services: DynamoDB Local and cognito-local as child processes, the Lambda
 * Invoke endpoint that cognito-local calls for its triggers (the trigger functions run in this
 * process), the table and the user pool from the shared definitions, and (unless told not to)
 * the seeded users, their directory profiles and the seeded conversation. What runs on top of
 * them (the route functions, the emulated HTTP API, the stream poller) is `local/stack.ts`.
 *
 * The trigger functions read their configuration from `process.env` when loaded, so this sets
 * the functions' environment in this process (and restores it on stop): one set of services,
 * hence one stack, at a time per process.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { createDocumentClient } from "../shared/clients";
import { CONFIG_ENV, loadConfig, type SendLimitSettings } from "../shared/config";
import { SEED_USERS } from "../shared/seed-data";
import { TABLE_NAME } from "../shared/table";
import { forgetProcesses, type ManagedProcess, reapStaleProcesses, recordProcesses } from "./child-process";
import { localCognitoClient, localDynamoDbClient, localStreamsClient } from "./clients";
import {
  ensureUserPool,
  startCognitoLocal,
  triggerFunctionsConfig,
  type UserPoolIds,
  waitForCognito,
} from "./cognito-local";
import { ensureTable, startDynamoDbLocal, waitForDynamoDb } from "./dynamodb-local";
import { type EventsLimits, startEventsServer } from "./events-server";
import { isPortFree } from "./free-port";
import { localFunctionEnv } from "./function-env";
import { loadTriggerFunctions } from "./functions";
import { cognitoLocalIssuer, createAccessTokenVerifier } from "./jwt";
import { startLambdaInvokeEndpoint } from "./lambda-invoke";
import { createLocalLogger, type LocalLogger } from "./logger";
import { type SeededUser, seedDirectory, seedLocalConversation, seedUsers } from "./seed";
import { DEFAULT_PORTS, envPort, FUNCTIONS_DIR, httpUrl, type LocalHost, localHost } from "./settings";
import { DEFAULT_REGION, LOCAL_CREDENTIALS, stateDirFromEnv } from "./state";
import { createTeardown } from "./teardown";

export interface LocalServicesOptions {
  /** DynamoDB Local port (default env DYNAMODB_PORT, else 8000). */
  dynamodbPort?: number;
  /** cognito-local port (default env COGNITO_PORT, else 9229). */
  cognitoPort?: number;
  /** Port of the Lambda Invoke endpoint of cognito-local's triggers (default env LAMBDA_PORT, else 9231). */
  lambdaPort?: number;
  /** Port of the AppSync Events emulator (default env EVENTS_PORT, else 4568). */
  eventsPort?: number;
  /** Limits of the AppSync Events emulator (default `DEFAULT_EVENTS_LIMITS` of `local/events-server.ts`). */
  eventsLimits?: Partial<EventsLimits>;
  /** Keep the table and users under `stateDir` across restarts (default false). */
  persist?: boolean;
  /** State directory (default env LOCAL_STATE_DIR, else `.local/` of the repository). */
  stateDir?: string;
  /** Seed the users, their profiles and the conversation (default true). */
  seed?: boolean;
  /** Log nothing (services and functions); ignored when `logger` is given for the services' own logs. */
  quiet?: boolean;
  logger?: LocalLogger;
  /** Region (default env AWS_REGION, else us-east-1). */
  region?: string;
  /**
   * Where every server of the stack listens and how its clients reach them (default
   * `localHost()`: env HOST, else 127.0.0.1 only). A non-loopback address is logged as a warning.
   */
  host?: LocalHost;
  /** Directory of the Lambda entry files (default `functions/`). */
  functionsDir?: string;
  /** Send limits of POST /api/messages (default: the functions' own, `DEFAULT_SEND_LIMITS` of shared/config.ts). */
  sendLimits?: SendLimitSettings;
  /**
   * More ports that must be free, by name (e.g. the stack's API port): checked with the services'
   * own before anything starts, so that nothing starts when one is taken.
   */
  reservedPorts?: Readonly<Record<string, number>>;
}

/** Running local services. */
export interface LocalServices {
  region: string;
  tableName: string;
  /** Where the servers listen and how to reach them; every other local server (e.g. the API) uses it too. */
  host: LocalHost;
  /** `http://<host.connect>:<port>` of DynamoDB Local (`http://127.0.0.1:8000` by default). */
  dynamodbEndpoint: string;
  /** `http://<host.connect>:<port>` of cognito-local. */
  cognitoEndpoint: string;
  /** cognito-local's port (its issuer is `<cognitoEndpoint>/<userPoolId>`). */
  cognitoPort: number;
  userPoolId: string;
  userPoolClientId: string;
  /** The seeded users (empty when not seeded). */
  users: SeededUser[];
  /** Absolute path of the state directory. */
  stateDir: string;
  persist: boolean;
  logger: LocalLogger;
  /** The child processes (DynamoDB Local, cognito-local), in start order. */
  children: ManagedProcess[];
  /** URL of the Lambda Invoke endpoint that cognito-local calls for its triggers (`http://<host.connect>:<port>`). */
  lambdaEndpoint: string;
  /**
   * The AppSync Events emulator: `httpUrl` (`http://127.0.0.1:<port>/event`, IAM-signed
   * publishes with the local credentials) and `realtimeUrl` (`ws://127.0.0.1:<port>/event/realtime`).
   */
  events: { httpUrl: string; realtimeUrl: string };
  /**
   * The functions' environment (shared/config.ts names, the local credentials) that these
   * services set in `process.env`, USER_POOL_ID included; for functions run in other processes.
   */
  functionEnv: Record<string, string>;
  /** Clients of the services (the local credentials), destroyed by `stop`. */
  clients: { ddb: DynamoDBClient; streams: DynamoDBStreamsClient; cognito: CognitoIdentityProviderClient };
  /** Milliseconds since the start began (for logs). */
  elapsedMs(): number;
  /**
   * Stops what was started, in reverse order: the AppSync Events emulator (after the publishes in
   * flight), the clients, cognito-local, the Lambda Invoke endpoint (after the invocations in
   * flight), DynamoDB Local; restores `process.env` and forgets the recorded pids. Errors are logged, not thrown; calling it again waits for the first.
   */
  stop(): Promise<void>;
}

let running = false;

/** A promise with its settle functions. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Sets `env` in process.env (an `undefined` value removes the variable).
 * @returns a function that restores the previous values.
 */
function applyEnv(env: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(env);
  return () => set(previous);
}

/**
 * Starts the local services and resolves once the table and the user pool exist and the seed is
 * written (about 4 s).
 *
 * Order: DynamoDB Local is spawned first (the JVM takes longest); then the Lambda Invoke endpoint
 * of the trigger functions listens, before cognito-local is spawned, so no sign-up can reach
 * cognito-local while its triggers are unreachable; the endpoint holds invocations until the
 * table exists. The seeded users are written to the directory once both are set up; the AppSync
 * Events emulator starts once the user pool exists (it verifies the pool's tokens).
 * @throws Error when services (or a stack) already run in this process, a port is taken, the
 *   state directory is in use by another running stack (StateInUseError), a child process fails
 *   to start or to answer within 30 s, or a trigger function cannot be loaded; whatever was
 *   started is stopped again before the error is thrown.
 */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  if (running) throw new Error("a local stack already runs in this process (the functions read process.env)");
  running = true;
  const started = performance.now();
  const elapsedMs = () => Math.round(performance.now() - started);
  const ports = {
    dynamodb: options.dynamodbPort ?? envPort("DYNAMODB_PORT", DEFAULT_PORTS.dynamodb),
    cognito: options.cognitoPort ?? envPort("COGNITO_PORT", DEFAULT_PORTS.cognito),
    lambda: options.lambdaPort ?? envPort("LAMBDA_PORT", DEFAULT_PORTS.lambda),
    events: options.eventsPort ?? envPort("EVENTS_PORT", DEFAULT_PORTS.events),
  };
  const persist = options.persist ?? false;
  const seed = options.seed ?? true;
  const stateDir = options.stateDir === undefined ? stateDirFromEnv() : resolve(options.stateDir);
  const region = options.region ?? (process.env[CONFIG_ENV.region] || DEFAULT_REGION);
  const logger = options.logger ?? createLocalLogger({ quiet: options.quiet ?? false });
  const functionsDir = options.functionsDir ?? FUNCTIONS_DIR;
  const tableName = TABLE_NAME;
  const host = options.host ?? localHost();
  const dynamodbEndpoint = httpUrl(host.connect, ports.dynamodb);
  const cognitoEndpoint = httpUrl(host.connect, ports.cognito);
  const pidFile = join(stateDir, "pids.json");

  // Undone in reverse order by stop(), or when starting fails half-way.
  const undo = createTeardown(logger);
  undo.push(() => {
    running = false;
  });
  const stop = () => undo.run();

  try {
    await mkdir(stateDir, { recursive: true });
    const reaped = await reapStaleProcesses(pidFile);
    if (reaped.length > 0) logger.warn("killed child processes left by a previous run", { processes: reaped });
    for (const [name, port] of Object.entries({ ...ports, ...options.reservedPorts })) {
      if (!(await isPortFree(port))) throw new Error(`port ${port} (${name}) is in use: is another stack running?`);
    }

    const children: ManagedProcess[] = [];
    undo.push(() => forgetProcesses(pidFile));
    const track = async (child: ManagedProcess) => {
      children.push(child);
      undo.push(() => child.stop());
      await recordProcesses(pidFile, children);
    };
    if (host.widened) {
      logger.warn(
        `HOST=${host.listen}: the local stack listens beyond this machine; anyone who can reach this address can ` +
          "read and write its data and sign in its users (no real authentication locally). Unset HOST to listen on 127.0.0.1 only.",
        { host: host.listen },
      );
    }
    const dynamodbProcess = await startDynamoDbLocal({
      port: ports.dynamodb,
      dbPath: persist ? join(stateDir, "dynamodb") : undefined,
      host: host.listen,
    });
    await track(dynamodbProcess);
    if (dynamodbProcess.allInterfaces && !host.widened) {
      logger.warn(
        `DynamoDB Local listens on every interface (port ${ports.dynamodb}): no javac was found to build its ` +
          "loopback launcher (install a JDK to bind it to 127.0.0.1); the stack still reaches it through " +
          `${host.connect} only.`,
        { port: ports.dynamodb },
      );
    }

    // The functions' configuration (shared/config.ts), read when they are loaded; the pool id
    // follows once cognito-local is set up.
    const functionEnv: Record<string, string | undefined> = {
      ...localFunctionEnv(
        {
          tableName,
          region,
          dynamodbEndpoint,
          cognitoEndpoint,
          ...(options.sendLimits === undefined ? {} : { sendLimits: options.sendLimits }),
        },
        { logLevel: options.quiet === true ? "SILENT" : undefined },
      ),
      [CONFIG_ENV.userPoolId]: undefined,
      AWS_SESSION_TOKEN: undefined,
    };
    undo.push(applyEnv(functionEnv));

    // The trigger functions need the table: the endpoint runs none before it exists (and none
    // at all once the start failed or the services stop).
    const tableReady = deferred();
    const triggers = await loadTriggerFunctions(functionsDir);
    const lambda = await startLambdaInvokeEndpoint({
      port: ports.lambda,
      host,
      handlers: triggers,
      region,
      logger,
      ready: tableReady.promise,
    });
    undo.push(() => lambda.close());
    undo.push(() => tableReady.reject(new Error("the local stack stopped")));
    logger.info("lambda invoke endpoint ready", { endpoint: lambda.url, functions: [...triggers.keys()] });

    const cognitoProcess = await startCognitoLocal({
      port: ports.cognito,
      host,
      dir: join(stateDir, "cognito"),
      fresh: !persist,
      triggers: { endpoint: lambda.url, region, functions: triggerFunctionsConfig() },
    });
    await track(cognitoProcess);

    const ddb = localDynamoDbClient({ endpoint: dynamodbEndpoint, region });
    const streams = localStreamsClient({ endpoint: dynamodbEndpoint, region });
    const cognito = localCognitoClient({ endpoint: cognitoEndpoint, region });
    // Probes that do not retry, so that each fails fast while a port is still closed.
    const ddbProbe = localDynamoDbClient({ endpoint: dynamodbEndpoint, region, maxAttempts: 1 });
    const cognitoProbe = localCognitoClient({ endpoint: cognitoEndpoint, region, maxAttempts: 1 });
    undo.push(() => {
      for (const client of [ddb, streams, cognito, ddbProbe, cognitoProbe]) client.destroy();
    });

    // The JVM takes longest: meanwhile, set up cognito-local. allSettled, so nothing runs on in
    // the background after a failure.
    const [dynamodbSetup, cognitoSetup] = await Promise.allSettled([
      waitForDynamoDb(ddbProbe, dynamodbProcess)
        .then(() => {
          logger.info("dynamodb-local ready", { endpoint: dynamodbEndpoint, elapsed_ms: elapsedMs() });
          return ensureTable(ddb, tableName);
        })
        .then((table) => {
          tableReady.resolve();
          return table;
        }),
      waitForCognito(cognitoProbe, cognitoProcess).then(async (): Promise<UserPoolIds & { users: SeededUser[] }> => {
        logger.info("cognito-local ready", { endpoint: cognitoEndpoint, elapsed_ms: elapsedMs() });
        const pool = await ensureUserPool(cognito);
        const users = seed ? await seedUsers(cognito, pool.userPoolId, SEED_USERS) : [];
        return { ...pool, users };
      }),
    ]);
    if (dynamodbSetup.status === "rejected") throw dynamodbSetup.reason;
    if (cognitoSetup.status === "rejected") throw cognitoSetup.reason;
    const { userPoolId, userPoolClientId, users } = cognitoSetup.value;
    process.env[CONFIG_ENV.userPoolId] = userPoolId;
    functionEnv[CONFIG_ENV.userPoolId] = userPoolId;

    // The AppSync Events emulator: subscribers with the pool's access tokens, publishers signed
    // with the local credentials.
    const events = await startEventsServer({
      port: ports.events,
      host: host.listen,
      verifyAccessToken: createAccessTokenVerifier({
        issuer: cognitoLocalIssuer(ports.cognito, userPoolId, host.connect),
        clientId: userPoolClientId,
      }),
      credentials: LOCAL_CREDENTIALS,
      region,
      logger,
      ...(options.eventsLimits === undefined ? {} : { limits: options.eventsLimits }),
    });
    undo.push(() => events.close());
    logger.info("appsync events emulator ready", { http_url: events.httpUrl, realtime_url: events.realtimeUrl });
    if (seed) {
      const doc = createDocumentClient(loadConfig());
      try {
        const directory = await seedDirectory({ ddb: doc, tableName }, users, Date.now());
        for (const user of directory.notWritten) {
          logger.warn("seeded user has no profile in the directory: every route answers it 401", user);
        }
        const seeded = await seedLocalConversation(doc, tableName, users, Date.now());
        logger.info("seeded", {
          table: dynamodbSetup.value,
          users: users.length,
          profiles: directory.counts,
          ...seeded,
          elapsed_ms: elapsedMs(),
        });
      } finally {
        doc.destroy();
      }
    }

    return {
      region,
      tableName,
      host,
      dynamodbEndpoint,
      cognitoEndpoint,
      cognitoPort: ports.cognito,
      userPoolId,
      userPoolClientId,
      users,
      stateDir,
      persist,
      logger,
      children,
      lambdaEndpoint: lambda.url,
      events: { httpUrl: events.httpUrl, realtimeUrl: events.realtimeUrl },
      functionEnv: Object.fromEntries(
        Object.entries(functionEnv).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      clients: { ddb, streams, cognito },
      elapsedMs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
