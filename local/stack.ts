/**
 * The local stack: DynamoDB Local and cognito-local as child processes, the table and user pool
 * from the shared definitions, seeded users and conversation, the route functions behind an
 * emulated HTTP API with real JWT verification, the Cognito trigger functions behind a Lambda
 * Invoke endpoint that cognito-local calls, and the stream poller driving the fan-out. The
 * seeded users get their profiles in the user directory too, since the routes read identity
 * from the directory only.
 *
 * The functions read their configuration from `process.env` when loaded, so the stack sets the
 * environment of this process (and restores it on stop): one stack at a time per process.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { createDocumentClient } from "../shared/clients";
import { CONFIG_ENV, loadConfig, SERVICE_NAME } from "../shared/config";
import { FAN_OUT_FUNCTION, ROUTES } from "../shared/routes";
import { TABLE_NAME } from "../shared/table";
import { forgetProcesses, type ManagedProcess, reapStaleProcesses, recordProcesses } from "./child-process";
import { ensureUserPool, startCognitoLocal, triggerFunctionsConfig, waitForCognito } from "./cognito-local";
import { deadLetterFilePath } from "./dead-letter";
import { ensureTable, startDynamoDbLocal, waitForDynamoDb } from "./dynamodb-local";
import { isPortFree } from "./free-port";
import { loadFunctions, loadTriggerFunctions } from "./functions";
import { startHttpApi } from "./http-api";
import { cognitoLocalIssuer, createAccessTokenVerifier } from "./jwt";
import { lambdaContext } from "./lambda-context";
import { startLambdaInvokeEndpoint } from "./lambda-invoke";
import { createLocalLogger, type LocalLogger } from "./logger";
import { type SeededUser, seedDirectory, seedLocalConversation, seedUsers } from "./seed";
import { SEED_USERS } from "./seed-data";
import {
  DEFAULT_FRONTEND_URL,
  DEFAULT_PORTS,
  DEFAULT_REGION,
  FUNCTIONS_DIR,
  LOCAL_CREDENTIALS,
  stateDirFromEnv,
} from "./settings";
import type { StackFile } from "./stack-file";
import { StreamPoller } from "./stream-poller";

export interface LocalStackOptions {
  /** DynamoDB Local port (default env DYNAMODB_PORT, else 8000). */
  dynamodbPort?: number;
  /** cognito-local port (default env COGNITO_PORT, else 9229). */
  cognitoPort?: number;
  /** HTTP API port (default env PORT, else 4567). */
  apiPort?: number;
  /** Port of the Lambda Invoke endpoint of cognito-local's triggers (default env LAMBDA_PORT, else 9231). */
  lambdaPort?: number;
  /** Keep the table, users and stream checkpoint under `stateDir` across restarts (default false). */
  persist?: boolean;
  /** Origin allowed by CORS (default env FRONTEND_URL, else http://localhost:3000). */
  frontendOrigin?: string;
  /** State directory (default env LOCAL_STATE_DIR, else `.local/` of the repository). */
  stateDir?: string;
  /** Seed the users and the conversation (default true). */
  seed?: boolean;
  /** Log nothing (stack and functions); ignored when `logger` is given for the stack's own logs. */
  quiet?: boolean;
  logger?: LocalLogger;
  /** Region (default env AWS_REGION, else us-east-1). */
  region?: string;
  /** Directory of the Lambda entry files (default `functions/`). */
  functionsDir?: string;
}

/** A running local stack: what a client needs, and `stop`. */
export interface LocalStack extends Omit<StackFile, "users"> {
  /** The seeded users (empty when not seeded). */
  users: SeededUser[];
  stateDir: string;
  /** Process ids of the child processes (DynamoDB Local, cognito-local). */
  pids: number[];
  /**
   * URL of the Lambda Invoke endpoint that cognito-local calls for its triggers
   * (`http://127.0.0.1:<port>`). Not in `stack.json`: no client of the stack calls it.
   */
  lambdaEndpoint: string;
  /**
   * Resolves once the emulated API answers no request (see `HttpApi.idle`): the writes of
   * requests whose clients hung up have landed too.
   */
  idle(): Promise<void>;
  /**
   * Stops the API (after the answers in flight), the poller (after its batch in flight),
   * cognito-local, the Lambda Invoke endpoint of its triggers (after the invocations in flight)
   * and DynamoDB Local; restores `process.env`.
   */
  stop(): Promise<void>;
  /**
   * Resolves once the stack has stopped: after `stop()`, or after a child process exited on its
   * own (logged as an error; the rest of the stack is then stopped too).
   */
  done: Promise<void>;
}

let running = false;

function envPort(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number, got "${text}"`);
  }
  return port;
}

/** The options with their defaults filled in. */
function resolveSettings(options: LocalStackOptions) {
  const ports = {
    dynamodb: options.dynamodbPort ?? envPort("DYNAMODB_PORT", DEFAULT_PORTS.dynamodb),
    cognito: options.cognitoPort ?? envPort("COGNITO_PORT", DEFAULT_PORTS.cognito),
    api: options.apiPort ?? envPort("PORT", DEFAULT_PORTS.api),
    lambda: options.lambdaPort ?? envPort("LAMBDA_PORT", DEFAULT_PORTS.lambda),
  };
  return {
    ports,
    persist: options.persist ?? false,
    seed: options.seed ?? true,
    stateDir: options.stateDir === undefined ? stateDirFromEnv() : resolve(options.stateDir),
    region: options.region ?? (process.env[CONFIG_ENV.region] || DEFAULT_REGION),
    frontendOrigin: options.frontendOrigin ?? (process.env.FRONTEND_URL || DEFAULT_FRONTEND_URL),
    logger: options.logger ?? createLocalLogger({ quiet: options.quiet ?? false }),
    functionsDir: options.functionsDir ?? FUNCTIONS_DIR,
    tableName: TABLE_NAME,
    dynamodbEndpoint: `http://localhost:${ports.dynamodb}`,
    cognitoEndpoint: `http://localhost:${ports.cognito}`,
  };
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
 * Starts the local stack and resolves once it serves requests (about 4 s).
 *
 * Order: DynamoDB Local is spawned first (the JVM takes longest); then the Lambda Invoke endpoint
 * of the trigger functions listens, before cognito-local is spawned, so no sign-up can reach
 * cognito-local while its triggers are unreachable; the endpoint holds invocations until the
 * table exists. The seeded users are written to the directory once both are set up.
 * @throws Error when a stack already runs in this process, a port is taken, the state directory
 *   is in use by another running stack (StateInUseError), a child process fails to start or to
 *   answer within 30 s, or a function cannot be loaded; whatever was started is stopped again
 *   before the error is thrown.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (running) throw new Error("a local stack already runs in this process (the functions read process.env)");
  running = true;
  const started = performance.now();
  const elapsedMs = () => Math.round(performance.now() - started);
  const settings = resolveSettings(options);
  const { ports, persist, seed, stateDir, region, logger, tableName, dynamodbEndpoint, cognitoEndpoint } = settings;
  const pidFile = join(stateDir, "pids.json");

  // Undone in reverse order by stop(), or when starting fails half-way.
  const undo: (() => Promise<void> | void)[] = [];
  let stopped = false;
  let markDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  const stop = async () => {
    if (stopped) return done;
    stopped = true;
    while (undo.length > 0) {
      try {
        await undo.pop()?.();
      } catch (error) {
        logger.error("local stack: stopping failed", { error });
      }
    }
    running = false;
    markDone();
  };

  try {
    await mkdir(stateDir, { recursive: true });
    const reaped = await reapStaleProcesses(pidFile);
    if (reaped.length > 0) logger.warn("killed child processes left by a previous run", { processes: reaped });
    for (const [name, port] of Object.entries(ports)) {
      if (!(await isPortFree(port))) throw new Error(`port ${port} (${name}) is in use: is another stack running?`);
    }

    const children: ManagedProcess[] = [];
    undo.push(() => forgetProcesses(pidFile));
    const track = async (child: ManagedProcess) => {
      children.push(child);
      undo.push(() => child.stop());
      await recordProcesses(pidFile, children);
    };
    const dynamodbProcess = await startDynamoDbLocal({
      port: ports.dynamodb,
      dbPath: persist ? join(stateDir, "dynamodb") : undefined,
    });
    await track(dynamodbProcess);

    // The functions' configuration (shared/config.ts), read when they are loaded.
    undo.push(
      applyEnv({
        [CONFIG_ENV.tableName]: tableName,
        [CONFIG_ENV.region]: region,
        [CONFIG_ENV.dynamodbEndpoint]: dynamodbEndpoint,
        [CONFIG_ENV.cognitoEndpoint]: cognitoEndpoint,
        [CONFIG_ENV.userPoolId]: undefined,
        [CONFIG_ENV.serviceName]: SERVICE_NAME,
        ...(options.quiet === true ? { [CONFIG_ENV.logLevel]: "SILENT" } : {}),
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: undefined,
      }),
    );

    // The trigger functions need the table: the endpoint runs none before it exists (and none
    // at all once the start failed or the stack stops).
    const tableReady = deferred();
    const triggers = await loadTriggerFunctions(settings.functionsDir);
    const lambda = await startLambdaInvokeEndpoint({
      port: ports.lambda,
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
      dir: join(stateDir, "cognito"),
      fresh: !persist,
      triggers: { endpoint: lambda.url, region, functions: triggerFunctionsConfig() },
    });
    await track(cognitoProcess);

    const ddbConfig = { region, credentials: LOCAL_CREDENTIALS, endpoint: dynamodbEndpoint };
    const cognitoConfig = { region, credentials: LOCAL_CREDENTIALS, endpoint: cognitoEndpoint };
    const ddb = new DynamoDBClient(ddbConfig);
    const streams = new DynamoDBStreamsClient(ddbConfig);
    const cognito = new CognitoIdentityProviderClient(cognitoConfig);
    // Probes that do not retry, so that each fails fast while a port is still closed.
    const ddbProbe = new DynamoDBClient({ ...ddbConfig, maxAttempts: 1 });
    const cognitoProbe = new CognitoIdentityProviderClient({ ...cognitoConfig, maxAttempts: 1 });
    undo.push(() => {
      for (const client of [ddb, streams, cognito, ddbProbe, cognitoProbe]) client.destroy();
    });

    // The JVM takes longest: meanwhile, set up cognito-local and load the functions (which read
    // USER_POOL_ID when loaded). allSettled, so nothing runs on in the background after a failure.
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
      waitForCognito(cognitoProbe, cognitoProcess).then(async () => {
        logger.info("cognito-local ready", { endpoint: cognitoEndpoint, elapsed_ms: elapsedMs() });
        const pool = await ensureUserPool(cognito);
        const users = seed ? await seedUsers(cognito, pool.userPoolId, SEED_USERS) : [];
        process.env[CONFIG_ENV.userPoolId] = pool.userPoolId;
        const functions = await loadFunctions(settings.functionsDir);
        return { pool, users, functions };
      }),
    ]);
    if (dynamodbSetup.status === "rejected") throw dynamodbSetup.reason;
    if (cognitoSetup.status === "rejected") throw cognitoSetup.reason;
    const { pool, users, functions } = cognitoSetup.value;
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

    const poller = new StreamPoller({
      ddb,
      streams,
      tableName,
      region,
      invoke: (event) => functions.fanOut(event, lambdaContext(FAN_OUT_FUNCTION.fn, randomUUID(), region)),
      logger,
      deadLetterFile: deadLetterFilePath(stateDir),
      checkpointFile: persist ? join(stateDir, "stream-checkpoint.json") : undefined,
    });
    await poller.start();
    undo.push(() => poller.stop());

    const api = await startHttpApi({
      port: ports.api,
      routes: ROUTES,
      handlers: functions.routes,
      verifyAccessToken: createAccessTokenVerifier({
        issuer: cognitoLocalIssuer(ports.cognito, pool.userPoolId),
        clientId: pool.userPoolClientId,
      }),
      frontendOrigin: settings.frontendOrigin,
      region,
      logger,
    });
    undo.push(() => api.close());

    const stack: LocalStack = {
      apiUrl: api.url,
      cognitoEndpoint,
      region,
      userPoolId: pool.userPoolId,
      userPoolClientId: pool.userPoolClientId,
      tableName,
      dynamodbEndpoint,
      users,
      stateDir,
      pids: children.map((c) => c.pid),
      lambdaEndpoint: lambda.url,
      idle: () => api.idle(),
      stop,
      done,
    };
    for (const child of children) {
      void child.exited.then(() => {
        if (stopped) return;
        logger.error("child process exited unexpectedly: stopping the local stack", {
          process: child.name,
          output: child.outputTail().slice(-2000),
        });
        void stop();
      });
    }
    logger.info("local stack ready", { api_url: api.url, persist, elapsed_ms: elapsedMs() });
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}
